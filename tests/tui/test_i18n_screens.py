"""The screens speak the chosen language: Spanish and Arabic on the meeting, member, meeting
room, funds, sync and first-run screens (the record underneath stays the same)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from assemblymesh import i18n
from assemblymesh.home import Home
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.bidi import display
from assemblymesh.tui.funds import FundsScreen
from assemblymesh.tui.meeting import MeetingScreen
from assemblymesh.tui.member import MemberScreen
from assemblymesh.tui.room import RoomScreen
from assemblymesh.tui.setup import SetupScreen
from assemblymesh.tui.sync import SyncScreen
from tests.tui.conftest import (
    TickClock,
    Trio,
    id_counter,
    proposal_in_positions,
    settle,
    shown,
    sitting,
    text_of,
)
from tests.tui.test_funds import seed_fund

LANGUAGES = ["es", "ar"]


def columns(app: AssemblyApp, selector: str) -> list[str]:
    table = app.screen.query_one(selector, DataTable)
    return [str(column.label) for column in table.columns.values()]


def title(app: AssemblyApp, selector: str) -> str:
    return str(app.screen.query_one(selector).border_title)


CLOSE = {
    "es": "¿Cerrar la ronda sobre 'Compost bins'?",
    "ar": "هل تُغلق الجولة حول 'Compost bins'؟",
}
MEETING = {
    "es": ("Orden del día", "Miembro", "Posiciones", "Preguntas y reacciones"),
    "ar": ("جدول الأعمال", "العضو", "مواقف", "الأسئلة وردود الفعل"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_meeting_screen_in_spanish_and_arabic(trio: Trio, lang: str) -> None:
    proposal_in_positions(trio)
    i18n.set_language(lang)
    agenda, member, positions, thread = MEETING[lang]
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, MeetingScreen)
        assert title(app, "#agenda") == display(agenda)  # drawn in display order
        assert display(member) in columns(app, "#m-positions")
        assert title(app, "#m-positions") == display(positions)
        assert title(app, "#m-thread") == display(thread)
        waiting = {"es": "esperando", "ar": "بالانتظار"}[lang]
        table = app.screen.query_one("#m-positions", DataTable)
        notes = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
        assert display(waiting) in notes
        await pilot.press("c")  # the close dialog asks in the language
        await pilot.pause()
        asked = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert display(CLOSE[lang]) in asked  # drawn in display order


MEMBER = {
    "es": ("Rondas que esperan mi posición", "Propuestas", "Mi posición:"),
    "ar": ("الجولات بانتظار موقفي", "المقترحات", "موقفي:"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_member_screen_in_spanish_and_arabic(trio: Trio, lang: str) -> None:
    proposal_in_positions(trio)
    i18n.set_language(lang)
    waiting, proposals, mine = MEMBER[lang]
    app = trio.app("Kofi")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, MemberScreen)
        assert title(app, "#my-rounds") == display(waiting)
        assert title(app, "#all-proposals") == display(proposals)
        assert display(mine) in shown(app, "#me-detail")
        assert "Compost bins" in shown(app, "#me-detail")  # what members wrote stays theirs


ROOM = {
    "es": ("Facilitadora: Rosa; relatora: Kofi.", "Turno de palabra", "Nadie tiene la palabra."),
    "ar": ("ميسّر: Rosa؛ مدوّن المحضر: Kofi.", "قائمة المتحدثين", "لا أحد يملك الكلمة."),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_meeting_room_in_spanish_and_arabic(trio: Trio, lang: str) -> None:
    sitting(trio)
    i18n.set_language(lang)
    roles, queue, floor = ROOM[lang]
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "m")
        await settle(app, pilot)
        assert isinstance(app.screen, RoomScreen)
        head = shown(app, "#room-head")
        assert display(roles) in head and "Autumn" in head  # drawn in display order
        assert title(app, "#room-queue") == display(queue)
        assert display(floor) in shown(app, "#room-speaker")
        agenda = app.screen.query_one("#room-agenda", DataTable)
        kind = {"es": "tema", "ar": "موضوع"}[lang]
        assert str(agenda.get_row_at(0)[1]) == display(kind)


FUNDS = {
    "es": ("Saldo: 90 EUR", "Custodio ahora: Rosa", "Libro de cuentas (2 asientos):"),
    "ar": ("الرصيد: 90 EUR", "القيّم الآن: Rosa", "دفتر الحسابات (2 قيدان):"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_funds_screen_in_spanish_and_arabic(trio: Trio, lang: str) -> None:
    seed_fund(trio)
    i18n.set_language(lang)
    balance, steward, ledger = FUNDS[lang]
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        assert isinstance(app.screen, FundsScreen)
        summary = shown(app, "#fund-summary")
        assert display(balance) in summary and display(steward) in summary
        assert display(ledger) in shown(app, "#fund-ledger")
        fund = {"es": "Fondo", "ar": "الصندوق"}[lang]
        assert columns(app, "#fund-table")[0] == display(fund)


SYNC = {
    "es": ("Este nodo:", "Par", "aún no se ha visto ningún par (a añade uno)"),
    "ar": ("هذه العقدة:", "النظير", "لم يُرَ أي نظير بعد (a لإضافة نظير)"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_sync_screen_in_spanish_and_arabic(trio: Trio, lang: str) -> None:
    i18n.set_language(lang)
    node, peer, none = SYNC[lang]
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen)
        assert display(node) in shown(app, "#node")  # drawn in display order
        assert columns(app, "#peer-table")[0] == display(peer)
        table = app.screen.query_one("#peer-table", DataTable)
        assert str(table.get_row_at(0)[0]) == display(none)


SETUP = {
    "es": ("Te damos la bienvenida a AssemblyMesh.", "Ponle un nombre a la asamblea."),
    "ar": ("مرحبًا بك في AssemblyMesh.", "أعطِ الجمعية اسمًا."),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_first_run_screen_in_spanish_and_arabic(tmp_path: Path, lang: str) -> None:
    i18n.set_language(lang)
    welcome, no_name = SETUP[lang]
    app = AssemblyApp(Home(tmp_path, TickClock()), new_id=id_counter(1), refold_every=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        texts = " ".join(text_of(s) for s in screen.query(Static))
        assert display(welcome) in texts  # drawn in display order
        name = {"es": "Tu nombre", "ar": "اسمك"}[lang]
        assert screen.query_one("#found-member", Input).placeholder == display(name)
        screen.found()  # no name given: the error says so in the language
        assert display(no_name) in shown(app, "#found-name-error")
