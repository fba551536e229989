"""Right-to-left titles and bodies are drawn in display order on every screen, and the
numbers and dates beside them are in the chosen language's form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from assemblymesh import i18n
from assemblymesh.home import Home
from assemblymesh.model import commands, fund_commands
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.bidi import display, has_right_to_left
from assemblymesh.tui.devices_screen import DevicesScreen
from assemblymesh.tui.dialogs import PositionDialog
from assemblymesh.tui.funds import FundsScreen
from assemblymesh.tui.help import HelpScreen
from assemblymesh.tui.meeting import MeetingScreen
from assemblymesh.tui.member import MemberScreen
from assemblymesh.tui.metrics_screen import MetricsScreen
from assemblymesh.tui.peers import REFUSED, STATIC, PeerInfo
from assemblymesh.tui.room import RoomScreen
from assemblymesh.tui.setup import SetupScreen
from assemblymesh.tui.sync import SyncScreen
from tests.tui.conftest import DAY, TickClock, Trio, id_counter, settle, shown, sitting
from tests.tui.test_funds import established_fund
from tests.tui.test_metrics_screen import make_record, ready
from tests.tui.test_sync_peers import RecordingPeers

TITLE = "حديقة السطح"  # "the roof garden"
BODY = "نزرع الخضار على السطح"  # "we grow vegetables on the roof"
MONTH = "نوفمبر"  # November: the tests' clock is in November 2023


@pytest.fixture
def arabic() -> Iterator[None]:
    i18n.set_language("ar")
    try:
        yield
    finally:
        i18n.set_language("en")


def cells(app: AssemblyApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def has_english_word(text: str) -> bool:
    return any(word.isascii() and word.isalpha() and len(word) > 2 for word in text.split())


def arabic_proposal(trio: Trio) -> str:
    return str(trio.act("Kofi", commands.propose, TITLE, BODY).ref)


async def test_the_meeting_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    pid = arabic_proposal(trio)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid, trio.clock.now + 3 * DAY)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, MeetingScreen)
        app.selected = pid
        await settle(app, pilot)
        head = shown(app, "#m-title")
        assert display(TITLE) in head and TITLE not in head
        assert display(BODY) in shown(app, "#m-diff")
        assert any(display(TITLE) in row for row in map(" ".join, cells(app, "#agenda")))
        panels = " ".join(shown(app, s) for s in ("#m-title", "#m-thread", "#m-outcome"))
        assert display(MONTH) in panels  # the deadline, in Arabic


async def test_the_member_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    pid = arabic_proposal(trio)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid, trio.clock.now + 3 * DAY)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, MemberScreen)
        rows = cells(app, "#my-rounds")
        assert rows[0][0] == display(TITLE)
        app.selected = pid
        await settle(app, pilot)
        detail = shown(app, "#me-detail")
        assert display(TITLE) in detail and display(BODY) in detail
        assert display(MONTH) in detail


async def test_the_meeting_room_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    meeting = "اجتماع الخريف"  # "the autumn meeting"
    topic = "جدول الري"  # "the watering rota"
    sitting(trio, meeting, topic, question=None, place="")
    app = trio.app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "m")
        await settle(app, pilot)
        assert isinstance(app.screen, RoomScreen)
        head = shown(app, "#room-head")
        assert display(meeting) in head and meeting not in head
        assert display(MONTH) in head  # when it starts, in Arabic
        assert [row[2] for row in cells(app, "#room-agenda")] == [display(topic)]


def arabic_fund(trio: Trio) -> str:
    fund = established_fund(trio, "صندوق البذور", "أدوات الحديقة")
    trio.act("Kofi", fund_commands.contribute, fund, 1500, "بيع الشتلات")
    return fund


async def test_the_funds_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    arabic_fund(trio)
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        assert isinstance(app.screen, FundsScreen)
        summary = shown(app, "#fund-summary")
        assert display("صندوق البذور: أدوات الحديقة") in summary
        ledger = shown(app, "#fund-ledger")
        assert display("بيع الشتلات") in ledger
        assert display(MONTH) in ledger  # the entry's date, in Arabic
        assert cells(app, "#fund-table")[0][0] == display("صندوق البذور")


async def test_the_funds_screen_writes_amounts_in_the_language(trio: Trio) -> None:
    arabic_fund(trio)
    i18n.set_language("es")
    try:
        app = trio.app()
        async with app.run_test(size=(120, 50)) as pilot:
            await settle(app, pilot)
            await pilot.press("6")
            await settle(app, pilot)
            assert cells(app, "#fund-table")[0][1] == "1.500 EUR"
            assert "Saldo: 1.500 EUR" in shown(app, "#fund-summary")
    finally:
        i18n.set_language("en")


LAPTOP = "حاسوب الحديقة"  # "the garden's laptop"
WHY = "ليس عضوًا في هذه الجمعية"  # "not a member of this assembly"
ARABIC_PEER = PeerInfo(LAPTOP, STATIC, REFUSED, None, changes_in=1234, refusals=2, reason=WHY)


async def test_the_sync_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    app = trio.app(peers=RecordingPeers([ARABIC_PEER]))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen)
        (row,) = cells(app, "#peer-table")
        assert row[0] == display(LAPTOP) and row[-1] == display(WHY)
        refused = i18n._("refused")
        assert has_right_to_left(refused) and row[2] == display(refused)  # its state, in Arabic
        assert display(LAPTOP) in shown(app, "#peer-detail")
        assert display(WHY) in shown(app, "#peer-detail")
        assert display("هذه العقدة:") in shown(app, "#node")


async def test_the_sync_screen_writes_counts_in_the_language(trio: Trio) -> None:
    i18n.set_language("es")
    try:
        app = trio.app(peers=RecordingPeers([ARABIC_PEER]))
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("4")
            await settle(app, pilot)
            (row,) = cells(app, "#peer-table")
            assert row[4] == "1.234"
    finally:
        i18n.set_language("en")


async def test_the_devices_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    app = trio.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("9")
        await settle(app, pilot)
        assert isinstance(app.screen, DevicesScreen)
        assert display("مفتاح عضويتك مكشوف على هذا الجهاز") in shown(app, "#device-detail")
        (row,) = cells(app, "#device-table")
        assert row[1] == display("هذا الجهاز")
        assert display(MONTH) in row[2]  # when it was certified, in Arabic


async def test_the_metrics_screen_draws_arabic_in_display_order(trio: Trio, arabic: None) -> None:
    make_record(trio)
    app = trio.app()
    async with app.run_test(size=(140, 44)) as pilot:
        await ready(app, pilot)
        await pilot.press("7")
        await ready(app, pilot)
        assert isinstance(app.screen, MetricsScreen)
        title = str(app.screen.query_one("#metrics-table").border_title)
        assert title.endswith(display("الأيض:"))  # right to left: the label at the right end
        assert display("لا اجتماعات مسجلة") in shown(app, "#metrics-detail")
        # Every metric's title, trend and period in Arabic, not the English it is kept in.
        rows = cells(app, "#metrics-table")
        assert rows[0][0] == display(i18n._("Distinct facilitators")) != "Distinct facilitators"
        assert not any(has_english_word(cell) for row in rows for cell in (row[0], row[3]))
        assert any(display(MONTH) in row[2] for row in rows)  # the period, by its month's name
        definition = i18n._("how many different members facilitated the period's meetings")
        assert display(definition) in shown(app, "#metrics-detail").replace("\n", " ")


async def test_the_first_run_screen_draws_arabic_in_display_order(
    tmp_path: Path, arabic: None
) -> None:
    app = AssemblyApp(Home(tmp_path, TickClock()), new_id=id_counter(1), refold_every=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        name = screen.query_one("#found-member")
        # The focused field's label is marked; the label itself reads right to left.
        assert str(name.border_title).endswith(display("اسمك"))
        assert isinstance(name, Input) and name.placeholder == display("اسمك")  # its grey hint
        screen.found()  # no name given: the error says so, right to left
        assert shown(app, "#found-name-error") == display("أعطِ الجمعية اسمًا.")


async def test_the_list_headings_read_right_to_left(trio: Trio, arabic: None) -> None:
    arabic_proposal(trio)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        home = app.screen.query_one("#proposals")
        assert str(home.border_title) == display("المقترحات: الكل")
        assert any(display(TITLE) in " ".join(row) for row in cells(app, "#proposals"))
        await pilot.press("f")  # the agenda, in Arabic too
        assert str(home.border_title) == display("المقترحات: على جدول الأعمال")
        await pilot.press("5")
        await settle(app, pilot)
        assert str(app.screen.query_one("#hist-proposals").border_title) == display("المقترحات")


async def test_the_help_and_a_dialog_error_read_right_to_left(trio: Trio, arabic: None) -> None:
    pid = arabic_proposal(trio)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        anywhere = i18n._("anywhere")
        assert has_right_to_left(anywhere)
        lines = shown(app, "#help Static:last-of-type").splitlines()
        # Each row reads right to left: where the key works is at the right end.
        assert any(line.rstrip().endswith(display(anywhere)) for line in lines)
        await pilot.press("escape", "3")
        await settle(app, pilot)
        app.screen.query_one("#my-rounds").focus()
        await pilot.press("s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PositionDialog)
        await pilot.press("down", "down", "down", "enter", "ctrl+s")  # an objection, no reason
        await pilot.pause()
        said = i18n._("An {objection} needs a reason.")
        said = said.format(objection=dialog.words.term("objection"))
        assert has_right_to_left(said) and shown(app, "#error") == display(said)


async def test_each_paragraph_of_a_body_takes_its_own_direction(trio: Trio, arabic: None) -> None:
    english = "Budget: 18,000 EUR from the upkeep reserve."
    pid = str(trio.act("Kofi", commands.propose, TITLE, f"{english}\n{BODY}.").ref)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for key, panel in (("2", "#m-diff"), ("3", "#me-detail")):
            await pilot.press(key)
            await settle(app, pilot)
            app.selected = pid
            await settle(app, pilot)
            lines = [line.strip() for line in shown(app, panel).splitlines()]
            # English keeps its full stop at its end; Arabic reads from the right, its full
            # stop at its left, even in the same body.
            assert english in lines, panel
            assert "." + display(BODY) in lines, panel
