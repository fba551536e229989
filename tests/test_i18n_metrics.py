"""The metrics, the readiness report and the HTML report in Spanish and Arabic: titles, months,
figures and trends in the chosen language, while ``--json`` is the same bytes in every
language; and the model's own messages (lookups by id, refused publication files, the
simulation's events) read in the chosen language while the record keeps its English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from assemblymesh import i18n
from assemblymesh.errors import NotFoundError, PublicationError, UsageError
from assemblymesh.model import metrics as M
from assemblymesh.model.refusals import in_words
from assemblymesh.report import period_label, render_html, trend_text, value_text
from tests.cli_helpers import last_line, refused, run, sync
from tests.helpers import Clock
from tests.model.garden import fold_garden, garden
from tests.test_cli_funds import decide
from tests.test_cli_metrics import two_months

LANGUAGES = ("en", "es", "ar")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    i18n.set_language("en")


def same_moment(clock: Clock, home: Path, *args: str) -> dict[str, str]:
    """``args`` run in every language from the same moment of the clock: lang -> stdout."""
    start = clock.now
    out = {}
    for lang in LANGUAGES:
        clock.now = start
        out[lang] = run(home, "--lang", lang, *args).stdout
    return out


def test_metrics_speak_spanish_and_arabic_and_json_is_the_same_bytes(
    tmp_path: Path, clock: Clock
) -> None:
    rosa, _kofi, first, second = two_months(tmp_path, clock)
    assert (first, second) == ("2025-10", "2025-11")
    tables = same_moment(clock, rosa, "metrics")
    spanish, arabic, english = tables["es"], tables["ar"], tables["en"]
    assert "Facilitadores distintos" in spanish and "Iniciativas propias" in spanish
    assert "Adoptado por otras asambleas" in spanish and "nada registrado" in spanish
    # The months by their names, the trend in words.
    assert "oct 2025" in spanish and "nov 2025" in spanish
    assert "Voces nuevas en nov 2025: Kofi" in spanish
    assert "tendencia: muy pocos periodos" in spanish
    assert "الميسّرون المختلفون" in arabic and "أصوات جديدة" in arabic
    assert "أكتوبر 2025" in arabic and "لا شيء مسجل" in arabic
    assert "الاتجاه: فترات قليلة جدًا" in arabic
    # English keeps the ISO months --json has.
    assert f"New voices in {second}: Kofi" in english and "nov 2025" not in english
    per_meeting = run(rosa, "--lang", "es", "metrics", "--per-meetings", "1").stdout
    assert per_meeting.startswith("Metabolismo, por reunión, ") and "reunión 1" in per_meeting
    data = same_moment(clock, rosa, "metrics", "--json")
    assert data["es"] == data["en"] == data["ar"]
    assert '"title": "Distinct facilitators"' in data["es"]
    assert '"direction": "too few periods"' in data["ar"]
    assert '"note": "none recorded"' in data["ar"]


def test_readiness_speaks_spanish_and_arabic_and_json_is_the_same_bytes(
    tmp_path: Path, clock: Clock
) -> None:
    rosa, kofi = tmp_path / "rosa", tmp_path / "kofi"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa", "--cooling-off-hours", "1")
    run(kofi, "join", last_line(run(rosa, "invite", "--no-qr")), "--member-name", "Kofi")
    sync(clock, rosa, kofi)
    ready = same_moment(clock, rosa, "readiness")
    assert ready["es"].startswith("Preparada: si los colaboradores se retiraran mañana")
    assert ready["ar"].startswith("جاهزة: لو انسحب الداعمون غدًا")
    out = run(rosa, "fund", "propose", "--name", "Seed", "--unit", "EUR", "--dissolves",
              "2026-03-01", "--threshold", "100", "--steward", "Rosa",
              "--term-days", "7")  # fmt: skip
    decide(rosa, last_line(out), clock)
    texts = same_moment(clock, rosa, "readiness")
    assert texts["es"].startswith("1 cosa quedaría sin un miembro:")
    assert "\nCustodias:\n" in texts["es"]
    assert (
        "el fondo 'Seed' tiene un solo custodio (Rosa): si se va, nadie desembolsa" in (texts["es"])
    )
    assert texts["ar"].startswith("سيبقى 1 أمر بلا عضو:") and "القوامات:" in texts["ar"]
    assert "للصندوق 'Seed' قيّم واحد (Rosa): إن غادر فلن يصرف أحد" in texts["ar"]
    assert "has one steward (Rosa)" in texts["en"]
    data = same_moment(clock, rosa, "readiness", "--json")
    assert data["es"] == data["en"] == data["ar"]
    assert "has one steward (Rosa): if they leave, nobody disburses" in data["ar"]


def test_the_html_report_speaks_spanish_and_arabic(tmp_path: Path, clock: Clock) -> None:
    rosa, _kofi, _first, _second = two_months(tmp_path, clock)
    pages = {}
    for lang in LANGUAGES:
        page = tmp_path / f"report-{lang}.html"
        run(rosa, "--lang", lang, "report", "--html", str(page))
        pages[lang] = page.read_text(encoding="utf-8")
    spanish, arabic, english = pages["es"], pages["ar"], pages["en"]
    assert '<html lang="es">' in spanish and "<h2>Metabolismo</h2>" in spanish
    assert "<figcaption>Facilitadores distintos: 1 en nov 2025" in spanish
    assert "Proporción llevada por quien más facilita: 100\xa0% en nov 2025" in spanish
    assert "<summary>Las cifras</summary>" in spanish and "<th>Métrica</th>" in spanish
    assert "<h2>Decisiones (0)</h2>" in spanish and "<h2>Actas (1)</h2>" in spanish
    assert "De oct 2025 a nov 2025, por mes." in spanish
    assert '<html lang="ar" dir="rtl">' in arabic and "<h2>الأيض</h2>" in arabic
    assert "<figcaption>الميسّرون المختلفون: 1 في نوفمبر 2025" in arabic
    assert "<h2>القرارات (0)</h2>" in arabic and "<h2>المحاضر (1)</h2>" in arabic
    # The charts' keys are the metrics' ids in every language.
    for page in pages.values():
        assert 'data-metric="facilitators"' in page and 'id="metric-new_voices"' in page
    assert "<figcaption>Distinct facilitators: 1 in 2025-11" in english


def test_figures_and_trends_take_the_language_s_own_forms() -> None:
    state = fold_garden(garden())
    metrics = M.compute(state)
    rotation = metrics.get("facilitators")
    share = metrics.get("top_facilitator_share")
    month = metrics.periods[0]
    assert (period_label(month), value_text(share, Fraction(2, 3))) == ("2026-01", "67%")
    assert trend_text(rotation) == "trend: rising (+0.50 a period over 3 periods)"
    assert value_text(rotation, Fraction(3, 2)) == "1.5"
    i18n.set_language("es")
    assert period_label(month) == "ene 2026"
    assert value_text(share, Fraction(2, 3)) == "67\xa0%"
    assert value_text(rotation, Fraction(3, 2)) == "1,5"
    assert trend_text(rotation) == "tendencia: al alza (+0,50 por periodo en 3 periodos)"
    assert M.per_text(M.compute(state, per_meetings=2)) == "cada 2 reuniones"
    i18n.set_language("ar")
    assert period_label(month) == "يناير 2026"
    page = render_html(state, metrics)
    assert "يناير 2026" in page and 'dir="rtl"' in page
    assert month.label == "2026-01"  # what --json and the record say


def test_a_lookup_by_id_says_what_it_looked_for_in_the_language() -> None:
    state = fold_garden(garden())

    def error(find: Callable[[str], object], prefix: str) -> str:
        with pytest.raises(UsageError) as raised:
            find(prefix)
        return str(raised.value)

    assert error(state.find_proposal, "zzzz") == "no proposal with an id starting 'zzzz'"
    i18n.set_language("es")
    assert error(state.find_proposal, "zz") == "no hay propuesta con un id que empiece por 'zz'"
    assert error(state.find_fund, "zz") == "no hay fondo con un id que empiece por 'zz'"
    assert error(state.find_meeting, " ") == "da un id de reunión"
    i18n.set_language("ar")
    assert error(state.find_round, "zz") == "لا جولة بمعرّف يبدأ بـ 'zz'"
    with pytest.raises(NotFoundError):
        state.find_decision("zz")


def test_a_lookup_names_things_in_the_assembly_s_own_words(tmp_path: Path, clock: Clock) -> None:
    rosa = tmp_path / "rosa"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa", "--cooling-off-hours", "1")
    out = run(rosa, "propose", "--title", "Words", "--body", "Ours.",
              "--effect", "words:es:proposal=moción")  # fmt: skip
    decide(rosa, last_line(out), clock)
    error = refused(rosa, "--lang", "es", "round", "open", "zzzz")
    assert "no hay moción con un id que empiece por 'zzzz'" in error
    assert "no proposal with an id starting 'zzzz'" in refused(rosa, "round", "open", "zzzz")


def test_a_refused_publication_reads_in_the_language_and_keeps_its_english_detail() -> None:
    detail = (
        "publication refused: an earlier publication it names: malformed:"
        " an item's title contains the control character U+0007"
    )
    error = PublicationError(detail)
    assert str(error) == detail
    i18n.set_language("es")
    assert str(error) == (
        "publicación rechazada: una publicación anterior que menciona: mal formada:"
        " el título de un elemento contiene el carácter de control U+0007"
    )
    assert error.detail == detail  # what the fold records of a refused import
    assert in_words("publication refused: malformed: the title is too long") == (
        "publicación rechazada: mal formada: el título supera la longitud máxima"
    )
    i18n.set_language("ar")
    assert in_words("publication refused: it is larger than 1,000,000 bytes") == (
        "رُفض المنشور: حجمه يتجاوز 1,000,000 بايت"
    )


def test_the_simulation_reports_its_network_in_the_language(tmp_path: Path) -> None:
    from assemblymesh.sim.scenario import run_scenario

    i18n.set_language("es")
    report = run_scenario(nodes=3, steps=12, seed=1, root=tmp_path)
    assert "reconexión" in report.events
    assert any(e.startswith("partición ") for e in report.events)
    assert report.converged


def test_months_keep_iso_in_english() -> None:
    first = int(dt.datetime(2026, 5, 1, tzinfo=dt.UTC).timestamp() * 1000)
    (may,) = M.month_periods(first, first)
    assert period_label(may) == "2026-05"
