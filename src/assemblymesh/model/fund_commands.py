"""Builders for the acts of seed funds and partnerships, checked like every local command
(``model.commands``): names and id prefixes resolved, the act replayed on the current state,
refused with the rule's name exactly when every node would ignore it."""

from __future__ import annotations

from assemblymesh.model import acts as A
from assemblymesh.model.commands import Stamp, built
from assemblymesh.model.state import AssemblyState


def contribute(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, note: str = ""
) -> A.Contribute:
    return built(
        state, stamp, A.Contribute, fund=state.find_fund(fund).id, amount=amount, note=note
    )


def pledge(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, every_days: int, note: str = ""
) -> A.Pledge:
    return built(
        state,
        stamp,
        A.Pledge,
        fund=state.find_fund(fund).id,
        amount=amount,
        every_days=every_days,
        note=note,
    )


def pause_pledge(state: AssemblyState, stamp: Stamp, fund: str, paused: bool) -> A.PausePledge:
    return built(state, stamp, A.PausePledge, fund=state.find_fund(fund).id, paused=paused)


def disburse(
    state: AssemblyState, stamp: Stamp, fund: str, amount: int, to: str, note: str = ""
) -> A.Disburse:
    return built(
        state, stamp, A.Disburse, fund=state.find_fund(fund).id, amount=amount, to=to, note=note
    )


def confirm_skill(
    state: AssemblyState, stamp: Stamp, partnership: str, skill: str
) -> A.ConfirmSkill:
    return built(
        state,
        stamp,
        A.ConfirmSkill,
        partnership=state.find_partnership(partnership).id,
        skill=skill,
    )


__all__ = ["confirm_skill", "contribute", "disburse", "pause_pledge", "pledge"]
