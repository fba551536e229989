"""The message catalogues: extract every marked message and bring each language up to date.

``python -m assemblymesh.catalogue`` reads the source for ``_``, ``N_``, ``Nn_`` and
``ngettext`` (click's own messages are marked in ``cli.clicktext``), and the click help of
``cli/`` (command docstrings, ``help=`` texts; ``cli.helptext`` shows them
translated), writes the template ``locale/assemblymesh.pot`` and merges it into every
language's ``.po`` (new messages arrive untranslated, vanished ones are dropped).
``--check`` changes nothing and exits 1 when a catalogue is out of date or a language lacks
a translation; ``--add LANG`` starts a new language. Everything here works offline: Babel
is the only tool it needs.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from assemblymesh.i18n import DOMAIN

PACKAGE = Path(__file__).resolve().parent
LOCALE = PACKAGE / "locale"
KEYWORDS = {"_": None, "N_": None, "Nn_": (1, 2), "ngettext": (1, 2)}
# The modules whose click help (command docstrings, ``help=`` texts) goes in the catalogue.
CLI = PACKAGE / "cli"
HELP_KEYWORDS = frozenset({"help", "short_help", "epilog"})
COMMAND_DECORATORS = frozenset({"command", "group"})


def template() -> Catalog:
    """Every marked message in the package's source."""
    catalog = Catalog(project="assemblymesh", domain=DOMAIN, fuzzy=False)
    found = extract_from_dir(
        PACKAGE,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for _filename, _lineno, message, comments, context in found:
        catalog.add(message, auto_comments=comments, context=context)
    for path in sorted(CLI.glob("*.py")):
        for text in help_texts(path.read_text(encoding="utf-8")):
            catalog.add(text)
    return catalog


def help_texts(source: str) -> list[str]:
    """The help click shows for the commands declared in ``source``: the docstrings of the
    functions decorated as commands or groups, and every literal ``help=`` (cleaned as click
    cleans them, so the catalogue's ids are what ``cli.helptext`` looks up)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(map(_declares_command, node.decorator_list)):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                found.append(docstring)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                text = _literal(keyword.value)
                if keyword.arg in HELP_KEYWORDS and text:
                    found.append(inspect.cleandoc(text))
    return found


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _declares_command(decorator: ast.expr) -> bool:
    """``@x.command(...)``, ``@click.group(...)`` and the like."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr in COMMAND_DECORATORS


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if po_path(p.name).is_file())


def render(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # No source locations: they would change with every edit and say nothing to a translator.
    write_po(out, catalog, width=100, no_location=True, omit_header=False, sort_output=True)
    return out.getvalue()


def updated(lang: str, source: Catalog) -> Catalog:
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    catalog.update(source, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    return catalog


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def problems(lang: str, catalog: Catalog) -> list[str]:
    """What stops ``lang`` being complete: untranslated messages and mismatched fields."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = _texts(message.id)
        texts = _texts(message.string)
        label = ids[0]
        if message.fuzzy or not all(texts):
            found.append(f"{lang}: untranslated: {label!r}")
            continue
        wanted = placeholders(ids[-1])
        for text in texts:
            if placeholders(text) != wanted and placeholders(text) != placeholders(ids[0]):
                found.append(f"{lang}: fields differ from {label!r}: {text!r}")
    return found


def _texts(value: object) -> tuple[str, ...]:
    """A message's id or translation as a tuple (plural messages have several)."""
    if isinstance(value, tuple | list):
        return tuple(str(v or "") for v in value)
    return (str(value or ""),)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assemblymesh.catalogue")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--add", metavar="LANG", help="start a catalogue for a new language")
    args = parser.parse_args(argv)
    source = template()
    if args.add:
        po_path(args.add).parent.mkdir(parents=True, exist_ok=True)
        fresh = Catalog(locale=args.add, project="assemblymesh", domain=DOMAIN, fuzzy=False)
        po_path(args.add).write_bytes(render(fresh))
    stale, incomplete = [], []
    pot = LOCALE / f"{DOMAIN}.pot"
    for path, catalog in [(pot, source)] + [
        (po_path(lang), updated(lang, source)) for lang in languages()
    ]:
        text = render(catalog)
        if not path.is_file() or _body(path.read_bytes()) != _body(text):
            stale.append(str(path.relative_to(PACKAGE)))
            if not args.check:
                path.write_bytes(text)
        if catalog is not source:
            incomplete += problems(str(catalog.locale), catalog)
    for line in stale:
        print(("out of date: " if args.check else "updated: ") + line)
    for line in incomplete:
        print(line)
    return 1 if args.check and (stale or incomplete) else 0


def _body(po: bytes) -> bytes:
    """The catalogue without its header's dates, which change on every write."""
    return b"\n".join(
        line
        for line in po.splitlines()
        if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date'))
    )


if __name__ == "__main__":
    sys.exit(main())
