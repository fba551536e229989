"""A facilitator's evening: the store shared with other processes, closing a round with
everyone heard (or knowingly not), outcomes that change afterwards."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.sim.memory import pump
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.dialogs import ConfirmDialog
from assemblymesh.tui.meeting import counted
from tests.tui.conftest import Trio, proposal_in_positions, settle, shown, text_of
from tests.tui.test_deadlines import notice_of


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
        if str(row[0]) == name:
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


async def test_the_close_dialog_counts_what_arrived_from_another_process(trio: Trio) -> None:
    _, rid = proposal_in_positions(trio)
    trio.act("Rosa", commands.position, rid, R.CONSENT, "", None)
    app = trio.app("Rosa", poll_every=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        trio.locals["Amara"].act(commands.position, rid, R.OBJECT, "Rats.", None)
        serve = trio.homes["Rosa"].open()
        try:
            pump(trio.locals["Amara"].replica, serve.replica)
        finally:
            serve.close()
        await until(app, pilot, lambda: position_of(app, "Amara") == "OBJECT")
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        texts = [text_of(s) for s in dialog.query(Static)]
        assert "2 positions, 1 objection." in texts
        assert counted(1, 0) == "1 position, 0 objections."
        warning = text_of(dialog.query_one("#warning", Static))
        assert "No position yet: Kofi." in warning and "Amara" not in warning


async def test_outcomes_changed_after_the_close_are_announced_everywhere(trio: Trio) -> None:
    # Compost bins: Amara objected while out of range; Rosa closed without her objection.
    _, rid1 = proposal_in_positions(trio, "Compost bins")
    # Seed swap: adopted with everyone heard; Kofi objects later, in the cooling-off.
    _, rid2 = proposal_in_positions(trio, "Seed swap")
    for rid in (rid1, rid2):
        trio.act("Rosa", commands.position, rid, R.CONSENT, "", None)
        trio.act("Kofi", commands.position, rid, R.CONSENT, "", None)
    trio.act("Amara", commands.position, rid2, R.CONSENT, "", None)
    trio.locals["Amara"].act(commands.position, rid1, R.OBJECT, "It floods.", None)
    trio.locals["Rosa"].act(commands.close_round, rid1)  # not synced: the partition
    trio.locals["Rosa"].act(commands.close_round, rid2)
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.digest is not None
        assert app.digest.state.rounds[rid1].outcome == R.OUTCOME_ADOPTED
        await pilot.press("3")  # on another screen than home
        assert app.local is not None
        pump(trio.locals["Amara"].replica, app.local.replica)
        await settle(app, pilot)
        trio.locals["Kofi"].act(commands.position, rid2, R.OBJECT, "Too early.", None)
        pump(trio.locals["Kofi"].replica, app.local.replica)
        await settle(app, pilot)
        changed = [n.message for n in app._notifications if n.title == "Outcome changed"]
        assert changed == [
            "Compost bins: closed as adopted, now returned with objections: positions from"
            " members out of range arrived after the close",
            "Seed swap: the decision was returned by a late objection from Kofi",
        ]
        # Under the navigation of every screen, for a week: here the Me screen.
        assert notice_of(app) == "! 1 outcome changed after its close: see Home (1)"
        await pilot.press("1")
        await pilot.pause()
        side = shown(app, "#side-panel")
        assert "Changed since close" in side
        assert "Compost bins: closed as adopted, now returned with objections" in side
        assert "Seed swap: returned after a late objection from Kofi" in side
        assert "! " not in side  # the record says both already: once is enough
    # The close carried what Rosa counted, so an app started later says it too...
    for days, notice in ((0, "! 1 outcome changed after its close: see Home (1)"), (8, "")):
        trio.clock.advance(days * R.DAY_MS)
        app = AssemblyApp(trio.homes["Rosa"], refold_every=None, poll_every=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            assert notice_of(app) == notice  # ...on every screen for a week
            assert "Compost bins: closed as adopted, now returned" in shown(app, "#side-panel")
