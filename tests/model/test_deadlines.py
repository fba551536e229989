"""Round deadlines (informational closing times) and who a round still waits for."""

from __future__ import annotations

import dataclasses

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.queries import deadline_near, rounds_waiting_for, waiting_on
from tests.model.helpers import founded, ignored_rules, last_entry

DEADLINE = 50_000


def test_the_deadline_is_stored_on_the_round_and_never_closes_it() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid, deadline=DEADLINE)
    s = w.fold(now=DEADLINE + R.DAY_MS)
    r = s.rounds[rid]
    assert r.deadline == DEADLINE
    assert r.phase == R.QUESTIONS and r.outcome is None


def test_an_open_round_act_without_a_deadline_reads_as_none() -> None:
    act = A.Act.from_doc(
        {"type": "open_round", "id": "00aa00aa", "ts": 1, "proposal": "ab" * 8, "version": 1}
    )
    assert isinstance(act, A.OpenRound) and act.deadline is None
    assert "deadline" not in act.to_doc()


def test_a_deadline_before_the_open_is_ignored_with_its_rule() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    bad = w.open_round("ana", 2_100, pid, deadline=2_000)
    s = w.fold()
    assert bad not in s.rounds
    assert ignored_rules(s) == [R.DEADLINE_AFTER_OPEN]


def test_advance_round_sets_a_new_deadline_or_keeps_the_old_one() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid, deadline=DEADLINE)
    w.advance("ana", 2_200, rid, R.REACTIONS)
    assert w.fold().rounds[rid].deadline == DEADLINE
    w.advance("ana", 2_300, rid, R.POSITIONS, deadline=DEADLINE * 2)
    assert w.fold().rounds[rid].deadline == DEADLINE * 2


def test_advance_round_with_a_deadline_before_the_open_is_ignored() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid, deadline=DEADLINE)
    bad = w.advance("ana", 2_200, rid, R.REACTIONS, deadline=2_050)
    s = w.fold()
    assert s.rounds[rid].phase == R.QUESTIONS and s.rounds[rid].deadline == DEADLINE
    assert last_entry(s, bad["id"]).rule == R.DEADLINE_AFTER_OPEN


def test_waiting_on_lists_members_without_a_position_and_never_supporters() -> None:
    w = founded("bob", "cara")
    w.supporter("sam", 1_200)
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid, deadline=DEADLINE)
    w.to_positions("ana", 2_200, rid)
    s = w.fold()
    r = s.rounds[rid]
    assert s.members[w.mid("sam")].supporter
    assert waiting_on(s, r) == (w.mid("ana"), w.mid("bob"), w.mid("cara"))
    w.position("bob", 2_300, rid)
    s = w.fold()
    assert waiting_on(s, s.rounds[rid]) == (w.mid("ana"), w.mid("cara"))
    assert rounds_waiting_for(s, w.mid("cara")) == (s.rounds[rid],)
    assert rounds_waiting_for(s, w.mid("bob")) == ()
    assert rounds_waiting_for(s, w.mid("sam")) == ()


def test_rounds_wait_for_positions_only_in_the_positions_phase_until_closed() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    assert rounds_waiting_for(w.fold(), w.mid("bob")) == ()
    w.to_positions("ana", 2_200, rid)
    assert [r.id for r in rounds_waiting_for(w.fold(), w.mid("bob"))] == [rid]
    w.position("ana", 2_300, rid)
    w.close("ana", 2_400, rid)
    s = w.fold()
    assert rounds_waiting_for(s, w.mid("bob")) == () and waiting_on(s, s.rounds[rid]) == ()


def test_deadline_near_within_a_day_or_past() -> None:
    w = founded("bob")
    pid = w.propose("bob", 2_000)
    rid = w.open_round("ana", 2_100, pid, deadline=DEADLINE + R.DAY_MS)
    r = w.fold().rounds[rid]
    assert not deadline_near(r, DEADLINE - 1)
    assert deadline_near(r, DEADLINE)
    assert deadline_near(r, DEADLINE + 2 * R.DAY_MS)
    assert not deadline_near(dataclasses.replace(r, deadline=None), DEADLINE * 9)
