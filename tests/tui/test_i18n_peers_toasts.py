"""Peers' states and transports in the chosen language, and toasts drawn in display order
(right-to-left text wrapped first, then reordered line by line)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from textual.widgets import DataTable

from assemblymesh import i18n
from assemblymesh.tui.app import TOAST_FRAME, TOAST_WIDTH
from assemblymesh.tui.bidi import display, display_wrapped
from assemblymesh.tui.peers import (
    LAN,
    MESH,
    STATE_LABELS,
    STATIC,
    TRANSPORT_LABELS,
    TRANSPORTS,
    peer_state_label,
    peer_transport_label,
)
from tests.tui.conftest import Trio, settle
from tests.tui.test_sync_peers import KOFI, REFUSED_HOST, RecordingPeers


@pytest.fixture
def language() -> Iterator[None]:
    yield
    i18n.set_language("en")


def test_every_transport_has_words_and_english_keeps_the_identifiers(language: None) -> None:
    assert set(TRANSPORT_LABELS) == set(TRANSPORTS)
    assert [peer_transport_label(t) for t in (LAN, MESH, STATIC)] == ["lan", "mesh", "static"]
    assert [peer_state_label(s) for s in STATE_LABELS] == list(STATE_LABELS)
    assert peer_transport_label("bluetooth") == "bluetooth"  # a newer node's: as it is
    i18n.set_language("es")
    assert [peer_transport_label(t) for t in (LAN, MESH, STATIC)] == ["LAN", "malla", "fijo"]
    assert peer_state_label("connected") == "conectado"
    assert peer_state_label("dreaming") == "dreaming"
    i18n.set_language("ar")
    assert peer_transport_label(STATIC) == "ثابت" and peer_state_label("refused") == "مرفوض"


@pytest.mark.parametrize(
    ("lang", "kofi", "refused"),
    [
        ("en", ["static", "connected"], ["static", "refused", "never"]),
        ("es", ["fijo", "conectado"], ["fijo", "rechazado", "nunca"]),
        ("ar", [display("ثابت"), display("متصل")],
         [display("ثابت"), display("مرفوض"), display("أبدًا")]),
    ],
)  # fmt: skip
async def test_the_peer_table_speaks_the_language(
    trio: Trio, language: None, lang: str, kofi: list[str], refused: list[str]
) -> None:
    i18n.set_language(lang)
    app = trio.app(peers=RecordingPeers([KOFI, REFUSED_HOST]))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#peer-table", DataTable)
        assert [str(c) for c in table.get_row_at(0)[1:3]] == kofi
        assert [str(c) for c in table.get_row_at(1)[1:4]] == refused


def test_a_wrapped_right_to_left_toast_reads_on_from_line_to_line(language: None) -> None:
    text = "تعذّر الاتصال بالنظير لأن الجمعية لم تقبل هذا الجهاز بعد، فاطلب من عضو أن يقرنه"
    i18n.set_language("ar")
    shown = display_wrapped(text, 30).split("\n")
    logical = textwrap.wrap(text, 30)
    assert len(shown) == len(logical) > 1
    assert shown == [display(line) for line in logical]  # the start of it is on top
    assert all(len(line) <= 30 for line in shown)


def test_left_to_right_toasts_are_left_as_written(language: None) -> None:
    assert display_wrapped("1 change from Kofi [b]now[/b]", 20) == "1 change from Kofi [b]now[/b]"
    assert display_wrapped("a\u202eb", 20) == "a\ufffdb"


async def test_toasts_are_drawn_in_display_order(trio: Trio, language: None) -> None:
    app = trio.app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(app, pilot)
        app.notify("1 change from [b]Kofi[/b]", title="Received")
        await pilot.pause()
        english = list(app._notifications)[-1]
        assert (english.message, english.title, english.markup) == (
            "1 change from [b]Kofi[/b]",
            "Received",
            True,
        )
        i18n.set_language("ar")
        message = "وصل تغيير واحد من كوفي، وقد صار سجل الجمعية على هذا الجهاز محدّثًا بالكامل"
        app.notify(message, title="وصل")
        await pilot.pause()
        arabic = list(app._notifications)[-1]
        width = min(TOAST_WIDTH, 120 // 2) - TOAST_FRAME
        assert arabic.message == display_wrapped(message, width) != message
        assert arabic.title == display("وصل") and not arabic.markup
