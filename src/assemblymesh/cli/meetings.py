"""``assemblymesh meeting ...``: meetings, their agenda, the speaking queue and the minutes.

Where a command takes a meeting, it defaults to the one sitting now, else the next one
scheduled. Commands that create something print its id last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from assemblymesh import minutes as M
from assemblymesh.absence import diagnostic_data, diagnostic_lines
from assemblymesh.cli import Context, pass_ctx, short
from assemblymesh.errors import NotFoundError, UsageError
from assemblymesh.home import LocalAssembly
from assemblymesh.i18n import _, label, ngettext
from assemblymesh.minutes import ITEM_LABELS, OUTCOME_LABELS, STATE_LABELS, when
from assemblymesh.model import AssemblyState
from assemblymesh.model import meeting_commands as MC
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import (
    Meeting,
    agenda,
    meeting_decisions,
    minutes_key,
    next_meeting,
    present_members,
    proposed_roles,
    queue,
    quorate,
    rotation,
    speaking_time,
)
from assemblymesh.model.vocabulary import Words
from assemblymesh.utc import parse_utc

STACKS = {"in-order": R.STACK_IN_ORDER, "new-in-meeting": R.STACK_MEETING, "new-ever": R.STACK_EVER}
STACK_NAMES = {v: k for k, v in STACKS.items()}


def parse_date(text: str) -> int:
    ms = parse_utc(text)
    if ms is None:
        raise UsageError(
            _("{option} {given!r} is not like '{example}' (UTC)").format(
                option="--date", given=text, example="2026-05-01 18:00"
            )
        )
    return ms


def the_meeting(state: AssemblyState, ref: str | None) -> Meeting:
    """The meeting ``ref`` names, or the one sitting now, else the next one scheduled."""
    if ref is not None:
        return state.find_meeting(ref)
    m = next_meeting(state)
    if m is None:
        raise NotFoundError(
            _("no meeting is sitting or scheduled: name one ({command})").format(
                command="meeting list"
            )
        )
    return m


def name(state: AssemblyState, member: str | None) -> str:
    return M.name_of(state, member)


# --- data (also for status --json) ------------------------------------------------------------


def meeting_data(state: AssemblyState, m: Meeting) -> dict[str, Any]:
    now = state.now_ms
    speaker = m.speaker
    return {
        "id": m.id,
        "title": m.title,
        "kind": m.kind,
        "kind_label": Words(state.vocabulary).meeting_kind(m.kind),
        "state": m.state,
        "starts": m.starts,
        "place": m.place,
        "facilitator": m.facilitator,
        "facilitator_name": name(state, m.facilitator),
        "note_taker": m.note_taker,
        "note_taker_name": name(state, m.note_taker),
        "stack": m.stack,
        "stepped_back": list(m.stepped_back),
        "started": m.started_ts,
        "ended": m.ended_ts,
        "present": [{"id": a, "name": name(state, a)} for a in m.attendance],
        "members_present": present_members(state, m),
        "quorate": quorate(state, m),
        "agenda": [
            {
                "id": i.id,
                "kind": i.kind,
                "title": i.title,
                "proposal": i.proposal,
                "added_by": i.added_by,
                "backers": list(i.backers),
                "outcome": i.outcome,
                "decision": i.decision,
            }
            for i in agenda(state, m)
        ],
        "speaker": None
        if speaker is None
        else {"id": speaker.member, "name": name(state, speaker.member), "since": speaker.start_ts},
        "queue": [{"id": h.member, "name": name(state, h.member)} for h in queue(state, m)],
        "turns": [
            {
                "member": t.member,
                "item": t.item,
                "start": t.start_ts,
                "end": t.end_ts,
                "ms": t.duration(now),
            }
            for t in m.turns
        ],
        "spoke_ms": speaking_time(m, now),
        "clarifications": len(m.clarifications),
        "decisions": list(meeting_decisions(state, m)),
        "sealed": m.sealed.hash if m.sealed is not None else None,
    }


def status_meeting(state: AssemblyState) -> dict[str, Any] | None:
    """The meeting sitting now, else the next one, for ``status --json``."""
    m = next_meeting(state) if state.assembly is not None else None
    return None if m is None else meeting_data(state, m)


def status_line(state: AssemblyState) -> str | None:
    """One line for ``status``: the meeting sitting now, else the next one."""
    m = next_meeting(state) if state.assembly is not None else None
    if m is None:
        return None
    fields = {
        "title": m.title or Words(state.vocabulary).meeting_kind(m.kind), "when": when(m.starts),
        "place": m.place, "facilitator": name(state, m.facilitator), "id": short(m.id),
    }  # fmt: skip
    if m.sits and m.place:
        line = _(
            "Meeting sitting now: {title} {when} at {place}, facilitated by {facilitator} [{id}]"
        )
    elif m.sits:
        line = _("Meeting sitting now: {title} {when}, facilitated by {facilitator} [{id}]")
    elif m.place:
        line = _("Next meeting: {title} {when} at {place}, facilitated by {facilitator} [{id}]")
    else:
        line = _("Next meeting: {title} {when}, facilitated by {facilitator} [{id}]")
    return line.format(**fields)


# --- commands ---------------------------------------------------------------------------------


@click.group(name="meeting")
def meeting() -> None:
    """Meetings: agenda, attendance, speaking queue, minutes, and the absence diagnostic."""


def _write(local: LocalAssembly, command: Any, *args: Any, **kwargs: Any) -> str:
    return str(local.act(command, *args, **kwargs).ref)


@meeting.command(name="new")
@click.option("--date", "date", required=True, metavar="'YYYY-MM-DD HH:MM'", help="When (UTC).")
@click.option("--title", default="", help="What the meeting is called.")
@click.option("--place", default="", help="Where it is held.")
@click.option("--kind", type=click.Choice(R.MEETING_KINDS), default=R.REGULAR, show_default=True)
@click.option("--facilitator", default=None, help="Default: whom the rotation proposes.")
@click.option("--note-taker", default=None, help="Default: whom the rotation proposes.")
@click.option("--stack", type=click.Choice(sorted(STACKS)), default="in-order", show_default=True,
              help="The queue: in the order hands went up, or new voices first.")  # fmt: skip
@pass_ctx
def meeting_new(
    ctx: Context,
    date: str,
    title: str,
    place: str,
    kind: str,
    facilitator: str | None,
    note_taker: str | None,
    stack: str,
) -> None:
    """Schedule a meeting; prints its id last."""
    with ctx.open() as local:
        ref = _write(
            local, MC.schedule_meeting, parse_date(date), title=title, place=place, kind=kind,
            facilitator=facilitator, note_taker=note_taker, stack=STACKS[stack],
        )  # fmt: skip
        m = local.state().meetings[ref]
        state = local.state()
        click.echo(
            _(
                "Scheduled {kind} meeting for {when}: {facilitator} facilitates, {note_taker}"
                " takes notes."
            ).format(
                kind=Words(state.vocabulary).meeting_kind(m.kind),
                when=when(m.starts),
                facilitator=name(state, m.facilitator),
                note_taker=name(state, m.note_taker),
            )
        )
        if m.stepped_back:
            back = ", ".join(name(state, b) for b in m.stepped_back)
            click.echo(_("Stepping back: {names} (and every supporter).").format(names=back))
    click.echo(ref)


@meeting.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def meeting_list(ctx: Context, as_json: bool) -> None:
    """Every meeting, soonest last."""
    with ctx.open() as local:
        state = local.state()
    meetings = sorted(state.meetings.values(), key=lambda m: (m.starts, m.id))
    if as_json:
        click.echo(json.dumps([meeting_data(state, m) for m in meetings], indent=2))
        return
    if not meetings:
        click.echo(
            _("No meetings yet: {command}").format(command="meeting new --date 'YYYY-MM-DD HH:MM'")
        )
    words = Words(state.vocabulary)
    for m in meetings:
        click.echo(
            f"{short(m.id)}  {when(m.starts)}  {words.meeting_kind(m.kind):<10}"
            f" {label(STATE_LABELS, m.state):<10}"
            f" {name(state, m.facilitator):<14} {m.title}"
        )


@meeting.command(name="rotation")
@click.option("--kind", type=click.Choice(R.MEETING_KINDS), default=R.REGULAR, show_default=True)
@pass_ctx
def meeting_rotation(ctx: Context, kind: str) -> None:
    """Who facilitated and took notes least recently: whom a new meeting proposes."""
    with ctx.open() as local:
        state = local.state()
    facilitator, note_taker = proposed_roles(state, kind)
    click.echo(
        _("Proposed: {facilitator} facilitates, {note_taker} takes notes.").format(
            facilitator=name(state, facilitator), note_taker=name(state, note_taker)
        )
    )
    click.echo(
        _("Facilitation rotation: {names}").format(
            names=", ".join(name(state, m) for m in rotation(state))
        )
    )


def _echo_meeting(state: AssemblyState, data: dict[str, Any]) -> None:
    words = Words(state.vocabulary)
    click.echo(
        (data["title"] or _("Meeting")) + f"  [{short(data['id'])}]  {data['kind_label']},"
        f" {label(STATE_LABELS, data['state'])}"
    )
    click.echo(f"  {when(data['starts'])}  {data['place'] or ''}".rstrip())
    click.echo(
        "  "
        + _(
            "{facilitator} {facilitator_name}, {note_taker} {note_taker_name}, queue {queue}"
        ).format(
            facilitator=words.role(R.FACILITATOR),
            facilitator_name=data["facilitator_name"],
            note_taker=words.role(R.NOTE_TAKER),
            note_taker_name=data["note_taker_name"],
            queue=STACK_NAMES[data["stack"]],
        )
    )
    if data["stepped_back"]:
        back = ", ".join(name(state, b) for b in data["stepped_back"])
        click.echo(_("  stepping back: {names}").format(names=back))
    present = ", ".join(p["name"] for p in data["present"]) or "-"
    count = data["members_present"]
    if data["quorate"]:
        line = ngettext(
            "  present ({count} member, quorate): {names}",
            "  present ({count} members, quorate): {names}",
            count,
        )
    else:
        line = ngettext(
            "  present ({count} member, not quorate): {names}",
            "  present ({count} members, not quorate): {names}",
            count,
        )
    click.echo(line.format(count=count, names=present))
    click.echo(_("Agenda:"))
    for n, item in enumerate(data["agenda"], 1):
        outcome = f"  -> {label(OUTCOME_LABELS, item['outcome'])}" if item["outcome"] else ""
        support = _("({count} in support)").format(count=len(item["backers"]))
        kind = label(ITEM_LABELS, item["kind"])
        click.echo(f"  {n}. {short(item['id'])}  {kind:<8} {item['title']}  {support}{outcome}")
    if data["speaker"] is not None:
        click.echo(
            _("Speaking: {name} since {when}").format(
                name=data["speaker"]["name"], when=when(data["speaker"]["since"])
            )
        )
    waiting = ", ".join(h["name"] for h in data["queue"]) or _("(empty)")
    click.echo(_("Queue: {names}").format(names=waiting))
    if data["sealed"]:
        click.echo(_("Minutes sealed: {hash}").format(hash=data["sealed"][:16]))


@meeting.command(name="show")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def meeting_show(ctx: Context, meeting_ref: str | None, as_json: bool) -> None:
    """One meeting: roles, attendance, agenda in order, who speaks and the queue."""
    with ctx.open() as local:
        state = local.state()
    data = meeting_data(state, the_meeting(state, meeting_ref))
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        _echo_meeting(state, data)


@meeting.command(name="change")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--facilitator", default=None)
@click.option("--note-taker", default=None)
@click.option("--stack", type=click.Choice(sorted(STACKS)), default=None)
@click.option("--date", "date", default=None, metavar="'YYYY-MM-DD HH:MM'")
@click.option("--place", default=None)
@pass_ctx
def meeting_change(
    ctx: Context,
    meeting_ref: str | None,
    facilitator: str | None,
    note_taker: str | None,
    stack: str | None,
    date: str | None,
    place: str | None,
) -> None:
    """Override the facilitator or note-taker, or change the queue, date or place."""
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        local.act(
            MC.update_meeting, m.id, facilitator=facilitator, note_taker=note_taker,
            stack=None if stack is None else STACKS[stack],
            starts=None if date is None else parse_date(date), place=place,
        )  # fmt: skip
        state = local.state()
        m = state.meetings[m.id]
    click.echo(
        _("{facilitator} facilitates, {note_taker} takes notes.").format(
            facilitator=name(state, m.facilitator), note_taker=name(state, m.note_taker)
        )
    )


def _advance(ctx: Context, meeting_ref: str | None, to: str, said: str) -> None:
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        local.act(MC.advance_meeting, m.id, to)
    click.echo(said.format(id=short(m.id)))


@meeting.command(name="open")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def meeting_open(ctx: Context, meeting_ref: str | None) -> None:
    """Open the meeting (the facilitator)."""
    _advance(ctx, meeting_ref, R.IN_SESSION, _("Meeting {id} is open."))


@meeting.command(name="end")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def meeting_end(ctx: Context, meeting_ref: str | None) -> None:
    """End the meeting (the facilitator): the turn in progress ends, the queue clears."""
    _advance(ctx, meeting_ref, R.ENDED, _("Meeting {id} has ended."))


@meeting.command(name="cancel")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def meeting_cancel(ctx: Context, meeting_ref: str | None) -> None:
    """Cancel a meeting that has not opened."""
    _advance(ctx, meeting_ref, R.CANCELLED, _("Meeting {id} is cancelled."))


@meeting.command(name="attend")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--for", "for_member", default=None,
              help="Facilitator: mark present a member who has no device here.")  # fmt: skip
@pass_ctx
def meeting_attend(ctx: Context, meeting_ref: str | None, for_member: str | None) -> None:
    """Mark yourself present (or, as facilitator, someone else)."""
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        local.act(MC.attend, m.id, for_member)
        state = local.state()
        m = state.meetings[m.id]
    count = present_members(state, m)
    if quorate(state, m):
        line = ngettext(
            "Present: {count} member (quorate).", "Present: {count} members (quorate).", count
        )
    else:
        line = ngettext(
            "Present: {count} member (not quorate yet).",
            "Present: {count} members (not quorate yet).",
            count,
        )
    click.echo(line.format(count=count))


@meeting.command(name="clarify")
@click.argument("supporter")
@click.option("--question", default="", help="What was asked.")
@click.option("--item", default=None, help="The agenda item (default: the current one).")
@click.option("--meeting", "meeting_ref", default=None)
@pass_ctx
def meeting_clarify(
    ctx: Context, supporter: str, question: str, item: str | None, meeting_ref: str | None
) -> None:
    """Record a question put to an outside supporter during the meeting."""
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        ref = _write(local, MC.clarify, m.id, supporter, question, item)
    click.echo(ref)


# --- the agenda -------------------------------------------------------------------------------


@meeting.group(name="agenda")
def agenda_group() -> None:
    """Items members put on a meeting's agenda, their support and their order."""


