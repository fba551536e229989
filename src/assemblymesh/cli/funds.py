"""Seed funds, partnerships and the withdrawal-readiness report on the command line:
``assemblymesh fund ...``, ``assemblymesh partnership ...`` and ``assemblymesh readiness``.

Whatever the assembly decides (establishing a fund, moving its dissolution date, paying above
the threshold, adopting or moving a partnership) these commands only draft as a proposal with
the effect; the assembly adopts it in a consent round. What a participant records alone
(contributing, pledging, a steward's disbursement, confirming a skill) is written at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import click

from assemblymesh.cli import Context, pass_ctx, short
from assemblymesh.errors import UsageError
from assemblymesh.i18n import N_, _, format_date, ngettext
from assemblymesh.minutes import when
from assemblymesh.model import AssemblyState, commands, fund_commands
from assemblymesh.model import acts as A
from assemblymesh.model import funds as F
from assemblymesh.model import readiness as RD
from assemblymesh.model import rules as R
from assemblymesh.model.effect_text import effect_as_text
from assemblymesh.model.fund_queries import handover, not_counted, steward_now
from assemblymesh.model.partnerships import Partnership
from assemblymesh.model.refusals import in_words
from assemblymesh.model.shapes import Shapes

DATE = click.DateTime(formats=["%Y-%m-%d"])
__all__ = ["fund", "funds_data", "partnership", "partnerships_data", "readiness", "readiness_data"]


def _ms(day: dt.datetime) -> int:
    return int(day.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _name(state: AssemblyState, member: str | None) -> str:
    if member is None:
        return "-"
    m = state.members.get(member)
    return m.name if m is not None else short(member)


# --- data (also in status --json) ------------------------------------------------------------


def _entry_data(state: AssemblyState, e: F.LedgerEntry) -> dict[str, Any]:
    return {
        "ts": e.ts,
        "kind": e.kind,
        "member": e.member,
        "name": _name(state, e.member) if e.member else None,
        "amount": e.amount,
        "balance": e.balance,
        "to": e.to,
        "note": e.note,
        "ref": e.ref,
        "device": e.device,
        "decision": e.decision,
        "accepted": e.accepted,
        "rule": e.rule,
        "detail": e.detail,
    }


def fund_data(state: AssemblyState, fund: F.Fund) -> dict[str, Any]:
    now = state.now_ms
    steward = steward_now(state, fund)
    nxt = handover(state, fund)
    rotation = fund.rotations[-1]
    return {
        "id": fund.id,
        "name": fund.name,
        "purpose": fund.purpose,
        "unit": fund.unit,
        "open": fund.open_at(now),
        "established": fund.established_ts,
        "dissolves": fund.dissolves_ts,
        "dissolved": fund.dissolved_ts,
        "days_until_dissolution": F.days_left(fund, now),
        "remainder": fund.remainder,
        "remainder_to": fund.remainder_to,
        "threshold": fund.threshold,
        "balance": fund.balance,
        "steward": steward,
        "steward_name": _name(state, steward) if steward else None,
        "next_steward": nxt.steward if nxt else None,
        "next_steward_name": _name(state, nxt.steward) if nxt else None,
        "next_handover": nxt.ts if nxt else None,
        "stewards": [_name(state, m) for m in rotation.order],
        "term_days": rotation.term_ms // R.DAY_MS,
        "pledges": [
            {
                "member": p.member,
                "name": _name(state, p.member),
                "amount": p.amount,
                "every_days": p.every_days,
                "paused": p.paused_ts is not None,
            }
            for p in fund.pledges.values()
        ],
        "ledger": [_entry_data(state, e) for e in fund.ledger],
        "decision": fund.decision,
        "not_counted": [
            {"name": n.name, "kind": n.kind, "reason": n.reason, "why": n.why}
            for n in not_counted(state, fund.decision)
        ],
    }


def funds_data(state: AssemblyState) -> list[dict[str, Any]]:
    return [fund_data(state, f) for f in state.funds.values()]


def partnership_data(state: AssemblyState, p: Partnership) -> dict[str, Any]:
    fund = state.funds.get(p.fund) if p.fund is not None else None
    return {
        "id": p.id,
        "name": p.name,
        "in_force": p.in_force(state.now_ms),
        "established": p.established_ts,
        "sunset": p.sunset_ts,
        "supporters": [_name(state, s) for s in p.supporters],
        "provides": p.provides,
        "fund": p.fund,
        "fund_name": fund.name if fund is not None else None,
        "skills": [
            {
                "skill": s.skill,
                "member": s.member,
                "name": _name(state, s.member),
                "confirmed": s.confirmed_ts,
            }
            for s in p.skills
        ],
        "decision": p.decision,
        "history": [
            {"ts": c.ts, "old": c.old, "new": c.new, "kind": c.kind, "decision": c.decision}
            for c in p.history
        ],
    }


def partnerships_data(state: AssemblyState) -> list[dict[str, Any]]:
    return [partnership_data(state, p) for p in state.partnerships.values()]


def readiness_data(state: AssemblyState, period_days: int = 90) -> dict[str, Any]:
    findings = RD.report(state, period_days * R.DAY_MS)
    return {
        "ready": not findings,
        "period_days": period_days,
        "findings": [
            {"kind": f.kind, "subject": f.subject, "orphaned": f.orphaned, "fix": f.fix}
            for f in findings
        ],
    }


# --- printing --------------------------------------------------------------------------------


def _day(ms: int | None) -> str:
    return "-" if ms is None else format_date(ms)


def fund_lines(d: dict[str, Any]) -> list[str]:
    unit = d["unit"]
    days = d["days_until_dissolution"]
    status = (
        ngettext(
            "{days} day until dissolution ({date})", "{days} days until dissolution ({date})", days
        ).format(days=days, date=_day(d["dissolves"]))
        if d["open"]
        else _("dissolved {date}").format(date=_day(d["dissolved"] or d["dissolves"]))
    )
    lines = [
        _("{name}  [{id}]  balance {balance} {unit}; {status}").format(
            name=d["name"], id=short(d["id"]), balance=d["balance"], unit=unit, status=status
        )
    ]
    if d["open"]:
        steward = d["steward_name"] or _("nobody")
        if d["next_steward"]:
            lines.append(
                _("  steward: {steward}; next {next} from {date}").format(
                    steward=steward, next=d["next_steward_name"], date=_day(d["next_handover"])
                )
            )
        else:
            lines.append(_("  steward: {steward}").format(steward=steward))
    return lines


def _ledger_line(unit: str, e: dict[str, Any]) -> str:
    who = e["name"] or "-"
    to = " " + _("to {recipient}").format(recipient=e["to"]) if e["to"] else ""
    note = f" ({e['note']})" if e["note"] and e["kind"] != F.REFUSED else ""
    line = (
        f"  {when(e['ts'])}  {F.entry_label(e['kind']):<14} {e['amount']:>8} {unit:<6} "
        + _("balance {balance}").format(balance=f"{e['balance']:>8}")
        + f"  {who}{to}{note}"
    )
    if not e["accepted"]:
        line += f"\n{'':20}" + _("REFUSED {what}: {detail} (rule: {rule})").format(
            what=e["note"], detail=in_words(e["detail"]), rule=e["rule"]
        )
    return line


def _echo_fund(d: dict[str, Any]) -> None:
    for line in fund_lines(d):
        click.echo(line)
    click.echo(_("  purpose: {purpose}").format(purpose=d["purpose"] or "-"))
    fields = {"threshold": d["threshold"], "unit": d["unit"], "recipient": d["remainder_to"]}
    if d["remainder"] == R.REMAINDER_RETURN:
        threshold = _(
            "  threshold: {threshold} {unit} (above it, a decision); at dissolution the balance"
            " is returned to the contributors"
        )
    else:
        threshold = _(
            "  threshold: {threshold} {unit} (above it, a decision); at dissolution the balance"
            " is given to {recipient}"
        )
    click.echo(threshold.format(**fields))
    click.echo(
        ngettext(
            "  stewards, in turn every {days} day: {stewards}",
            "  stewards, in turn every {days} days: {stewards}",
            d["term_days"],
        ).format(days=d["term_days"], stewards=", ".join(d["stewards"]))
    )
    for p in d["pledges"]:
        state = _("paused") if p["paused"] else _("running")
        pledge = ngettext(
            "  pledge: {name} {amount} {unit} every {days} day ({state})",
            "  pledge: {name} {amount} {unit} every {days} days ({state})",
            p["every_days"],
        )
        click.echo(
            pledge.format(
                name=p["name"], amount=p["amount"], unit=d["unit"], days=p["every_days"],
                state=state,
            )
        )  # fmt: skip
    for n in d["not_counted"]:
        click.echo(
            _("  not counted: {name} ({kind}: {reason}): {why}").format(
                name=n["name"],
                kind=n["kind"],
                reason=n["reason"] or "-",
                why=READINESS_WORDS.in_words(n["why"]),
            )
        )
    count = len(d["ledger"])
    click.echo("")
    click.echo(
        ngettext("Ledger ({count} entry):", "Ledger ({count} entries):", count).format(count=count)
    )
    for e in d["ledger"]:
        click.echo(_ledger_line(d["unit"], e))


# --- fund ------------------------------------------------------------------------------------


@click.group()
def fund() -> None:
    """Community seed funds: established by decision, stewarded in turn, dissolved on a date
    set from the start."""


def _echo_listing(
    data: list[dict[str, Any]],
    as_json: bool,
    empty: str,
    lines_of: Callable[[dict[str, Any]], list[str]],
) -> None:
    """A list command's output: JSON, or each item's lines (or what to do when there is none)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not data:
        click.echo(empty)
    for d in data:
        for line in lines_of(d):
            click.echo(line)


