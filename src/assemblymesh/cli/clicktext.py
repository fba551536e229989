"""click's own messages in the chosen language.

click words its usage errors (``No such option``, ``Missing argument``...), the ``Error:``
prefix, the ``Try '... --help' for help.`` hint, the help headings and ``Aborted!`` itself,
through the standard library's gettext: each of its modules does ``from gettext import
gettext as _`` (and ``ngettext``), which looks for compiled ``.mo`` files of the process's
default domain on disk. Our catalogues are ``.po`` files compiled in memory when a language is
chosen (see ``i18n``), so there is no ``.mo`` file for the stdlib to find, and installing one
for the default domain would translate every other library in the process too. Instead,
``route_click_messages`` rebinds, once at start-up, the ``_`` and ``ngettext`` names of click's
modules to ours: click looks them up when it words a message, so they follow ``--lang`` (and
the environment) from then on, and English stays click's own wording.

``MESSAGES`` and ``PLURALS`` list the msgids of click's that a person of ours can see, as click
spells them (a test checks them against the installed click), so the catalogue tool extracts
them and the translators translate them.
"""

from __future__ import annotations

import gettext
import importlib
import sys
from typing import Final

from assemblymesh import i18n
from assemblymesh.i18n import N_, Nn_

# The modules of click that import gettext's functions (a test checks the list is whole).
CLICK_MODULES: Final = (
    "click._termui_impl",
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.shell_completion",
    "click.termui",
    "click.types",
    "click.utils",
)
WINDOWS_ONLY: Final = ("click._winconsole",)  # importing it elsewhere fails

# click's msgids that no person of ours sees: mistakes in declaring a command (reported to
# the programmer), a repr, and the ``version_option`` we replace (see ``cli.show_version``).
# They stay click's English; a test checks that every msgid of click is in ``MESSAGES``,
# ``PLURALS`` or here, so a click that adds a message makes someone decide.
NOT_SHOWN: Final = frozenset(
    {
        "%(prog)s, version %(version)s",
        "Arguments take exactly one parameter declaration, got {length}: {decls}.",
        "Boolean option {decl!r} cannot use the same flag for true/false.",
        "Choice({choices})",
        "Could not determine name for option with declarations {decls!r}",
        "Invalid start character for option ({option})",
        "Name '{name}' defined twice",
        "No options defined but a name was passed ({name}). Did you mean to declare an"
        " argument instead? Did you mean to pass '--{name}'?",
        "Unknown color {colour!r}",
        "Unknown standard stream '{name}'",
        "Value must be an iterable.",
    }
)

MESSAGES: Final = (
    # exceptions.py: usage errors and how they are introduced
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("Could not open file {filename!r}: {message}"),
    N_("unknown error"),
    # core.py, formatting.py, decorators.py: help pages, the abort, what options say
    N_("Aborted!"),
    N_("DeprecationWarning: The command {name!r} is deprecated.{extra_message}"),
    N_("DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}"),
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Missing command."),
    N_("deprecated"),
    N_("env var: {var}"),
    N_("default: {default}"),
    N_("required"),  # given by get_help_extra, translated by get_help_record
    N_("(dynamic)"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Do you want to continue?"),
    N_("Confirm the action without prompting."),
    # parser.py
    N_("Option {name!r} does not take a value."),
    N_("Argument {name!r} takes {nargs} values."),
    # types.py: values that are not what an option takes
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("{value!r} is not a valid UUID."),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("Choose from:\n\t{choices}"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a file."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."),
    N_("{name} {filename!r} is not executable."),
    # termui.py: prompts
    N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."),
    N_("Error: invalid input"),
    N_("Press any key to continue..."),
    # _termui_impl.py: click.edit, and the days of a progress bar's time left ("2d 01:10:00")
    N_("{editor}: Editing failed"),
    N_("{editor}: Editing failed: {e}"),
    N_("d"),
    # shell_completion.py: asking for Bash completion
    N_("Couldn't detect Bash version, shell completion is not supported."),
    N_("Shell completion is not supported for Bash versions older than 4.4."),
    # _winconsole.py
    N_("Windows error: {error}"),
)
PLURALS: Final = (
    Nn_("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    Nn_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    Nn_("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."),
    Nn_("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    Nn_("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
    Nn_(
        "{value!r} does not match the format {format}.",
        "{value!r} does not match the formats {formats}.",
    ),
    Nn_(
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ),
)


def route_click_messages() -> None:
    """Make click word its own messages through our catalogue (see the module's docstring).
    Only names still bound to the stdlib's functions change, so a second call, or a click
    that stops using gettext in a module, changes nothing."""
    names = CLICK_MODULES + (WINDOWS_ONLY if sys.platform == "win32" else ())
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a click without that module
            continue
        if getattr(module, "_", None) is gettext.gettext:
            setattr(module, "_", i18n._)  # noqa: B010
        if getattr(module, "ngettext", None) is gettext.ngettext:
            setattr(module, "ngettext", i18n.ngettext)  # noqa: B010
