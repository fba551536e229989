"""A joiner whose invite a node refused, and said why: the reason in one line, and the way
out (a new code into the same home, replacing the refused join, or leaving it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from assemblymesh.i18n import N_, _
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.setup import CodeArea
from assemblymesh.tui.widgets import BidiInput, BidiStatic


@dataclass(frozen=True)
class NewCode:
    code: str
    name: str


LEAVE = "leave"


class InviteRefusedDialog(ModalScreen[NewCode | str | None]):
    """Answers a ``NewCode``, ``LEAVE``, or None (later)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "later", N_("Later"))]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="refused"):
            yield Label(display(_("Your invite was refused")), classes="dialog-title", markup=False)
            yield Static(BidiLines(Text(self.reason)), id="refused-reason", markup=False)
            yield BidiStatic(
                _(
                    "Ask a member for a new code and paste it here, or leave: nothing of this"
                    " join is kept."
                ),
                markup=False,
            )
            yield CodeArea(id="refused-code", soft_wrap=True, tab_behavior="focus")
            yield BidiInput(placeholder=_("Your name"), id="refused-name")
            yield BidiStatic("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(
                    display(_("Join with the new code")), variant="primary", id="refused-join"
                )
                yield Button(display(_("Leave")), variant="error", id="refused-leave")
                yield Button(display(_("Later")), id="refused-later")

    def on_mount(self) -> None:
        self.query_one("#refused-code").focus()

    def _new_code(self) -> None:
        code = self.query_one("#refused-code", CodeArea).text.strip()
        name = self.query_one("#refused-name", Input).value.strip()
        error = self.query_one("#error", Static)
        if not code:
            error.update(_("Paste the new invite code."))
            self.query_one("#refused-code").focus()
        elif not name:
            error.update(_("Give your name in the assembly."))
            self.query_one("#refused-name").focus()
        else:
            self.dismiss(NewCode(code, name))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._new_code()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "refused-join":
            self._new_code()
        elif event.button.id == "refused-leave":
            self.dismiss(LEAVE)
        else:
            self.dismiss(None)

    def action_later(self) -> None:
        self.dismiss(None)


__all__ = ["LEAVE", "InviteRefusedDialog", "NewCode"]
