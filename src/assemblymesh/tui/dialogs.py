"""Modal dialogs: they collect input and dismiss with it; the screens write the acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
    TextArea,
)

from assemblymesh.errors import AssemblyMeshError
from assemblymesh.i18n import N_, _, format_number
from assemblymesh.model import rules as R
from assemblymesh.model.acts import MAX_TEXT_LEN, Effect, text_problem
from assemblymesh.model.effect_text import EFFECT_FORMS
from assemblymesh.model.vocabulary import Words
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.widgets import BidiInput, BidiStatic

# What a text over the limit is told, by what the text is (one whole sentence each).
TOO_LONG: dict[str, str] = {
    "reason": N_(
        "The reason is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
    "title": N_(
        "The title is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
    "text": N_(
        "The text is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
    "note": N_(
        "The note is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
    "statement": N_(
        "The statement is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
    "draft": N_(
        "The draft is {length} characters; the limit is {limit}. "
        "Shorten it: nothing was saved, and nothing is lost."
    ),
}
TOO_LONG_FIELD = N_(
    "This field is {length} characters; the limit is {limit}. "
    "Shorten it: nothing was saved, and nothing is lost."
)


def too_long(what: str, text: str) -> str | None:
    """The message for a text over the model's limit (the dialog keeps the text)."""
    if len(text) <= MAX_TEXT_LEN:
        return None
    message = _(TOO_LONG.get(what, TOO_LONG_FIELD))
    return message.format(length=format_number(len(text)), limit=format_number(MAX_TEXT_LEN))


def unshowable(text: str, *, line: bool) -> str | None:
    """The message for a control or direction character the record refuses in ``text`` (a
    title when ``line``, where a newline or a tab is refused too); the dialog keeps the text."""
    if text_problem(text, line=line) is None:
        return None
    char = next(c for c in text if text_problem(c, line=line) is not None)
    return _(
        "The text holds the invisible character U+{code}, which would change how it reads "
        "on screen: remove it. Nothing was saved, and nothing is lost."
    ).format(code=f"{ord(char):04X}")


_T = TypeVar("_T")


