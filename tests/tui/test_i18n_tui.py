"""The interface in the chosen language: footer keys, right-to-left order, wide text, dates."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from assemblymesh import i18n
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.bidi import BidiLines, display, display_text, neutralise
from assemblymesh.tui.demo import build_demo
from assemblymesh.tui.view import clip
from tests.tui.conftest import START, ids_by_name, settle


@pytest.fixture
def language() -> Iterator[None]:
    yield
    i18n.set_language("en")


def demo_app(root: Path) -> AssemblyApp:
    demo = build_demo(root, start_ms=START, ids=ids_by_name())
    return AssemblyApp(demo.cast.you, peers=demo.peers, local=demo.cast.hub, refold_every=None)


@pytest.mark.parametrize(("lang", "help_word"), [("en", "Help"), ("es", "Ayuda"), ("ar", "مساعدة")])
async def test_the_footer_keys_are_in_the_chosen_language(
    tmp_path: Path, language: None, lang: str, help_word: str
) -> None:
    i18n.set_language(lang)
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        descriptions = [key.description for key in app.screen.query(FooterKey)]
        assert display(help_word) in descriptions  # right to left: in display order


def test_right_to_left_text_is_drawn_in_display_order() -> None:
    # Logical order: the first letter typed is the rightmost drawn.
    assert display("שלום") == "םולש"  # Hebrew
    assert display("کوردی") == "یدروک"  # Kurdish Sorani, in its own letters (ک, ی)
    assert display("پێشنیار: 3") == "3 :راینشێپ"  # "proposal: 3", the number kept whole
    assert display("Title: اقتراح") == "Title: حارتقا"
    # Brackets inside right-to-left text are mirrored; left-to-right text is untouched.
    assert display("مرحبا (عالم)") == "(ملاع) ابحرم"
    assert display("plain text (1)") == "plain text (1)"


def test_direction_controls_are_neutralised_before_display() -> None:
    assert neutralise("a\u202eb\x07c\nd") == "a\ufffdb\ufffdc\nd"
    assert "\u202e" not in display("\u202eשלום")


def test_styles_follow_their_characters_when_reordered() -> None:
    line = Text("Outcome: ")
    line.append("موافقة", style="bold")
    shown = display_text(line)
    assert shown.plain == "Outcome: ةقفاوم"
    assert all(span.start >= len("Outcome: ") for span in shown.spans)


def test_a_wrapped_right_to_left_paragraph_reads_from_its_first_line() -> None:
    console = Console(width=20, record=True, color_system=None)
    console.print(BidiLines(Text("واحد اثنان ثلاثة أربعة خمسة ستة"), base_dir="R"))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    # The first drawn line holds the first words, right-aligned.
    assert lines[0].strip().endswith("دحاو")
    assert lines[0].startswith(" ")


def test_wide_text_is_clipped_by_cells_not_characters() -> None:
    clipped = clip("会議の議題と予算案🙂🙂", 9)
    assert cell_len(clipped) == 9
    assert clipped.endswith("…")
    assert clip("短い", 9) == "短い"


def test_dates_and_numbers_follow_the_language(language: None) -> None:
    moment = 1_796_366_040_000  # 2026-12-04 06:34 UTC
    assert i18n.format_datetime(moment) == "2026-12-04 06:34"
    assert i18n.format_number(12345.5) == "12,345.5"
    i18n.set_language("es")
    assert i18n.format_date(moment) == "4 dic 2026"
    assert i18n.format_datetime(moment) == "4 dic 2026 6:34"
    assert i18n.format_number(12345.5) == "12.345,5"
    assert i18n.format_number(1234, decimals=2) == "1.234,00"
    i18n.set_language("ar")
    assert "ديسمبر" in i18n.format_date(moment)


ARABIC_TITLE = "حديقة السطح"
ARABIC_BODY = "نزرع الخضار على سطح المبنى (أ) كل ربيع."


def arabic_app(root: Path) -> AssemblyApp:
    from assemblymesh.model import commands
    from assemblymesh.tui.demo import YOU

    demo = build_demo(root, start_ms=START, ids=ids_by_name())
    demo.cast.act(YOU, commands.propose, ARABIC_TITLE, ARABIC_BODY, ())
    return AssemblyApp(
        demo.cast.you, peers=demo.peers, local=demo.cast.hub, refold_every=None, plain=False
    )


def test_arabic_home_at_80x24(snap_compare: Any, tmp_path: Path, language: None) -> None:
    """Arabic interface, an Arabic proposal: the title reads in display order."""
    i18n.set_language("ar")
    app = arabic_app(tmp_path)

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
    svg = next((Path(__file__).parent / "__snapshots__" / "test_i18n_tui").glob("*.svg"))
    shown = html.unescape(svg.read_text()).replace("\u00a0", " ")
    assert display(ARABIC_TITLE) in shown  # drawn right to left: last letter leftmost
    assert ARABIC_TITLE not in shown
    assert display("مساعدة") in shown  # the footer's Help, in Arabic, in display order


async def test_spanish_reaches_the_screens_and_the_key_list(tmp_path: Path, language: None) -> None:
    from assemblymesh.tui.help import key_table

    i18n.set_language("es")
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert "Propuestas" in str(app.screen.query_one("#proposals").border_title)
    console = Console(width=160, record=True, color_system=None)
    console.print(key_table())
    listed = console.export_text()
    assert "ir a Reunión" in listed and "Dónde" in listed


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_the_header_line_is_drawn_in_display_order(
    tmp_path: Path, language: None, lang: str
) -> None:
    from textual.widgets._header import HeaderTitle

    i18n.set_language(lang)
    app = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        written = f"{app.title} — {app.sub_title}"
        drawn = str(app.screen.query_one(HeaderTitle).render())
        assert drawn == display(written)
        if lang == "ar":  # "you: Rosa (facilitator)" in Arabic, read from the right
            assert drawn != written and drawn.startswith(display(app.sub_title))
