"""The member's view: my pending rounds, my position, proposing, amending, drafting."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from assemblymesh.i18n import N_, _
from assemblymesh.model import Round, commands
from assemblymesh.model import rules as R
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.dialogs import PositionDialog, PositionInput, TextDialog, TextInput
from assemblymesh.tui.draft import DraftScreen, draft_key
from assemblymesh.tui.render import NO_ROUND_YET, diff_text, outcome_text, proposal_header
from assemblymesh.tui.view import Digest, kind_label, span
from assemblymesh.tui.widgets import BidiStatic, BidiTable, PagedTable


class MemberScreen(AssemblyScreen):
    MODE = "member"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "state_position", N_("State position")),
        Binding("n", "propose", N_("Propose")),
        Binding("e", "amend", N_("Amend")),
        Binding("d", "draft", N_("Co-edit draft")),
        Binding("D", "draft_new", N_("New draft"), show=False),
        Binding("w", "withdraw", N_("Withdraw"), show=False),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="member-body"):
            with Vertical(id="member-left"):
                yield BidiTable(id="my-rounds", cursor_type="row", zebra_stripes=True)
                yield PagedTable((_("State"), _("Title"), _("Ver")), id="all-proposals")
            with VerticalScroll(id="member-detail"):
                yield BidiStatic(id="me-detail")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        rounds = self.query_one("#my-rounds", DataTable)
        # The closing time before what may run long (a provisional position's note).
        rounds.add_columns(_("Proposal"), _("Closes"), _("My position"), _("Phase"))
        rounds.border_title = display(_("Rounds waiting for me"))
        self.query_one("#all-proposals", PagedTable).border_title = display(_("Proposals"))

    def show(self, digest: Digest) -> None:
        words = digest.words
        rounds = self.query_one("#my-rounds", DataTable)
        waiting = _("{rounds} waiting for me").format(rounds=words.title("rounds"))
        rounds.border_title = display(waiting)
        proposals = self.query_one("#all-proposals", PagedTable)
        proposals.border_title = display(words.title("proposals"))
        keep = rounds.cursor_row
        rounds.clear()
        for r in digest.my_pending_rounds():
            p = digest.state.proposals[r.proposal]
            mine = r.positions.get(digest.me)
            label = "-" if mine is None else kind_label(mine.kind, digest.state)
            if mine is not None and mine.provisional:
                label = _("{kind} (provisional: confirm it)").format(kind=label)
            # Relative, so the column fits beside the others (the date is in the detail).
            deadline = closes_in(r, digest.now_ms)
            phase = digest.words.phase(r.phase)
            rounds.add_row(p.title, deadline, label, phase, key=r.proposal)
        if rounds.row_count:
            rounds.move_cursor(row=min(keep, rounds.row_count - 1), animate=False)
        table = self.query_one("#all-proposals", PagedTable)
        table.set_rows(
            [(k, (c[0], c[1], c[2])) for k, c in digest.proposal_rows], keep=self.am.selected
        )
        self._draw_detail()

    def _draw_detail(self) -> None:
        d = self.am.digest
        p, r = self.current()
        detail = self.query_one("#me-detail", Static)
        if d is None or p is None:
            detail.update(_("Choose a round or a proposal."))
            return
        mine = r.positions.get(d.me) if r is not None else None
        status = Text("\n" + _("My position:") + " ", style="bold")
        if mine is None:
            stating = r is not None and r.phase == R.POSITIONS
            status.append(_("none yet (s to state it)") if stating else _("none yet"))
        else:
            kind = kind_label(mine.kind, d.state)
            status.append(
                _("{kind} ({reason})").format(kind=kind, reason=mine.reason)
                if mine.reason
                else kind
            )
            if mine.provisional:
                status.append(
                    "  " + _("recorded for me by the facilitator: s confirms or corrects it")
                )
        detail.update(
            Group(
                proposal_header(d, p, r),
                status,
                Text(""),
                BidiLines(diff_text(d, p), "auto"),  # each paragraph its own direction
                Text(""),
                outcome_text(d, p, r, NO_ROUND_YET),
            )
        )

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if message.data_table.id == "my-rounds" and message.row_key.value:
            self._select(str(message.row_key.value))

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key:
            self._select(message.key)

    def _select(self, key: str) -> None:
        if key != self.am.selected:
            self.am.selected = key
            self._draw_detail()

    # --- moves ---------------------------------------------------------------------------

    def action_state_position(self) -> None:
        d = self.am.digest
        p, r = self.current()
        if d is None or p is None or r is None:
            self.notify(_("choose a round first"), severity="warning")
            return
        late = False
        if r.phase == R.CLOSED:
            dec = d.state.decisions.get(r.decision) if r.decision else None
            if dec is None or dec.status != R.PENDING:
                self.notify(_("this round is closed"), severity="warning")
                return
            late = True  # still in cooling-off: only an objection can be added
        elif r.phase != R.POSITIONS:
            self.notify(
                _("the round is in {phase}: positions come later").format(
                    phase=d.words.phase(r.phase)
                ),
                title=_("Not yet"),
            )
            return
        mine = r.positions.get(d.me)
        heading = (
            _("Object to {title} before it takes effect") if late else _("Your position on {title}")
        ).format(title=repr(p.title))
        rid = r.id

        def record(answer: PositionInput | None) -> None:
            if answer is not None and self.am.write(
                commands.position, rid, answer.kind, answer.reason, None
            ):
                self.notify(
                    _("your position: {kind}").format(kind=kind_label(answer.kind, d.state))
                )

        self.app.push_screen(
            PositionDialog(
                heading,
                mine.kind if mine else None,
                objection_only=late,
                words=d.words,
                kinds=r.shape.kinds,
                reasoned=r.shape.reasoned,
            ),
            callback=record,
        )

    def action_propose(self) -> None:
        def propose(answer: TextInput | None) -> None:
            if answer is not None:
                effects = answer.effects or ()
                act = self.am.write(commands.propose, answer.title, answer.body, effects)
                if act is not None:
                    self.am.selected = act.ref
                    self.notify(_("proposed {title}").format(title=repr(answer.title)))

        dialog = TextDialog(
            _("New proposal"), title="", effects="", parse_effect=self.effect_parser()
        )
        self.app.push_screen(dialog, callback=propose)

    def action_amend(self) -> None:
        p, _round = self.current()
        if p is None:
            self.notify(_("choose a proposal first"), severity="warning")
            return

        def amend(answer: TextInput | None) -> None:
            if answer is not None and self.am.write(
                commands.amend, p.id, answer.body, answer.note, answer.effects
            ):
                self.notify(_("{title} amended").format(title=repr(p.title)))

        dialog = TextDialog(
            _("Amend {title}").format(title=repr(p.title)),
            body=p.latest.body,
            note="",
            effects=self.effects_text(p),
            parse_effect=self.effect_parser(),
        )
        self.app.push_screen(dialog, callback=amend)

    def action_withdraw(self) -> None:
        p, _round = self.current()
        if p is not None and self.am.write(commands.withdraw, p.id):
            self.notify(_("{title} withdrawn").format(title=repr(p.title)))

    def action_draft(self) -> None:
        p, _round = self.current()
        if p is None:
            self.action_draft_new()
            return
        self.app.push_screen(DraftScreen(draft_key(p.id), p))

    def action_draft_new(self) -> None:
        self.app.push_screen(DraftScreen(draft_key(None), None))


def closes_in(r: Round, now_ms: int) -> str:
    """'in 3h 10m', 'passed 2h 0m ago', or '-' for a round without a closing time."""
    if r.deadline is None:
        return "-"
    left = r.deadline - now_ms
    if left > 0:
        return _("in {span}").format(span=span(left))
    return _("passed {span} ago").format(span=span(-left))
