"""The meeting room: the speaking queue run from the facilitator's keyboard and seen live on
a member's screen, attendance, the agenda reordered, minutes sealed, the diagnostic."""

from __future__ import annotations

from textual.widgets import DataTable, TextArea

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import agenda, minutes_hash
from assemblymesh.sim.memory import MemoryLink
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.room import DiagnosticDialog, MinutesScreen, RoomScreen
from assemblymesh.tui.room_forms import ChoiceForm
from tests.tui.conftest import Trio, settle, shown, sitting


def rows(app: AssemblyApp, selector: str, column: int = 1) -> list[str]:
    table = app.screen.query_one(selector, DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def text(app: AssemblyApp, selector: str) -> str:
    return shown(app, selector)


def select(app: AssemblyApp, selector: str, label: str, column: int = 0) -> None:
    table = app.screen.query_one(selector, DataTable)
    names = rows(app, selector, column)
    table.move_cursor(row=names.index(label))


async def test_the_queue_runs_from_the_facilitators_keys_and_shows_live(trio: Trio) -> None:
    mid = sitting(trio)
    rosa_app, kofi_app = trio.app("Rosa"), trio.app("Kofi")
    async with rosa_app.run_test(size=(120, 40)) as rosa, kofi_app.run_test(size=(120, 40)) as kofi:
        await settle(rosa_app, rosa)
        await settle(kofi_app, kofi)
        assert rosa_app.local is not None and kofi_app.local is not None
        link = MemoryLink(rosa_app.local.replica, kofi_app.local.replica)
        try:
            for app, pilot in ((rosa_app, rosa), (kofi_app, kofi)):
                await pilot.press("2", "m")
                await settle(app, pilot)
                assert isinstance(app.screen, RoomScreen)
                assert "Autumn (regular, in session)" in text(app, "#room-head")

            # Kofi marks himself present and raises his hand from his own device.
            await kofi.press("i", "h")
            await settle(kofi_app, kofi)
            await settle(rosa_app, rosa)
            assert rows(rosa_app, "#room-queue") == ["Kofi"]
            assert "Present: 1 member" in text(rosa_app, "#room-head")

            # The facilitator gives the floor: Kofi's screen says so.
            await rosa.press("n")
            await settle(rosa_app, rosa)
            await settle(kofi_app, kofi)
            assert text(kofi_app, "#room-speaker").startswith("Speaking: Kofi")
            assert rows(kofi_app, "#room-queue") == []

            # Kofi asks again; the facilitator adds Amara (here without a device) and marks her
            # present. The progressive stack puts her, who has not spoken, before Kofi.
            await kofi.press("h")
            await settle(kofi_app, kofi)
            await settle(rosa_app, rosa)
            select(rosa_app, "#room-people", "Amara")
            await rosa.press("a", "p")
            await settle(rosa_app, rosa)
            await settle(kofi_app, kofi)
            assert rows(rosa_app, "#room-queue") == ["Amara", "Kofi"]
            assert rows(kofi_app, "#room-queue") == ["Amara", "Kofi"]
            assert "Present: 2 members" in text(kofi_app, "#room-head")
            await rosa.press("n")
            await settle(rosa_app, rosa)
            assert text(rosa_app, "#room-speaker").startswith("Speaking: Amara")
        finally:
            link.close()
    state = trio.reopen("Rosa")
    m = state.meetings[mid]
    names = [state.members[t.member].name for t in m.turns]
    assert names == ["Kofi", "Amara"] and m.turns[0].end_ts == m.turns[1].start_ts
    assert [state.members[a].name for a in m.attendance] == ["Kofi", "Amara"]


async def test_the_facilitator_reorders_with_keys_and_a_member_cannot(trio: Trio) -> None:
    mid = sitting(trio)
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "m")
        await settle(app, pilot)
        before = rows(app, "#room-agenda", 2)
        assert sorted(before) == ["Water rota", "Who has keys?"]
        select(app, "#room-agenda", before[0], 2)
        await pilot.press("d")
        await settle(app, pilot)
        assert rows(app, "#room-agenda", 2) == before[::-1]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RoomScreen)
    state = trio.reopen("Rosa")
    assert [i.title for i in agenda(state, state.meetings[mid])] == before[::-1]
    kofi = trio.app("Kofi")
    async with kofi.run_test(size=(120, 40)) as pilot:
        await settle(kofi, pilot)
        await pilot.press("2", "m")
        await settle(kofi, pilot)
        await pilot.press("d")
        await settle(kofi, pilot)
        errors = [n.message for n in kofi._notifications if n.title == "Not recorded"]
        assert errors and "meeting-facilitator-only" in errors[0]


