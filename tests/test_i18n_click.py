"""click's own messages (usage errors, ``Error:``, the help hint, headings, ``Aborted!``,
``--version``) in the chosen language, through our catalogue; and the list of click's
messages kept in step with the installed click, so an upgrade that rewords one fails here."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from assemblymesh import catalogue, cli, i18n
from assemblymesh.cli import clicktext

CLICK = Path(click.__file__).resolve().parent
VERSION = version("assemblymesh")


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=env, prog_name="assemblymesh")


def click_sources() -> dict[str, ast.Module]:
    return {f"click.{path.stem}": ast.parse(path.read_text("utf-8")) for path in CLICK.glob("*.py")}


def click_msgids() -> tuple[set[str], set[tuple[str, str]]]:
    """Every literal click passes to ``_`` and to ``ngettext``."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for tree in click_sources().values():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" and texts and isinstance(texts[0], str):
                singles.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) >= 2:
                plurals.add((texts[0], texts[1]))
    return singles, plurals


def test_the_click_modules_listed_are_those_that_use_gettext() -> None:
    using = {
        name
        for name, tree in click_sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "gettext"
    }
    assert using == set(clicktext.CLICK_MODULES) | set(clicktext.WINDOWS_ONLY)


def test_click_looks_its_messages_up_in_our_catalogue() -> None:
    for name in clicktext.CLICK_MODULES:
        module = importlib.import_module(name)
        assert module._ is i18n._, name
        if hasattr(module, "ngettext"):
            assert module.ngettext is i18n.ngettext, name
    clicktext.route_click_messages()  # a second time changes nothing
    assert importlib.import_module("click.core")._ is i18n._


def test_every_message_of_click_is_marked_or_set_aside() -> None:
    singles, plurals = click_msgids()
    marked = set(clicktext.MESSAGES)
    # "required" reaches ``_`` through a variable (``get_help_extra`` gives it).
    dynamic = {"required"}
    assert marked - dynamic <= singles, "click no longer words these"
    assert singles <= marked | clicktext.NOT_SHOWN, "click words these and they are not listed"
    assert not clicktext.NOT_SHOWN - singles, "set aside but click no longer words them"
    assert not marked & clicktext.NOT_SHOWN
    assert set(clicktext.PLURALS) == plurals
    ctx = click.Context(click.Command("c"))
    option = click.Option(["--x"], required=True)
    assert option.get_help_extra(ctx)["required"] in dynamic


def test_click_messages_are_in_the_template() -> None:
    template = catalogue.template()
    assert [m for m in clicktext.MESSAGES if m not in template] == []
    for singular, plural in clicktext.PLURALS:
        message = template.get(singular)
        assert message is not None and message.id == (singular, plural)


@pytest.mark.parametrize(
    ("lang", "error", "hint"),
    [
        ("en", "Error: No such option '--bogus'.", "Try 'assemblymesh --help' for help."),
        ("es", "Error: No existe la opción '--bogus'.",
         "Prueba 'assemblymesh --help' para ver la ayuda."),
        ("ar", "خطأ: لا يوجد خيار باسم '--bogus'.", "جرّب 'assemblymesh --help' للمساعدة."),
    ],
)  # fmt: skip
def test_an_unknown_option_is_refused_in_the_language(lang: str, error: str, hint: str) -> None:
    for args in (["--lang", lang, "--bogus"], ["--bogus", "--lang", lang]):
        result = invoke(*args)
        assert result.exit_code == 2
        lines = result.stderr.splitlines()
        assert error in lines and hint in lines, result.stderr
        usage = {"en": "Usage: ", "es": "Uso: ", "ar": "الاستخدام: "}[lang]
        assert lines[0].startswith(usage + "assemblymesh ")


def test_a_close_option_is_suggested_in_the_language() -> None:
    spanish = invoke("--lang", "es", "--hme", "x").stderr
    assert "No existe la opción '--hme'. (¿Quisiste decir alguna de estas:" in spanish
    english = invoke("--hme", "x").stderr
    assert "No such option '--hme'. (Did you mean one of:" in english


def test_the_environment_chooses_the_language_of_click_messages() -> None:
    env: dict[str, str | None] = {"LANGUAGE": None, "LANG": "es_ES.UTF-8"}
    result = invoke("--bogus", env=env)
    assert "Error: No existe la opción '--bogus'." in result.stderr
    assert "Prueba 'assemblymesh --help' para ver la ayuda." in result.stderr


def test_a_missing_argument_in_arabic() -> None:
    result = invoke("show", "--lang", "ar")
    assert result.exit_code == 2
    assert "ينقص الوسيط 'REF'." in result.stderr


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", f"assemblymesh, version {VERSION}"),
        ("es", f"assemblymesh, versión {VERSION}"),
        ("ar", f"assemblymesh، الإصدار {VERSION}"),
    ],
)
def test_version_in_every_language(lang: str, line: str) -> None:
    for args in (["--lang", lang, "--version"], ["--version", "--lang", lang]):
        result = invoke(*args)
        assert result.exit_code == 0 and result.stdout == line + "\n", result.output


def test_every_shipped_language_shows_the_version() -> None:
    for lang in i18n.available():
        result = invoke("--lang", lang, "--version")
        assert result.exit_code == 0 and VERSION in result.stdout, (lang, result.output)


def test_version_and_help_options_are_described_in_the_language() -> None:
    out = invoke("--lang", "es", "--help").stdout
    assert "Muestra la versión y sale." in out and "Muestra este mensaje y sale." in out


def test_aborted_and_mismatched_prompts_in_spanish() -> None:
    @click.command()
    def ask() -> None:
        click.prompt("Clave", hide_input=True, confirmation_prompt=True)

    i18n.set_language("es")
    mismatched = CliRunner().invoke(ask, [], input="uno\ndos\n")
    assert "Error: los dos valores introducidos no coinciden." in mismatched.output
    assert "Repítela para confirmar" in mismatched.output
    aborted = CliRunner().invoke(ask, [], input="")
    assert aborted.exit_code == 1 and aborted.output.endswith("¡Cancelado!\n")
    i18n.set_language("en")
    assert CliRunner().invoke(ask, [], input="").output.endswith("Aborted!\n")


def test_the_installed_program_refuses_in_spanish(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.pop("ASSEMBLYMESH_LANG", None)
    env.update(LANG="es_ES.UTF-8", HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "assemblymesh", "--bogus"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Error: No existe la opción '--bogus'." in result.stderr
    assert "para ver la ayuda." in result.stderr and result.stderr.startswith("Uso: ")
