"""Meeting mode: open, advance, record for a member without a device, close, amend."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static, TextArea

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.dialogs import CloseDialog, ConfirmDialog, PositionDialog, TextDialog
from tests.tui.conftest import Trio, proposal_in_positions, settle, shown, text_of


async def test_facilitator_runs_a_round_to_adoption(trio: Trio) -> None:
    pid = str(trio.act("Kofi", commands.propose, "Compost bins", "Two bins by the shed.").ref)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        assert app.selected == pid
        assert "Compost bins" in shown(app, "#m-title")

        await pilot.press("o")
        await settle(app, pilot)
        assert ">QUESTIONS<" in shown(app, "#m-title")
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert ">POSITIONS<" in shown(app, "#m-title")

        # Amara is in the room without her phone: record her consent, provisionally.
        table = app.screen.query_one("#m-positions", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == ["Amara", "Kofi", "Rosa"]
        table.move_cursor(row=0)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PositionDialog)
        await pilot.press("tab")
        await pilot.press(*"Agreed at the door")
        await pilot.press("enter")
        await settle(app, pilot)
        row = app.screen.query_one("#m-positions", DataTable).get_row_at(0)
        assert str(row[1]) == "consent"
        assert "provisional" in str(row[3])

        table = app.screen.query_one("#m-positions", DataTable)
        table.move_cursor(row=2)  # Rosa herself
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        # Kofi has not stated a position, and nothing of his came since the phase changed.
        warning = text_of(dialog.query_one("#warning", Static))
        assert "No position yet: Kofi." in warning
        assert "Not in range: Kofi" in warning
        await pilot.press("y")  # not enough: the facilitator must say so explicitly
        await pilot.pause()
        assert app.screen is dialog
        assert "Close without them" in shown(app, "#error")
        await pilot.press("space", "y")
        await settle(app, pilot)
        outcome = shown(app, "#m-outcome")
        assert "Outcome: adopted" in outcome
        assert "Takes effect" in outcome

    state = trio.reopen()
    p = state.proposals[pid]
    assert p.state == R.ADOPTED_PENDING
    r = state.rounds[p.rounds[-1]]
    amara = state.find_member("Amara").id
    assert r.positions[amara].provisional
    assert r.positions[amara].reason == "Agreed at the door"
    assert r.outcome == R.OUTCOME_ADOPTED


async def test_objection_is_listed_and_amend_integrates_it(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    trio.act("Amara", commands.position, rid, R.OBJECT, "The shed floods in winter.", None)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "c")
        await pilot.pause()
        await pilot.click("#anyway")
        await pilot.press("y")
        await settle(app, pilot)
        outcome = shown(app, "#m-outcome")
        assert "returned with objections" in outcome
        assert "Amara: The shed floods in winter." in outcome
        assert "Amend the proposal (e)" in outcome

        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        area = dialog.query_one(TextArea)
        area.load_text("Two bins on the raised bed by the gate.")
        assert dialog.query_one("#note", Input).value == "Integrates the objections"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "changes from v1" in str(app.screen.query_one("#m-diff", Static).border_title)
        diff = shown(app, "#m-diff")
        assert "- Two bins by the shed." in diff
        assert "+ Two bins on the raised bed by the gate." in diff

    p = trio.reopen().proposals[pid]
    assert p.state == R.OPEN
    assert p.latest.number == 2


async def test_illegal_move_is_a_toast_not_a_crash(trio: Trio) -> None:
    trio.act("Kofi", commands.propose, "Compost bins", "Two bins by the shed.")
    app = trio.app("Kofi")  # not a facilitator
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "o")
        await settle(app, pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "facilitator-only" in errors[-1].message
    assert not trio.reopen("Kofi").rounds


async def test_the_close_dialog_takes_a_statement_kept_with_the_decision(trio: Trio) -> None:
    pid, rid = proposal_in_positions(trio)
    for name in ("Amara", "Kofi", "Rosa"):
        trio.act(name, commands.position, rid, R.CONSENT, "", None)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CloseDialog) and isinstance(dialog, ConfirmDialog)
        await pilot.click("#statement")
        await pilot.press(*"Two bins; Kofi builds them", "enter")
        await settle(app, pilot)
        assert app.screen is not dialog
        outcome = shown(app, "#m-outcome")
        assert "Outcome: adopted" in outcome
        assert "Statement: Two bins; Kofi builds them" in outcome

    state = trio.reopen()
    r = state.rounds[rid]
    assert r.statement == "Two bins; Kofi builds them"
    assert state.decisions[r.decision or ""].statement == r.statement
    assert state.proposals[pid].decision == r.decision


async def test_the_close_dialog_without_a_statement_closes_as_before(trio: Trio) -> None:
    _pid, rid = proposal_in_positions(trio)
    for name in ("Amara", "Kofi", "Rosa"):
        trio.act(name, commands.position, rid, R.CONSENT, "", None)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "c")
        await pilot.pause()
        assert isinstance(app.screen, CloseDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert "Statement" not in shown(app, "#m-outcome")
    assert trio.reopen().rounds[rid].statement == ""
