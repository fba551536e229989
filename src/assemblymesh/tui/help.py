"""The key list, built from the bindings themselves so it cannot drift from them."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from assemblymesh.i18n import N_, _
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.footer import translated

# Keys Textual names in words, shown as the character printed on the key.
KEY_SYMBOLS = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        # Going to a screen is listed once, from NAV, as "go to ...".
        if isinstance(b, Binding) and b.description and "switch_mode" not in b.action:
            keys = ", ".join(KEY_SYMBOLS.get(k.strip(), k.strip()) for k in b.key.split(","))
            rows.append((keys, translated(b.description)))
    return rows


def screens() -> tuple[tuple[str, type[Screen[Any]]], ...]:
    """Each screen with keys of its own, as the key list names it."""
    # Imported here: the screens import nothing from the app, the help imports them all.
    from assemblymesh.tui.devices_screen import DevicesScreen, PairScreen
    from assemblymesh.tui.draft import DraftScreen
    from assemblymesh.tui.funds import FundsScreen
    from assemblymesh.tui.home_screen import HomeScreen
    from assemblymesh.tui.library import LibraryScreen
    from assemblymesh.tui.meeting import MeetingScreen
    from assemblymesh.tui.member import MemberScreen
    from assemblymesh.tui.metrics_screen import MetricsScreen
    from assemblymesh.tui.room import MinutesScreen, RoomScreen
    from assemblymesh.tui.sync import InviteScreen, SyncScreen

    return (
        (N_("Home"), HomeScreen),
        (N_("Meeting"), MeetingScreen),
        (N_("Meeting room"), RoomScreen),
        (N_("Minutes"), MinutesScreen),
        (N_("Me"), MemberScreen),
        (N_("Draft"), DraftScreen),
        (N_("Sync"), SyncScreen),
        (N_("Invite"), InviteScreen),
        (N_("Funds"), FundsScreen),
        (N_("Metrics"), MetricsScreen),
        (N_("Library"), LibraryScreen),
        (N_("Devices"), DevicesScreen),
        (N_("Pairing"), PairScreen),
    )


def key_table() -> Table:
    from assemblymesh.tui.app import AssemblyApp
    from assemblymesh.tui.base import NAV, AssemblyScreen
    from assemblymesh.tui.widgets import PagedTable

    table = Table(show_header=True, box=None, pad_edge=False, expand=False)
    table.add_column(_("Where"), style="bold")
    table.add_column(_("Key"))
    table.add_column(_("Does"))
    listed: set[tuple[str, str]] = set()

    def add(where: str, keys: str, does: str) -> None:
        # A key bound in two places (the screens' base and the app) is listed once.
        fresh = [k for k in keys.split(", ") if (where, k) not in listed]
        if fresh:
            listed.update((where, k) for k in fresh)
            table.add_row(where, ", ".join(fresh), does)

    anywhere, lists = _("anywhere"), _("lists")
    for _mode, key, label in NAV:
        add(anywhere, key, _("go to {screen}").format(screen=_(label)))
    for key, desc in _rows([*AssemblyScreen.BINDINGS, *AssemblyApp.BINDINGS]):
        add(anywhere, key, desc)
    add(anywhere, "ctrl+p", _("command palette: every action by name"))
    add(lists, "up, down", _("move up or down"))
    for key, desc in _rows(PagedTable.BINDINGS):
        add(lists, key, desc)
    for where, screen in screens():
        for key, desc in _rows(screen.BINDINGS):
            add(_(where), key, desc)
    table.add_row(_("dialogs"), _("ctrl+s / enter"), _("save; escape cancels"))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", N_("Close")),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(display(_("Keys")), classes="dialog-title", markup=False)
            yield Static(BidiLines(key_table()))
