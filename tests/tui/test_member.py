"""The member's view: pending rounds, stating a position, proposing, amending."""

from __future__ import annotations

from textual.widgets import DataTable, Input, TextArea

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.dialogs import PositionDialog, TextDialog
from tests.tui.conftest import Trio, proposal_in_positions, settle, shown


async def test_objection_needs_a_reason_then_is_recorded(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        rounds = app.screen.query_one("#my-rounds", DataTable)
        assert [str(c) for c in rounds.get_row_at(0)] == ["Compost bins", "-", "-", "positions"]
        rounds.focus()
        await pilot.pause()
        assert app.selected == pid

        await pilot.press("s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PositionDialog)
        await pilot.press("down", "down", "down", "enter")  # consent -> ... -> object
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "needs a reason" in shown(app, "#error")
        assert app.screen is dialog
        dialog.query_one("#reason", Input).value = "Floods in winter."
        await pilot.press("enter")
        await settle(app, pilot)
        assert "OBJECT" in str(app.screen.query_one("#my-rounds", DataTable).get_row_at(0)[2])

    r = trio.reopen("Amara").rounds[rid]
    amara = trio.reopen("Amara").find_member("Amara").id
    assert r.positions[amara].kind == R.OBJECT
    assert r.positions[amara].reason == "Floods in winter."
    assert not r.positions[amara].provisional


async def test_propose_and_amend(trio: Trio) -> None:
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "n")
        await pilot.pause()
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"Seed swap")
        await pilot.press("enter")  # title -> body
        await pilot.press(*"Swap seeds in March.")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        state = app.digest.state if app.digest else None
        assert state is not None
        (p,) = [p for p in state.proposals.values() if p.title == "Seed swap"]
        assert app.selected == p.id

        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        dialog.query_one(TextArea).load_text("Swap seeds on the first Sunday of March.")
        dialog.query_one("#note", Input).value = "A fixed day"
        await pilot.press("ctrl+s")
        await settle(app, pilot)

    p = trio.reopen("Amara").proposals[p.id]
    assert [v.number for v in p.versions] == [1, 2]
    assert p.latest.note == "A fixed day"
    assert p.latest.body == "Swap seeds on the first Sunday of March."


async def test_confirm_a_provisional_position(trio: Trio) -> None:
    _, rid = proposal_in_positions(trio)
    trio.act("Rosa", commands.position, rid, R.CONSENT, "", trio.member("Amara"))
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        row = app.screen.query_one("#my-rounds", DataTable).get_row_at(0)
        assert "provisional" in str(row[2])
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+s")  # keeps the recorded kind (consent)
        await settle(app, pilot)
    state = trio.reopen("Amara")
    pos = state.rounds[rid].positions[state.find_member("Amara").id]
    assert pos.kind == R.CONSENT and not pos.provisional


async def test_a_text_over_the_limit_stays_in_the_dialog_with_the_limit_stated(
    trio: Trio,
) -> None:
    from assemblymesh.model.acts import MAX_TEXT_LEN

    app = trio.app("Amara")
    long_text = "x" * 1_000_000
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        await pilot.press(*"Manifesto", "enter")
        dialog.query_one(TextArea).load_text(long_text)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one(TextArea).text == long_text
        error = shown(app, "#error")
        assert f"{MAX_TEXT_LEN:,}" in error and "1,000,000" in error
        dialog.query_one(TextArea).load_text("x" * MAX_TEXT_LEN)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is not dialog
    titles = [p.title for p in trio.reopen("Amara").proposals.values()]
    assert titles == ["Manifesto"]


async def test_a_title_with_a_direction_control_stays_in_the_dialog(trio: Trio) -> None:
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        dialog.query_one("#title", Input).value = "Budget\u202etxt.exe"
        dialog.query_one(TextArea).load_text("Line one.\n\tLine two.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#title", Input).value == "Budget\u202etxt.exe"
        error = shown(app, "#error")
        assert "U+202E" in error and "nothing is lost" in error
        dialog.query_one("#title", Input).value = "Budget"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is not dialog
    bodies = [p.versions[-1].body for p in trio.reopen("Amara").proposals.values()]
    assert bodies == ["Line one.\n\tLine two."]


async def test_a_refused_long_text_names_the_limit(trio: Trio) -> None:
    from assemblymesh.model.acts import MAX_TEXT_LEN

    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.write(commands.propose, "Manifesto", "x" * (MAX_TEXT_LEN + 1)) is None
        await pilot.pause()
        (error,) = [n.message for n in app._notifications if n.severity == "error"]
        assert "too long" in error and "the limit is 200,000 characters" in error
