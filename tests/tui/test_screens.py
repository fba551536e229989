"""Home, sync, history, setup, palette, help: each flow through keys, asserted on the model
and on what the screen shows."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, ProgressBar, Static, TextArea

from assemblymesh.home import Home
from assemblymesh.home import rebased_index as map_index
from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.draft import edit_span
from assemblymesh.tui.help import HelpScreen, key_table
from assemblymesh.tui.peers import LAN, MESH, ManualPeers, PeerInfo, SyncProgress
from assemblymesh.tui.qr import qr_lines, qr_matrix
from assemblymesh.tui.setup import SetupScreen
from assemblymesh.tui.sync import InviteScreen
from assemblymesh.tui.view import version_diff
from assemblymesh.tui.widgets import PagedTable
from tests.tui.conftest import (
    START,
    TickClock,
    Trio,
    id_counter,
    proposal_in_positions,
    settle,
    shown,
)


async def test_home_lists_by_state_and_key_presses_do_not_fold(trio: Trio) -> None:
    _, rid = proposal_in_positions(trio)
    trio.act("Amara", commands.propose, "Seed swap", "In March.")
    trio.act("Rosa", commands.position, rid, R.CONSENT, "", None)
    trio.act("Kofi", commands.position, rid, R.CONSENT, "", None)
    trio.act("Rosa", commands.close_round, rid)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert "in round 0  open 1" in shown(app, "#counts")
        assert "cooling-off 1" in shown(app, "#counts")
        side = shown(app, "#side-panel")
        assert "Compost bins: cooling-off, 2d 23h left" in side
        table = app.screen.query_one("#proposals", PagedTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == [
            "Seed swap",
            "Compost bins",
        ]
        folds = app.folds
        await pilot.press("f")  # agenda
        await pilot.press("f")  # in round only
        await pilot.pause()
        assert table.border_title == "Proposals: in round"
        assert str(table.get_row_at(0)[1]) == "(no proposals)"
        await pilot.press("f", "f", "down", "up", "down")
        await pilot.pause()
        assert app.folds == folds  # navigation reads the cached fold


async def test_paged_table_pages_through_long_lists() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield PagedTable(("State", "Title"), page_size=10)

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows([(f"k{i}", ("open", f"row {i}")) for i in range(35)])
        table.focus()
        await pilot.pause()
        assert table.row_count == 10 and table.current_key == "k0"
        await pilot.press("right_square_bracket")
        assert table.current_key == "k10"
        await pilot.press("up")
        assert table.current_key == "k9" and table.page == 0
        await pilot.press("down")
        assert table.current_key == "k10" and table.page == 1
        await pilot.press(*["right_square_bracket"] * 5)
        assert table.page == 3 and table.row_count == 5
        assert table.border_subtitle == "31-35 of 35  [ ] pages"
        table.set_rows([(f"k{i}", ("open", f"row {i}")) for i in range(35)], keep="k22")
        assert table.current_key == "k22" and table.page == 2


async def test_sync_screen_peers_progress_and_invite(trio: Trio) -> None:
    peers = ManualPeers([PeerInfo("Kofi", LAN, "connected", START - 60_000, 5, 3, 0)])
    app = trio.app(peers=peers)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#peer-table", DataTable)
        assert [str(cell) for cell in table.get_row_at(0)[:3]] == ["Kofi", "lan", "connected"]
        peers.set_peers([*peers.peers(), PeerInfo("Amara", MESH, "offline", None, 0, 0, 2)])
        await pilot.pause()
        assert table.row_count == 2
        assert [str(cell) for cell in table.get_row_at(1)] == [
            "Amara", "mesh", "offline", "never", "0", "0", "2", "",
        ]  # fmt: skip
        assert not app.screen.query_one("#progress-row").display
        peers.progress(SyncProgress("importing bundle", 30, 120))
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#progress-row").display
        assert app.screen.query_one(ProgressBar).percentage == 0.25
        peers.progress(SyncProgress("importing bundle", 120, 120))
        await pilot.pause()
        assert not app.screen.query_one("#progress-row").display

        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InviteScreen)
        code = app.screen.code
        assert code.startswith("am1:")
        assert shown(app, "#invite-code").replace("\n", "") == code
        assert "█" in shown(app, "#qr")
        await settle(app, pilot)
    assert len(trio.reopen().invites) == 3  # two from the fixture, one from the screen


async def test_history_shows_the_consent_loop_and_audit(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    trio.act("Amara", commands.position, rid, R.OBJECT, "Floods.", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.act("Kofi", commands.amend, pid, "Two bins on the raised bed.", "Away from the flood")
    app = trio.app()
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await pilot.pause()
        loop = shown(app, "#loop")
        assert "Versions (2)" in loop
        assert "v2" in loop and "Away from the flood" in loop
        assert "returned with objections" in loop
        assert "Amara: OBJECT (Floods.)" in loop
        assert "Audit trail (7 acts)" in loop
        assert "verified, accepted" in loop


async def test_setup_founds_an_assembly(tmp_path: Path) -> None:
    home = Home(tmp_path, TickClock())
    app = AssemblyApp(home, new_id=id_counter(1), refold_every=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        app.screen.query_one("#found-name", Input).focus()
        await pilot.press(*"Tool shed", "enter", *"Ines", "enter", *"Share tools", "enter")
        await settle(app, pilot)
        assert app.current_mode == "home"
        assert app.title == "Tool shed"
    local = Home(tmp_path).open()
    try:
        state = local.state()
        assert state.assembly is not None and state.assembly.charter == "Share tools"
        assert [m.name for m in state.members.values()] == ["Ines"]
    finally:
        local.close()


async def test_setup_joins_with_an_invite_code(trio: Trio, tmp_path: Path) -> None:
    code = trio.rosa.issue_invite().encode()
    home = Home(tmp_path / "newcomer", TickClock())
    app = AssemblyApp(home, new_id=id_counter(9), refold_every=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        screen.query_one("#join-code", TextArea).load_text("am1:broken")
        screen.query_one("#join-member", Input).value = "Noor"
        screen.join()
        assert "damaged" in str(screen.query_one("#join-code-error", Static).render())
        screen.query_one("#join-code", TextArea).load_text(code)
        screen.join()
        await settle(app, pilot)
        assert app.sub_title == "not admitted yet"
        assert "Not admitted yet" in shown(app, "#counts")
    assert home.open().pending_invite() is not None


async def test_palette_help_and_theme(trio: Trio) -> None:
    proposal_in_positions(trio)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"meeting close")
        await pilot.press("wait:300", "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.current_mode == "meeting"
        assert type(app.screen).__name__ == "CloseDialog"
        await pilot.press("n")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = shown(app, "#help Static:last-of-type")
        for expected in ("Position for", "Advance", "State position", "Invite someone"):
            assert expected in help_text
        await pilot.press("escape")
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark is not dark


async def test_plain_mode_and_no_color(trio: Trio, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("ASSEMBLYMESH_PLAIN", "1")
    app = trio.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.has_class("-plain")
        assert app.no_color


def test_text_helpers() -> None:
    assert edit_span("bins by gate", "bins by the gate") == (8, 8, "the ")
    assert map_index("abc", "XXabc", 1) == 3
    assert map_index("abc", "ab", 3) == 2
    diff = version_diff("a\nb", "a\nc")
    assert [(d.tag, d.text) for d in diff if d.tag in "+-"] == [("-", "b"), ("+", "c")]
    lines = qr_lines("am1:test")
    assert len({len(line) for line in lines}) == 1


async def test_setup_takes_typing_in_its_first_field_and_shows_errors_under_it(
    trio: Trio, tmp_path: Path
) -> None:
    code = trio.rosa.issue_invite().encode()
    home = Home(tmp_path / "newcomer", TickClock())
    app = AssemblyApp(home, new_id=id_counter(9), refold_every=None, poll_every=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        dark = app.current_theme.dark
        await pilot.press(*"qt Co-op")
        await pilot.pause()
        # The letters went into the first field: no quit, no theme switch.
        assert app.is_running and app.current_theme.dark is dark
        assert screen.query_one("#found-name", Input).value == "qt Co-op"
        assert app.focused is screen.query_one("#found-name", Input)

        assert await pilot.click("#--content-tab-join")
        await pilot.pause()
        await pilot.pause()
        area = screen.query_one("#join-code", TextArea)
        assert app.focused is area
        damaged = code[:50] + ("b" if code[50] != "b" else "c") + code[51:]
        # Pasted as a terminal wraps it: over several lines.
        app.post_message(
            events.Paste("\n".join(damaged[i : i + 70] for i in range(0, len(damaged), 70)))
        )
        await pilot.press("tab", *"Noor", "enter")
        await pilot.pause()
        await pilot.pause()
        error = screen.query_one("#join-code-error", Static)
        assert "damaged" in str(error.render())
        assert app.focused is area
        # Right under the field, and on the screen at 80x24.
        assert error.region.y == area.region.bottom
        assert 0 < error.region.y < 24 and error.region.height >= 1

        # A second paste replaces the damaged code: nothing to clear first.
        app.post_message(events.Paste("\n".join(code[i : i + 70] for i in range(0, len(code), 70))))
        await pilot.pause()
        assert area.text == code
        await pilot.click("#join-go")
        await settle(app, pilot)
        assert app.sub_title == "not admitted yet"
    assert home.open().pending_invite() is not None


async def test_help_lists_each_key_once(trio: Trio) -> None:
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        lines = shown(app, "#help Static:last-of-type").splitlines()
        for key in "12345":
            assert sum(1 for line in lines if line.split()[1:2] == [key]) == 1, key
        table = key_table()
        wheres, keys = table.columns[0].cells, table.columns[1].cells
        listed = [
            (where, key) for where, ks in zip(wheres, keys, strict=True) for key in ks.split(", ")
        ]
        assert len(listed) == len(set(listed)), sorted(k for k in listed if listed.count(k) > 1)
        assert ("anywhere", "f1") in listed and ("lists", "]") in listed
        assert ("anywhere", "?") in listed  # the printed key, not its name


async def test_a_damaged_store_stops_the_app_with_the_command_line_error(trio: Trio) -> None:
    from assemblymesh.errors import StoreError

    app = trio.app("Kofi")
    (store,) = (trio.homes["Kofi"].root / "assemblies").glob("*/store.sqlite")
    store.write_bytes(b"not a database" * 100)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
    assert isinstance(app.startup_error, StoreError) and "corrupt" in str(app.startup_error)

    store.write_bytes(b"")
    app = AssemblyApp(trio.homes["Kofi"], refold_every=None, poll_every=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.return_code == 1
    assert "holds none of this node's changes" in str(app.startup_error)


async def test_plain_mode_draws_no_frames(trio: Trio) -> None:
    proposal_in_positions(trio)
    app = trio.app(plain=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        for key in ("1", "2", "3", "5"):
            await pilot.press(key)
            await pilot.pause()
            framed = [
                w
                for w in app.screen.query("DataTable, .panel, #side")
                if any(edge[0] for edge in w.styles.border)
            ]
            assert framed == [], key


async def test_history_and_me_speak_of_rounds_as_they_are(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    trio.act("Amara", commands.position, rid, R.OBJECT, "Floods.", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.act("Kofi", commands.amend, pid, "Two bins on the raised bed.", "Away from the flood")
    rid2 = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid2)
    trio.act("Rosa", commands.advance_round, rid2)
    trio.act("Rosa", commands.close_round, rid2)
    fresh = str(trio.act("Amara", commands.propose, "Seed swap", "In March.").ref)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(app, pilot)
        app.selected = pid
        await pilot.press("5")
        await pilot.pause()
        loop = shown(app, "#loop")
        assert "Rounds (2)" in loop
        assert "no round yet" not in loop and f"round {rid2[:8]} on v2" in loop
        app.selected = fresh
        await pilot.press("3")
        await pilot.pause()
        detail = shown(app, "#me-detail")
        assert "Open a round (o)" not in detail
        assert "a facilitator opens one in the meeting" in detail


async def test_invite_copy_says_copied_only_when_it_was(trio: Trio) -> None:
    code = trio.rosa.issue_invite().encode()
    app = trio.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        copied: list[str] = []
        app.push_screen(InviteScreen(code, copy=lambda text: False))
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        note = shown(app, "#invite-note")
        assert "copied" not in note and "shown here as text" in note
        assert not [n for n in app._notifications if "copied" in n.message]
        await pilot.press("escape")
        app.push_screen(InviteScreen(code, copy=lambda text: copied.append(text) or True))
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert copied == [code] and "copied to the clipboard" in shown(app, "#invite-note")


def decoded(lines: list[str]) -> list[list[bool]]:
    """The modules a compact (2x3 a cell) QR code shows, read back from its characters."""
    from assemblymesh.tui.qr import sextant

    bits_of = {sextant(bits): bits for bits in range(64)}
    rows: list[list[bool]] = []
    for line in lines:
        cells = [bits_of[ch] for ch in line]
        for dy in range(3):
            rows.append([bool(c >> (2 * dy + dx) & 1) for c in cells for dx in range(2)])
    return rows


def trimmed(rows: list[list[bool]], like: list[list[bool]]) -> list[list[bool]]:
    return [r[: len(like[0])] for r in rows[: len(like)]]


async def test_the_qr_code_is_shown_whole_or_the_size_it_needs_is_said(trio: Trio) -> None:
    code = trio.rosa.issue_invite().encode()
    app = trio.app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        screen = InviteScreen(code, copy=lambda text: False)
        app.push_screen(screen)
        await pilot.pause()
        # Toasts would cover the QR code: this screen shows none.
        app.notify("1 change from Kofi", title="Received")
        await pilot.pause()
        toasts = screen.query("Toast")
        assert toasts and not any(toast.display for toast in toasts)
        await pilot.press("z")
        await pilot.pause()
        width, height = len(screen.qr[0]), len(screen.qr)
        assert height > 24  # the full-size code cannot fit: the compact one is shown whole
        qr = screen.query_one("#qr")
        note = screen.query_one("#invite-note")
        assert "Compact QR code, to fit this 80x24 terminal" in shown(app, "#invite-note")
        assert f"enlarge the terminal to {width}x{height}" in shown(app, "#invite-note")
        assert qr.region.height == len(screen.compact_qr) and qr.region.bottom <= 24
        assert qr.region.width == len(screen.compact_qr[0]) <= 80
        assert note.region.bottom <= qr.region.y  # the note never covers it
        full = qr_matrix(code.upper())
        assert trimmed(decoded(screen.compact_qr), full) == full
        await pilot.resize_terminal(40, 15)  # too small even for that: say what it needs
        await pilot.pause()
        assert f"needs {width}x{height} characters; this terminal is 40x15" in shown(
            app, "#invite-note"
        )
        await pilot.resize_terminal(width + 4, height)
        await pilot.pause()
        await pilot.pause()
        qr = screen.query_one("#qr")
        assert not screen.query_one("#invite-note").display
        assert qr.region.y == 0 and qr.region.height == height and qr.region.width == width
        assert qr.region.bottom <= height and qr.region.right <= width + 4
        await pilot.press("escape")  # back to the code as text
        await pilot.pause()
        assert app.screen is screen and not screen.has_class("-qr-only")


def test_the_navigation_line_keeps_every_screen_key_at_every_width() -> None:
    from assemblymesh.tui.base import NAV, nav_text

    widths = {}
    for width in (140, 100, 80, 60, 30):
        line = nav_text("history", width)
        text = line.plain
        widths[width] = line.cell_len
        # Every screen's key is on the line, and the current screen is named in full.
        assert all(f"{key}" in text for _, key, _ in NAV), text
        assert " 5 History " in text
        assert line.cell_len <= width
    assert "ctrl+p commands" in nav_text("history", 140).plain
    assert "Library" in nav_text("history", 80).plain  # all labels still fit at 80 columns
    assert "Library" not in nav_text("history", 40).plain
    assert widths[140] > widths[100] > widths[80] > widths[30]


def test_no_two_actions_of_a_screen_share_a_key() -> None:
    """A key names one action on each screen: its own keys differ from each other and from
    the keys every screen has (numbers, help, theme, quit)."""
    from textual.binding import Binding

    from assemblymesh.tui.base import AssemblyScreen
    from assemblymesh.tui.help import screens

    def keys(bindings: object) -> list[str]:
        assert isinstance(bindings, list)
        return [k.strip() for b in bindings if isinstance(b, Binding) for k in b.key.split(",")]

    everywhere = keys(AssemblyScreen.BINDINGS)
    assert len(everywhere) == len(set(everywhere))
    for where, screen in screens():
        own = keys(screen.BINDINGS)
        clashes = {k for k in own if own.count(k) > 1}
        if issubclass(screen, AssemblyScreen):
            clashes |= set(own) & set(everywhere)
        assert not clashes, (where, clashes)
