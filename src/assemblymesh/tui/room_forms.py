"""The meeting room's forms: call a meeting, add an agenda item, record an item's outcome.

One form shape serves all three: a choice among labelled kinds, then a few one-line
fields. What the answer means is the room's business; the form only shows what is wrong
with it (``check``) and stays open until it is right or cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from assemblymesh.i18n import _
from assemblymesh.tui.dialogs import Form, too_long
from assemblymesh.tui.widgets import BidiInput, BidiStatic


@dataclass(frozen=True)
class FormAnswer:
    choice: str
    fields: dict[str, str]


@dataclass(frozen=True)
class FormField:
    id: str
    placeholder: str
    initial: str = ""


class ChoiceForm(Form[FormAnswer]):
    """A kind chosen from ``choices`` ((value, label) pairs), then ``fields``."""

    def __init__(
        self,
        heading: str,
        choices: Sequence[tuple[str, str]],
        fields: Sequence[FormField],
        check: Callable[[FormAnswer], str | None],
    ) -> None:
        super().__init__()
        self.heading = heading
        self.choices = tuple(choices)
        self.fields = tuple(fields)
        self.check = check

    def compose(self) -> ComposeResult:
        # Scrolls: at 80x24 a form with three fields is taller than the terminal.
        with VerticalScroll(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            with RadioSet(id="choice"):
                for n, (value, label) in enumerate(self.choices):
                    yield RadioButton(label, value=n == 0, name=value)
            for f in self.fields:
                yield Label(f.placeholder, markup=False)
                yield BidiInput(f.initial, placeholder=f.placeholder, id=f.id)
            yield BidiStatic("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save  ctrl+s"), variant="primary", id="ok")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()

    def answer(self) -> FormAnswer:
        pressed = self.query_one(RadioSet).pressed_button
        choice = pressed.name if pressed is not None and pressed.name else self.choices[0][0]
        values = {f.id: self.query_one(f"#{f.id}", Input).value.strip() for f in self.fields}
        return FormAnswer(choice, values)

    def action_submit(self) -> None:
        answer = self.answer()
        problem = next(
            (p for f in self.fields if (p := too_long(f.id, answer.fields[f.id])) is not None),
            None,
        )
        problem = problem or self.check(answer)
        if problem is not None:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(answer)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter moves to the next field; in the last one it saves.
        event.stop()
        ids = [f.id for f in self.fields]
        at = ids.index(event.input.id) if event.input.id in ids else len(ids) - 1
        if at + 1 < len(ids):
            self.query_one(f"#{ids[at + 1]}", Input).focus()
        else:
            self.action_submit()
