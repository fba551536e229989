"""Meeting mode: what a facilitator needs on one screen while the assembly sits.

The proposal text with its diff from the previous version, the round's phase, every member
with their position, the round's thread of questions and reactions, and one key per
facilitation move: open, advance (either with a closing time: O, A), ask, react and answer
(``tui.thread``), record a position for a member present without a device (provisional),
close, amend; members without a device and roles (``tui.roster``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from assemblymesh.heard import unheard
from assemblymesh.i18n import N_, _, format_number, ngettext
from assemblymesh.model import Proposal, Round, commands, tables
from assemblymesh.model import rules as R
from assemblymesh.model.vocabulary import Words
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.dialogs import (
    CloseDialog,
    PositionDialog,
    PositionInput,
    TextDialog,
    TextInput,
)
from assemblymesh.tui.forms import DeadlineDialog
from assemblymesh.tui.render import diff_text, outcome_text, position_note, proposal_header
from assemblymesh.tui.roster import ROSTER_BINDINGS, RosterMoves
from assemblymesh.tui.thread import THREAD_BINDINGS, ThreadMoves, thread_text
from assemblymesh.tui.view import (
    Digest,
    clip,
    deadline_label,
    kind_label,
    member_label,
    name_of,
    open_round_refusal,
    when,
)
from assemblymesh.tui.widgets import BidiStatic, BidiTable, PagedTable


class MeetingScreen(ThreadMoves, RosterMoves, AssemblyScreen):
    MODE = "meeting"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_round", N_("Open round")),
        Binding("O", "open_round(True)", N_("Open with deadline"), show=False),
        Binding("a", "advance", N_("Advance")),
        Binding("A", "advance(True)", N_("Advance, new deadline"), show=False),
        *THREAD_BINDINGS,
        Binding("p", "record_position", N_("Position for")),
        Binding("c", "close_round", N_("Close")),
        Binding("e", "amend", N_("Amend")),
        Binding("x", "reject", N_("Reject"), show=False),
        *ROSTER_BINDINGS,
        Binding("m", "room", N_("Meeting room: agenda, queue, minutes"), show=False),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="meeting-body"):
            columns = (_("State"), _("Title"), _("Phase"))
            yield PagedTable(columns, id="agenda", empty=_("(empty agenda)"))
            with VerticalScroll(id="detail"):
                yield BidiStatic(_("Choose a proposal on the agenda."), id="m-title")
                yield BidiStatic(id="m-diff", classes="panel")
                yield BidiTable(id="m-positions", cursor_type="row", zebra_stripes=True)
                yield BidiStatic(id="m-thread", classes="panel")
                yield BidiStatic(id="m-outcome", classes="panel")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#m-positions", DataTable)
        table.add_columns(_("Member"), _("Position"), _("Reason"), _("Note"))
        table.border_title = display(_("Positions"))
        self.query_one("#m-thread", Static).border_title = display(_("Questions and reactions"))
        self.query_one("#agenda", PagedTable).border_title = display(_("Agenda"))

    # --- drawing -------------------------------------------------------------------------

    def show(self, digest: Digest) -> None:
        positions = self.query_one("#m-positions", DataTable)
        positions.border_title = display(digest.words.title("positions"))
        agenda = self.query_one("#agenda", PagedTable)
        rows = [(key, (cells[0], cells[1], cells[4])) for key, cells in digest.agenda_rows]
        selected = self.am.selected
        if selected is not None and selected not in {k for k, _cells in rows}:
            p = digest.state.proposals.get(selected)
            if p is not None:  # keep the proposal in view after its round closed
                rows.insert(0, (p.id, ("", p.title, "")))
        agenda.set_rows(rows, keep=selected)
        self._draw_detail()

    def _draw_detail(self) -> None:
        d = self.am.digest
        p, r = self.current()
        if d is None:
            return
        self._draw_members(d, r)
        if p is None:
            self.query_one("#m-title", Static).update(_("Choose a proposal on the agenda."))
            return
        self.query_one("#m-title", Static).update(proposal_header(d, p, r))
        diff = self.query_one("#m-diff", Static)
        previous = d.previous_body(p)
        number = p.latest.number
        diff.border_title = display(
            _("Text v{number}, changes from v{previous}").format(
                number=format_number(number), previous=format_number(number - 1)
            )
            if previous is not None
            else _("Text v{number}").format(number=format_number(number))
        )
        diff.update(BidiLines(diff_text(d, p), "auto"))  # each paragraph its own direction
        self.query_one("#m-thread", Static).update(thread_text(d, r))
        self.query_one("#m-outcome", Static).update(outcome_text(d, p, r))

    def _draw_members(self, d: Digest, r: Round | None) -> None:
        """Every member with their position in ``r`` (the list roles and proxies work on,
        shown even before a proposal is chosen)."""
        positions = self.query_one("#m-positions", DataTable)
        keep = positions.cursor_row
        positions.clear()
        for member in d.members:
            pos = r.positions.get(member) if r is not None else None
            if pos is None:
                # A supporter's silence holds nothing up: its position would be advisory.
                m = d.state.members[member]
                awaited = r is not None and r.phase != R.CLOSED
                if m.deviceless:
                    waiting = (
                        _("advisory: p records it") if m.supporter else _("waiting: p records it")
                    )
                else:
                    waiting = _("advisory") if m.supporter else _("waiting")
                cells = (member_label(d.state, member), "-", "", waiting if awaited else "")
            else:
                cells = (
                    member_label(d.state, member),
                    kind_label(pos.kind, d.state),
                    clip(pos.reason, 34),  # in full in the outcome panel
                    position_note(d.state, pos),
                )
            positions.add_row(*cells, key=member)
        if positions.row_count:
            positions.move_cursor(row=min(keep, positions.row_count - 1), animate=False)

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key and message.key != self.am.selected:
            self.am.selected = message.key
            self._draw_detail()

    # --- moves ---------------------------------------------------------------------------

    def action_room(self) -> None:
        """The meeting sitting now (or the next one): agenda, attendance, speaking queue."""
        from assemblymesh.tui.room import RoomScreen

        self.app.push_screen(RoomScreen())

    def _need(self) -> tuple[Proposal, Round | None] | None:
        p, r = self.current()
        if p is None:
            self.notify(_("choose a proposal on the agenda first"), severity="warning")
            return None
        return p, r

    def _with_deadline(self, heading: str, current: str, go: Callable[[int | None], None]) -> None:
        d = self.am.digest
        if d is None:
            return

        def chosen(answer: object) -> None:
            if isinstance(answer, tuple):
                go(answer[0])

        self.app.push_screen(DeadlineDialog(heading, d.now_ms, current), callback=chosen)

    def action_open_round(self, ask_deadline: bool = False) -> None:
        got = self._need()
        d = self.am.digest
        if got is None or d is None:
            return
        p = got[0]
        refusal = open_round_refusal(d, p)
        if refusal is not None:
            self.notify(refusal, title=_("No round opened"), severity="error")
            return
        review = d.review_due_of(p) is not None

        def go(deadline: int | None) -> None:
            if self.am.write(commands.open_round, p.id, None, deadline):
                self.notify(opened_text(review, repr(p.title), deadline, d))

        if ask_deadline:
            heading = _("Open a round on {title}: its closing time").format(title=repr(p.title))
            self._with_deadline(heading, "", go)
        else:
            go(None)

    def action_advance(self, ask_deadline: bool = False) -> None:
        got = self._need()
        d = self.am.digest
        if got is None or d is None:
            return
        r = got[1]
        if r is None or r.phase == R.CLOSED:
            self.notify(_("no open round on this proposal (o opens one)"), severity="warning")
            return
        phases = r.shape.phases
        nxt = tables.next_phase(r.phase, phases) if r.phase != phases[-1] else ""
        label = d.words.phase(nxt) if nxt else ""

        def go(deadline: int | None) -> None:
            if self.am.write(commands.advance_round, r.id, deadline):
                self.notify(
                    _("moved to {phase} (closing {when} UTC)").format(
                        phase=label, when=when(deadline)
                    )
                    if deadline is not None
                    else _("moved to {phase}").format(phase=label)
                )

        if ask_deadline and nxt:
            heading = _("Move to {phase}, with a new closing time").format(phase=label)
            self._with_deadline(heading, deadline_label(r, d.now_ms), go)
        else:
            go(None)

    def selected_member(self) -> str | None:
        table = self.query_one("#m-positions", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key else None

    def action_record_position(self) -> None:
        got = self._need()
        d = self.am.digest
        member = self.selected_member()
        if got is None or d is None or member is None:
            return
        p, r = got
        if r is None or r.phase != R.POSITIONS:
            self.notify(
                _("positions are taken in the positions phase (a advances)"), title=_("Not yet")
            )
            return
        own = member == d.me
        name = name_of(d.state, member)
        heading = (
            _("Your position on {title}").format(title=repr(p.title))
            if own
            else _("Record {name}'s position on {title} (provisional until they confirm)").format(
                name=name, title=repr(p.title)
            )
        )
        current = r.positions.get(member)

        def record(answer: PositionInput | None) -> None:
            if answer is None:
                return
            for_member = None if own else member
            if self.am.write(commands.position, r.id, answer.kind, answer.reason, for_member):
                said = _("{name}: {kind}") if own else _("{name}: {kind} (provisional)")
                self.notify(said.format(name=name, kind=kind_label(answer.kind, d.state)))

        dialog = PositionDialog(
            heading,
            current.kind if current else None,
            words=d.words,
            kinds=r.shape.kinds,
            reasoned=r.shape.reasoned,
        )
        self.app.push_screen(dialog, callback=record)

    def action_close_round(self) -> None:
        got = self._need()
        if got is None:
            return
        p, r = got
        if r is None or r.phase == R.CLOSED:
            self.notify(_("no open round to close"), severity="warning")
            return
        rid = r.id

        def close(yes: bool | None) -> None:
            # The outcome panel shows the result once the next fold lands: no extra fold here.
            if yes and self.am.write(commands.close_round, rid, dialog.statement):
                self.notify(
                    _("round on {title} closed").format(title=repr(p.title)), title=_("Closed")
                )

        d = self.am.digest
        missing = unheard(self.am.local, d.state, r) if d and self.am.local else None
        warning = ""
        if missing:
            lines = []
            if missing.silent:
                names = ", ".join(missing.names[m] for m in missing.silent)
                lines.append(_("No position yet: {names}.").format(names=names))
            if missing.out_of_range:
                names = ", ".join(missing.names[m] for m in missing.out_of_range)
                lines.append(
                    _(
                        "Not in range: {names} (nothing from them here since the round last"
                        " changed phase: their position may be on a node not synced with yours)."
                    ).format(names=names)
                )
            warning = "\n".join(lines)
        dialog = CloseDialog(
            _("Close the round on {title}?").format(title=repr(p.title)),
            counted(len(r.positions), len(r.objections)),
            warning=warning,
            anyway=_("Close without them"),
        )
        self.app.push_screen(dialog, callback=close)

    def action_amend(self) -> None:
        got = self._need()
        if got is None:
            return
        p = got[0]

        def amend(answer: TextInput | None) -> None:
            if answer is not None and self.am.write(
                commands.amend, p.id, answer.body, answer.note, answer.effects
            ):
                self.notify(
                    _("{title} is now at version {number}").format(
                        title=repr(p.title), number=format_number(p.latest.number + 1)
                    )
                )

        note = _("Integrates the objections") if p.state == R.RETURNED else ""
        dialog = TextDialog(
            _("Amend {title}").format(title=repr(p.title)),
            body=p.latest.body,
            note=note,
            effects=self.effects_text(p),
            parse_effect=self.effect_parser(),
        )
        self.app.push_screen(dialog, callback=amend)

    def action_reject(self) -> None:
        got = self._need()
        if got is None:
            return
        p = got[0]

        def reject(answer: TextInput | None) -> None:
            if answer is not None and self.am.write(commands.reject, p.id, answer.body):
                self.notify(_("{title} rejected").format(title=repr(p.title)))

        heading = _("Reject {title}: the reason").format(title=repr(p.title))
        self.app.push_screen(TextDialog(heading), callback=reject)


def opened_text(review: bool, title: str, deadline: int | None, d: Digest | None = None) -> str:
    """What the notice says once a round (or review round) is open, with its closing time
    and the phase it opens in, in the assembly's words."""
    words = d.words if d is not None else Words()
    shape = d.state.vocabulary.shape if d is not None else None
    phase = words.phase(shape.phases[0] if shape is not None else R.QUESTIONS)
    if deadline is None:
        said = (
            _("review {round} opened on {title}: {phase}")
            if review
            else _("{round} opened on {title}: {phase}")
        )
        return said.format(round=words.term("round"), title=title, phase=phase)
    said = (
        _("review {round} opened on {title} until {when} UTC: {phase}")
        if review
        else _("{round} opened on {title} until {when} UTC: {phase}")
    )
    return said.format(round=words.term("round"), title=title, when=when(deadline), phase=phase)


def counted(positions: int, objections: int) -> str:
    """'2 positions, 1 objection.': what a close would count, for its dialog."""
    return _("{positions}, {objections}.").format(
        positions=ngettext("{count} position", "{count} positions", positions).format(
            count=format_number(positions)
        ),
        objections=ngettext("{count} objection", "{count} objections", objections).format(
            count=format_number(objections)
        ),
    )