@agenda_group.command(name="add")
@click.argument("title", required=False, default="")
@click.option("--kind", type=click.Choice(R.ITEM_KINDS), default=R.ITEM_TOPIC, show_default=True)
@click.option("--proposal", default=None, help="The proposal (for --kind proposal).")
@click.option("--note", default="", help="A line or two about the item.")
@click.option("--meeting", "meeting_ref", default=None)
@pass_ctx
def agenda_add(
    ctx: Context, title: str, kind: str, proposal: str | None, note: str, meeting_ref: str | None
) -> None:
    """Add an item: a proposal, a topic, a report back or a question. Prints its id last."""
    if proposal is not None and kind == R.ITEM_TOPIC:
        kind = R.ITEM_PROPOSAL
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        ref = _write(local, MC.add_item, m.id, kind, title, proposal, note)
        item = local.state().agenda_items[ref]
    click.echo(
        _("Added {kind} {title!r} to meeting {id}.").format(
            kind=label(ITEM_LABELS, item.kind), title=item.title, id=short(m.id)
        )
    )
    click.echo(ref)


@agenda_group.command(name="support")
@click.argument("item")
@pass_ctx
def agenda_support(ctx: Context, item: str) -> None:
    """Support an item: better-supported items come first before the meeting."""
    with ctx.open() as local:
        local.act(MC.support_item, item)
        state = local.state()
    i = state.find_item(item)
    click.echo(_("{title!r}: {count} in support.").format(title=i.title, count=len(i.backers)))