async def test_the_note_taker_seals_the_minutes_from_the_room(trio: Trio) -> None:
    mid = sitting(trio)
    app = trio.app("Kofi")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "m")
        await settle(app, pilot)
        assert "Minutes: not sealed yet" in text(app, "#room-head")
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, MinutesScreen)
        await pilot.press("ctrl+r")
        await pilot.pause()
        area = app.screen.query_one(TextArea)
        assert "## Water rota" in area.text
        area.insert("We agreed.\n", location=(1, 0))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        sealed_text = area.text
        await pilot.press("escape")
        await settle(app, pilot)
        assert "Minutes: sealed" in text(app, "#room-head") and "unchanged" in text(
            app, "#room-head"
        )
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosticDialog)
        assert "meetings held" in text(app, "#diagnostic")
    state = trio.reopen("Kofi")
    seal = state.meetings[mid].sealed
    assert seal is not None and seal.text == sealed_text and seal.hash == minutes_hash(sealed_text)


def fill(app: AssemblyApp, choice: int, **fields: str) -> None:
    """Choose the ``choice``-th kind in the open form and type ``fields`` into it."""
    from textual.widgets import Input, RadioButton

    form = app.screen
    assert isinstance(form, ChoiceForm)
    form.query(RadioButton)[choice].value = True
    for name, value in fields.items():
        form.query_one(f"#{name}", Input).value = value


async def test_a_meeting_is_called_its_agenda_set_and_outcomes_recorded_from_the_room(
    trio: Trio,
) -> None:
    pid = str(trio.act("Amara", commands.propose, "Compost bins", "Three bins.").ref)
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "m")
        await settle(app, pilot)
        assert "c calls one" in text(app, "#room-head")
        await pilot.press("c")
        await pilot.pause()
        fill(app, 1, title="Looking back", starts="next Tuesday", place="Shed")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceForm)  # a time it cannot read keeps the form open
        assert "YYYY-MM-DD HH:MM" in shown(app, "#error")
        fill(app, 1, starts="2026-01-20 18:30")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, RoomScreen)
        assert "Looking back (reflection, scheduled)" in text(app, "#room-head")

        await pilot.press("plus")
        await pilot.pause()
        fill(app, 0, title="No such thing")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "No open proposal" in shown(app, "#error")
        fill(app, 0, title="compost BINS")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("plus")
        await pilot.pause()
        fill(app, 1, title="Water rota", note="Who waters in August?")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert sorted(rows(app, "#room-agenda", 2)) == ["Compost bins", "Water rota"]

        # An outcome is recorded while the meeting sits: refused before, with the rule.
        select(app, "#room-agenda", "Water rota", 2)
        for opened in (False, True):
            if opened:
                await pilot.press("o")
                await settle(app, pilot)
                select(app, "#room-agenda", "Water rota", 2)
            app._notifications.clear()
            await pilot.press("x")
            await pilot.pause()
            fill(app, 2, note="Next month.")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            refusals = [n.message for n in app._notifications if n.title == "Not recorded"]
            assert bool(refusals) is not opened, refusals
    state = trio.reopen("Rosa")
    (m,) = state.meetings.values()
    assert (m.kind, m.title, m.place) == (R.REFLECTION, "Looking back", "Shed")
    assert m.starts == 1_768_933_800_000  # 2026-01-20 18:30 UTC
    items = {i.title: i for i in agenda(state, m)}
    assert items["Compost bins"].proposal == pid and items["Compost bins"].kind == R.ITEM_PROPOSAL
    water = items["Water rota"]
    assert (water.kind, water.note, water.outcome) == (R.ITEM_TOPIC, "Who waters in August?",
                                                       R.DEFERRED)  # fmt: skip
    assert water.outcome_note == "Next month."
