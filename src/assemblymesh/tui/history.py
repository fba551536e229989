"""History: each proposal's consent loop (versions, rounds, positions, outcome) and audit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from assemblymesh.i18n import _
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.render import consent_loop
from assemblymesh.tui.view import Digest
from assemblymesh.tui.widgets import PagedTable


class HistoryScreen(AssemblyScreen):
    MODE = "history"

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="history-body"):
            yield PagedTable((_("State"), _("Title"), _("Ver")), id="hist-proposals")
            with VerticalScroll(id="loop-scroll"):
                yield Static(_("Choose a proposal."), id="loop")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.query_one("#hist-proposals", PagedTable).border_title = display(_("Proposals"))

    def show(self, digest: Digest) -> None:
        table = self.query_one("#hist-proposals", PagedTable)
        table.border_title = display(digest.words.title("proposals"))
        table.set_rows(
            [(k, (c[0], c[1], c[2])) for k, c in digest.proposal_rows], keep=self.am.selected
        )
        self._draw_loop()

    def _draw_loop(self) -> None:
        d = self.am.digest
        if d is None or self.am.selected is None:
            return
        p = d.state.proposals.get(self.am.selected)
        if p is not None:
            self.query_one("#loop", Static).update(BidiLines(consent_loop(d, p)))

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key and message.key != self.am.selected:
            self.am.selected = message.key
            self._draw_loop()
