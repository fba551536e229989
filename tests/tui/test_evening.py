"""A facilitator's evening: the store shared with other processes, closing a round with
everyone heard (or knowingly not), outcomes that change afterwards."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import DataTable

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.link import pump
from tests.tui.conftest import Trio, proposal_in_positions, settle


async def until(app: AssemblyApp, pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    """Let the app run (its timers too) until ``ready()``; fail after a bounded wait."""
    for _ in range(250):
        await app.workers.wait_for_complete()
        await pilot.pause(0.02)
        if ready() and not app.busy:
            await pilot.pause()
            return
    raise AssertionError("the condition never held")


def position_of(app: AssemblyApp, name: str) -> str:
    table = app.screen.query_one("#m-positions", DataTable)
    for i in range(table.row_count):
        row = table.get_row_at(i)
        if row[0] == name:
            return str(row[1])
    raise AssertionError(f"{name} is not listed")


async def test_an_offline_ui_follows_changes_another_process_stored(trio: Trio) -> None:
    _, rid = proposal_in_positions(trio)
    app = trio.app("Rosa", poll_every=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        assert position_of(app, "Amara") == "-"
        # `serve` on the same home receives Amara's objection: a second handle on the store.
        trio.locals["Amara"].act(commands.position, rid, R.OBJECT, "Rats.", None)
        serve = trio.homes["Rosa"].open()
        try:
            pump(trio.locals["Amara"].replica, serve.replica)
        finally:
            serve.close()
        await until(app, pilot, lambda: position_of(app, "Amara") == "OBJECT")
        received = [n.message for n in app._notifications if n.title == "Received"]
        assert received == ["1 change from Amara"]
