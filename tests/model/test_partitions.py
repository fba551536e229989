"""What happens when documents arrive late, partially, or from two sides of a partition."""

from __future__ import annotations

import itertools

from assemblymesh.model import AssemblyState, fold
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, World, founded, ignored_rules, last_entry, snapshot_of


def all_orders(w: World, now: int = 10**7) -> list[AssemblyState]:
    """The fold of ``w`` with its documents listed in every possible order."""
    states = []
    for perm in itertools.permutations(w.docs):
        docs = {m: w.docs[m] for m in perm}
        states.append(fold(snapshot_of(w.assembly_id, docs), now))
    return states


def adopted_round() -> tuple[World, str, str]:
    w = founded("bob", "cara")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("bob", 2_300, rid)
    w.close("ana", 3_000, rid)
    return w, pid, rid


def test_objection_cast_after_close_before_effect_returns_the_decision() -> None:
    w, pid, rid = adopted_round()
    # cara was cut off; her objection reaches the others only after the partition heals.
    w.position("cara", 3_500, rid, R.OBJECT, "the shed is on the septic tank")
    before = w.fold(now=3_000 + COOLING + 10, only=["ana", "bob"])
    decision = before.rounds[rid].decision or ""
    assert before.decisions[decision].status == R.IN_EFFECT
    assert before.proposals[pid].state == R.ADOPTED
    healed = w.fold(now=3_000 + COOLING + 10)
    d = healed.decisions[decision]
    assert d.status == R.DECISION_RETURNED
    assert [(p.member, p.late) for p in d.late_objections] == [(w.mid("cara"), True)]
    assert healed.proposals[pid].state == R.RETURNED
    assert healed.rounds[rid].objections[0].reason == "the shed is on the septic tank"
    # Back in the consent loop: a new version may go to a new round.
    w.amend("bob", 5_000, pid, "moved it")
    rid2 = w.open_round("ana", 5_100, pid, version=2)
    assert w.fold().proposals[pid].rounds[-1] == rid2


def test_objection_cast_before_close_but_arriving_late_counts_at_close() -> None:
    w, _, rid = adopted_round()
    w.position("cara", 2_900, rid, R.OBJECT, "no")
    s = w.fold()
    assert s.rounds[rid].outcome == R.OUTCOME_OBJECTIONS
    assert s.decisions == {}


def test_objection_after_the_decision_took_effect_is_ignored() -> None:
    w, pid, rid = adopted_round()
    w.position("cara", 3_000 + COOLING, rid, R.OBJECT, "too late")
    s = w.fold()
    assert s.proposals[pid].state == R.ADOPTED
    assert ignored_rules(s) == [R.LATE_OBJECTION_WINDOW]


def test_late_objection_must_be_the_members_own_and_a_real_objection() -> None:
    w, pid, rid = adopted_round()
    w.position("ana", 3_100, rid, R.OBJECT, "cara said no", for_member="cara")
    w.position("cara", 3_200, rid, R.CONCERN, "hmm")
    s = w.fold()
    assert s.proposals[pid].state == R.ADOPTED
    assert ignored_rules(s) == [R.ROUND_TRANSITION, R.ROUND_TRANSITION]


def test_the_effect_of_a_decision_a_late_objection_returned_never_runs() -> None:
    w = founded("bob", "cara")
    effect = A.GrantRoleEffect(member=w.mid("bob"), role=R.STEWARD, term_days=30)
    pid = w.propose("ana", 2_000, effects=(effect,))
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("bob", 2_300, rid)
    w.close("ana", 3_000, rid)
    w.position("cara", 3_500, rid, R.OBJECT, "no")  # arrives after the partition heals
    s = w.fold()
    assert s.proposals[pid].state == R.RETURNED
    assert not s.members[w.mid("bob")].active_roles(10**6)
    assert not [e for e in s.audit if e.act_type.startswith("effect:")]


def test_two_facilitators_closing_concurrently_first_close_counts_everywhere() -> None:
    w = founded("bob", "cara")
    w.grant("ana", 1_500, "bob", R.FACILITATOR)
    pid = w.propose("cara", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("cara", 2_300, rid)
    # Partitioned: each side's facilitator closes the round without seeing the other close.
    w.close("bob", 3_000, rid)
    close_ana = w.close("ana", 3_005, rid)
    states = all_orders(w)
    assert all(s == states[0] for s in states)
    s = states[0]
    assert s.rounds[rid].closed_by == w.mid("bob")
    entry = last_entry(s, close_ana["id"])
    assert not entry.accepted and entry.rule == R.ROUND_TRANSITION
    assert "already closed by bob" in entry.detail


def test_closes_with_equal_ts_are_ordered_by_member_id() -> None:
    w = founded("bob")
    w.grant("ana", 1_500, "bob", R.FACILITATOR)
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("bob", 2_300, rid)
    w.close("bob", 3_000, rid)
    w.close("ana", 3_000, rid)
    states = all_orders(w)
    assert all(s == states[0] for s in states)
    assert states[0].rounds[rid].closed_by == min(w.mid("ana"), w.mid("bob"))


def test_position_changed_on_two_offline_devices_later_ts_wins() -> None:
    w = founded("bob", "cara")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    # cara's laptop and phone were both offline; each device's chain is placed on its own.
    w.position("cara", 2_600, rid, R.CONSENT, "phone, later", device=1)
    w.position("cara", 2_400, rid, R.OBJECT, "laptop, earlier", device=0)
    s = w.fold()
    p = s.rounds[rid].positions[w.mid("cara")]
    assert (p.kind, p.reason) == (R.CONSENT, "phone, later")
    # The laptop's earlier act is placed first and the phone's later one replaces it.
    assert ignored_rules(s) == []


def test_position_tie_on_ts_goes_to_the_higher_act_id() -> None:
    w = founded("bob", "cara")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("cara", 2_400, rid, R.CONCERN, "b", device=1, act_id="ffff000000000000")
    w.position("cara", 2_400, rid, R.CONSENT, "a", device=0, act_id="0000ffff00000000")
    s = w.fold()
    assert s.rounds[rid].positions[w.mid("cara")].reason == "b"


def test_partial_documents_fold_and_converge_when_complete() -> None:
    w, _pid, rid = adopted_round()
    w.position("cara", 3_500, rid, R.OBJECT, "no")
    full = w.fold()
    for names in (["ana"], ["bob"], ["ana", "cara"], ["bob", "cara"]):
        part = w.fold(only=names)
        assert part.assembly is None or part.assembly.founder == w.mid("ana")
    # A document that is behind (a prefix) is also fine.
    docs = {m: d[: len(d) // 2] for m, d in w.docs.items()}
    fold(snapshot_of(w.assembly_id, docs), 10**7)
    assert all(s == full for s in all_orders(w))


def test_every_late_objection_is_listed_once_per_member() -> None:
    w, pid, rid = adopted_round()
    w.position("cara", 3_100, rid, R.OBJECT, "first")
    w.position("bob", 3_200, rid, R.OBJECT, "me too")
    w.position("cara", 3_300, rid, R.OBJECT, "restated")
    s = w.fold()
    d = s.decisions[s.rounds[rid].decision or ""]
    assert d.status == R.DECISION_RETURNED
    assert [(p.member, p.reason) for p in d.late_objections] == [
        (w.mid("bob"), "me too"),
        (w.mid("cara"), "restated"),
    ]
    assert s.proposals[pid].state == R.RETURNED
    assert ignored_rules(s) == []
