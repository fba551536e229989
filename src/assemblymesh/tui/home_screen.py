"""The assembly's home: proposals by state, open rounds, decisions, reviews, peers."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from assemblymesh.i18n import N_, _, format_number, label
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.messages import PeersChanged
from assemblymesh.tui.render import home_side
from assemblymesh.tui.view import STATE_LABELS, STATE_ORDER, Digest
from assemblymesh.tui.widgets import PagedTable

# The filters ``f`` cycles through: everything, the agenda, then one state at a time.
FILTERS: tuple[str, ...] = ("all", "agenda", *STATE_ORDER)
FILTER_LABELS = {"all": N_("all"), "agenda": N_("on the agenda"), **STATE_LABELS}


class HomeScreen(AssemblyScreen):
    MODE = "home"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "cycle_filter", N_("Filter")),
        Binding("enter", "meet", N_("Meeting"), show=False),
        Binding("m", "meet", N_("To meeting")),
        Binding("v", "history", N_("History")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = "all"

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Horizontal(id="home-body"):
            with Vertical(id="agenda-col"):
                yield Static(_("Loading the assembly..."), id="counts")
                yield PagedTable(
                    (_("State"), _("Title"), _("Ver"), _("Author"), _("Phase")),
                    id="proposals",
                    empty=_("(no proposals)"),
                )
            with VerticalScroll(id="side"):
                yield Static(id="side-panel")
        yield from self.compose_bottom()

    def show(self, digest: Digest) -> None:
        counts = Text()
        if not digest.admitted():
            counts.append(_("Not admitted yet: sync with a member to receive the assembly.") + " ")
        for state in STATE_ORDER:
            counts.append(
                _("{state} {count}").format(
                    state=_(STATE_LABELS[state]), count=format_number(digest.counts.get(state, 0))
                )
                + "  "
            )
        counts.rstrip()
        self.query_one("#counts", Static).update(BidiLines(counts))
        self._fill_table(digest)
        self._draw_side(digest)

    def _fill_table(self, digest: Digest) -> None:
        table = self.query_one("#proposals", PagedTable)
        if self.filter == "all":
            rows = digest.proposal_rows
        elif self.filter == "agenda":
            rows = digest.agenda_rows
        else:
            # By the proposal's state, not its label: "review due" is still adopted.
            proposals = digest.state.proposals
            rows = tuple(r for r in digest.proposal_rows if proposals[r[0]].state == self.filter)
        shown = label(FILTER_LABELS, self.filter)
        table.border_title = display(f"{digest.words.title('proposals')}: {shown}")
        table.set_rows(rows, keep=self.am.selected)

    def _draw_side(self, digest: Digest) -> None:
        self.query_one("#side-panel", Static).update(
            BidiLines(Group(*home_side(digest, self.am.peers, self.am.outcome_changes)))
        )

    def on_peers_changed(self, message: PeersChanged) -> None:
        if self.am.digest is not None:
            self._draw_side(self.am.digest)

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key:
            self.am.selected = message.key

    def on_data_table_row_selected(self, message: PagedTable.RowSelected) -> None:
        self.action_meet()

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        if self.am.digest is not None:
            self._fill_table(self.am.digest)

    def action_meet(self) -> None:
        self.app.switch_mode("meeting")

    def action_history(self) -> None:
        self.app.switch_mode("history")
