"""Help in the chosen language: every command's help, short help and options' help.

Command docstrings and ``help=`` texts stay English in the source; the catalogue tool
collects them (``catalogue.help_texts``) and these classes translate them when click formats
the help, so ``assemblymesh --lang es status --help`` reads Spanish. The language is chosen
before click parses anything else, wherever ``--lang`` stands on the line: ``--help`` is eager
too and would otherwise be answered in the language of whichever option came first.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Sequence

import click

from assemblymesh import i18n
from assemblymesh.i18n import _

LANG_OPTION = "--lang"
LANG_ENV = "ASSEMBLYMESH_LANG"


def language_in(args: Sequence[str]) -> str | None:
    """The value of ``--lang`` among ``args`` (before a ``--``), if given."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == LANG_OPTION and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(LANG_OPTION + "="):
            return arg.partition("=")[2]
    return None


def translated(text: str | None) -> str | None:
    """``text`` (a docstring or a ``help=``, as click cleaned it) in the chosen language."""
    if not text:
        return text
    return _(inspect.cleandoc(text))


def _shown(command: click.Command) -> click.Command:
    """A copy of ``command`` whose help texts are in the chosen language."""
    shown = copy.copy(command)
    shown.help = translated(command.help)
    shown.short_help = translated(command.short_help)
    shown.epilog = translated(command.epilog)
    return shown


def _param_records(command: click.Command, ctx: click.Context) -> list[tuple[str, str]]:
    """The options' help rows; click words the bracketed extra (``[default: 72]``) itself,
    in the chosen language (see ``clicktext``)."""
    records = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            continue
        shown = copy.copy(param)
        if isinstance(shown, click.Option):
            shown.help = translated(shown.help)
        record = shown.get_help_record(ctx)
        if record is not None:
            records.append(record)
    return records


def _format_options(command: click.Command, ctx: click.Context, out: click.HelpFormatter) -> None:
    records = _param_records(command, ctx)
    if records:
        with out.section(_("Options")):
            out.write_dl(records)


class Command(click.Command):
    """A command whose help is shown in the chosen language."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wanted = language_in(args)
        if wanted is not None:
            i18n.set_language(wanted)
        return super().parse_args(ctx, args)

    def get_short_help_str(self, limit: int = 45) -> str:
        return click.Command.get_short_help_str(_shown(self), limit)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        click.Command.format_help_text(_shown(self), ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_options(self, ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        click.Command.format_epilog(_shown(self), ctx, formatter)


class Group(click.Group):
    """A group whose help, and its commands' short help, are shown in the chosen language.

    The outermost group also settles the language from the environment before parsing, so
    that ``ASSEMBLYMESH_LANG=es assemblymesh --help`` is Spanish."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wanted = language_in(args)
        if wanted is not None:
            i18n.set_language(wanted)
        elif ctx.parent is None:
            i18n.set_language(os.environ.get(LANG_ENV) or None)
        return super().parse_args(ctx, args)

    def get_short_help_str(self, limit: int = 45) -> str:
        return click.Group.get_short_help_str(_shown(self), limit)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        click.Group.format_help_text(_shown(self), ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in rows)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in rows])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        click.Group.format_epilog(_shown(self), ctx, formatter)


def translate_help_everywhere(group: click.Group) -> None:
    """Make every command under ``group`` one of the classes above. Each practice's module
    declares its commands with plain ``click.command``/``click.group``; this is the one place
    that makes all of them show their help in the chosen language."""
    for command in group.commands.values():
        if type(command) is click.Group:
            command.__class__ = Group
        elif type(command) is click.Command:
            command.__class__ = Command
        if isinstance(command, click.Group):
            translate_help_everywhere(command)
