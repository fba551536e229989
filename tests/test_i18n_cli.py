"""The command line in Spanish and Arabic: output, errors and help follow ``--lang``,
wherever it stands on the line, and the environment when it is not given."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assemblymesh import catalogue, cli, i18n
from tests.cli_helpers import Clock, run


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def founded(tmp_path: Path, clock: Clock) -> Path:
    home = tmp_path / "amara"
    run(home, "init", "--name", "Huerto", "--member-name", "Amara")
    return home


def test_status_speaks_spanish_and_arabic(founded: Path) -> None:
    spanish = run(founded, "--lang", "es", "status").stdout
    assert "Miembros (1):" in spanish and "Propuestas (0):" in spanish
    assert "Reglas: periodo de reflexión 72 h" in spanish
    # The translation opens with the assembly's word for rounds: the heading is capitalised.
    assert "\nRondas en curso (0):" in spanish
    arabic = run(founded, "--lang", "ar", "status").stdout
    assert "الأعضاء (1):" in arabic and "المقترحات (0):" in arabic
    english = run(founded, "status").stdout
    assert "Members (1):" in english and "Miembros" not in english


def test_lang_may_follow_the_command_like_home(founded: Path) -> None:
    out = run(founded, "propose", "--title", "Agua", "--body", "Riego", "--lang", "es")
    ref = out.stdout.strip()
    shown = run(founded, "show", ref, "--lang", "es").stdout
    assert shown.startswith(f"Propuesta {ref[:8]}: Agua")
    assert "estado: " in shown and "Rondas (0):" in shown


def test_dates_are_shown_in_the_language(founded: Path) -> None:
    ref = run(founded, "propose", "--title", "Agua", "--body", "Riego").stdout.strip()
    run(founded, "round", "open", ref, "--deadline", "2031-05-01 18:00")
    assert "deadline: 2031-05-01 18:00 UTC" in run(founded, "status").stdout
    spanish = run(founded, "--lang", "es", "status").stdout
    assert "cierre: 1 may 2031 18:00 UTC (quien facilita cierra la ronda)" in spanish
    arabic = run(founded, "--lang", "ar", "status").stdout
    assert "1 مايو 2031 18:00 UTC" in arabic


def test_json_keeps_its_english_keys_and_values(founded: Path) -> None:
    english = json.loads(run(founded, "status", "--json").stdout)
    spanish = json.loads(run(founded, "--lang", "es", "status", "--json").stdout)
    # The ids stay; only the labels beside them are in the chosen language.
    without_labels = [{**m, "role_labels": None} for m in spanish["members"]]
    assert without_labels == [{**m, "role_labels": None} for m in english["members"]]
    assert [m["role_labels"] for m in spanish["members"]] == [["facilitadora"]]
    assert spanish["assembly"]["rules"] == english["assembly"]["rules"]


def test_an_error_line_in_spanish(founded: Path) -> None:
    result = run(founded, "--lang", "es", "show", "zzzz", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: ninguna propuesta, ronda o decisión tiene un id que empiece por 'zzzz'\n"
    )
    args = ("round", "open", "nope", "--deadline", "mañana", "--lang", "es")
    refused = run(founded, *args, ok=False)
    assert refused.stderr.startswith("error: ") and "no tiene la forma" in refused.stderr


def test_a_counted_message_takes_the_plural_of_the_language(founded: Path) -> None:
    english = run(founded, "rules").stdout
    assert "cooling-off      72 hours" in english and "review period    180 days" in english
    arabic = run(founded, "--lang", "ar", "rules").stdout
    assert "72 ساعة" in arabic and "180 يومًا" in arabic


@pytest.mark.parametrize(
    "args",
    [
        ["--lang", "es", "status", "--help"],
        ["status", "--lang", "es", "--help"],
        ["status", "--help", "--lang", "es"],
    ],
)
def test_command_help_is_spanish_wherever_lang_stands(args: list[str]) -> None:
    out = invoke(*args).stdout
    assert out.startswith("Uso: ")
    assert "Miembros, roles, propuestas, rondas, decisiones" in out
    assert "Salida legible por máquina." in out
    assert "Muestra este mensaje y sale." in out


def test_group_help_lists_commands_in_the_language() -> None:
    out = invoke("--lang", "ar", "--help").stdout
    assert "الاستخدام: " in out and "الأوامر" in out and "الخيارات" in out
    assert "اسحب مقترحك." in out  # withdraw's short help
    spanish = invoke("--help", env={"ASSEMBLYMESH_LANG": "es"}).stdout
    assert "Órdenes:" in spanish and "Retira tu propia propuesta." in spanish
    group = invoke("round", "--lang", "es", "--help").stdout
    assert group.startswith("Uso: ") and "Facilitación: cierra una ronda" in group


def test_click_bracketed_extras_are_translated() -> None:
    out = invoke("--lang", "es", "init", "--help").stdout
    assert "El nombre de la asamblea.  [obligatorio]" in out
    assert "[por defecto: 72; x>=0]" in out
    assert "[default: 72; x>=0]" in invoke("init", "--help").stdout


def test_help_of_the_other_practices_is_translated_too() -> None:
    out = invoke("--lang", "es", "fund", "--help").stdout
    assert "Fondos semilla comunitarios" in out
    english = invoke("fund", "--help").stdout
    assert "Community seed funds" in english and english.startswith("Usage: ")


def test_every_command_docstring_and_option_help_is_in_the_catalogue() -> None:
    """The extractor finds what click shows: every help text of every command."""
    template = catalogue.template()
    missing = []

    def walk(command: object, path: str) -> None:
        import click

        assert isinstance(command, click.Command)
        texts = [command.help] + [
            p.help for p in command.params if isinstance(p, click.Option) and p.help
        ]
        for text in (inspect.cleandoc(t) for t in texts if t):
            if text not in template:
                missing.append(f"{path}: {text[:60]!r}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(cli.main, "assemblymesh")
    assert not missing, "\n".join(missing)


def test_english_stays_english_after_another_language(founded: Path) -> None:
    run(founded, "--lang", "es", "status")
    assert "Members (1):" in run(founded, "status").stdout
    assert i18n.language() == "en"