@agenda_group.command(name="reorder")
@click.argument("items", nargs=-1, required=True)
@click.option("--meeting", "meeting_ref", default=None)
@pass_ctx
def agenda_reorder(ctx: Context, items: tuple[str, ...], meeting_ref: str | None) -> None:
    """Facilitator, while the meeting sits: these items first, in this order."""
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        local.act(MC.reorder_agenda, m.id, items)
        state = local.state()
    for n, i in enumerate(agenda(state, state.meetings[m.id]), 1):
        click.echo(f"  {n}. {short(i.id)}  {i.title}")


@agenda_group.command(name="outcome")
@click.argument("item")
@click.argument("outcome", type=click.Choice(R.ITEM_OUTCOMES))
@click.option("--decision", default=None, help="The decision it led to.")
@click.option("--note", default="")
@pass_ctx
def agenda_outcome(ctx: Context, item: str, outcome: str, decision: str | None, note: str) -> None:
    """Facilitator: what became of an item (decided, discussed, deferred, dropped)."""
    with ctx.open() as local:
        local.act(MC.item_outcome, item, outcome, decision, note)
        i = local.state().find_item(item)
    click.echo(
        _("{title!r}: {outcome}.").format(title=i.title, outcome=label(OUTCOME_LABELS, outcome))
    )


