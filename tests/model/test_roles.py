"""Roles, terms, allies, and where role changes get their authority."""

from __future__ import annotations

from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, TERM, B, World, founded, ignored_rules


def adopt(
    w: World, ts: int, *, facilitator: str = "ana", voters: tuple[str, ...] = ("bob",)
) -> str:
    """Run a proposal to adoption, closing at ``ts``; return the decision id."""
    pid = w.propose(facilitator, ts - 500)
    rid = w.open_round(facilitator, ts - 400, pid)
    w.to_positions(facilitator, ts - 300, rid)
    for v in voters:
        w.position(v, ts - 100, rid)
    return w.ref(facilitator, w.close(facilitator, ts, rid))


def test_founder_assigns_roles_directly_only_while_founding() -> None:
    w = founded("bob", "cara")
    w.grant("ana", 1_500, "bob", R.NOTE_TAKER)
    adopt(w, 3_000)
    w.grant("ana", 4_000, "cara", R.STEWARD)
    w.grant("bob", 1_600, "cara", R.STEWARD)  # bob is no founder
    s = w.fold()
    assert s.members[w.mid("bob")].has_role(R.NOTE_TAKER, 2_000)
    assert not s.members[w.mid("cara")].active_roles(5_000)
    assert ignored_rules(s) == [R.ROLE_BY_DECISION, R.ROLE_BY_DECISION]


def test_roles_change_by_a_decision_in_effect() -> None:
    w = founded("bob", "cara")
    decision = adopt(w, 3_000)
    w.grant("ana", 3_000 + COOLING - 1, "cara", R.FACILITATOR, decision=decision)  # too soon
    w.grant("bob", 3_000 + COOLING, "cara", R.FACILITATOR, decision=decision)  # not facilitator
    w.grant("ana", 3_000 + COOLING, "cara", R.FACILITATOR, decision=decision)
    w.grant("ana", 5_000, "cara", R.STEWARD, decision="00000000000000ff")
    s = w.fold()
    assert s.members[w.mid("cara")].can_facilitate(5_000)
    assert [m.name for m in s.facilitators(5_000)] == ["ana", "cara"]
    assert ignored_rules(s) == [R.DECISION_IN_EFFECT, R.FACILITATOR_ONLY, R.DECISION_EXISTS]


def test_terms_end_and_roles_rotate() -> None:
    w = founded("bob")
    w.grant("ana", 1_500, "bob", R.FACILITATOR)
    s = w.fold()
    bob = s.members[w.mid("bob")]
    assert bob.can_facilitate(1_500) and not bob.can_facilitate(1_500 + TERM)
    pid = w.propose("bob", 1_500 + TERM)
    w.open_round("bob", 1_600 + TERM, pid)  # term over
    assert ignored_rules(w.fold()) == [R.FACILITATOR_ONLY]


def test_regranting_ends_the_running_term_and_holders_may_step_down() -> None:
    w = founded("bob")
    w.grant("ana", 1_500, "bob", R.STEWARD)
    w.grant("ana", 1_600, "bob", R.STEWARD)
    w.add("bob", B.end_role(w.next_id(), 1_700, w.dev("bob"), member=w.mid("bob"), role=R.STEWARD))
    w.add("bob", B.end_role(w.next_id(), 1_800, w.dev("bob"), member=w.mid("bob"), role=R.STEWARD))
    s = w.fold()
    terms = s.members[w.mid("bob")].roles
    assert [(t.start_ts, t.ended_ts) for t in terms] == [(1_500, 1_600), (1_600, 1_700)]
    assert ignored_rules(s) == [R.ROLE_HELD]


def test_an_ally_cannot_block_facilitate_or_count_for_quorum() -> None:
    w = founded("bob", "cara", "olga", quorum=1)
    w.grant("ana", 1_500, "olga", R.ALLY)
    w.grant("ana", 1_510, "olga", R.FACILITATOR)  # refused: ally
    pid = w.propose("bob", 2_000)
    w.open_round("olga", 2_050, pid)  # refused: not a facilitator
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("olga", 2_300, rid, R.OBJECT, "I would not")
    w.position("olga", 2_310, rid, R.CONSENT, "fine then")
    w.close("ana", 3_000, rid)
    s = w.fold()
    # The ally's consent is on record but does not make quorum.
    assert s.rounds[rid].positions[w.mid("olga")].kind == R.CONSENT
    assert s.rounds[rid].outcome == R.OUTCOME_NO_QUORUM
    assert ignored_rules(s) == [R.ALLY_CANNOT_FACILITATE, R.FACILITATOR_ONLY, R.ALLY_CANNOT_BLOCK]


def test_a_facilitator_made_ally_loses_facilitation() -> None:
    w = founded("bob")
    w.grant("ana", 1_500, "bob", R.FACILITATOR)
    w.grant("ana", 1_600, "bob", R.ALLY)
    pid = w.propose("bob", 2_000)
    w.open_round("bob", 2_100, pid)
    s = w.fold()
    assert not s.members[w.mid("bob")].can_facilitate(2_100)
    assert ignored_rules(s) == [R.ALLY_CANNOT_FACILITATE]
