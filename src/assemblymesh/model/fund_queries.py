"""Questions the screens and the command line ask about funds and partnerships, answered
from the folded state (and its clock) alone."""

from __future__ import annotations

from dataclasses import dataclass

from assemblymesh.model import funds as F
from assemblymesh.model import rules as R
from assemblymesh.model.state import AssemblyState


def is_member(state: AssemblyState) -> F.IsMember:
    """Whether a participant is a member (not a supporter, not removed) at a time."""

    def check(member: str, ts: int) -> bool:
        m = state.members.get(member)
        return m is not None and m.counts(ts)

    return check


def steward_now(state: AssemblyState, fund: F.Fund) -> str | None:
    return F.steward_at(fund, state.now_ms, is_member(state))


def handover(state: AssemblyState, fund: F.Fund) -> F.Handover | None:
    return F.next_handover(fund, state.now_ms, is_member(state))


@dataclass(frozen=True)
class NotCounted:
    """A position on record that did not count towards the decision, and why."""

    member: str
    name: str
    kind: str
    reason: str
    why: str


def not_counted(state: AssemblyState, decision: str) -> list[NotCounted]:
    """The positions in the round of ``decision`` that did not count: supporters' (advisory),
    with the reason they gave and why it was not counted."""
    d = state.decisions.get(decision)
    r = state.rounds.get(d.round) if d is not None else None
    if r is None:
        return []
    why = (
        "a supporter's position is advisory: supporters never block or count towards quorum"
        f" (rule {R.SUPPORTER_MAY_NOT})"
    )
    return [
        NotCounted(m, state.members[m].name if m in state.members else m[:8], p.kind, p.reason, why)
        for m, p in r.positions.items()
        if p.advisory
    ]


def funds_decisions(state: AssemblyState, fund: F.Fund) -> list[str]:
    """The decisions that shaped ``fund``: the one establishing it, then each later one."""
    out = [fund.decision]
    for e in fund.ledger:
        if e.decision is not None and e.decision not in out:
            out.append(e.decision)
    return out


__all__ = ["NotCounted", "funds_decisions", "handover", "is_member", "not_counted", "steward_now"]
