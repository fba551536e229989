"""Decisions that do what they say: effects, rules the assembly changes, supporters, reviews."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.model import acts as A
from assemblymesh.model import fold
from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, REVIEW, B, World, founded, ignored_rules, snapshot_of


def effect_entries(w: World, now: int = 10**7) -> list[tuple[str, bool]]:
    return [(e.act_type, e.accepted) for e in w.fold(now=now).effect_log]


def test_every_effect_runs_once_exactly_when_its_decision_takes_effect() -> None:
    w = founded("bob", "cara", "dan")
    w.supporter("olga", 1_300)
    bob, cara, dan, olga = (w.mid(n) for n in ("bob", "cara", "dan", "olga"))
    w.grant("ana", 1_350, "cara", R.STEWARD)
    decision = w.decide(
        3_000,
        A.GrantRoleEffect(member=bob, role=R.NOTE_TAKER, term_days=10),
        A.EndRoleEffect(member=cara, role=R.STEWARD),
        A.SetRuleEffect(rule="quorum", value=2),
        A.AdmitSupporterEffect(member=olga, until=9_000_000),
        A.RemoveMemberEffect(member=dan),
    )
    before = w.fold(now=3_000 + COOLING - 1)
    assert before.decisions[decision].status == R.PENDING
    assert not before.effect_log and not before.members[bob].has_role(R.NOTE_TAKER, 3_500)
    after = w.fold(now=3_000 + COOLING)
    assert after.decisions[decision].status == R.IN_EFFECT
    assert after.members[bob].has_role(R.NOTE_TAKER, 3_000 + COOLING)
    assert not after.members[cara].has_role(R.STEWARD, 3_000 + COOLING)
    assert after.assembly is not None and after.assembly.rules.quorum == 2
    assert after.members[olga].has_standing(5_000)
    assert after.members[dan].is_removed(3_000 + COOLING)
    assert [e.act_type for e in after.effect_log] == [
        "effect:grant_role", "effect:end_role", "effect:set_rule", "effect:admit_supporter",
        "effect:remove_member",
    ]  # fmt: skip
    assert all(e.accepted for e in after.effect_log)
    # Folded again later, or brought forward in time, the effects still ran once each.
    assert len(w.fold(now=10**7).effect_log) == 5
    from assemblymesh.model import at_time

    assert at_time(before, 3_000 + COOLING) == after


def test_a_removed_member_acts_no_more_and_a_failed_effect_changes_nothing() -> None:
    w = founded("bob", "dan")
    w.decide(3_000, A.RemoveMemberEffect(member=w.mid("dan")))
    w.propose("dan", 2_900, "Before")  # placed before the decision took effect: stands
    w.propose("dan", 5_000, "After")
    w.decide(6_000, A.GrantRoleEffect(member=w.mid("dan"), role=R.STEWARD, term_days=5))
    s = w.fold()
    assert [p.title for p in s.proposals.values() if p.author == w.mid("dan")] == ["Before"]
    assert ignored_rules(s) == [R.MEMBER_REMOVED]
    assert [(e.act_type, e.accepted, e.rule) for e in s.effect_log][-1] == (
        "effect:grant_role", False, R.EFFECT_APPLIES
    )  # fmt: skip


def test_a_removed_members_outstanding_invite_admits_nobody() -> None:
    w = founded("bob", "dan")
    invite = w.make_invite("dan", label="for-eve")
    w.record_invite(invite[0], 2_000)  # recorded while dan was a member
    w.decide(3_000, A.RemoveMemberEffect(member=w.mid("dan")))
    w.join("eve", 3_000 + COOLING + 10, invite=invite)
    s = w.fold()
    assert w.mid("eve") not in s.members
    assert ignored_rules(s) == [R.INVITER_IS_MEMBER]


def test_a_rule_change_applies_to_exactly_the_rounds_opened_after_it_takes_effect() -> None:
    w = founded("bob", "cara")
    early = w.propose("bob", 2_000, "Opened before")
    early_round = w.open_round("ana", 2_100, early)
    w.decide(3_000, A.SetRuleEffect(rule="block_threshold", value=2))
    later = w.propose("bob", 4_100, "Opened after")
    later_round = w.open_round("ana", 4_200, later)
    for rid, t in ((early_round, 4_300), (later_round, 4_400)):
        w.to_positions("ana", t, rid)
        w.position("cara", t + 10, rid, R.OBJECT, "not like this")
        w.position("bob", t + 20, rid, R.CONSENT)
        w.close("ana", t + 50, rid)
    s = w.fold()
    # The round opened before the change keeps a threshold of 1: one objection blocks it.
    assert s.rounds[early_round].outcome == R.OUTCOME_OBJECTIONS
    assert s.rounds[later_round].outcome == R.OUTCOME_ADOPTED
    assert [(c.rule, c.old, c.new) for c in s.rule_history] == [("block_threshold", 1, 2)]


def test_two_partitions_adopting_conflicting_rule_changes_end_with_one_result() -> None:
    w = founded("bob", "cara")
    w.grant("ana", 1_200, "bob", R.FACILITATOR)
    # Each side of a partition adopts its own quorum; ana's decision takes effect last.
    pa = w.propose("ana", 2_000, "Quorum two", effects=(A.SetRuleEffect(rule="quorum", value=2),))
    pb = w.propose("bob", 2_000, "Quorum three", effects=(A.SetRuleEffect(rule="quorum", value=3),))
    ra, rb = w.open_round("ana", 2_100, pa), w.open_round("bob", 2_100, pb)
    w.to_positions("ana", 2_200, ra)
    w.to_positions("bob", 2_200, rb)
    w.position("cara", 2_300, ra)
    w.position("cara", 2_300, rb)
    w.close("bob", 2_400, rb)
    w.close("ana", 2_500, ra)
    states = []
    for order in itertools.permutations(w.docs):
        states.append(fold(snapshot_of(w.assembly_id, {m: w.docs[m] for m in order}), 10**7))
    assert all(s == states[0] for s in states)
    assert states[0].assembly is not None and states[0].assembly.rules.quorum == 2
    assert [c.new for c in states[0].rule_history] == [3, 2]


def test_a_review_round_opens_only_once_the_review_is_due() -> None:
    w = founded("bob")
    decision = w.decide(3_000)
    pid = w.fold().decisions[decision].proposal
    too_soon = w.open_round("ana", 3_000 + REVIEW - 1, pid)
    s = w.fold(now=3_000 + REVIEW - 1)
    assert not s.decisions[decision].review_due(s.now_ms)
    assert ignored_rules(s) == [R.REVIEW_DUE]
    review = w.open_round("ana", 3_000 + REVIEW, pid)
    s = w.fold(now=3_000 + REVIEW)
    assert s.reviews_due() == () and s.proposals[pid].state == R.IN_ROUND
    assert review in s.rounds and too_soon not in s.rounds


# --- supporters, whatever they try -------------------------------------------------------------

SETTINGS = settings(
    max_examples=80, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
MOVES = st.sampled_from(["propose", "open", "advance", "object", "consent", "close", "grant"])


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), MOVES), min_size=4, max_size=40))
def test_a_supporter_cannot_block_facilitate_or_reach_quorum_by_any_acts(
    steps: list[tuple[bool, str]],
) -> None:
    """Random acts by a supporter with standing and by members. Whatever the supporter
    writes, no round it touched closes differently than if it had written nothing."""
    w = founded("bob", quorum=1)
    w.supporter("olga", 1_300)
    w.decide(1_900, A.AdmitSupporterEffect(member=w.mid("olga"), until=10**7), voters=("bob",))
    proposals: list[str] = []
    rounds: list[str] = []
    t = 5_000
    for by_supporter, move in steps:
        t += 10
        who = "olga" if by_supporter else "ana"
        if move == "propose":
            proposals.append(w.propose(who, t, f"p{t}"))
        elif move == "open" and proposals:
            rounds.append(w.open_round(who, t, proposals[-1]))
        elif move == "advance" and rounds:
            w.to_positions(who, t, rounds[-1])
        elif move in ("object", "consent") and rounds:
            kind = R.OBJECT if move == "object" else R.CONSENT
            w.position(who, t, rounds[-1], kind, "because")
        elif move == "close" and rounds:
            w.close(who, t, rounds[-1])
        elif move == "grant":
            w.grant(who, t, "olga", R.FACILITATOR)
    with_olga = w.fold()
    without = fold(
        snapshot_of(
            w.assembly_id,
            {m: [a for a in d if a.get("type") not in ("position",) or m != w.mid("olga")]
             for m, d in w.docs.items()},
        ),
        10**7,
    )  # fmt: skip
    olga = with_olga.members[w.mid("olga")]
    assert not any(t.role == R.FACILITATOR for t in olga.roles)
    for r in with_olga.rounds.values():
        assert r.facilitator != olga.id and r.closed_by != olga.id
        assert all(p.advisory for p in r.positions.values() if p.member == olga.id)
        assert r.outcome == without.rounds[r.id].outcome


def test_a_member_recording_a_supporter_invite_first_does_not_make_its_joiner_a_member() -> None:
    """Anyone who saw an invite code can record its key; only the inviter's own record says
    whether the invite admits a member or a supporter."""
    w = founded("bob")
    invite, secret = w.make_invite("ana", label="supporter-olga")
    key = invite.invite_key.hex()
    w.add("bob", B.invite(w.next_id(), 1_200, w.dev("bob"), invite_key=key,
                          expires=invite.expires_ms, kind=R.MEMBER_INVITE))  # fmt: skip
    w.record_invite(invite, 1_250, R.SUPPORTER_INVITE)
    w.join("olga", 1_300, invite=(invite, secret))
    s = w.fold()
    olga = s.members[w.mid("olga")]
    assert olga.supporter and olga.invited_by == w.mid("ana")
    assert s.invites[key].inviter == w.mid("ana") and s.invites[key].kind == R.SUPPORTER_INVITE


def test_a_review_round_can_end_a_decision_with_an_effect_that_undoes_it() -> None:
    # The review returns the proposal (an objection), it is amended with the undoing effect,
    # and the amended version's adoption ends what the first decision granted.
    w = founded("bob")
    bob = w.mid("bob")
    decision = w.decide(3_000, A.GrantRoleEffect(member=bob, role=R.STEWARD, term_days=400))
    pid = w.fold().decisions[decision].proposal
    due = 3_000 + REVIEW
    review = w.open_round("ana", due, pid)
    w.to_positions("ana", due + 10, review)
    w.position("bob", due + 20, review, R.OBJECT, "no longer needed")
    w.close("ana", due + 30, review)
    returned = w.fold(now=due + 30)
    assert returned.rounds[review].outcome == R.OUTCOME_OBJECTIONS
    assert returned.members[bob].has_role(R.STEWARD, due + 30)  # the decision still stands
    w.amend("ana", due + 40, pid, effects=(A.EndRoleEffect(member=bob, role=R.STEWARD),))
    again = w.open_round("ana", due + 50, pid, version=2)
    w.to_positions("ana", due + 60, again)
    w.position("bob", due + 70, again)
    w.close("ana", due + 80, again)
    ended = due + 80 + COOLING
    assert w.fold(now=ended - 1).members[bob].has_role(R.STEWARD, ended - 1)
    assert not w.fold(now=ended).members[bob].has_role(R.STEWARD, ended)
