"""What the Funds screen shows, as plain text and numbers: pure functions of the state."""

from __future__ import annotations

from assemblymesh.model import AssemblyState
from assemblymesh.model import funds as F
from assemblymesh.model import readiness as RD
from assemblymesh.model import rules as R
from assemblymesh.model.fund_queries import handover, not_counted, steward_now
from assemblymesh.model.partnerships import Partnership
from assemblymesh.tui.view import when

SAMPLES = 48  # points in the balance plot


def _name(state: AssemblyState, member: str | None) -> str:
    if not member:
        return "-"
    m = state.members.get(member)
    return m.name if m is not None else member[:8]


def fund_rows(state: AssemblyState) -> list[tuple[str, tuple[str, ...]]]:
    """(fund id, (name, balance, steward, countdown)) for the funds table."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for f in state.funds.values():
        steward = steward_now(state, f)
        left = f"{F.days_left(f, state.now_ms)} days" if f.open_at(state.now_ms) else "dissolved"
        rows.append((f.id, (f.name, f"{f.balance} {f.unit}", _name(state, steward), left)))
    return rows


def balance_samples(fund: F.Fund, now_ms: int, n: int = SAMPLES) -> list[float]:
    """The balance at ``n`` evenly spaced times from establishment to now (or dissolution):
    the points of the plot of balance over time."""
    series = F.balance_series(fund)
    end = min(now_ms, fund.dissolved_ts or fund.dissolves_ts)
    start = fund.established_ts
    if end <= start:
        return [float(fund.balance)]
    out = []
    at = 0
    for i in range(n):
        t = start + (end - start) * i // (n - 1)
        while at + 1 < len(series) and series[at + 1][0] <= t:
            at += 1
        out.append(float(series[at][1]))
    return out


def fund_summary(state: AssemblyState, fund: F.Fund) -> str:
    """The fund's rules, steward rotation and countdown."""
    now = state.now_ms
    lines = [f"{fund.name}: {fund.purpose or '(no purpose given)'}"]
    lines.append(f"Balance: {fund.balance} {fund.unit}   threshold: {fund.threshold} {fund.unit}")
    if fund.open_at(now):
        lines.append(f"Dissolves in {F.days_left(fund, now)} days, on {F.day(fund.dissolves_ts)}")
    else:
        lines.append(f"Dissolved on {F.day(fund.dissolved_ts or fund.dissolves_ts)}")
    left = (
        "returned to the contributors"
        if fund.remainder == R.REMAINDER_RETURN
        else f"given to {fund.remainder_to}"
    )
    lines.append(f"What is left then is {left}.")
    rotation = fund.rotations[-1]
    order = " -> ".join(_name(state, m) for m in rotation.order)
    lines.append(f"Stewards, {rotation.term_ms // R.DAY_MS}-day terms: {order}")
    steward = steward_now(state, fund)
    nxt = handover(state, fund)
    lines.append(f"Steward now: {_name(state, steward) if steward else 'nobody'}")
    if nxt is not None:
        lines.append(f"Next steward: {_name(state, nxt.steward)} from {when(nxt.ts)}")
    for p in fund.pledges.values():
        running = "running" if p.running_at(now) else "paused"
        lines.append(
            f"Pledge: {_name(state, p.member)} {p.amount} {fund.unit} every {p.every_days}"
            f" days ({running})"
        )
    for n in not_counted(state, fund.decision):
        lines.append(f"Not counted: {n.name}'s {n.kind} ({n.reason or '-'}): {n.why}")
    return "\n".join(lines)


def ledger_text(state: AssemblyState, fund: F.Fund) -> str:
    """Every entry, newest last, refused ones with their reason."""
    if not fund.ledger:
        return "Ledger: no entries yet."
    lines = [f"Ledger ({len(fund.ledger)} entries):"]
    for e in fund.ledger:
        to = f" -> {e.to}" if e.to else ""
        lines.append(
            f"{when(e.ts)}  {e.kind:<14} {e.amount:>7}  bal {e.balance:>7}  "
            f"{_name(state, e.member)}{to}"
        )
        if not e.accepted:
            lines.append(f"    REFUSED: {e.detail} (rule: {e.rule})")
        elif e.note:
            lines.append(f"    {e.note}")
    return "\n".join(lines)


def partnership_text(state: AssemblyState, p: Partnership) -> str:
    now = state.now_ms
    status = "in force" if p.in_force(now) else "ended"
    sunset = f"sunset {F.day(p.sunset_ts)}" if p.sunset_ts is not None else "NO SUNSET"
    if p.sunset_ts is not None and p.in_force(now):
        sunset += f" (in {-(-(p.sunset_ts - now) // R.DAY_MS)} days)"
    lines = [f"{p.name}: {status}, {sunset}"]
    lines.append("  supporters: " + ", ".join(_name(state, s) for s in p.supporters))
    lines.append(f"  provides: {p.provides or '-'}")
    fund = state.funds.get(p.fund) if p.fund is not None else None
    if fund is not None:
        lines.append(f"  for the fund: {fund.name}")
    for s in p.skills:
        done = f"confirmed {F.day(s.confirmed_ts)}" if s.confirmed_ts is not None else "not yet"
        lines.append(f"  skill {s.skill!r} -> {_name(state, s.member)}: {done}")
    return "\n".join(lines)


def partnerships_text(state: AssemblyState) -> str:
    if not state.partnerships:
        return "No partnerships. A decision with an establish-partnership effect adopts one."
    return "\n\n".join(partnership_text(state, p) for p in state.partnerships.values())


def readiness_text(state: AssemblyState) -> str:
    findings = RD.report(state)
    if not findings:
        return (
            "Ready: if the supporters withdrew tomorrow, nothing in the record would be left"
            " without a member."
        )
    count = f"{len(findings)} thing{'' if len(findings) == 1 else 's'}"
    lines = [f"If the supporters withdrew tomorrow, {count} would be left without a member:"]
    for f in findings:
        lines.append(f"\n{f.kind.upper()}: {f.orphaned}")
        lines.append(f"    fix: {f.fix}")
    return "\n".join(lines)


__all__ = [
    "balance_samples",
    "fund_rows",
    "fund_summary",
    "ledger_text",
    "partnerships_text",
    "readiness_text",
]
