"""The key list, built from the bindings themselves so it cannot drift from them."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from assemblymesh.tui.footer import translated


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        # Going to a screen is listed once, from NAV, as "go to ...".
        if isinstance(b, Binding) and b.description and "switch_mode" not in b.action:
            keys = ", ".join(k.strip().replace("_", " ") for k in b.key.split(","))
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
        ("Home", HomeScreen),
        ("Meeting", MeetingScreen),
        ("Meeting room", RoomScreen),
        ("Minutes", MinutesScreen),
        ("Me", MemberScreen),
        ("Draft", DraftScreen),
        ("Sync", SyncScreen),
        ("Invite", InviteScreen),
        ("Funds", FundsScreen),
        ("Metrics", MetricsScreen),
        ("Library", LibraryScreen),
        ("Devices", DevicesScreen),
        ("Pairing", PairScreen),
    )


def key_table() -> Table:
    from assemblymesh.tui.app import AssemblyApp
    from assemblymesh.tui.base import NAV, AssemblyScreen
    from assemblymesh.tui.widgets import PagedTable

    table = Table(show_header=True, box=None, pad_edge=False, expand=False)
    table.add_column("Where", style="bold")
    table.add_column("Key")
    table.add_column("Does")
    for _, key, label in NAV:
        table.add_row("anywhere", key, f"go to {label}")
    for key, desc in _rows([*AssemblyScreen.BINDINGS, *AssemblyApp.BINDINGS]):
        table.add_row("anywhere", key, desc)
    table.add_row("anywhere", "ctrl+p", "command palette: every action by name")
    table.add_row("lists", "up, down, [ ]", "move; previous / next page")
    for key, desc in _rows(PagedTable.BINDINGS):
        table.add_row("lists", key, desc)
    for where, screen in screens():
        for key, desc in _rows(screen.BINDINGS):
            table.add_row(where, key, desc)
    table.add_row("dialogs", "ctrl+s / enter", "save; escape cancels")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static("Keys", classes="dialog-title")
            yield Static(key_table())