class Form(ModalScreen[_T | None]):
    """A modal form: its OK button and ctrl+s submit, its other button and escape cancel
    (dismissing with None); each form says what submitting means."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "submit", N_("Save")),
    ]

    def action_submit(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()


@dataclass(frozen=True)
class PositionInput:
    kind: str
    reason: str


class PositionDialog(Form[PositionInput]):
    """Choose consent / concern / stand aside / object, with a reason (required to object)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "submit", N_("Record")),
    ]

    def __init__(
        self,
        heading: str,
        current: str | None = None,
        objection_only: bool = False,
        *,
        words: Words | None = None,
        kinds: tuple[str, ...] = R.POSITION_KINDS,
        reasoned: tuple[str, ...] = (R.OBJECT,),
    ):
        super().__init__()
        self.heading = heading
        # The kinds the round takes, in the assembly's words.
        self.words = words if words is not None else Words()
        self.kinds = (R.OBJECT,) if objection_only else kinds
        self.reasoned = reasoned
        self.current = current if current in self.kinds else self.kinds[0]

    def label(self, kind: str) -> str:
        label = self.words.kind(kind)
        return label.upper() if kind == R.OBJECT else label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            with RadioSet(id="kind"):
                for kind in self.kinds:
                    yield RadioButton(self.label(kind), value=kind == self.current, name=kind)
            yield BidiInput(placeholder=_("Reason (required to object)"), id="reason")
            yield BidiStatic("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Record"), variant="primary", id="ok")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()

    def chosen_kind(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else self.kinds[0]

    def action_submit(self) -> None:
        kind = self.chosen_kind()
        reason = self.query_one("#reason", Input).value.strip()
        problem = too_long("reason", reason)
        if kind in self.reasoned and not reason:
            problem = _("{kind} needs a reason.").format(kind=self.label(kind))
            if kind == R.OBJECT:
                problem = _("An {objection} needs a reason.").format(
                    objection=self.words.term("objection")
                )
        if problem is not None:
            self.query_one("#error", Static).update(problem)
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(PositionInput(kind, reason))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()


@dataclass(frozen=True)
class TextInput:
    title: str
    body: str
    note: str
    # Parsed from the effects field; None when the dialog has none or its text is as given
    # (an amendment then keeps the current version's effects exactly).
    effects: tuple[Effect, ...] | None = None


EffectParser = Callable[[str], Effect]


def parse_effect_lines(text: str, parse: EffectParser) -> tuple[tuple[Effect, ...], str | None]:
    """Every non-blank line as an effect; else the first bad line's problem, on one line."""
    effects: list[Effect] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        typed = line.strip()
        try:
            effects.append(parse(typed))
        except AssemblyMeshError as exc:
            # The parser's message repeats the effect and, for an unknown form, every form:
            # the line number and the hint beside the field say those already.
            problem = str(exc).removeprefix(f"effect {typed!r}").lstrip(": ")
            if problem.startswith("is not one of: "):
                problem = _("not one of the forms listed")
            message = _("Effect on line {number} ({effect}): {problem}. Nothing was saved.")
            return (), message.format(number=number, effect=typed, problem=problem)
    return tuple(effects), None


class TextDialog(Form[TextInput]):
    """A proposal's text: a title line (new proposals), the body, a note (amendments)."""

    def __init__(
        self,
        heading: str,
        *,
        body: str = "",
        title: str | None = None,
        note: str | None = None,
        effects: str | None = None,
        parse_effect: EffectParser | None = None,
    ) -> None:
        super().__init__()
        self.heading = heading
        self.initial_body = body
        self.initial_title = title
        self.initial_note = note
        # The effects field appears only with a parser: effects name members of this state.
        self.initial_effects = effects if parse_effect is not None else None
        self.parse_effect = parse_effect

    def compose(self) -> ComposeResult:
        # Scrolls: with the effects field the form is taller than a 24-line terminal.
        with VerticalScroll(classes="dialog wide"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            if self.initial_title is not None:
                yield BidiInput(self.initial_title, placeholder=_("Title"), id="title")
            yield TextArea(self.initial_body, id="body", soft_wrap=True)
            if self.initial_effects is not None:
                yield Label(_("What it does when it takes effect (optional), one per line:"))
                yield TextArea(self.initial_effects, id="effects", soft_wrap=True)
                yield Static(EFFECT_FORMS, id="effects-hint", classes="hint", markup=False)
            if self.initial_note is not None:
                yield BidiInput(self.initial_note, placeholder=_("What changed and why"), id="note")
            yield BidiStatic("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save  ctrl+s"), variant="primary", id="ok")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        first = self.query("#title")
        (first.first() if first else self.query_one("#body")).focus()

    def _value(self, selector: str) -> str:
        found = self.query(selector)
        if not found:
            return ""
        widget = found.first()
        if isinstance(widget, Input | TextArea):
            return widget.value if isinstance(widget, Input) else widget.text
        return ""

    def _effects(self) -> tuple[tuple[Effect, ...] | None, str | None]:
        """The typed effects (None: none asked for, or left as given) or the problem."""
        if self.parse_effect is None or self.initial_effects is None:
            return None, None
        text = self._value("#effects")
        if text.strip() == self.initial_effects.strip() and self.initial_effects.strip():
            return None, None
        return parse_effect_lines(text, self.parse_effect)

    def action_submit(self) -> None:
        title = self._value("#title").strip()
        body = self.query_one("#body", TextArea).text.strip()
        if self.initial_title is not None and not title:
            self.query_one("#error", Static).update(_("Give the proposal a title."))
            return
        if not body:
            self.query_one("#error", Static).update(_("The text must not be empty."))
            return
        note = self._value("#note").strip()
        for what, text, field in (("title", title, "#title"), ("text", body, "#body"),
                                  ("note", note, "#note")):  # fmt: skip
            problem = too_long(what, text) or unshowable(text, line=field == "#title")
            if problem is not None:
                self.query_one("#error", Static).update(problem)
                self.query_one(field).focus()
                return
        effects, problem = self._effects()
        if problem is not None:
            self.query_one("#error", Static).update(problem)
            self.query_one("#effects").focus()
            return
        self.dismiss(TextInput(title, body, note, effects))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter in the title moves on to the body; in the note it saves.
        event.stop()
        if event.input.id == "title":
            self.query_one("#body").focus()
        else:
            self.action_submit()


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no. With a ``warning`` (who would not be heard), yes also needs the box
    "go ahead anyway" ticked: an explicit second step, not one stray key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", N_("Yes")),
        Binding("n,escape", "answer(False)", N_("No")),
    ]

    def __init__(self, question: str, detail: str = "", warning: str = "", anyway: str = ""):
        super().__init__()
        self.question = question
        self.detail = detail
        self.warning = warning
        self.anyway = anyway or _("Go ahead anyway")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.question), classes="dialog-title", markup=False)
            if self.detail:
                yield Static(BidiLines(Text(self.detail)), markup=False)
            if self.warning:
                yield Static(
                    BidiLines(Text(self.warning)), id="warning", classes="error", markup=False
                )
                yield Checkbox(self.anyway, id="anyway")
                yield BidiStatic("", id="error", classes="error", markup=False)
            yield from self.more()
            with Horizontal(classes="buttons"):
                yield Button(_("Yes (y)"), variant="warning", id="yes")
                yield Button(_("No (n)"), id="no")

    def more(self) -> ComposeResult:
        """What a kind of confirmation asks besides yes or no (nothing here)."""
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#no").focus()

    def action_answer(self, answer: bool) -> None:
        if answer and self.warning and not self.query_one("#anyway", Checkbox).value:
            self.query_one("#error", Static).update(
                _("Tick '{box}' first (space).").format(box=self.anyway)
            )
            self.query_one("#anyway").focus()
            return
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "yes")


