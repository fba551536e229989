"""Withdrawal readiness: "if the outside allies withdrew tomorrow, would the assembly go on?"

Answered from the folded record alone, as a list of findings. Each names what would be
orphaned (a role, a fund, a stewardship, a skill, a stream of income, a decision, an
agreement) and how the assembly fixes it. An empty list means nothing in the record depends
on a supporter or lacks a member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from assemblymesh.model import funds as F
from assemblymesh.model import rules as R
from assemblymesh.model.partnerships import Partnership
from assemblymesh.model.state import AssemblyState, Decision

# Finding kinds, in the order the report lists them.
ROLE: Final = "role"
FUND: Final = "fund"
STEWARDSHIP: Final = "stewardship"
SKILL: Final = "skill"
INCOME: Final = "income"
DECISION: Final = "decision"
PARTNERSHIP: Final = "partnership"
KINDS: Final = (ROLE, FUND, STEWARDSHIP, SKILL, INCOME, DECISION, PARTNERSHIP)

ROLE_LABELS: Final = {
    R.FACILITATOR: "facilitator",
    R.NOTE_TAKER: "note-taker",
    R.STEWARD: "steward",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # the id of what would be orphaned (a role name, fund, partnership, decision)
    orphaned: str  # what would be left without a member, in words
    fix: str  # how the assembly fixes it, in words (with the command where there is one)


def _name(state: AssemblyState, member: str) -> str:
    m = state.members.get(member)
    return m.name if m is not None else member[:8]


def _is_member(state: AssemblyState) -> F.IsMember:
    def check(member: str, ts: int) -> bool:
        m = state.members.get(member)
        return m is not None and m.counts(ts)

    return check


def report(state: AssemblyState, period_ms: int = R.DEFAULT_READINESS_PERIOD_MS) -> list[Finding]:
    """Every finding, by kind, in the record's order within each kind."""
    return [
        *_roles(state),
        *_funds(state),
        *_skills(state),
        *_income(state),
        *_decisions(state, period_ms),
        *_partnerships(state),
    ]


def _roles(state: AssemblyState) -> list[Finding]:
    """A role nobody who is a member holds now: the facilitator always (no round opens
    without one), another role once someone held it."""
    now = state.now_ms
    out = []
    for role in R.ROLES:
        held_before = any(t.role == role for m in state.members.values() for t in m.roles)
        if role != R.FACILITATOR and not held_before:
            continue
        if any(m.counts(now) and m.has_role(role, now) for m in state.members.values()):
            continue
        label = ROLE_LABELS[role]
        out.append(
            Finding(
                ROLE,
                role,
                f"no member holds the {label} role",
                f"propose --effect grant-role:MEMBER:{label}:DAYS for a member",
            )
        )
    return out


def _funds(state: AssemblyState) -> list[Finding]:
    now = state.now_ms
    is_member = _is_member(state)
    out = []
    for fund in state.funds.values():
        if not fund.open_at(now):
            continue
        members = [m for m in _order(fund, now) if is_member(m, now)]
        if not members:
            out.append(
                Finding(
                    FUND,
                    fund.id,
                    f"fund {fund.name!r} has no steward who is still a member",
                    f"propose --effect fund-stewards:{fund.name}:MEMBER+MEMBER:DAYS",
                )
            )
        elif len(members) == 1:
            out.append(
                Finding(
                    STEWARDSHIP,
                    fund.id,
                    f"fund {fund.name!r} has one steward ({_name(state, members[0])}):"
                    " if they leave, nobody disburses",
                    f"propose --effect fund-stewards:{fund.name}:MEMBER+MEMBER:DAYS with a"
                    " second member in the rotation",
                )
            )
    return out


def _order(fund: F.Fund, now: int) -> tuple[str, ...]:
    current = [r for r in fund.rotations if r.start_ts <= now]
    return current[-1].order if current else fund.rotations[0].order