# --- the speaking queue -----------------------------------------------------------------------


@meeting.group(name="queue")
def queue_group() -> None:
    """The speaking queue: raise a hand, give the floor, record turns."""


def _echo_queue(state: AssemblyState, m: Meeting) -> None:
    speaker = m.speaker
    if speaker is not None:
        click.echo(
            _("Speaking: {name} ({seconds} s)").format(
                name=name(state, speaker.member),
                seconds=(state.now_ms - speaker.start_ts) // 1000,
            )
        )
    waiting = ", ".join(name(state, h.member) for h in queue(state, m)) or _("(empty)")
    click.echo(_("Queue: {names}").format(names=waiting))


@queue_group.command(name="show")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def queue_show(ctx: Context, meeting_ref: str | None) -> None:
    """Who speaks now and who waits, in the order the floor goes."""
    with ctx.open() as local:
        state = local.state()
    _echo_queue(state, the_meeting(state, meeting_ref))


@queue_group.command(name="raise")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--item", default=None, help="The agenda item you want to speak on.")
@click.option("--for", "for_member", default=None, help="Facilitator: add someone to the queue.")
@pass_ctx
def queue_raise(
    ctx: Context, meeting_ref: str | None, item: str | None, for_member: str | None
) -> None:
    """Raise your hand (or, as facilitator, add someone)."""
    _queue_act(ctx, meeting_ref, MC.raise_hand, item, for_member)


