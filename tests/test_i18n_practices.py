"""Funds, meetings, metrics and publications speak the chosen language on the command line,
while what the fold records (the audit, the ledger's refusals) stays the same English on
every node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assemblymesh import i18n
from assemblymesh.errors import IllegalMoveError
from assemblymesh.model.refusals import in_words, refusal_line
from tests.cli_helpers import last_line, refused, run, sync
from tests.helpers import Clock
from tests.test_cli_funds import decide

HOUR = 3600 * 1000


@pytest.fixture
def garden(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path]]:
    """Rosa founds (cooling-off one hour) and Kofi joins; both are members."""
    rosa, kofi = tmp_path / "rosa", tmp_path / "kofi"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa", "--cooling-off-hours", "1")
    run(kofi, "join", last_line(run(rosa, "invite", "--no-qr")), "--member-name", "Kofi")
    sync(clock, rosa, kofi)
    yield rosa, kofi


def fund(rosa: Path, kofi: Path, clock: Clock, *lang: str) -> None:
    """A fund Rosa stewards first, then Kofi, decided and synced."""
    out = run(rosa, *lang, "fund", "propose", "--name", "Seed", "--purpose", "Tools",
              "--unit", "EUR", "--dissolves", "2026-03-01", "--threshold", "100",
              "--steward", "Rosa", "--steward", "Kofi", "--term-days", "7")  # fmt: skip
    decide(rosa, last_line(out), clock)
    sync(clock, rosa, kofi)


def test_fund_commands_speak_spanish_and_arabic(garden: tuple[Path, Path], clock: Clock) -> None:
    rosa, _kofi = garden
    out = run(rosa, "--lang", "es", "fund", "propose", "--name", "Seed", "--unit", "EUR",
              "--dissolves", "2026-03-01", "--threshold", "100", "--steward", "Rosa",
              "--term-days", "7")  # fmt: skip
    # The effect is the form a person types back: its words are the command's, not a language's.
    assert "hace: establish-fund:Seed:EUR:2026-03-01:100:Rosa:7:return:" in out.stdout
    decide(rosa, last_line(out), clock)
    contributed = run(rosa, "--lang", "es", "fund", "contribute", "Seed", "40").stdout
    assert "aportado 40 EUR; saldo 40 EUR" in contributed
    listing = run(rosa, "--lang", "es", "fund", "list").stdout
    assert "saldo 40 EUR" in listing and "días hasta la disolución" in listing
    assert "custodio: Rosa" in listing
    shown = run(rosa, "--lang", "ar", "fund", "show", "Seed").stdout
    assert "الرصيد 40 EUR" in shown and "دفتر الحسابات" in shown
    assert "القيّمون، بالتناوب كل 7 أيام: Rosa" in shown
    ready = run(rosa, "--lang", "es", "readiness").stdout
    # The findings are worded in English for --json; the report reads them back in words.
    assert "el fondo 'Seed' tiene un solo custodio (Rosa): si se va, nadie desembolsa" in ready
    assert "con un segundo miembro en la rotación" in ready
    data = json.loads(run(rosa, "--lang", "es", "readiness", "--json").stdout)
    assert any("has one steward (Rosa)" in f["orphaned"] for f in data["findings"])


def test_a_refused_command_says_why_in_spanish_and_the_record_keeps_english(
    garden: tuple[Path, Path], clock: Clock
) -> None:
    rosa, kofi = garden
    fund(rosa, kofi, clock)
    run(rosa, "fund", "contribute", "Seed", "50")
    sync(clock, rosa, kofi)
    # Kofi is the second steward: paying out is Rosa's turn.
    error = refused(kofi, "--lang", "es", "fund", "disburse", "Seed", "10", "--to", "Shop")
    assert error.startswith("error: solo el custodio actual de 'Seed' desembolsa (regla: ")
    english = refused(kofi, "fund", "disburse", "Seed", "10", "--to", "Shop")
    assert english.startswith("error: only the current steward of 'Seed' disburses (rule: ")
    # Above the threshold, the command line itself sends the steward to a decision.
    above = refused(rosa, "--lang", "ar", "fund", "disburse", "Seed", "500", "--to", "Shop")
    assert "يتجاوز الحدّ البالغ 100" in above and "assemblymesh fund propose-disbursement" in above
    # A mistyped effect is refused in the chosen language, naming the forms unchanged.
    bad = refused(rosa, "--lang", "es", "propose", "--title", "T", "--body", "B",
                  "--effect", "rule:quorom=2")  # fmt: skip
    assert "efecto 'rule:quorom=2': 'quorom' no es ninguno de:" in bad
    assert "cooling-off-hours" in bad
    # A role the assembly does not have is the fold's refusal, named, in the chosen language.
    unknown = refused(rosa, "--lang", "es", "propose", "--title", "T", "--body", "B",
                      "--effect", "grant-role:Kofi:treasurer:30")  # fmt: skip
    assert "la asamblea no tiene el rol 'treasurer' (regla: role-exists)" in unknown


def test_refusals_read_back_through_their_shapes() -> None:
    """The fold's English detail, matched, is said again in the chosen language with the
    same values; a detail no shape knows is shown as it is; English reads unchanged."""
    detail = "3 EUR is more than the balance of 2"
    assert in_words(detail) == detail
    error = IllegalMoveError("disbursement-within-balance", detail)
    assert refusal_line(error) == str(error)
    i18n.set_language("es")
    assert in_words(detail) == "3 EUR es más que el saldo de 2"
    assert in_words("Ben is not a facilitator now") == "Ben no es facilitador ahora"
    assert in_words("something no rule says") == "something no rule says"
    assert refusal_line(error).endswith("(regla: disbursement-within-balance)")
    assert error.detail == detail  # what the fold records is untouched


def test_meeting_commands_speak_spanish_and_arabic(garden: tuple[Path, Path], clock: Clock) -> None:
    rosa, kofi = garden
    out = run(rosa, "--lang", "es", "meeting", "new", "--date", "2025-10-10 18:00",
              "--title", "Octubre").stdout  # fmt: skip
    # The kind by its label, the date in the language's own form (still UTC).
    scheduled = "Reunión ordinaria programada para 10 oct 2025 18:00 UTC: facilita Rosa, toma"
    assert scheduled + " notas Kofi." in out
    sync(clock, rosa, kofi)
    assert "No meetings yet" not in run(rosa, "--lang", "es", "meeting", "list").stdout
    opened = run(rosa, "--lang", "es", "meeting", "open").stdout
    assert "está abierta." in opened
    attended = run(rosa, "--lang", "es", "meeting", "attend").stdout
    assert attended.startswith("Presentes: 1 miembro")
    shown = run(rosa, "--lang", "ar", "meeting", "show").stdout
    assert "جدول الأعمال:" in shown and "الدور: (فارغة)" in shown
    sync(clock, rosa, kofi)
    # Only the facilitator ends the meeting: Kofi is refused, in Spanish, with the rule named.
    error = refused(kofi, "--lang", "es", "meeting", "end")
    assert "no facilita esta reunión (lo hace Rosa)" in error and "(regla: " in error
    empty = run(rosa, "--lang", "es", "meeting", "minutes").stdout
    assert "aún no hay acta" in empty


def test_metrics_and_the_report_speak_the_chosen_language(
    garden: tuple[Path, Path], clock: Clock, tmp_path: Path
) -> None:
    rosa, _kofi = garden
    table = run(rosa, "--lang", "es", "metrics").stdout
    assert table.startswith("Metabolismo, por mes, según el registro a ")
    assert "Facilitadores distintos" in table and "Voces nuevas" in table
    arabic = run(rosa, "--lang", "ar", "metrics").stdout
    assert arabic.startswith("الأيض، شهريًا") and "أصوات جديدة" in arabic
    # JSON keeps the English titles and ids whatever the language.
    data = json.loads(run(rosa, "--lang", "es", "metrics", "--json").stdout)
    assert {m["title"] for m in data["metrics"]} >= {"Distinct facilitators", "New voices"}
    page = tmp_path / "report.html"
    run(rosa, "--lang", "ar", "report", "--html", str(page))
    html = page.read_text()
    assert '<html lang="ar" dir="rtl">' in html and "الأيض" in html
    assert "--to" in refused(rosa, "--lang", "es", "report", "--html", str(page),
                             "--from", "2026-05", "--to", "2026-01")  # fmt: skip


def test_publish_and_the_library_speak_the_chosen_language(
    garden: tuple[Path, Path], clock: Clock, tmp_path: Path
) -> None:
    rosa, kofi = garden
    proposal = last_line(run(rosa, "propose", "--title", "Compost bins", "--body", "Two bins."))
    decide(rosa, proposal, clock)
    decision = json.loads(run(rosa, "status", "--json").stdout)["decisions"][0]["id"]
    preview = run(rosa, "--lang", "es", "publish", "preview", "--decision", decision).stdout
    assert "Una publicación de 'Garden' con 1 elemento:" in preview
    assert "Decisión: Compost bins" in preview
    assert "Contenido privado incluido: ninguno" in preview
    path = tmp_path / "pub.ampub"
    written = run(rosa, "--lang", "ar", "publish", "write", str(path), "--title", "Bins",
                  "--decision", decision, "--yes").stdout  # fmt: skip
    assert "كُتب" in written and "موقَّع" in written
    assert "نشرته **Garden** (الجمعية `" in path.with_suffix(".md").read_text()
    assert "La biblioteca está vacía" in run(kofi, "--lang", "es", "publication", "list").stdout
    naming = run(kofi, "--lang", "es", "publish", "naming", "allow").stdout
    assert naming.startswith("las publicaciones pueden nombrarte")


def _detail_skeletons() -> set[str]:
    """Every refusal detail raised in model/, its values blanked: ``{} is not a member``."""
    import ast

    import assemblymesh.model as model

    found = set()
    for path in Path(model.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "id", "") == "IllegalMoveError"
            ):
                continue
            if len(node.args) < 2:
                continue
            detail = node.args[1]
            if isinstance(detail, ast.Constant) and isinstance(detail.value, str):
                found.add(detail.value)
            elif isinstance(detail, ast.JoinedStr):
                found.add("".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in detail.values
                ))  # fmt: skip
    return found


def test_every_refusal_the_rule_book_words_has_a_shape() -> None:
    """A refusal added to model/ without its shape would reach people in English only: add
    it to ``model.refusals.REFUSALS`` (and translate it with ``python -m
    assemblymesh.catalogue``)."""
    import re

    from assemblymesh.model.refusals import REFUSALS

    shapes = {re.sub(r"\{[^{}]*\}", "{}", shape) for shape in REFUSALS}
    assert _detail_skeletons() - shapes == set()
