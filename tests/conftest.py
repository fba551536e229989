"""Fixtures every test may ask for by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assemblymesh import i18n

pytest_plugins = ["tests.cli_helpers"]


@pytest.fixture(autouse=True)
def _messages_in_english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests read English unless they choose a language: the machine's LANG must not leak in."""
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.delenv("ASSEMBLYMESH_LANG", raising=False)
    i18n.set_language("en")
    yield
    i18n.set_language("en")