@fund.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def fund_list(ctx: Context, as_json: bool) -> None:
    """Every fund: balance, steward, next steward, days until dissolution."""
    with ctx.open() as local:
        data = funds_data(local.state())
    empty = _("No funds. Propose one with '{command}'.").format(command="assemblymesh fund propose")
    _echo_listing(data, as_json, empty, fund_lines)


@fund.command(name="show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def fund_show(ctx: Context, name: str, as_json: bool) -> None:
    """One fund in full: rules, stewards, pledges and the whole ledger (refusals with why)."""
    with ctx.open() as local:
        state = local.state()
        data = fund_data(state, state.find_fund(name))
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    _echo_fund(data)


def _propose(ctx: Context, title: str, body: str, effects: list[A.Effect]) -> str:
    with ctx.open() as local:
        state = local.state()
        act = local.act(commands.propose, title, body, effects)
        for effect in effects:
            click.echo(_("does: {effect}").format(effect=effect_as_text(state, effect)))
    return act.ref


@fund.command(name="propose")
@click.option("--name", required=True, help="The fund's name.")
@click.option("--purpose", default="", help="What the fund is for.")
@click.option("--unit", required=True, help="What it holds: EUR, hours, bags of seed, ...")
@click.option("--dissolves", required=True, type=DATE, metavar="YYYY-MM-DD",
              help="The published dissolution date.")  # fmt: skip
@click.option("--threshold", type=click.IntRange(0), required=True,
              help="The most a steward disburses alone; above it, a decision.")  # fmt: skip
@click.option("--steward", "stewards", multiple=True, required=True,
              help="A steward, in rotation order (repeatable).")  # fmt: skip
@click.option("--term-days", type=click.IntRange(1, 730), default=90, show_default=True)
@click.option("--give-to", default=None,
              help="At dissolution, give the balance to this recipient (default: return it"
              " to the contributors in proportion).")  # fmt: skip
@click.option("--title", default=None, help="The proposal's title.")
@pass_ctx
def fund_propose(
    ctx: Context,
    name: str,
    purpose: str,
    unit: str,
    dissolves: dt.datetime,
    threshold: int,
    stewards: tuple[str, ...],
    term_days: int,
    give_to: str | None,
    title: str | None,
) -> None:
    """Propose a decision establishing a fund; prints the proposal's id."""
    with ctx.open() as local:
        state = local.state()
        ids = tuple(state.find_member(s).id for s in stewards)
    effect = A.EstablishFundEffect(
        name=name, purpose=purpose, unit=unit, dissolves=_ms(dissolves),
        remainder=R.REMAINDER_GIVE if give_to else R.REMAINDER_RETURN,
        remainder_to=give_to or "", threshold=threshold, stewards=ids, term_days=term_days,
    )  # fmt: skip
    body = _("Establish the fund {name!r}: {purpose}.").format(
        name=name, purpose=purpose or _("no purpose given")
    )
    default_title = _("Establish the fund {name}").format(name=name)
    click.echo(_propose(ctx, title or default_title, body, [effect]))


@fund.command(name="contribute")
@click.argument("name")
@click.argument("amount", type=click.IntRange(1))
@click.option("--note", default="", help="What it is, where it came from.")
@pass_ctx
def fund_contribute(ctx: Context, name: str, amount: int, note: str) -> None:
    """Record a contribution to a fund (members and supporters with standing)."""
    with ctx.open() as local:
        act = local.act(fund_commands.contribute, name, amount, note)
        f = local.state().find_fund(name)
    click.echo(
        _("contributed {amount} {unit}; balance {balance} {unit}").format(
            amount=amount, unit=f.unit, balance=f.balance
        )
    )
    click.echo(act.ref)


@fund.command(name="pledge")
@click.argument("name")
@click.argument("amount", type=click.IntRange(1))
@click.option("--every-days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--note", default="")
@pass_ctx
def fund_pledge(ctx: Context, name: str, amount: int, every_days: int, note: str) -> None:
    """Pledge future contributions (a later pledge replaces the earlier one)."""
    with ctx.open() as local:
        act = local.act(fund_commands.pledge, name, amount, every_days, note)
    click.echo(
        ngettext(
            "pledged {amount} every {days} day", "pledged {amount} every {days} days", every_days
        ).format(amount=amount, days=every_days)
    )
    click.echo(act.ref)


@fund.command(name="pause")
@click.argument("name")
@pass_ctx
def fund_pause(ctx: Context, name: str) -> None:
    """Pause your pledge to a fund."""
    with ctx.open() as local:
        local.act(fund_commands.pause_pledge, name, True)
    click.echo(_("pledge paused"))


@fund.command(name="resume")
@click.argument("name")
@pass_ctx
def fund_resume(ctx: Context, name: str) -> None:
    """Resume your paused pledge to a fund."""
    with ctx.open() as local:
        local.act(fund_commands.pause_pledge, name, False)
    click.echo(_("pledge resumed"))


@fund.command(name="disburse")
@click.argument("name")
@click.argument("amount", type=click.IntRange(1))
@click.option("--to", "to", required=True, help="Who or what is paid.")
@click.option("--note", default="")
@pass_ctx
def fund_disburse(ctx: Context, name: str, amount: int, to: str, note: str) -> None:
    """The current steward: pay out of a fund, at most its threshold. Above it, propose a
    decision with 'fund propose-disbursement'."""
    with ctx.open() as local:
        f = local.state().find_fund(name)
        if amount > f.threshold:
            command = f"assemblymesh fund propose-disbursement {f.name!r} {amount} --to ..."
            raise UsageError(
                _(
                    "{amount} {unit} is above the threshold of {threshold}: propose it with"
                    " '{command}'"
                ).format(amount=amount, unit=f.unit, threshold=f.threshold, command=command)
            )
        act = local.act(fund_commands.disburse, name, amount, to, note)
        f = local.state().find_fund(name)
    click.echo(
        _("disbursed {amount} {unit} to {recipient}; balance {balance} {unit}").format(
            amount=amount, unit=f.unit, recipient=to, balance=f.balance
        )
    )
    click.echo(act.ref)


@fund.command(name="propose-disbursement")
@click.argument("name")
@click.argument("amount", type=click.IntRange(1))
@click.option("--to", "to", required=True, help="Who or what is paid.")
@click.option("--title", default=None)
@pass_ctx
def fund_propose_disbursement(
    ctx: Context, name: str, amount: int, to: str, title: str | None
) -> None:
    """Propose a decision paying out of a fund (any amount the balance will allow when the
    decision takes effect); prints the proposal's id."""
    with ctx.open() as local:
        f = local.state().find_fund(name)
    effect = A.DisburseEffect(fund=f.id, amount=amount, to=to)
    fields = {"amount": amount, "unit": f.unit, "fund": f.name, "recipient": to}
    body = _("Pay {amount} {unit} from {fund!r} to {recipient}.").format(**fields)
    default_title = _("Pay {amount} {unit} to {recipient}").format(**fields)
    click.echo(_propose(ctx, title or default_title, body, [effect]))


@fund.command(name="shorten")
@click.argument("name")
@click.argument("dissolves", metavar="YYYY-MM-DD", type=DATE)
@pass_ctx
def fund_shorten(ctx: Context, name: str, dissolves: dt.datetime) -> None:
    """Propose bringing a fund's dissolution date forward; prints the proposal's id."""
    with ctx.open() as local:
        f = local.state().find_fund(name)
    if _ms(dissolves) >= f.dissolves_ts:
        raise UsageError(
            _(
                "{date} is not earlier than {current}: to lengthen the fund's life, use"
                " '{command}' (a decision of its own)"
            ).format(
                date=format_date(_ms(dissolves)), current=format_date(f.dissolves_ts),
                command="assemblymesh fund lengthen",
            )
        )  # fmt: skip
    effect = A.ShortenFundEffect(fund=f.id, dissolves=_ms(dissolves))
    body = _("Dissolve {fund!r} on {date}, not {current}.").format(
        fund=f.name, date=format_date(_ms(dissolves)), current=format_date(f.dissolves_ts)
    )
    title = _("Dissolve {fund} earlier").format(fund=f.name)
    click.echo(_propose(ctx, title, body, [effect]))


@fund.command(name="lengthen")
@click.argument("name")
@click.argument("dissolves", metavar="YYYY-MM-DD", type=DATE)
@click.option("--reason", required=True, help="Why the fund should live longer.")
@pass_ctx
def fund_lengthen(ctx: Context, name: str, dissolves: dt.datetime, reason: str) -> None:
    """Propose LENGTHENING a fund's life: a proposal of its own, with nothing else in it,
    that needs its own consent round; prints the proposal's id."""
    with ctx.open() as local:
        f = local.state().find_fund(name)
    new = _ms(dissolves)
    if new <= f.dissolves_ts:
        raise UsageError(
            _("{date} is not later than {current}: use '{command}'").format(
                date=format_date(new), current=format_date(f.dissolves_ts), command="fund shorten"
            )
        )
    more = (new - f.dissolves_ts) // R.DAY_MS
    fields = {
        "fund": f.name,
        "days": more,
        "current": format_date(f.dissolves_ts),
        "date": format_date(new),
    }
    click.echo(
        ngettext(
            "This LENGTHENS the life of {fund!r} by {days} day, from {current} to {date}. It is a"
            " proposal of its own and takes its own consent round.",
            "This LENGTHENS the life of {fund!r} by {days} days, from {current} to {date}. It is"
            " a proposal of its own and takes its own consent round.",
            more,
        ).format(**fields)
    )
    effect = A.LengthenFundEffect(fund=f.id, dissolves=new)
    body = _("Lengthen the life of {fund!r} to {date} (was {current}).").format(**fields)
    title = _("LENGTHEN {fund} to {date}").format(**fields)
    click.echo(_propose(ctx, title, body + "\n\n" + reason, [effect]))


@fund.command(name="stewards")
@click.argument("name")
@click.argument("members", nargs=-1, required=True)
@click.option("--term-days", type=click.IntRange(1, 730), default=90, show_default=True)
@pass_ctx
def fund_stewards(ctx: Context, name: str, members: tuple[str, ...], term_days: int) -> None:
    """Propose a new rotation of stewards for a fund (in order); prints the proposal's id."""
    with ctx.open() as local:
        state = local.state()
        f = state.find_fund(name)
        ids = tuple(state.find_member(m).id for m in members)
    effect = A.FundStewardsEffect(fund=f.id, stewards=ids, term_days=term_days)
    body = ngettext(
        "New stewards of {fund!r}, in turn every {days} day.",
        "New stewards of {fund!r}, in turn every {days} days.",
        term_days,
    ).format(fund=f.name, days=term_days)
    click.echo(_propose(ctx, _("Stewards of {fund}").format(fund=f.name), body, [effect]))


# --- partnership -----------------------------------------------------------------------------


@click.group()
def partnership() -> None:
    """Partnerships with outside supporters: what they provide, the skills they pass on, and
    the sunset when the supporters' standing under the agreement ends."""


def partnership_lines(d: dict[str, Any]) -> list[str]:
    sunset = (
        _("sunset {date}").format(date=_day(d["sunset"]))
        if d["sunset"] is not None
        else _("NO SUNSET")
    )
    status = _("in force") if d["in_force"] else _("ended")
    lines = [f"{d['name']}  [{short(d['id'])}]  {status}; {sunset}"]
    lines.append(
        _("  supporters: {supporters}; provides: {provides}").format(
            supporters=", ".join(d["supporters"]), provides=d["provides"] or "-"
        )
    )
    if d["fund_name"]:
        lines.append(_("  for the fund: {fund}").format(fund=d["fund_name"]))
    for s in d["skills"]:
        done = (
            _("confirmed {date}").format(date=_day(s["confirmed"]))
            if s["confirmed"]
            else _("not yet")
        )
        lines.append(
            _("  skill: {skill} -> {name}: {done}").format(
                skill=s["skill"], name=s["name"], done=done
            )
        )
    return lines


@partnership.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def partnership_list(ctx: Context, as_json: bool) -> None:
    """Every partnership: supporters, sunset, skills and whether each was transferred."""
    with ctx.open() as local:
        data = partnerships_data(local.state())
    empty = _("No partnerships. Propose one with '{command}'.").format(
        command="assemblymesh partnership propose"
    )
    _echo_listing(data, as_json, empty, partnership_lines)


@partnership.command(name="propose")
@click.option("--name", required=True)
@click.option("--supporter", "supporters", multiple=True, required=True,
              help="A supporter of the agreement (repeatable).")  # fmt: skip
@click.option("--provides", default="", help="What the supporters provide.")
@click.option("--skill", "skills", multiple=True, metavar="SKILL@MEMBER",
              help="A skill to transfer, and the member who learns it (repeatable).")  # fmt: skip
@click.option("--sunset", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="When the agreement, and the supporters' standing under it, ends.")  # fmt: skip
@click.option("--no-sunset", is_flag=True, help="No end date (the readiness report flags it).")
@click.option("--fund", "fund_name", default=None, help="The fund the agreement supports.")
@pass_ctx
def partnership_propose(
    ctx: Context,
    name: str,
    supporters: tuple[str, ...],
    provides: str,
    skills: tuple[str, ...],
    sunset: dt.datetime | None,
    no_sunset: bool,
    fund_name: str | None,
) -> None:
    """Propose a decision adopting a partnership; prints the proposal's id."""
    if (sunset is None) != no_sunset:
        raise UsageError(
            _("give {sunset} YYYY-MM-DD, or {no_sunset} for an agreement with no end").format(
                sunset="--sunset", no_sunset="--no-sunset"
            )
        )
    with ctx.open() as local:
        state = local.state()
        pairs = []
        for item in skills:
            skill, _at, member = item.rpartition("@")
            if not skill.strip():
                raise UsageError(
                    _("{option} is SKILL@MEMBER, not {given!r}").format(
                        option="--skill", given=item
                    )
                )
            pairs.append((skill.strip(), state.find_member(member).id))
        effect = A.EstablishPartnershipEffect(
            name=name,
            supporters=tuple(state.find_supporter(s).id for s in supporters),
            provides=provides,
            skills=tuple(pairs),
            sunset=None if sunset is None else _ms(sunset),
            fund=None if fund_name is None else state.find_fund(fund_name).id,
        )
    body = _("Adopt the partnership {name!r}: {provides}.").format(
        name=name, provides=provides or _("see the effect")
    )
    click.echo(_propose(ctx, _("Partnership: {name}").format(name=name), body, [effect]))


@partnership.command(name="confirm")
@click.argument("name")
@click.argument("skill")
@pass_ctx
def partnership_confirm(ctx: Context, name: str, skill: str) -> None:
    """Confirm that you can now do a partnership's skill yourself."""
    with ctx.open() as local:
        act = local.act(fund_commands.confirm_skill, name, skill)
    click.echo(_("confirmed: you can now {skill} yourself").format(skill=skill))
    click.echo(act.ref)


def _move_sunset(ctx: Context, name: str, sunset: dt.datetime, renew: bool) -> None:
    with ctx.open() as local:
        p = local.state().find_partnership(name)
    new = _ms(sunset)
    old = p.sunset_ts
    fields = {
        "date": format_date(new),
        "current": format_date(old) if old is not None else "",
        "name": p.name,
    }
    if renew and old is not None and new <= old:
        raise UsageError(
            _("{date} is not later than {current}: use '{command}'").format(
                command="partnership shorten", **fields
            )
        )
    if not renew and old is not None and new >= old:
        raise UsageError(
            _("{date} is not earlier than {current}: use '{command}'").format(
                command="partnership renew", **fields
            )
        )
    effect: A.Effect
    if renew:
        effect = A.RenewPartnershipEffect(partnership=p.id, sunset=new)
        click.echo(
            _("This RENEWS {name!r} and its supporters' standing until {date}.").format(**fields)
        )
        title = _("Renew {name} until {date}").format(**fields)
    else:
        effect = A.ShortenPartnershipEffect(partnership=p.id, sunset=new)
        title = _("End {name} on {date}").format(**fields)
    click.echo(_propose(ctx, title, title + ".", [effect]))


@partnership.command(name="shorten")
@click.argument("name")
@click.argument("sunset", metavar="YYYY-MM-DD", type=DATE)
@pass_ctx
def partnership_shorten(ctx: Context, name: str, sunset: dt.datetime) -> None:
    """Propose bringing a partnership's sunset forward; prints the proposal's id."""
    _move_sunset(ctx, name, sunset, renew=False)


@partnership.command(name="renew")
@click.argument("name")
@click.argument("sunset", metavar="YYYY-MM-DD", type=DATE)
@pass_ctx
def partnership_renew(ctx: Context, name: str, sunset: dt.datetime) -> None:
    """Propose renewing a partnership until a later sunset; prints the proposal's id."""
    _move_sunset(ctx, name, sunset, renew=True)


# --- readiness -------------------------------------------------------------------------------


READINESS_TITLES = {
    RD.ROLE: N_("Roles"),
    RD.FUND: N_("Funds"),
    RD.STEWARDSHIP: N_("Stewardships"),
    RD.SKILL: N_("Skills not yet transferred"),
    RD.INCOME: N_("Income only from supporters"),
    RD.DECISION: N_("Decisions that needed a supporter"),
    RD.PARTNERSHIP: N_("Partnerships"),
}


# The shapes of the report's findings and fixes (model.readiness words them in English, as
# --json prints them), and why a supporter's position did not count.
READINESS_WORDS = Shapes((
    N_("no member holds the {role} role"),
    N_("fund {fund} has no steward who is still a member"),
    N_("fund {fund} has one steward ({name}): if they leave, nobody disburses"),
    N_("{skill} (partnership {partnership}) is not yet transferred to {name}, who is no longer"
       " a member"),
    N_("{skill} (partnership {partnership}) is not yet transferred to {name}"),
    N_("fund {fund} has income only from supporters ({names})"),
    N_("decision on {title} needed a supporter's input ({needed})"),
    N_("partnership {partnership} has no sunset: nothing ends the reliance on it"),
    N_("partnership {partnership} runs past fund {fund}'s dissolution ({sunset} after"
       " {dissolves})"),
    N_("propose --effect grant-role:MEMBER:{role}:DAYS for a member"),
    N_("propose --effect fund-stewards:{fund}:MEMBER+MEMBER:DAYS with a second member in the"
       " rotation"),
    N_("a new partnership decision names another member to learn it"),
    N_("{name} confirms once they can do it themselves: partnership confirm {partnership}"
       " {skill}"),
    N_("members contribute or pledge: fund contribute {fund} AMOUNT, fund pledge {fund2} AMOUNT"
       " --every-days N"),
    N_("a member puts such proposals and members weigh them without the supporter: pair a"
       " member with the supporter for the next one"),
    N_("a supporter's position is advisory: supporters never block or count towards quorum"
       " (rule {rule})"),
))  # fmt: skip


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--period-days", type=click.IntRange(1), default=90, show_default=True,
              help="How far back to look for decisions that needed a supporter.")  # fmt: skip
