"""Two members' apps joined by an in-memory sync link: what one types, the other sees."""

from __future__ import annotations

from textual.widgets import DataTable, TextArea

from assemblymesh.crdt.document import SHARED
from assemblymesh.model import rules as R
from assemblymesh.sim.memory import MemoryLink
from assemblymesh.tui.draft import DraftScreen, draft_key
from tests.tui.conftest import Trio, proposal_in_positions, settle


def position_cell(app: object, name: str) -> str:
    from textual.app import App

    assert isinstance(app, App)
    table = app.screen.query_one("#m-positions", DataTable)
    for i in range(table.row_count):
        row = table.get_row_at(i)
        if str(row[0]) == name:
            return str(row[1])
    raise AssertionError(f"{name} not listed")


async def test_position_typed_in_one_app_appears_in_the_other(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    rosa_app = trio.app("Rosa")
    amara_app = trio.app("Amara")
    async with (
        rosa_app.run_test(size=(120, 40)) as rosa,
        amara_app.run_test(size=(120, 40)) as amara,
    ):
        await settle(rosa_app, rosa)
        await settle(amara_app, amara)
        assert rosa_app.local is not None and amara_app.local is not None
        link = MemoryLink(rosa_app.local.replica, amara_app.local.replica)
        try:
            await rosa.press("2")
            await rosa.pause()
            assert rosa_app.selected == pid
            assert position_cell(rosa_app, "Amara") == "-"

            await amara.press("3", "s")
            await amara.pause()
            await amara.press("down", "enter", "tab", *"Bins attract rats")
            await amara.press("enter")
            await settle(amara_app, amara)
            await settle(rosa_app, rosa)

            assert position_cell(rosa_app, "Amara") == "concern"
            received = [n.message for n in rosa_app._notifications if n.title == "Received"]
            assert received == ["1 change from Amara"]
            # A notification never takes the focus from the facilitator's screen.
            assert rosa_app.screen.id is None and rosa_app.current_mode == "meeting"
        finally:
            link.close()
    state = trio.reopen("Rosa")
    assert state.rounds[rid].positions[state.find_member("Amara").id].kind == R.CONCERN


async def test_co_edited_draft_updates_live_and_keeps_the_cursor(trio: Trio) -> None:
    pid, _ = proposal_in_positions(trio)
    rosa_app = trio.app("Rosa")
    kofi_app = trio.app("Kofi")
    async with rosa_app.run_test(size=(100, 30)) as rosa, kofi_app.run_test(size=(100, 30)) as kofi:
        await settle(rosa_app, rosa)
        await settle(kofi_app, kofi)
        assert rosa_app.local is not None and kofi_app.local is not None
        link = MemoryLink(rosa_app.local.replica, kofi_app.local.replica)
        try:
            for app, pilot in ((rosa_app, rosa), (kofi_app, kofi)):
                await pilot.press("3", "d")
                await pilot.pause()
                assert isinstance(app.screen, DraftScreen)
                assert app.screen.key == draft_key(pid)

            await rosa.press(*"bins by the gate")
            await rosa.pause()
            await kofi.pause()
            kofi_area = kofi_app.screen.query_one(TextArea)
            assert kofi_area.text == "bins by the gate"

            # Kofi's cursor sits after "bins"; Rosa types in front of it.
            kofi_area.move_cursor((0, 4))
            rosa_area = rosa_app.screen.query_one(TextArea)
            rosa_area.move_cursor((0, 0))
            await rosa.press(*"Two ")
            await rosa.pause()
            await kofi.pause()
            assert kofi_area.text == "Two bins by the gate"
            assert kofi_area.cursor_location == (0, 8)  # still right after "bins"

            await kofi.press(*" (green)")
            await kofi.pause()
            await rosa.pause()
            assert rosa_area.text == "Two bins (green) by the gate"
            shared = rosa_app.local.replica.document(SHARED).text(draft_key(pid))
            assert str(shared) == "Two bins (green) by the gate"
        finally:
            link.close()


async def test_the_apps_fold_is_the_one_the_root_answers_the_network_from(trio: Trio) -> None:
    # The UI folds after each change in a worker; the root keeps that fold, so the network's
    # questions (known_state) are answered without a second fold of the same record.
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        local = app.local
        assert local is not None
        local.refolded_elsewhere = True  # as the UI's network sets it while it runs
        assert local._fold_cache is not None
        assert local._fold_cache[0] == local.replica.digest()
        assert local._fold_cache[1] is app.digest.state  # type: ignore[union-attr]
        folded = app.folds
        assert local.known_state().members == app.digest.state.members  # type: ignore[union-attr]
        assert local._fold_cache[1] is app.digest.state  # type: ignore[union-attr]
        assert app.folds == folded