@queue_group.command(name="lower")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--for", "for_member", default=None)
@pass_ctx
def queue_lower(ctx: Context, meeting_ref: str | None, for_member: str | None) -> None:
    """Lower your hand (or, as facilitator, someone else's)."""
    _queue_act(ctx, meeting_ref, MC.lower_hand, for_member)


@queue_group.command(name="next")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def queue_next(ctx: Context, meeting_ref: str | None) -> None:
    """Facilitator: the floor to whoever the queue puts first."""
    _queue_act(ctx, meeting_ref, MC.next_speaker)


@queue_group.command(name="floor")
@click.argument("member")
@click.option("--item", default=None)
@click.option("--minutes", "spoke", type=click.FloatRange(0, 1440, min_open=True), default=None,
              help="Record a turn that already happened, this many minutes long.")  # fmt: skip
@click.option("--meeting", "meeting_ref", default=None)
@pass_ctx
def queue_floor(
    ctx: Context, member: str, item: str | None, spoke: float | None, meeting_ref: str | None
) -> None:
    """Facilitator: the floor to MEMBER (or record a past turn with --minutes)."""
    duration = None if spoke is None else max(1, int(spoke * 60_000))
    _queue_act(ctx, meeting_ref, MC.give_floor, member, item, duration)


@queue_group.command(name="close")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@pass_ctx
def queue_close(ctx: Context, meeting_ref: str | None) -> None:
    """Facilitator: end the turn in progress; nobody has the floor."""
    _queue_act(ctx, meeting_ref, MC.give_floor, None)


