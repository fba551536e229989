"""The meeting room: the meeting sitting now (else the next one) on one screen.

Its agenda in order, who is present, who has the floor and for how long, and the speaking
queue in the order the floor goes. Keyboard-first for the facilitator (open, next speaker,
add someone to the queue, reorder, end), and live on every member's screen: each member
raises a hand and marks themselves present from their own device, and what anyone does
appears on every screen with the next fold. Reached from the meeting screen (``m``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, TextArea

from assemblymesh.absence import diagnostic_data, diagnostic_lines
from assemblymesh.i18n import N_, _, format_number, label, ngettext
from assemblymesh.minutes import ITEM_LABELS, minutes_text, template
from assemblymesh.minutes import OUTCOME_LABELS as ITEM_OUTCOME_LABELS
from assemblymesh.minutes import STATE_LABELS as MEETING_STATE_LABELS
from assemblymesh.model import AssemblyState
from assemblymesh.model import meeting_commands as MC
from assemblymesh.model import rules as R
from assemblymesh.model.acts import Act
from assemblymesh.model.meetings import (
    Meeting,
    agenda,
    minutes_key,
    next_meeting,
    present_members,
    queue,
    quorate,
    speaking_time,
    steps_back,
)
from assemblymesh.model.vocabulary import Words
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import display
from assemblymesh.tui.draft import DraftScreen
from assemblymesh.tui.room_forms import ChoiceForm, FormAnswer, FormField
from assemblymesh.tui.view import Digest, name_of, span, when
from assemblymesh.tui.widgets import BidiStatic, BidiTable
from assemblymesh.utc import MINUTE_FORMAT, parse_utc

STACK_LABELS = {
    R.STACK_IN_ORDER: N_("in the order hands went up"),
    R.STACK_MEETING: N_("progressive: new in this meeting first"),
    R.STACK_EVER: N_("progressive: never spoken first"),
}


def typed_minute(ms: int) -> str:
    """A moment in the form the meeting form reads back (``parse_utc``), whatever the
    language: ``2026-05-01 18:00``."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime(MINUTE_FORMAT)


def meeting_header(state: AssemblyState, m: Meeting) -> str:
    """Two lines on the meeting: what, when, where, who, attendance and the queue's rule."""
    present = present_members(state, m)
    words = Words(state.vocabulary)
    line = _("{title} ({kind}, {state})  {when} UTC").format(
        title=m.title or _("Meeting"),
        kind=words.meeting_kind(m.kind),
        state=label(MEETING_STATE_LABELS, m.state),
        when=when(m.starts),
    )
    if m.place:
        line += "  " + m.place
    roles = _("{facilitator} {facilitator_name}, {note_taker} {note_taker_name}.").format(
        facilitator=words.title(R.FACILITATOR),
        facilitator_name=name_of(state, m.facilitator),
        note_taker=words.role(R.NOTE_TAKER),
        note_taker_name=name_of(state, m.note_taker),
    )
    roles += " " + (
        ngettext(
            "Present: {count} member (quorate).", "Present: {count} members (quorate).", present
        )
        if quorate(state, m)
        else ngettext(
            "Present: {count} member (not quorate).",
            "Present: {count} members (not quorate).",
            present,
        )
    ).format(count=format_number(present))
    roles += " " + _("Queue: {rule}.").format(rule=label(STACK_LABELS, m.stack))
    if m.stepped_back:
        names = ", ".join(name_of(state, b) for b in m.stepped_back)
        roles += " " + _("Stepping back: {names}.").format(names=names)
    return line + "\n" + roles


