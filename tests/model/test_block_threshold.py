"""What counts as a block is a rule of the assembly: consent (1 objection) by default."""

from __future__ import annotations

from assemblymesh.model import rules as R
from tests.model.helpers import COOLING, World


def assembly(threshold: int) -> tuple[World, str, str]:
    w = World(block_threshold=threshold)
    w.create(1_000)
    for i, name in enumerate(("bo", "cy", "di")):
        w.join(name, 1_100 + i)
    pid = w.propose("ana", 2_000)
    rid = w.open_round("ana", 2_010, pid)
    w.to_positions("ana", 2_020, rid)
    return w, pid, rid


def test_the_rule_is_part_of_the_assembly() -> None:
    w, _, _ = assembly(2)
    state = w.fold()
    assert state.assembly is not None and state.assembly.rules.block_threshold == 2


def test_by_default_one_reasoned_objection_blocks() -> None:
    w, pid, rid = assembly(1)
    w.position("bo", 2_100, rid, R.CONSENT)
    w.position("cy", 2_110, rid, R.OBJECT, "not safe")
    w.close("ana", 2_200, rid)
    state = w.fold()
    assert state.rounds[rid].outcome == R.OUTCOME_OBJECTIONS
    assert state.proposals[pid].state == R.RETURNED


def test_below_the_threshold_objections_are_recorded_but_do_not_block() -> None:
    w, _pid, rid = assembly(2)
    w.position("bo", 2_100, rid, R.CONSENT)
    w.position("cy", 2_110, rid, R.OBJECT, "not safe")
    w.close("ana", 2_200, rid)
    state = w.fold()
    assert state.rounds[rid].outcome == R.OUTCOME_ADOPTED
    assert [p.reason for p in state.rounds[rid].objections] == ["not safe"]


def test_at_the_threshold_objections_block() -> None:
    w, _pid, rid = assembly(2)
    w.position("cy", 2_110, rid, R.OBJECT, "not safe")
    w.position("di", 2_120, rid, R.OBJECT, "too costly")
    w.position("bo", 2_130, rid, R.CONSENT)
    w.close("ana", 2_200, rid)
    assert w.fold().rounds[rid].outcome == R.OUTCOME_OBJECTIONS


def test_late_objections_return_a_decision_once_they_reach_the_threshold() -> None:
    w, pid, rid = assembly(2)
    w.position("bo", 2_100, rid, R.CONSENT)
    w.position("cy", 2_110, rid, R.OBJECT, "not safe")
    w.close("ana", 2_200, rid)  # adopted: one objection is below the threshold
    decided = w.fold(now=2_300)
    decision = decided.rounds[rid].decision
    assert decision is not None and decided.decisions[decision].status == R.PENDING
    w.position("di", 2_200 + COOLING // 2, rid, R.OBJECT, "we were not asked")
    state = w.fold(now=2_200 + COOLING * 2)
    assert state.decisions[decision].status == R.DECISION_RETURNED
    assert state.proposals[pid].state == R.RETURNED
