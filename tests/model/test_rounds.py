"""Proposals, consent rounds, outcomes, cooling-off, provisional positions."""

from __future__ import annotations

from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, REVIEW, B, World, founded, ignored_rules, last_entry


def running_round(*members: str, quorum: int = 1) -> tuple[World, str, str]:
    """ana facilitates a round on bob's proposal, already in the positions phase."""
    w = founded("bob", "cara", *members, quorum=quorum)
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    return w, pid, rid


def test_full_round_adopts_after_cooling_off() -> None:
    w, pid, rid = running_round(quorum=2)
    w.position("bob", 2_300, rid)
    w.position("cara", 2_310, rid, R.CONCERN, "watch the budget")
    w.close("ana", 3_000, rid)
    s = w.fold(now=3_500)
    r = s.rounds[rid]
    assert r.phase == R.CLOSED and r.outcome == R.OUTCOME_ADOPTED and r.closed_by == w.mid("ana")
    d = s.decisions[r.decision or ""]
    assert (d.decided_ts, d.effective_ts, d.review_ts) == (3_000, 3_000 + COOLING, 3_000 + REVIEW)
    assert d.status == R.PENDING and s.proposals[pid].state == R.ADOPTED_PENDING
    later = w.fold(now=3_000 + COOLING)
    assert later.decisions[d.id].status == R.IN_EFFECT
    assert later.proposals[pid].state == R.ADOPTED
    assert not later.founding_period


def test_phases_follow_the_table() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.position("bob", 2_150, rid)  # still in questions
    skip = w.advance("ana", 2_200, rid, R.POSITIONS)  # must go to reactions first
    w.close("ana", 2_250, rid)  # cannot close before positions
    w.to_positions("ana", 2_300, rid)
    s = w.fold()
    assert s.rounds[rid].phase == R.POSITIONS
    assert s.rounds[rid].positions == {}
    assert ignored_rules(s) == [R.ROUND_TRANSITION] * 3
    assert "cannot go to positions" in last_entry(s, skip["id"]).detail