def _queue_act(ctx: Context, meeting_ref: str | None, command: Any, *args: Any) -> None:
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        local.act(command, m.id, *args)
        state = local.state()
    _echo_queue(state, state.meetings[m.id])


# --- minutes ----------------------------------------------------------------------------------


@meeting.command(name="minutes")
@click.argument("meeting_ref", metavar="[MEETING]", required=False)
@click.option("--start", is_flag=True, help="Put the agenda's headings in empty minutes.")
@click.option("--append", "append", default=None, help="Add a line at the end of the minutes.")
@click.option("--seal", is_flag=True, help="Note-taker: seal the minutes as they stand.")
@click.option("--diff", "show_diff", is_flag=True, help="What changed since they were sealed.")
@click.option("--md", "md_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the minutes as Markdown to this file.")  # fmt: skip
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the minutes as an HTML page to this file.")  # fmt: skip
@pass_ctx
def meeting_minutes(
    ctx: Context,
    meeting_ref: str | None,
    start: bool,
    append: str | None,
    seal: bool,
    show_diff: bool,
    md_file: Path | None,
    html_file: Path | None,
) -> None:
    """The minutes (shared, co-edited live in the UI): print, add to, seal or export them."""
    with ctx.open() as local:
        m = the_meeting(local.state(), meeting_ref)
        key = minutes_key(m.id)
        if start and not local.draft(key).strip():
            local.append_to_draft(key, M.template(local.state(), m))
        if append is not None:
            current = local.draft(key)
            sep = "" if not current or current.endswith("\n") else "\n"
            local.append_to_draft(key, sep + append + "\n")
        if seal:
            local.act(MC.seal_minutes, m.id, local.draft(key))
        state = local.state()
        m = state.meetings[m.id]
        current = local.draft(key)
    _minutes_out(state, m, current, show_diff, md_file, html_file, seal)


def _minutes_out(
    state: AssemblyState,
    m: Meeting,
    current: str,
    show_diff: bool,
    md_file: Path | None,
    html_file: Path | None,
    sealed_now: bool,
) -> None:
    text = M.minutes_text(m, current)
    if md_file is not None:
        md_file.write_text(M.markdown(state, m, current), encoding="utf-8")
        click.echo(_("wrote {path}").format(path=md_file))
    if html_file is not None:
        html_file.write_text(M.page(state, m, current), encoding="utf-8")
        click.echo(_("wrote {path}").format(path=html_file))
    if show_diff:
        if not text.sealed:
            click.echo(_("The minutes are not sealed yet."))
        elif not text.changed_since_seal:
            click.echo(_("Unchanged since sealed."))
        for line in text.changes:
            click.echo(line)
    if sealed_now and text.seal_hash is not None:
        click.echo(_("Sealed: BLAKE2b-256 {hash}").format(hash=text.seal_hash))
    if not (md_file or html_file or show_diff or sealed_now):
        empty = _("(no minutes yet: {option} puts in the agenda's headings)").format(
            option="--start"
        )
        click.echo(current.rstrip() or empty)
        if text.changed_since_seal:
            count = len(text.changes)
            changed = ngettext(
                "(changed since sealed: {count} diff line; see {option})",
                "(changed since sealed: {count} diff lines; see {option})",
                count,
            )
            click.echo("\n" + changed.format(count=count, option="--diff"))


# --- the absence diagnostic -------------------------------------------------------------------


@meeting.command(name="diagnostic")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def meeting_diagnostic(ctx: Context, as_json: bool) -> None:
    """Absence meetings beside regular ones: decisions, stalled items, new voices."""
    with ctx.open() as local:
        state = local.state()
    data = diagnostic_data(state)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in diagnostic_lines(data):
        click.echo(line)


__all__ = ["meeting", "meeting_data", "status_line", "status_meeting"]
