"""What the Funds screen shows, as plain text and numbers: pure functions of the state."""

from __future__ import annotations

from assemblymesh.i18n import _, format_date, format_number, ngettext
from assemblymesh.model import AssemblyState
from assemblymesh.model import funds as F
from assemblymesh.model import readiness as RD
from assemblymesh.model import rules as R
from assemblymesh.model.fund_queries import handover, not_counted, steward_now
from assemblymesh.model.partnerships import Partnership
from assemblymesh.tui.view import kind_label, when

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
        if f.open_at(state.now_ms):
            days = F.days_left(f, state.now_ms)
            left = ngettext("{count} day", "{count} days", days).format(count=format_number(days))
        else:
            left = _("dissolved")
        balance = _("{amount} {unit}").format(amount=format_number(f.balance), unit=f.unit)
        rows.append((f.id, (f.name, balance, _name(state, steward), left)))
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
    purpose = fund.purpose or _("(no purpose given)")
    lines = [_("{name}: {purpose}").format(name=fund.name, purpose=purpose)]
    lines.append(
        _("Balance: {balance} {unit}   threshold: {threshold} {unit}").format(
            balance=format_number(fund.balance),
            threshold=format_number(fund.threshold),
            unit=fund.unit,
        )
    )
    if fund.open_at(now):
        days = F.days_left(fund, now)
        lines.append(
            ngettext(
                "Dissolves in {count} day, on {day}", "Dissolves in {count} days, on {day}", days
            ).format(count=format_number(days), day=format_date(fund.dissolves_ts))
        )
    else:
        lines.append(
            _("Dissolved on {day}").format(day=format_date(fund.dissolved_ts or fund.dissolves_ts))
        )
    if fund.remainder == R.REMAINDER_RETURN:
        lines.append(_("What is left then is returned to the contributors."))
    else:
        lines.append(_("What is left then is given to {to}.").format(to=fund.remainder_to))
    lines.extend(_stewards(state, fund))
    for p in fund.pledges.values():
        running = p.running_at(now)
        lines.append(
            (
                _("Pledge: {member} {amount} {unit} every {days} days (running)")
                if running
                else _("Pledge: {member} {amount} {unit} every {days} days (paused)")
            ).format(
                member=_name(state, p.member),
                amount=format_number(p.amount),
                unit=fund.unit,
                days=format_number(p.every_days),
            )
        )
    for n in not_counted(state, fund.decision):
        lines.append(
            _("Not counted: {name}'s {kind} ({reason}): {why}").format(
                name=n.name, kind=kind_label(n.kind), reason=n.reason or "-", why=n.why
            )
        )
    return "\n".join(lines)


def _stewards(state: AssemblyState, fund: F.Fund) -> list[str]:
    """The steward rotation, who holds it now and who takes it next."""
    rotation = fund.rotations[-1]
    order = " -> ".join(_name(state, m) for m in rotation.order)
    days = rotation.term_ms // R.DAY_MS
    lines = [_("Stewards, {days}-day terms: {order}").format(days=format_number(days), order=order)]
    steward = steward_now(state, fund)
    nxt = handover(state, fund)
    now = _name(state, steward) if steward else _("nobody")
    lines.append(_("Steward now: {name}").format(name=now))
    if nxt is not None:
        lines.append(
            _("Next steward: {name} from {when}").format(
                name=_name(state, nxt.steward), when=when(nxt.ts)
            )
        )
    return lines


def ledger_text(state: AssemblyState, fund: F.Fund) -> str:
    """Every entry, newest last, refused ones with their reason."""
    if not fund.ledger:
        return _("Ledger: no entries yet.")
    count = len(fund.ledger)
    lines = [
        ngettext("Ledger ({count} entry):", "Ledger ({count} entries):", count).format(
            count=format_number(count)
        )
    ]
    for e in fund.ledger:
        to = f" -> {e.to}" if e.to else ""
        lines.append(
            _("{when}  {kind} {amount}  bal {balance}  {member}{to}").format(
                when=when(e.ts),
                kind=f"{F.entry_label(e.kind):<14}",
                amount=f"{format_number(e.amount):>7}",
                balance=f"{format_number(e.balance):>7}",
                member=_name(state, e.member),
                to=to,
            )
        )
        if not e.accepted:
            lines.append(
                "    " + _("REFUSED: {detail} (rule: {rule})").format(detail=e.detail, rule=e.rule)
            )
        elif e.note:
            lines.append(f"    {e.note}")
    return "\n".join(lines)


def partnership_text(state: AssemblyState, p: Partnership) -> str:
    now = state.now_ms
    status = _("in force") if p.in_force(now) else _("ended")
    if p.sunset_ts is None:
        sunset = _("NO SUNSET")
    elif p.in_force(now):
        days = -(-(p.sunset_ts - now) // R.DAY_MS)
        sunset = ngettext(
            "sunset {day} (in {count} day)", "sunset {day} (in {count} days)", days
        ).format(day=format_date(p.sunset_ts), count=format_number(days))
    else:
        sunset = _("sunset {day}").format(day=format_date(p.sunset_ts))
    lines = [_("{name}: {status}, {sunset}").format(name=p.name, status=status, sunset=sunset)]
    supporters = ", ".join(_name(state, s) for s in p.supporters)
    lines.append("  " + _("supporters: {names}").format(names=supporters))
    lines.append("  " + _("provides: {what}").format(what=p.provides or "-"))
    fund = state.funds.get(p.fund) if p.fund is not None else None
    if fund is not None:
        lines.append("  " + _("for the fund: {name}").format(name=fund.name))
    for s in p.skills:
        done = (
            _("confirmed {day}").format(day=format_date(s.confirmed_ts))
            if s.confirmed_ts is not None
            else _("not yet")
        )
        lines.append(
            "  "
            + _("skill {skill} -> {member}: {done}").format(
                skill=repr(s.skill), member=_name(state, s.member), done=done
            )
        )
    return "\n".join(lines)


def partnerships_text(state: AssemblyState) -> str:
    if not state.partnerships:
        return _("No partnerships. A decision with an {effect} effect adopts one.").format(
            effect="establish-partnership"
        )
    return "\n\n".join(partnership_text(state, p) for p in state.partnerships.values())


def readiness_text(state: AssemblyState) -> str:
    findings = RD.report(state)
    if not findings:
        return _(
            "Ready: if the supporters withdrew tomorrow, nothing in the record would be left"
            " without a member."
        )
    count = len(findings)
    lines = [
        ngettext(
            "If the supporters withdrew tomorrow, {count} thing would be left without a member:",
            "If the supporters withdrew tomorrow, {count} things would be left without a member:",
            count,
        ).format(count=format_number(count))
    ]
    for f in findings:
        lines.append(f"\n{f.kind.upper()}: {f.orphaned}")
        lines.append("    " + _("fix: {fix}").format(fix=f.fix))
    return "\n".join(lines)


__all__ = [
    "balance_samples",
    "fund_rows",
    "fund_summary",
    "ledger_text",
    "partnerships_text",
    "readiness_text",
]
