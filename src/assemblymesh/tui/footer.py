"""The footer, with each key's description in the chosen language.

Bindings are declared in class bodies, before ``--lang`` is read, so their descriptions are
marked with ``N_`` (English, for the catalogue) and translated here, each time the footer is
drawn. Textual's ``Footer.compose`` makes one ``FooterKey`` per shown binding from
``Binding.description``; this footer passes each one through ``_`` on its way out.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from assemblymesh.i18n import N_, _
from assemblymesh.tui.bidi import display

# Textual's own key descriptions that the footer shows, for the catalogue.
TEXTUAL_DESCRIPTIONS = (N_("palette"),)


def translated(description: str) -> str:
    """A binding's description in the chosen language (as written when not in a catalogue)."""
    return display(_(description)) if description else description


class TranslatedFooter(Footer):
    """Textual's footer, translating each key's description and tooltip at display time."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            _translate(widget)
            yield widget


def _translate(widget: Widget) -> None:
    if isinstance(widget, FooterKey):
        widget.description = translated(widget.description)
        if isinstance(widget.tooltip, str):
            widget.tooltip = translated(widget.tooltip)