def test_two_facilitators_advancing_at_once_move_the_round_once() -> None:
    w = founded("bob")
    w.grant("ana", 1_500, "bob", R.FACILITATOR)
    pid = w.propose("ana", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.advance("ana", 2_200, rid, R.REACTIONS)
    w.advance("bob", 2_200, rid, R.REACTIONS)
    s = w.fold()
    assert s.rounds[rid].phase == R.REACTIONS
    assert ignored_rules(s) == [R.ROUND_TRANSITION]


def test_objection_returns_the_proposal_for_integration_then_a_new_version_goes_again() -> None:
    w, pid, rid = running_round()
    w.position("bob", 2_300, rid)
    w.position("cara", 2_310, rid, R.OBJECT, "the shed blocks the sun on bed 3")
    w.close("ana", 3_000, rid)
    again = w.open_round("ana", 3_100, pid)  # same version: refused
    w.amend("bob", 3_200, pid, "moved the shed north")
    old = w.open_round("ana", 3_300, pid, version=1)
    rid2 = w.open_round("ana", 3_400, pid, version=2)
    s = w.fold()
    r = s.rounds[rid]
    assert r.outcome == R.OUTCOME_OBJECTIONS and r.decision is None
    assert [(o.member, o.reason) for o in r.objections] == [
        (w.mid("cara"), "the shed blocks the sun on bed 3")
    ]
    assert s.decisions == {}
    assert last_entry(s, again).rule == R.PROPOSAL_TRANSITION
    assert last_entry(s, old).rule == R.ROUND_ON_LATEST_VERSION
    p = s.proposals[pid]
    assert p.state == R.IN_ROUND and p.rounds == (rid, rid2)
    assert [v.note for v in p.versions] == ["first version", "moved the shed north"]
    assert s.open_round_of(pid) == s.rounds[rid2]


def test_without_quorum_the_proposal_goes_back_to_open() -> None:
    w, pid, rid = running_round(quorum=3)
    w.position("bob", 2_300, rid)
    w.position("cara", 2_300, rid, R.STAND_ASIDE, "no view")
    w.close("ana", 3_000, rid)
    s = w.fold()
    assert s.rounds[rid].outcome == R.OUTCOME_NO_QUORUM
    assert s.proposals[pid].state == R.OPEN


def test_objection_needs_a_reason() -> None:
    w, _pid, rid = running_round()
    w.position("cara", 2_300, rid, R.OBJECT, "  ")
    w.close("ana", 3_000, rid)
    s = w.fold()
    assert s.rounds[rid].outcome == R.OUTCOME_NO_QUORUM
    assert ignored_rules(s) == [R.OBJECTION_NEEDS_REASON]


def test_a_member_may_change_position_until_close() -> None:
    w, _pid, rid = running_round()
    w.position("cara", 2_300, rid, R.OBJECT, "too big")
    w.position("cara", 2_400, rid, R.CONSENT, "resolved by talking")
    w.close("ana", 3_000, rid)
    w.position("cara", 3_100, rid, R.CONCERN, "after close")  # too late, and not an objection
    s = w.fold()
    assert s.rounds[rid].outcome == R.OUTCOME_ADOPTED
    assert s.rounds[rid].positions[w.mid("cara")].kind == R.CONSENT
    assert ignored_rules(s) == [R.ROUND_TRANSITION]


def test_only_facilitators_run_rounds() -> None:
    w = founded("bob", "cara")
    pid = w.propose("bob", 2_000)
    bad = w.open_round("bob", 2_100, pid)
    rid = w.open_round("ana", 2_200, pid)
    w.to_positions("ana", 2_300, rid)
    w.position("cara", 2_400, rid)
    w.close("bob", 3_000, rid)
    w.add("bob", B.reject(w.next_id(), 3_100, w.dev("bob"), proposal=pid, reason="no"))
    s = w.fold()
    assert bad not in s.rounds
    assert s.rounds[rid].phase == R.POSITIONS
    assert ignored_rules(s) == [R.FACILITATOR_ONLY] * 3


def test_reject_only_after_a_round_with_objections() -> None:
    w, pid, rid = running_round()
    early = w.add("ana", B.reject(w.next_id(), 2_250, w.dev("ana"), proposal=pid, reason="x"))
    w.position("cara", 2_300, rid, R.OBJECT, "harmful")
    w.close("ana", 3_000, rid)
    w.add("ana", B.reject(w.next_id(), 3_100, w.dev("ana"), proposal=pid, reason="unworkable"))
    s = w.fold()
    assert last_entry(s, early["id"]).rule == R.PROPOSAL_TRANSITION
    assert s.proposals[pid].state == R.REJECTED
    assert s.proposals[pid].closing_note == "unworkable"


def test_withdraw_is_the_authors_and_closes_a_running_round() -> None:
    w, pid, rid = running_round()
    w.add("cara", B.withdraw(w.next_id(), 2_300, w.dev("cara"), proposal=pid))
    w.add("bob", B.withdraw(w.next_id(), 2_400, w.dev("bob"), proposal=pid))
    w.amend("bob", 2_500, pid)
    s = w.fold()
    assert s.proposals[pid].state == R.WITHDRAWN
    assert s.rounds[rid].outcome == R.OUTCOME_WITHDRAWN and s.rounds[rid].phase == R.CLOSED
    assert ignored_rules(s) == [R.AUTHOR_ONLY, R.PROPOSAL_TRANSITION]


def test_amend_by_author_or_facilitator_not_during_a_round() -> None:
    w = founded("bob", "cara")
    pid = w.propose("bob", 2_000)
    w.amend("cara", 2_050, pid)  # neither author nor facilitator
    w.amend("ana", 2_060, pid, "facilitator tidied wording")
    rid = w.open_round("ana", 2_100, pid, version=2)
    w.amend("bob", 2_200, pid)
    s = w.fold()
    assert len(s.proposals[pid].versions) == 2
    assert s.rounds[rid].version == 2
    assert ignored_rules(s) == [R.AUTHOR_OR_FACILITATOR, R.PROPOSAL_TRANSITION]


def test_provisional_position_is_replaced_by_the_members_own() -> None:
    w, _pid, rid = running_round("dan")
    w.position("ana", 2_300, rid, R.CONSENT, "said so at the meeting", for_member="dan")
    w.position("cara", 2_310, rid, R.CONSENT, "for dan", for_member="dan")  # not a facilitator
    s = w.fold()
    p = s.rounds[rid].positions[w.mid("dan")]
    assert p.provisional and p.recorded_by == w.mid("ana") and p.kind == R.CONSENT
    assert ignored_rules(s) == [R.FACILITATOR_ONLY]
    w.position("dan", 2_400, rid, R.CONCERN, "I do have a worry")
    w.position("ana", 2_500, rid, R.CONSENT, "meeting notes", for_member="dan")
    s = w.fold()
    p = s.rounds[rid].positions[w.mid("dan")]
    assert not p.provisional and p.kind == R.CONCERN and p.recorded_by == w.mid("dan")
    assert ignored_rules(s)[-1] == R.OWN_POSITION_STANDS


def test_provisional_positions_count_for_quorum_and_may_object() -> None:
    w, _pid, rid = running_round("dan", quorum=2)
    w.position("ana", 2_300, rid, for_member="dan")
    w.position("ana", 2_310, rid, for_member="cara")
    w.close("ana", 3_000, rid)
    s = w.fold()
    assert s.rounds[rid].outcome == R.OUTCOME_ADOPTED
    w2, _, rid2 = running_round("dan")
    w2.position("ana", 2_300, rid2, R.OBJECT, "dan objects: cost", for_member="dan")
    w2.close("ana", 3_000, rid2)
    assert w2.fold().rounds[rid2].outcome == R.OUTCOME_OBJECTIONS


def test_proxy_needs_a_member_and_for_self_is_an_own_position() -> None:
    w, _pid, rid = running_round()
    w.position("ana", 2_300, rid, for_member="zoe")
    w.position("ana", 2_310, rid, for_member="ana")
    s = w.fold()
    assert ignored_rules(s) == [R.MEMBER_EXISTS]
    assert not s.rounds[rid].positions[w.mid("ana")].provisional


def test_audit_records_every_act_in_global_order() -> None:
    w, _pid, rid = running_round()
    w.position("cara", 2_300, rid, R.OBJECT, "")
    s = w.fold()
    assert [e.ts for e in s.audit] == sorted(e.ts for e in s.audit)
    last = s.audit[-1]
    assert not last.accepted and last.rule == R.OBJECTION_NEEDS_REASON
    assert last.member == w.mid("cara") and last.act_type == "position"
    assert any("proposed 'Buy a shed'" in e.summary for e in s.accepted())


def test_the_statement_written_at_close_is_kept_and_ignored_closes_stay_ignored() -> None:
    w, _pid, rid = running_round()
    w.position("bob", 2_300, rid)
    w.close("bob", 2_400, rid, "bob is no facilitator")  # ignored: not a facilitator
    bad = {**B.close_round(w.next_id(), 2_450, w.dev("ana"), round_=rid), "statement": 7}
    w.add("ana", bad)  # ignored: a statement must be text
    w.close("ana", 3_000, rid, "Adopted: the hall opens at nine.\nBob holds the key.")
    w.close("ana", 3_100, rid, "a second close")  # ignored: already closed
    s = w.fold(now=3_500)
    r = s.rounds[rid]
    assert r.statement == "Adopted: the hall opens at nine.\nBob holds the key."
    assert s.decisions[r.decision or ""].statement == r.statement
    assert len(ignored_rules(s)) == 3 and r.closed_ts == 3_000
    assert "must be text" in last_entry(s, bad["id"]).detail


def test_a_close_without_a_statement_is_written_and_read_as_before() -> None:
    w, _pid, rid = running_round()
    w.position("bob", 2_300, rid)
    doc = w.close("ana", 3_000, rid)
    assert "statement" not in doc  # the document holds what it held before the field
    r = w.fold(now=3_500).rounds[rid]
    assert r.outcome == R.OUTCOME_ADOPTED and r.statement == ""
