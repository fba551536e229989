"""Roles, terms, supporters, and where role changes get their authority."""

from __future__ import annotations

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, B, World, founded, ignored_rules


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


def test_roles_change_by_a_decision_with_a_role_effect() -> None:
    w = founded("bob", "cara")
    grant = A.GrantRoleEffect(member=w.mid("cara"), role=R.FACILITATOR, term_days=30)
    decision = w.decide(3_000, grant)
    w.grant("ana", 3_000 + COOLING, "cara", R.STEWARD, decision=decision)  # cites: refused
    s = w.fold()
    assert not s.members[w.mid("cara")].can_facilitate(3_000 + COOLING - 1)
    assert s.members[w.mid("cara")].can_facilitate(5_000)
    assert [m.name for m in s.facilitators(5_000)] == ["ana", "cara"]
    term = s.members[w.mid("cara")].roles[-1]
    assert (term.start_ts, term.decision) == (3_000 + COOLING, decision)
    assert ignored_rules(s) == [R.ROLE_BY_DECISION]


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


def test_a_supporter_cannot_block_facilitate_or_count_for_quorum() -> None:
    w = founded("bob", "cara", quorum=1)
    w.supporter("olga", 1_300)
    w.grant("ana", 1_350, "olga", R.FACILITATOR)  # refused: a supporter holds no role
    w.decide(1_900, A.AdmitSupporterEffect(member=w.mid("olga"), until=10**6))
    pid = w.propose("bob", 3_000)
    w.open_round("olga", 3_050, pid)  # refused: supporters propose and advise only
    rid = w.open_round("ana", 3_100, pid)
    w.to_positions("ana", 3_200, rid)
    w.position("olga", 3_300, rid, R.OBJECT, "I would not")
    w.close("ana", 4_000, rid)
    s = w.fold()
    # The supporter's objection is on record, with its reason, and blocks nothing.
    olga = s.rounds[rid].positions[w.mid("olga")]
    assert (olga.kind, olga.reason, olga.advisory) == (R.OBJECT, "I would not", True)
    assert s.rounds[rid].objections == ()
    assert s.rounds[rid].outcome == R.OUTCOME_NO_QUORUM
    assert ignored_rules(s) == [R.SUPPORTER_NO_ROLE, R.SUPPORTER_MAY_NOT]


def test_a_supporter_never_becomes_a_member_when_its_standing_ends() -> None:
    w = founded("bob")
    w.supporter("olga", 1_400)
    w.decide(1_500, A.AdmitSupporterEffect(member=w.mid("olga"), until=5_000))
    w.propose("olga", 4_000, "Ideas from outside")  # with standing: fine
    w.propose("olga", 6_000, "Later")  # standing ended: ignored
    s = w.fold()
    olga = s.members[w.mid("olga")]
    assert olga.supporter and not olga.has_standing(6_000)
    assert [p.title for p in s.proposals.values() if p.author == olga.id] == ["Ideas from outside"]
    assert next(p for p in s.proposals.values() if p.author == olga.id).by_supporter
    assert ignored_rules(s) == [R.SUPPORTER_STANDING]
