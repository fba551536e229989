"""Choosing the language: ``--lang``, else the environment, else English."""

from __future__ import annotations

import pytest

from assemblymesh import i18n


@pytest.fixture(autouse=True)
def _english_after() -> object:
    yield None
    i18n.set_language("en")


@pytest.mark.parametrize(
    "environ,expected",
    [
        ({"LANG": "es_ES.UTF-8"}, "es_ES"),
        ({"LANGUAGE": "ar:fr", "LANG": "es_ES.UTF-8"}, "ar"),
        ({"LC_ALL": "C", "LANG": "C"}, None),
        ({"LANG": "ckb_IQ.UTF-8@latin"}, "ckb_IQ"),
        ({}, None),
    ],
)
def test_the_environment_names_the_language(environ: dict[str, str], expected: str | None) -> None:
    assert i18n.from_environment(environ) == expected


def test_a_language_without_a_catalogue_falls_back_to_english() -> None:
    assert i18n.set_language("zz") == "en"
    assert i18n._("Founded") == "Founded"


def test_right_to_left_languages_are_known() -> None:
    assert i18n.is_right_to_left("ar") and i18n.is_right_to_left("he_IL")
    assert not i18n.is_right_to_left("es")


def test_the_catalogues_are_current_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    """Every marked message is in the template, and Spanish and Arabic translate every one."""
    from assemblymesh import catalogue

    status = catalogue.main(["--check"])
    assert status == 0, capsys.readouterr().out
    assert {"es", "ar"} <= set(catalogue.languages())