@pass_ctx
def readiness(ctx: Context, as_json: bool, period_days: int) -> None:
    """If the outside allies withdrew tomorrow, would the assembly go on? What would be left
    without a member, and how to fix each, from the record alone."""
    with ctx.open() as local:
        data = readiness_data(local.state(), period_days)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in readiness_lines(data):
        click.echo(line)


def readiness_lines(data: dict[str, Any]) -> list[str]:
    if data["ready"]:
        return [_("Ready: if the supporters withdrew tomorrow, nothing in the record would be"
                  " left without a member.")]  # fmt: skip
    n = len(data["findings"])
    lines = [
        ngettext(
            "{count} thing would be left without a member:",
            "{count} things would be left without a member:",
            n,
        ).format(count=n)
    ]
    kind = None
    for f in data["findings"]:
        if f["kind"] != kind:
            kind = f["kind"]
            lines.append("\n" + _("{title}:").format(title=_(READINESS_TITLES[kind])))
        lines.append(f"  - {READINESS_WORDS.in_words(f['orphaned'])}")
        lines.append(_("    fix: {fix}").format(fix=READINESS_WORDS.in_words(f["fix"])))
    return lines


def register(main: click.Group) -> None:
    main.add_command(fund)
    main.add_command(partnership)
    main.add_command(readiness)