class MinutesScreen(DraftScreen):
    """The minutes, co-edited live in the shared document; the note-taker seals them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", N_("Back")),
        Binding("ctrl+s", "submit", N_("Seal minutes")),
        Binding("ctrl+r", "seed", N_("Start from the agenda")),
    ]

    def __init__(self, meeting: Meeting, state: AssemblyState) -> None:
        super().__init__(minutes_key(meeting.id), None)
        self.meeting = meeting
        self.seed_text = template(state, meeting)

    def on_mount(self) -> None:
        super().on_mount()
        about = self.query(".nav").first(Static)
        about.update(
            display(
                (
                    _("Minutes of {title}, co-edited live.").format(title=self.meeting.title)
                    if self.meeting.title
                    else _("Minutes of the meeting, co-edited live.")
                )
                + " "
                + _("ctrl+r: agenda headings; ctrl+s: seal (the note-taker).")
            )
        )

    def action_seed(self) -> None:
        if self.text.strip():
            self.notify(_("the minutes already have text"), severity="warning")
            return
        self.query_one(TextArea).load_text(self.seed_text)
        self._flush()

    def action_submit(self) -> None:
        write = getattr(self.app, "write", None)
        self._flush()
        if write is not None and write(MC.seal_minutes, self.meeting.id, self.text):
            self.notify(_("minutes sealed: later edits show as changes from this text"))


class DiagnosticDialog(ModalScreen[None]):
    """Absence meetings beside the others: decisions, stalled items, new voices."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,g", "close", N_("Close"))]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            heading = _("Strategic absence: when the usual facilitators and supporters step back")
            yield BidiStatic(heading, classes="dialog-title", markup=False)
            yield BidiStatic("\n".join(self.lines), id="diagnostic", markup=False)
            yield BidiStatic(_("escape closes"), classes="hint", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


def minutes_state(m: Meeting, current: str) -> str:
    """'Minutes: not sealed' / 'sealed (hash), unchanged' / 'changed since sealed'."""
    text = minutes_text(m, current)
    if not text.sealed:
        return _("Minutes: not sealed yet (w writes them).")
    assert text.seal_hash is not None
    if text.changed_since_seal:
        return _("Minutes: sealed {hash}, changed since sealed.").format(hash=text.seal_hash[:12])
    return _("Minutes: sealed {hash}, unchanged.").format(hash=text.seal_hash[:12])


class RoomScreen(AssemblyScreen):
    MODE = "meeting"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", N_("Back")),
        Binding("h", "hand", N_("Hand up/down")),
        Binding("i", "attend", N_("I'm here")),
        Binding("n", "next_speaker", N_("Next speaker")),
        Binding("a", "add_to_queue", N_("Add to queue")),
        Binding("p", "mark_present", N_("Mark present")),
        Binding("s", "support", N_("Support item")),
        Binding("u", "move(-1)", N_("Item up")),
        Binding("d", "move(1)", N_("Item down")),
        Binding("k", "clarify", N_("Ask supporter"), show=False),
        Binding("z", "close_floor", N_("Close floor"), show=False),
        Binding("o", "open_meeting", N_("Open")),
        Binding("e", "end_meeting", N_("End"), show=False),
        Binding("w", "minutes", N_("Minutes")),
        Binding("g", "diagnostic", N_("Absence diagnostic"), show=False),
        Binding("c", "call_meeting", N_("Call a meeting")),
        Binding("plus", "add_item", N_("Add item")),
        Binding("x", "item_outcome", N_("Outcome")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.meeting_id: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield BidiStatic(_("No meeting is sitting or scheduled."), id="room-head", markup=False)
        with Horizontal(id="room-body"):
            yield BidiTable(id="room-agenda", cursor_type="row", zebra_stripes=True)
            with Vertical(id="room-side"):
                yield BidiStatic("", id="room-speaker", classes="panel", markup=False)
                yield BidiTable(id="room-queue", cursor_type="row")
                yield BidiTable(id="room-people", cursor_type="row", zebra_stripes=True)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        columns = ("#", _("Kind"), _("Item"), _("Support"), _("Outcome"))
        self.query_one("#room-agenda", DataTable).add_columns(*columns)
        self.query_one("#room-queue", DataTable).add_columns("#", _("Waiting to speak"))
        people = (_("Member"), _("Here"), _("Spoke"))
        self.query_one("#room-people", DataTable).add_columns(*people)
        self.query_one("#room-agenda", DataTable).border_title = display(_("Agenda"))
        self.query_one("#room-queue", DataTable).border_title = display(_("Queue"))
        self.query_one("#room-people", DataTable).border_title = display(_("People"))
        self.set_interval(1.0, self._tick)
        super().on_mount()

    # --- drawing -------------------------------------------------------------------------

    def meeting(self) -> Meeting | None:
        d = self.am.digest
        if d is None:
            return None
        m = d.state.meetings.get(self.meeting_id) if self.meeting_id else None
        if m is None or m.over:
            m = next_meeting(d.state) or m
        self.meeting_id = m.id if m is not None else None
        return m

    def show(self, digest: Digest) -> None:
        m = self.meeting()
        head = self.query_one("#room-head", Static)
        if m is None:
            head.update(_("No meeting is sitting or scheduled: c calls one."))
            return
        state = digest.state
        local = self.am.local
        current = local.draft(minutes_key(m.id)) if local is not None else ""
        head.update(meeting_header(state, m) + "\n" + minutes_state(m, current))
        self._draw_agenda(state, m)
        self._draw_queue(state, m)
        self._draw_people(state, m)
        self._tick()

    def _draw_agenda(self, state: AssemblyState, m: Meeting) -> None:
        table = self.query_one("#room-agenda", DataTable)
        keep = table.cursor_row
        table.clear()
        for n, item in enumerate(agenda(state, m), 1):
            now = " <" if item.id == m.current_item else ""
            table.add_row(
                format_number(n),
                label(ITEM_LABELS, item.kind),
                item.title + now,
                format_number(len(item.backers)),
                label(ITEM_OUTCOME_LABELS, item.outcome) if item.outcome else "",
                key=item.id,
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), animate=False)

    def _draw_queue(self, state: AssemblyState, m: Meeting) -> None:
        table = self.query_one("#room-queue", DataTable)
        table.clear()
        for n, hand in enumerate(queue(state, m), 1):
            member = state.members.get(hand.member)
            back = steps_back(m, hand.member, member is not None and member.supporter)
            name = name_of(state, hand.member)
            shown = _("{name} (steps back)").format(name=name) if back else name
            table.add_row(format_number(n), shown, key=hand.member)

    def _draw_people(self, state: AssemblyState, m: Meeting) -> None:
        table = self.query_one("#room-people", DataTable)
        keep = table.cursor_row
        table.clear()
        spoke = speaking_time(m, state.now_ms)
        for member in state.members.values():
            if member.is_removed(state.now_ms):
                continue
            name = (
                _("{name} (supporter)").format(name=member.name)
                if member.supporter
                else member.name
            )
            here = _("yes") if member.id in m.attendance else ""
            said = span(spoke[member.id]) if member.id in spoke else ""
            table.add_row(name, here, said, key=member.id)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), animate=False)

    def _tick(self) -> None:
        """The speaker line, with how long they have had the floor (redrawn each second)."""
        d = self.am.digest
        m = self.meeting() if d is not None else None
        panel = self.query_one("#room-speaker", Static)
        if d is None or m is None:
            panel.update("")
            return
        turn = m.speaker
        if turn is None:
            panel.update(
                _("Nobody has the floor.")
                if m.sits
                else _("The meeting is {state}.").format(state=label(MEETING_STATE_LABELS, m.state))
            )
            return
        local = self.am.local
        now = local.clock() if local is not None else d.now_ms
        item = d.state.agenda_items.get(turn.item) if turn.item else None
        who, took = name_of(d.state, turn.member), span(now - turn.start_ts)
        if item is not None:
            said = _("Speaking: {name} on {item}, {span}").format(
                name=who, item=repr(item.title), span=took
            )
        else:
            said = _("Speaking: {name}, {span}").format(name=who, span=took)
        panel.update(said)

    # --- moves ---------------------------------------------------------------------------

    def _selected(self, selector: str) -> str | None:
        table = self.query_one(selector, DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key else None

    def _need(self) -> Meeting | None:
        m = self.meeting()
        if m is None:
            self.notify(_("no meeting is sitting or scheduled"), severity="warning")
        return m

    def _write(self, command: Callable[..., Act], *args: object, said: str = "") -> None:
        if self.am.write(command, *args) and said:
            self.notify(said)

    def action_hand(self) -> None:
        m, d = self._need(), self.am.digest
        if m is None or d is None:
            return
        if any(h.member == d.me for h in m.hands):
            self._write(MC.lower_hand, m.id, said=_("hand lowered"))
        else:
            item = self._selected("#room-agenda")
            self._write(MC.raise_hand, m.id, item, said=_("hand raised: you are in the queue"))

    def action_attend(self) -> None:
        m = self._need()
        if m is not None:
            self._write(MC.attend, m.id, said=_("marked present"))

    def action_next_speaker(self) -> None:
        m = self._need()
        if m is not None:
            self._write(MC.next_speaker, m.id)

    def action_close_floor(self) -> None:
        m = self._need()
        if m is not None:
            self._write(MC.give_floor, m.id, None, said=_("the floor is closed"))

    def action_add_to_queue(self) -> None:
        m, who = self._need(), self._selected("#room-people")
        if m is not None and who is not None:
            self._write(MC.raise_hand, m.id, None, who, said=_("added to the queue"))

    def action_mark_present(self) -> None:
        m, who = self._need(), self._selected("#room-people")
        if m is not None and who is not None:
            self._write(MC.attend, m.id, who, said=_("marked present"))

    def action_clarify(self) -> None:
        m, who = self._need(), self._selected("#room-people")
        if m is not None and who is not None:
            self._write(MC.clarify, m.id, who, "", None, said=_("clarification asked: on record"))

    def action_support(self) -> None:
        item = self._selected("#room-agenda")
        if item is not None:
            self._write(MC.support_item, item, said=_("you support this item"))

    def action_move(self, offset: int) -> None:
        m, item = self._need(), self._selected("#room-agenda")
        if m is None or item is None:
            return
        if self.am.write(MC.move_item, m.id, item, offset):
            table = self.query_one("#room-agenda", DataTable)
            table.move_cursor(row=max(0, table.cursor_row + offset), animate=False)

    def action_open_meeting(self) -> None:
        m = self._need()
        if m is not None:
            self._write(MC.advance_meeting, m.id, R.IN_SESSION, said=_("the meeting is open"))

    def action_end_meeting(self) -> None:
        m = self._need()
        if m is not None:
            self._write(MC.advance_meeting, m.id, R.ENDED, said=_("the meeting has ended"))

    def action_minutes(self) -> None:
        m, d = self._need(), self.am.digest
        if m is not None and d is not None:
            self.app.push_screen(MinutesScreen(m, d.state))

    def action_diagnostic(self) -> None:
        d = self.am.digest
        if d is not None:
            self.app.push_screen(DiagnosticDialog(diagnostic_lines(diagnostic_data(d.state))))

    def action_call_meeting(self) -> None:
        """Schedule a meeting: its kind, title, time and place; the facilitator and the
        note-taker are whom the rotation proposes (``meeting change`` names others)."""
        d = self.am.digest
        if d is None:
            return
        tomorrow = (d.now_ms // R.DAY_MS + 1) * R.DAY_MS + 18 * 3_600_000
        fields = (
            FormField("title", _("Title (optional)")),
            FormField("starts", _("When, UTC: YYYY-MM-DD HH:MM"), typed_minute(tomorrow)),
            FormField("place", _("Where (optional)")),
        )

        def check(answer: FormAnswer) -> str | None:
            if parse_utc(answer.fields["starts"]) is None:
                return _("Give the time as YYYY-MM-DD HH:MM (UTC).")
            return None

        def done(answer: FormAnswer | None) -> None:
            if answer is None:
                return
            f = answer.fields
            schedule = partial(MC.schedule_meeting, title=f["title"], place=f["place"],
                               kind=answer.choice)  # fmt: skip
            recorded = self.am.write(schedule, parse_utc(f["starts"]))
            if recorded is not None:
                self.meeting_id = recorded.ref
                self.notify(_("meeting called for {when} UTC").format(when=f["starts"]))

        words = Words(self.am.digest.state.vocabulary) if self.am.digest else Words()
        kinds = [(k, words.meeting_kind(k)) for k in R.MEETING_KINDS]
        self.app.push_screen(ChoiceForm(_("Call a meeting"), kinds, fields, check), done)

    def action_add_item(self) -> None:
        """Put an item on the agenda; a proposal item names the proposal by title or id."""
        m, d = self._need(), self.am.digest
        if m is None or d is None:
            return
        fields = (
            FormField("title", _("Title, or for a proposal its title or id")),
            FormField("note", _("A line or two (optional)")),
        )
        state = d.state

        def check(answer: FormAnswer) -> str | None:
            title = answer.fields["title"]
            if not title:
                return _("Give the item a title.")
            if answer.choice == R.ITEM_PROPOSAL and proposal_named(state, title) is None:
                return _("No open proposal is called or has the id {title}.").format(
                    title=repr(title)
                )
            return None

        def done(answer: FormAnswer | None) -> None:
            if answer is None:
                return
            title, note = answer.fields["title"], answer.fields["note"]
            if answer.choice == R.ITEM_PROPOSAL:
                proposal = proposal_named(state, title)
                self._write(MC.add_item, m.id, answer.choice, "", proposal, note,
                            said=_("the proposal is on the agenda"))  # fmt: skip
            else:
                self._write(MC.add_item, m.id, answer.choice, title, None, note,
                            said=_("the item is on the agenda"))  # fmt: skip

        kinds = [(k, label(ITEM_LABELS, k)) for k in R.ITEM_KINDS]
        self.app.push_screen(ChoiceForm(_("Add to the agenda"), kinds, fields, check), done)

    def action_item_outcome(self) -> None:
        """Record what came of the selected item (discussed, decided, deferred, dropped)."""
        item_id, d = self._selected("#room-agenda"), self.am.digest
        if item_id is None or d is None:
            return
        item = d.state.agenda_items[item_id]

        def done(answer: FormAnswer | None) -> None:
            if answer is not None:
                outcome = label(ITEM_OUTCOME_LABELS, answer.choice)
                note = answer.fields["note"]
                said = _("{title}: {outcome}").format(title=item.title, outcome=outcome)
                self._write(MC.item_outcome, item_id, answer.choice, None, note, said=said)

        outcomes = [(o, label(ITEM_OUTCOME_LABELS, o)) for o in R.ITEM_OUTCOMES]
        fields = (FormField("note", _("What came of it (optional)")),)
        heading = _("Outcome of {title}").format(title=repr(item.title))
        form = ChoiceForm(heading, outcomes, fields, lambda _answer: None)
        self.app.push_screen(form, done)

    def action_leave(self) -> None:
        self.dismiss()


def proposal_named(state: AssemblyState, text: str) -> str | None:
    """The id of the open proposal titled ``text`` (any case) or whose id starts with it."""
    text = text.strip()
    live = [p for p in state.proposals.values() if p.state in (R.OPEN, R.IN_ROUND, R.RETURNED)]
    for p in live:
        if p.title.casefold() == text.casefold():
            return p.id
    by_id = [p.id for p in live if len(text) >= 4 and p.id.startswith(text.lower())]
    return by_id[0] if len(by_id) == 1 else None
