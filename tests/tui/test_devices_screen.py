"""The Devices screen (key 9): this member's devices, pairing a new one over loopback with
the code the screen shows, revoking a lost one after a confirmation, and the passphrase the
app asks for when the member key or this device's key files are sealed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from assemblymesh.crdt import keyfiles
from assemblymesh.devices import join
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.devices_screen import DevicesScreen, PairScreen
from assemblymesh.tui.dialogs import ConfirmDialog, PassphraseDialog
from assemblymesh.tui.widgets import PagedTable
from tests.tui.conftest import Trio, settle, shown

FAST = keyfiles.KdfCost(1, 8192)


def text_of(app: AssemblyApp, selector: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def rows(app: AssemblyApp) -> list[tuple[str, ...]]:
    table = app.screen.query_one("#device-table", PagedTable)
    return [cells for _, cells in table._rows]


def second_device(trio: Trio, tmp_path: Path) -> LocalAssembly:
    """A second device of Rosa's (restored from a backup), in sync with her laptop."""
    rosa = trio.rosa
    code = rosa.backup("words", FAST)
    phone = Home(tmp_path / "rosa-phone", trio.clock).restore(code, "words", FAST)
    for src, dst in ((phone, rosa), (rosa, phone)):
        dst.replica.ingest([c.data for c in src.replica.missing_for(dst.replica.vector())])
    return phone


async def test_the_list_marks_this_device_and_revokes_another_after_a_confirmation(
    trio: Trio, tmp_path: Path
) -> None:
    phone = second_device(trio, tmp_path)
    try:
        app = trio.app("Rosa")
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("9")
            await settle(app, pilot)
            assert isinstance(app.screen, DevicesScreen)
            assert app.local is not None
            listed = rows(app)
            assert [r[1] for r in listed] == ["this device", "active"]
            assert listed[0][0] == app.local.device_id[:16]
            assert listed[1][0] == phone.device_id[:16]
            assert all(r[2] != "-" for r in listed)  # both certified, with a time
            assert "lies plain" in text_of(app, "#device-detail")
            # This device cannot revoke itself: nothing is asked, nothing written.
            await pilot.press("r")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmDialog)
            await pilot.press("down", "r")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")  # no: nothing changes
            await settle(app, pilot)
            assert not app.local.state().is_revoked(app.local.member_id, phone.device_id)
            await pilot.press("r")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            assert app.local.state().is_revoked(app.local.member_id, phone.device_id)
            assert rows(app)[1][1].startswith("revoked")
            # The revocation makes a new epoch, sealed to the laptop and not to the phone.
            assert app.local.epoch_view().held == 1
    finally:
        phone.close()


async def test_a_sealed_member_key_is_asked_for_and_a_wrong_passphrase_changes_nothing(
    trio: Trio, tmp_path: Path
) -> None:
    phone = second_device(trio, tmp_path)
    trio.rosa.protect_member_key("rosa's words", FAST)
    try:
        app = trio.app("Rosa")
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("9")
            await settle(app, pilot)
            assert "sealed under a passphrase" in text_of(app, "#device-detail")
            await pilot.press("down", "r")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, PassphraseDialog)
            await pilot.press(*"guess", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PassphraseDialog)
            error = shown(app, "#error")
            assert "wrong passphrase" in error and "Nothing changed" in error
            assert app.screen.query_one(Input).value == ""
            assert app.local is not None
            assert not app.local.state().is_revoked(app.local.member_id, phone.device_id)
            await pilot.press(*"rosa's words", "enter")
            await settle(app, pilot)
            assert app.local.state().is_revoked(app.local.member_id, phone.device_id)
            assert app.local.member_key_status() == "unlocked"
    finally:
        phone.close()


async def test_pairing_from_the_screen_gives_the_new_device_its_certificate(
    trio: Trio, tmp_path: Path
) -> None:
    app = trio.app("Rosa", pair_at=("127.0.0.1", 0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("9")
        await settle(app, pilot)
        await pilot.press("p")
        for _ in range(200):
            await pilot.pause()
            if isinstance(app.screen, PairScreen) and app.screen.code is not None:
                break
        screen = app.screen
        assert isinstance(screen, PairScreen) and screen.code is not None
        assert screen.code in text_of(app, "#pair-code")
        assert "█" in text_of(app, "#pair-qr") or "▀" in text_of(app, "#pair-qr")
        new = await join(Home(tmp_path / "rosa-tablet", trio.clock), screen.code, timeout=30)
        try:
            await settle(app, pilot)
            await app.workers.wait_for_complete()
            await settle(app, pilot)
            assert isinstance(app.screen, DevicesScreen)
            assert app.local is not None
            assert new.member_id == app.local.member_id
            assert new.device_id in app.local.state().members[app.local.member_id].devices
            assert [r[0] for r in rows(app)] == [app.local.device_id[:16], new.device_id[:16]]
        finally:
            new.close()


async def test_escape_stops_waiting_for_a_device(trio: Trio) -> None:
    app = trio.app("Rosa", pair_at=("127.0.0.1", 0))
    async with app.run_test(size=(80, 18)) as pilot:
        await settle(app, pilot)
        await pilot.press("9", "p")
        for _ in range(200):
            await pilot.pause()
            if isinstance(app.screen, PairScreen) and app.screen.code is not None:
                break
        assert isinstance(app.screen, PairScreen)
        # At 80x18 the QR code does not fit: the screen says so instead of cutting it.
        assert "larger terminal" in text_of(app, "#pair-qr")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DevicesScreen)


async def test_sealed_device_keys_are_asked_for_when_the_app_starts(trio: Trio) -> None:
    trio.rosa.protect_device_keys("laptop words", FAST)
    app = trio.app("Rosa")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PassphraseDialog)
        await pilot.press(*"guess", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseDialog)
        assert "wrong passphrase" in shown(app, "#error")
        assert app.local is None
        await pilot.press(*"laptop words", "enter")
        await settle(app, pilot)
        assert app.local is not None and app.digest is not None
        assert app.digest.name == "Garden co-op"


async def test_cancelling_the_passphrase_of_sealed_device_keys_ends_the_app(trio: Trio) -> None:
    trio.rosa.protect_device_keys("laptop words", FAST)
    app = trio.app("Rosa")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.startup_error is not None and "sealed" in str(app.startup_error)


async def test_inviting_with_a_sealed_member_key_asks_for_its_passphrase(trio: Trio) -> None:
    trio.rosa.protect_member_key("rosa's words", FAST)
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "i")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseDialog)
        await pilot.press("escape")  # cancelled: no invite
        await pilot.pause()
        assert app.screen.id != "invite"
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*"rosa's words", "enter")
        await pilot.pause()
        assert app.screen.id == "invite"


@pytest.mark.parametrize("size", [(80, 24)])
def test_devices_snapshot(snap_compare: object, tmp_path: Path, size: tuple[int, int]) -> None:
    from tests.tui.test_snapshots import before, demo_app

    assert snap_compare(demo_app(tmp_path), terminal_size=size, run_before=before("9"))  # type: ignore[operator]