AddressParser = Callable[[str], tuple[str, int]]


class AddressDialog(ModalScreen[tuple[str, int] | None]):
    """A peer's address, HOST:PORT (``[v6]:PORT`` for IPv6; the port may be left out). A
    bad address is said under the field and the dialog stays open: nothing is saved."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, parse: AddressParser) -> None:
        super().__init__()
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Add a peer: its address"), classes="dialog-title", markup=False)
            yield BidiInput(placeholder=_("HOST:PORT, e.g. 192.168.1.20:7361 or [fd00::5]:7361"))
            yield BidiStatic("", id="error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            address = self.parse(event.value)
        except AssemblyMeshError as exc:
            self.query_one("#error", Static).update(
                _("{problem}. Nothing was saved.").format(problem=exc)
            )
            return
        self.dismiss(address)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloseDialog(ConfirmDialog):
    """Closing a round: the confirmation, with an optional statement of what was decided and
    why, kept with the decision. Enter in the statement answers yes; ``statement`` holds it
    once the dialog is answered."""

    def __init__(self, question: str, detail: str = "", warning: str = "", anyway: str = ""):
        super().__init__(question, detail, warning, anyway)
        self.statement = ""

    def more(self) -> ComposeResult:
        yield BidiInput(
            placeholder=_("Statement: what was decided and why (optional)"), id="statement"
        )
        yield BidiStatic("", id="statement-error", classes="error", markup=False)

    def action_answer(self, answer: bool) -> None:
        statement = self.query_one("#statement", Input).value.strip()
        problem = too_long("statement", statement) if answer else None
        if problem is not None:
            self.query_one("#statement-error", Static).update(problem)
            self.query_one("#statement", Input).focus()
            return
        self.statement = statement
        super().action_answer(answer)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer(True)


Attempt = Callable[[str], str | None]  # a passphrase -> why it did not open, or None


class PassphraseDialog(ModalScreen[bool]):
    """A passphrase, typed hidden. ``attempt`` tries it (the app opens the key files or
    unlocks the member key through ``LocalAssembly``); a wrong one is said under the field
    and the dialog stays open with nothing changed. Dismisses True once it opened, False
    when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, heading: str, detail: str, attempt: Attempt) -> None:
        super().__init__()
        self.heading = heading
        self.detail = detail
        self.attempt = attempt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            yield Static(BidiLines(Text(self.detail)), markup=False)
            yield BidiInput(placeholder=_("Passphrase"), password=True, id="passphrase")
            yield BidiStatic("", id="error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            self.query_one("#error", Static).update(_("Type the passphrase (escape cancels)."))
            return
        problem = self.attempt(event.value)
        if problem is not None:
            event.input.value = ""
            self.query_one("#error", Static).update(
                _("{problem}. Nothing changed.").format(problem=problem)
            )
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
