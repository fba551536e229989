"""Builders for the acts of seed funds and partnerships, checked like every local command
(``model.commands``): names and id prefixes resolved, the act replayed on the current state,
refused with the rule's name exactly when every node would ignore it."""

from __future__ import annotations

from assemblymesh.model import acts as A
from assemblymesh.model.commands import Stamp, _checked
from assemblymesh.model.state import AssemblyState


def contribute(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, note: str = ""
) -> A.Contribute:
    act = A.Contribute(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        fund=state.find_fund(fund).id,
        amount=amount,
        note=note,
    )
    return _checked(state, stamp, act)


def pledge(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, every_days: int, note: str = ""
) -> A.Pledge:
    act = A.Pledge(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        fund=state.find_fund(fund).id,
        amount=amount,
        every_days=every_days,
        note=note,
    )
    return _checked(state, stamp, act)


def pause_pledge(state: AssemblyState, stamp: Stamp, fund: str, paused: bool) -> A.PausePledge:
    act = A.PausePledge(
        id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, fund=state.find_fund(fund).id, paused=paused
    )
    return _checked(state, stamp, act)


def disburse(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, to: str, note: str = ""
) -> A.Disburse:
    act = A.Disburse(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        fund=state.find_fund(fund).id,
        amount=amount,
        to=to,
        note=note,
    )
    return _checked(state, stamp, act)


def confirm_skill(
    state: AssemblyState, stamp: Stamp, partnership: str, skill: str
) -> A.ConfirmSkill:
    act = A.ConfirmSkill(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        partnership=state.find_partnership(partnership).id,
        skill=skill,
    )
    return _checked(state, stamp, act)


__all__ = ["confirm_skill", "contribute", "disburse", "pause_pledge", "pledge"]