def _skills(state: AssemblyState) -> list[Finding]:
    now = state.now_ms
    out = []
    for p in state.partnerships.values():
        for s in p.pending_skills():
            learner = _name(state, s.member)
            member = state.members.get(s.member)
            gone = member is None or not member.counts(now)
            out.append(
                Finding(
                    SKILL,
                    p.id,
                    f"{s.skill!r} (partnership {p.name!r}) is not yet transferred to {learner}"
                    + (", who is no longer a member" if gone else ""),
                    (
                        "a new partnership decision names another member to learn it"
                        if gone
                        else f"{learner} confirms once they can do it themselves:"
                        f" partnership confirm {p.name!r} {s.skill!r}"
                    ),
                )
            )
    return out


def _income(state: AssemblyState) -> list[Finding]:
    """Open funds whose income (contributions, and pledges still running) comes only from
    supporters."""
    now = state.now_ms
    out = []
    for fund in state.funds.values():
        if not fund.open_at(now):
            continue
        sources = set(F.income_by(fund)) | {p.member for p in fund.running_pledges(now)}
        if not sources or any(not _supporter(state, m) for m in sources):
            continue
        names = ", ".join(sorted(_name(state, m) for m in sources))
        out.append(
            Finding(
                INCOME,
                fund.id,
                f"fund {fund.name!r} has income only from supporters ({names})",
                f"members contribute or pledge: fund contribute {fund.name!r} AMOUNT,"
                f" fund pledge {fund.name!r} AMOUNT --every-days N",
            )
        )
    return out


def _supporter(state: AssemblyState, member: str) -> bool:
    m = state.members.get(member)
    return m is not None and m.supporter


def _decisions(state: AssemblyState, period_ms: int) -> list[Finding]:
    """Decisions of the last period whose proposal a supporter put or whose round heard a
    supporter's (advisory) position."""
    since = state.now_ms - period_ms
    out = []
    for d in state.decisions.values():
        if d.decided_ts < since:
            continue
        needed = _supporters_in(state, d)
        if not needed:
            continue
        p = state.proposals.get(d.proposal)
        title = p.title if p is not None else d.proposal[:8]
        out.append(
            Finding(
                DECISION,
                d.id,
                f"decision on {title!r} needed a supporter's input ({'; '.join(needed)})",
                "a member puts such proposals and members weigh them without the supporter:"
                " pair a member with the supporter for the next one",
            )
        )
    return out


def _supporters_in(state: AssemblyState, d: Decision) -> list[str]:
    p = state.proposals.get(d.proposal)
    needed = []
    if p is not None and p.by_supporter:
        needed.append(f"proposed by {_name(state, p.author)}")
    r = state.rounds.get(d.round)
    if r is not None:
        heard = sorted(_name(state, m) for m, pos in r.positions.items() if pos.advisory)
        if heard:
            needed.append("advice of " + ", ".join(heard))
    return needed


def _partnerships(state: AssemblyState) -> list[Finding]:
    now = state.now_ms
    out = []
    for p in state.partnerships.values():
        if not p.in_force(now):
            continue
        if p.sunset_ts is None:
            out.append(
                Finding(
                    PARTNERSHIP,
                    p.id,
                    f"partnership {p.name!r} has no sunset: nothing ends the reliance on it",
                    f"propose --effect shorten-partnership:{p.name}:YYYY-MM-DD",
                )
            )
            continue
        for fund in _funds_of(state, p):
            if p.sunset_ts > fund.dissolves_ts:
                out.append(
                    Finding(
                        PARTNERSHIP,
                        p.id,
                        f"partnership {p.name!r} runs past fund {fund.name!r}'s dissolution"
                        f" ({F.day(p.sunset_ts)} after {F.day(fund.dissolves_ts)})",
                        f"propose --effect shorten-partnership:{p.name}:{F.day(fund.dissolves_ts)}",
                    )
                )
    return out


def _funds_of(state: AssemblyState, p: Partnership) -> list[F.Fund]:
    """The fund the agreement names, and the open funds its supporters contribute to."""
    now = state.now_ms
    out = [state.funds[p.fund]] if p.fund is not None and p.fund in state.funds else []
    for fund in state.funds.values():
        if fund in out or not fund.open_at(now):
            continue
        if set(F.income_by(fund)) & set(p.supporters):
            out.append(fund)
    return out


__all__ = ["KINDS", "Finding", "report"]
