"""Translations: every message shown to a person goes through ``_`` (or ``ngettext``).

The catalogues are the ``.po`` files under ``assemblymesh/locale/<lang>/LC_MESSAGES/``. They
are read with Babel when a language is chosen, so a language added on a laptop with no
network needs no build step: write the ``.po`` file and choose the language.

The language comes from ``--lang``, else from ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` or
``LANG`` (the first one set), else English. A language with no catalogue falls back to
English, message by message.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gettext
import io
import os
from collections.abc import Mapping
from importlib import resources

DOMAIN = "assemblymesh"
SOURCE_LANGUAGE = "en"
# Languages written right to left: their text is reordered for display (see ``tui.bidi``).
RIGHT_TO_LEFT = frozenset({"ar", "ckb", "fa", "he", "ku_IQ", "ps", "ur", "yi"})
ENVIRONMENT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE


def _(message: str) -> str:
    """``message`` in the chosen language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for ``count``, in the chosen language."""
    return _translations.ngettext(singular, plural, count)


def label(labels: Mapping[str, str], ident: str) -> str:
    """The label of the stable id ``ident`` in the chosen language, from ``labels`` (its
    messages marked with ``N_``); an id with no label shows as itself."""
    return _(labels[ident]) if ident in labels else ident


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it yet (for constants)."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural for the catalogue without translating it yet."""
    return singular, plural


def language() -> str:
    """The language in effect (``en`` when no catalogue matched)."""
    return _language


def is_right_to_left(lang: str | None = None) -> bool:
    code = lang or _language
    return code in RIGHT_TO_LEFT or code.split("_")[0] in RIGHT_TO_LEFT


def catalogue_path(lang: str) -> resources.abc.Traversable:
    return resources.files("assemblymesh") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def available() -> list[str]:
    """The languages shipped with a catalogue, and English."""
    root = resources.files("assemblymesh") / "locale"
    found = {SOURCE_LANGUAGE}
    if root.is_dir():
        found |= {entry.name for entry in root.iterdir() if catalogue_path(entry.name).is_file()}
    return sorted(found)


def from_environment(environ: Mapping[str, str] = os.environ) -> str | None:
    """The language the environment asks for, as a catalogue name (``es_ES.UTF-8`` -> ``es``)."""
    for name in ENVIRONMENT_VARIABLES:
        value = environ.get(name, "")
        # LANGUAGE may list several, in order of preference.
        for wanted in value.split(":"):
            code = wanted.split(".")[0].split("@")[0]
            if code and code not in ("C", "POSIX"):
                return code
    return None


def _match(lang: str) -> str | None:
    """The shipped catalogue for ``lang``: exact (``pt_BR``), else its language (``pt``)."""
    shipped = available()
    for candidate in (lang, lang.split("_")[0]):
        if candidate in shipped:
            return candidate
    return None


def load(lang: str) -> gettext.NullTranslations:
    """The translations of the catalogue for ``lang`` (compiled in memory with Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def set_language(lang: str | None) -> str:
    """Choose the language (``None``: from the environment); returns the one in effect."""
    global _translations, _language
    wanted = lang if lang is not None else from_environment()
    matched = _match(wanted) if wanted else None
    if matched is None or matched == SOURCE_LANGUAGE:
        _translations, _language = gettext.NullTranslations(), SOURCE_LANGUAGE
    else:
        _translations, _language = load(matched), matched
    return _language


# --- dates and numbers in the chosen language --------------------------------------------------

# English keeps ISO 8601, the form the record, the reports and the CLI's English output use; the
# other languages take their locale's month names, day order and digits (Babel's CLDR data).
_ISO_DATE = "yyyy-MM-dd"
_ISO_TIME = "HH:mm"


def _moment(value: int | dt.datetime) -> dt.datetime:
    """A moment as an aware UTC datetime (``value``: milliseconds since the epoch, UTC)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def format_date(value: int | dt.datetime | dt.date) -> str:
    """A day in the chosen language (``2026-12-04``; ``4 dic 2026``; ``04‏/12‏/2026``)."""
    from babel import dates

    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        day = _moment(value).date()
    else:
        day = value
    if _language == SOURCE_LANGUAGE:
        return dates.format_date(day, _ISO_DATE, locale=SOURCE_LANGUAGE)
    return dates.format_skeleton("yMMMd", day, locale=_language)


def format_datetime(value: int | dt.datetime) -> str:
    """A moment, in UTC, in the chosen language (``2026-12-04 06:34``; ``4 dic 2026 6:34``)."""
    from babel import dates

    moment = _moment(value)
    if _language == SOURCE_LANGUAGE:
        pattern = f"{_ISO_DATE} {_ISO_TIME}"
        return dates.format_datetime(moment, pattern, tzinfo=dt.UTC, locale=SOURCE_LANGUAGE)
    day = dates.format_skeleton("yMMMd", moment, tzinfo=dt.UTC, locale=_language)
    time = dates.format_skeleton("Hm", moment, tzinfo=dt.UTC, locale=_language)
    return f"{day} {time}"


def format_number(value: int | float | decimal.Decimal, decimals: int | None = None) -> str:
    """A number in the chosen language (``12,345.5``; ``12.345,5``), with exactly
    ``decimals`` digits after the point when given (amounts)."""
    from babel import numbers

    if decimals is None:
        return numbers.format_decimal(value, locale=_language)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(
        value, format=pattern, locale=_language, decimal_quantization=True
    )
