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
from assemblymesh.model import Proposal, Round, commands, tables
from assemblymesh.model import rules as R
from assemblymesh.tui.base import AssemblyScreen
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
from assemblymesh.tui.widgets import PagedTable


class MeetingScreen(ThreadMoves, RosterMoves, AssemblyScreen):
    MODE = "meeting"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_round", "Open round"),
        Binding("O", "open_round(True)", "Open with deadline", show=False),
        Binding("a", "advance", "Advance"),
        Binding("A", "advance(True)", "Advance, new deadline", show=False),
        *THREAD_BINDINGS,
        Binding("p", "record_position", "Position for"),
        Binding("c", "close_round", "Close"),
        Binding("e", "amend", "Amend"),
        Binding("x", "reject", "Reject", show=False),
        *ROSTER_BINDINGS,
        Binding("m", "room", "Meeting room: agenda, queue, minutes", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="meeting-body"):
            yield PagedTable(("State", "Title", "Phase"), id="agenda", empty="(empty agenda)")
            with VerticalScroll(id="detail"):
                yield Static("Choose a proposal on the agenda.", id="m-title")
                yield Static(id="m-diff", classes="panel")
                yield DataTable(id="m-positions", cursor_type="row", zebra_stripes=True)
                yield Static(id="m-thread", classes="panel")
                yield Static(id="m-outcome", classes="panel")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#m-positions", DataTable)
        table.add_columns("Member", "Position", "Reason", "Note")
        table.border_title = "Positions"
        self.query_one("#m-thread", Static).border_title = "Questions and reactions"
        self.query_one("#agenda", PagedTable).border_title = "Agenda"

    # --- drawing -------------------------------------------------------------------------

    def show(self, digest: Digest) -> None:
        self.query_one("#m-positions", DataTable).border_title = digest.words.title("positions")
        agenda = self.query_one("#agenda", PagedTable)
        rows = [(key, (cells[0], cells[1], cells[4])) for key, cells in digest.agenda_rows]
        selected = self.am.selected
        if selected is not None and selected not in {k for k, _ in rows}:
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
            self.query_one("#m-title", Static).update("Choose a proposal on the agenda.")
            return
        self.query_one("#m-title", Static).update(proposal_header(d, p, r))
        diff = self.query_one("#m-diff", Static)
        previous = d.previous_body(p)
        diff.border_title = f"Text v{p.latest.number}" + (
            f", changes from v{p.latest.number - 1}" if previous is not None else ""
        )
        diff.update(diff_text(d, p))
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
                waiting = "advisory" if m.supporter else "waiting"
                if m.deviceless:
                    waiting += ": p records it"
                cells = (member_label(d.state, member), "-", "", waiting if awaited else "")
            else:
                cells = (
                    member_label(d.state, member),
                    kind_label(d.state, pos.kind),
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
            self.notify("choose a proposal on the agenda first", severity="warning")
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
            self.notify(refusal, title="No round opened", severity="error")
            return
        review = d.review_due_of(p) is not None

        def go(deadline: int | None) -> None:
            if self.am.write(commands.open_round, p.id, None, deadline):
                what = "review round" if review else d.words.term("round")
                until = " until " + when(deadline) + " UTC" if deadline is not None else ""
                first = d.state.vocabulary.shape.phases[0]
                self.notify(f"{what} opened on {p.title!r}{until}: {d.words.phase(first)}")

        if ask_deadline:
            self._with_deadline(f"Open a round on {p.title!r}: its closing time", "", go)
        else:
            go(None)

    def action_advance(self, ask_deadline: bool = False) -> None:
        got = self._need()
        d = self.am.digest
        if got is None or d is None:
            return
        r = got[1]
        if r is None or r.phase == R.CLOSED:
            self.notify("no open round on this proposal (o opens one)", severity="warning")
            return
        phases = r.shape.phases
        nxt = tables.next_phase(r.phase, phases) if r.phase != phases[-1] else ""
        label = d.words.phase(nxt) if nxt else ""

        def go(deadline: int | None) -> None:
            if self.am.write(commands.advance_round, r.id, deadline):
                until = " (closing " + when(deadline) + " UTC)" if deadline is not None else ""
                self.notify(f"moved to {label}{until}")

        if ask_deadline and nxt:
            heading = f"Move to {label}, with a new closing time"
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
            self.notify("positions are taken in the positions phase (a advances)", title="Not yet")
            return
        own = member == d.me
        name = name_of(d.state, member)
        heading = (
            f"Your position on {p.title!r}"
            if own
            else f"Record {name}'s position on {p.title!r} (provisional until they confirm)"
        )
        current = r.positions.get(member)

        def record(answer: PositionInput | None) -> None:
            if answer is None:
                return
            for_member = None if own else member
            if self.am.write(commands.position, r.id, answer.kind, answer.reason, for_member):
                suffix = "" if own else " (provisional)"
                self.notify(f"{name}: {kind_label(d.state, answer.kind)}{suffix}")

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
            self.notify("no open round to close", severity="warning")
            return
        rid = r.id

        def close(yes: bool | None) -> None:
            # The outcome panel shows the result once the next fold lands: no extra fold here.
            if yes and self.am.write(commands.close_round, rid, dialog.statement):
                self.notify(f"round on {p.title!r} closed", title="Closed")

        d = self.am.digest
        missing = unheard(self.am.local, d.state, r) if d and self.am.local else None
        warning = ""
        if missing:
            lines = []
            if missing.silent:
                names = ", ".join(missing.names[m] for m in missing.silent)
                lines.append(f"No position yet: {names}.")
            if missing.out_of_range:
                names = ", ".join(missing.names[m] for m in missing.out_of_range)
                lines.append(
                    f"Not in range: {names} (nothing from them here since the round last "
                    "changed phase: their position may be on a node not synced with yours)."
                )
            warning = "\n".join(lines)
        dialog = CloseDialog(
            f"Close the round on {p.title!r}?",
            f"{len(r.positions)} positions, {len(r.objections)} objection(s).",
            warning=warning,
            anyway="Close without them",
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
                self.notify(f"{p.title!r} is now at version {p.latest.number + 1}")

        note = "Integrates the objections" if p.state == R.RETURNED else ""
        dialog = TextDialog(
            f"Amend {p.title!r}",
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
                self.notify(f"{p.title!r} rejected")

        self.app.push_screen(TextDialog(f"Reject {p.title!r}: the reason"), callback=reject)
