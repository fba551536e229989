"""A joiner whose invite a node refused sees why in one line, and takes the way out from the
UI: a new code into the same home (replacing the refused join), or leaving it."""

from __future__ import annotations

from textual.widgets import Input, Static

from assemblymesh.home import Home
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.refused import InviteRefusedDialog
from assemblymesh.tui.setup import CodeArea, SetupScreen
from tests.tui.conftest import Trio, settle, text_of


def refused_joiner(trio: Trio) -> tuple[Home, AssemblyApp]:
    """Eve joined with a code Kofi had already used (the node said so: what it records)."""
    code = trio.rosa.issue_invite().encode()
    eve = Home(trio.root / "eve", trio.clock)
    local = eve.join(code, "Eve", new_id=trio.ids("eve"))
    local.record_invite_refusal("invite-used")
    local.close()
    return eve, AssemblyApp(eve, new_id=trio.ids("eve/app"), refold_every=None, poll_every=None)


async def test_a_refused_joiner_sees_why_and_enters_a_new_code(trio: Trio) -> None:
    eve, app = refused_joiner(trio)
    (aid,) = eve.assemblies()
    fresh = trio.rosa.issue_invite().encode()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, InviteRefusedDialog)
        reason = text_of(dialog.query_one("#refused-reason", Static))
        assert reason == "this invite was already used by someone else"
        assert app.sub_title.startswith("refused: ")
        # The code pasted over several lines arrives whole.
        half = len(fresh) // 2
        dialog.query_one("#refused-code", CodeArea).text = fresh[:half] + "\n" + fresh[half:]
        dialog.query_one("#refused-name", Input).value = "Eve"
        assert await pilot.click("#refused-join")
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert not isinstance(app.screen, InviteRefusedDialog)
        assert app.local is not None and app.local.invite_refusal() is None
        assert app.sub_title == "not admitted yet"
    assert eve.assemblies() == [aid]  # the same home, the refused join replaced
    local = eve.open()
    try:
        assert local.invite_refusal() is None and local.half_joined()
    finally:
        local.close()


async def test_a_refused_joiner_leaves_and_the_first_run_screen_returns(trio: Trio) -> None:
    eve, app = refused_joiner(trio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, InviteRefusedDialog)
        assert await pilot.click("#refused-leave")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert app.local is None
    assert eve.assemblies() == []


async def test_later_keeps_the_refused_join_and_says_so(trio: Trio) -> None:
    eve, app = refused_joiner(trio)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, InviteRefusedDialog)
        assert "already used" in app.sub_title
    assert len(eve.assemblies()) == 1


async def test_the_refused_dialog_fits_80x24_with_its_buttons_in_view(trio: Trio) -> None:
    _, app = refused_joiner(trio)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, InviteRefusedDialog)
        screen = dialog.region
        assert dialog.query_one("#refused").max_scroll_y == 0  # the title is not scrolled away
        for button in ("#refused-join", "#refused-leave", "#refused-later"):
            region = dialog.query_one(button).region
            assert region.height > 0 and screen.contains_region(region), button
