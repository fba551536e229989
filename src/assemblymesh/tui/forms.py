"""Dialogs for the meeting's less frequent moves: a comment in the round's thread, a round's
closing time, a member without a device, a role. They collect input and dismiss with it;
the screens write the acts (or draft the decision a move needs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from assemblymesh.errors import UsageError
from assemblymesh.i18n import N_, _
from assemblymesh.model.acts import MAX_LINE_LEN
from assemblymesh.model.vocabulary import Words
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import Form, too_long
from assemblymesh.tui.widgets import BidiInput, BidiStatic
from assemblymesh.utc import parse_utc

MYSELF = "-"  # the "on behalf of" choice that means: in my own name
HOUR_MS = 3_600_000
DEADLINE_HINT = N_("YYYY-MM-DD HH:MM (UTC), or in N hours: 48h; empty: no closing time")


def parse_deadline(text: str, now_ms: int) -> int | None:
    """A closing time typed as ``2026-05-01 18:00`` (UTC) or ``48h`` / ``48`` (hours from
    now); None for an empty field. ``UsageError`` says what is wrong."""
    text = text.strip().lower()
    if not text:
        return None
    hours = re.fullmatch(r"(\d{1,5})\s*h?", text)
    if hours:
        return now_ms + int(hours.group(1)) * HOUR_MS
    moment = parse_utc(text)
    if moment is None:
        raise UsageError(
            _("'{text}' is not a closing time: {hint}").format(text=text, hint=_(DEADLINE_HINT))
        )
    return moment


class _Form(Form[object]):
    """Enter, ctrl+s or OK submits, escape or Cancel cancels; ``submit`` returns the answer
    or None when it said what is wrong under the fields (the dialog stays open, nothing is
    lost)."""

    def submit(self) -> object | None:
        raise NotImplementedError

    def problem(self, text: str, field: str) -> None:
        self.query_one("#error", Static).update(text)
        self.query_one(field).focus()

    def buttons(self, ok: str) -> ComposeResult:
        yield BidiStatic("", id="error", classes="error", markup=False)
        with Horizontal(classes="buttons"):
            yield Button(ok, variant="primary", id="ok")
            yield Button(_("Cancel"), id="cancel")

    def action_submit(self) -> None:
        answer = self.submit()
        if answer is not None:
            self.dismiss(answer)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()


@dataclass(frozen=True)
class CommentInput:
    text: str
    for_member: str | None  # None: in my own name
    parent: str | None  # an answer: the question's ref


class CommentDialog(_Form):
    """A question, a reaction or an answer. ``questions`` (label, ref) make it an answer;
    ``on_behalf`` (name, member id) lets a facilitator record it for someone."""

    def __init__(
        self,
        heading: str,
        *,
        questions: Sequence[tuple[str, str]] = (),
        on_behalf: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.heading = heading
        self.questions = list(questions)
        self.on_behalf = list(on_behalf)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            if self.questions:
                yield Label(_("The question it answers:"))
                yield Select(self.questions, id="question", allow_blank=False)
            yield BidiInput(placeholder=_("What was said"), id="text")
            if self.on_behalf:
                yield Label(_("Whose words (a facilitator records for someone without a device):"))
                choices = [(_("in my own name"), MYSELF), *self.on_behalf]
                yield Select(choices, id="for", allow_blank=False, value=MYSELF)
            yield from self.buttons(_("Record"))

    def on_mount(self) -> None:
        self.query_one("#text").focus()

    def submit(self) -> CommentInput | None:
        text = self.query_one("#text", Input).value.strip()
        problem = _("Write what was said first.") if not text else too_long("text", text)
        if problem is not None:
            self.problem(problem, "#text")
            return None
        parent = str(self.query_one("#question", Select).value) if self.questions else None
        who = str(self.query_one("#for", Select).value) if self.on_behalf else MYSELF
        return CommentInput(text, None if who == MYSELF else who, parent)


class DeadlineDialog(_Form):
    """A round's closing time (informational: a facilitator still closes the round)."""

    def __init__(self, heading: str, now_ms: int, current: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.now_ms = now_ms
        self.current = current
        self.deadline: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            if self.current:
                yield Static(
                    _("Now: {deadline}").format(deadline=self.current), id="current", markup=False
                )
            yield BidiInput(placeholder=_(DEADLINE_HINT), id="deadline")
            yield Static(
                _("The round does not close by itself: it reminds who has not spoken."),
                classes="hint",
                markup=False,
            )
            yield from self.buttons(_("Go"))

    def on_mount(self) -> None:
        self.query_one("#deadline").focus()

    def submit(self) -> tuple[int | None] | None:
        try:
            at = parse_deadline(self.query_one("#deadline", Input).value, self.now_ms)
        except UsageError as exc:
            self.problem(_("{problem}. Nothing was written.").format(problem=exc), "#deadline")
            return None
        if at is not None and at <= self.now_ms:
            self.problem(_("That time has passed: give a later one."), "#deadline")
            return None
        return (at,)


class NameDialog(_Form):
    """One name (a member without a device)."""

    def __init__(self, heading: str, about: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.about = about

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            if self.about:
                yield Static(self.about, markup=False)
            yield BidiInput(placeholder=_("Name"), id="name")
            yield from self.buttons(_("Add"))

    def on_mount(self) -> None:
        self.query_one("#name").focus()

    def submit(self) -> str | None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.problem(_("Give a name."), "#name")
            return None
        if len(name) > MAX_LINE_LEN:
            self.problem(
                _("A name is at most {limit} characters.").format(limit=MAX_LINE_LEN), "#name"
            )
            return None
        return name


@dataclass(frozen=True)
class RoleInput:
    role: str
    grant: bool  # False: end it
    days: int


class RoleDialog(_Form):
    """Grant a role for a term, or end one."""

    def __init__(self, heading: str, held: Sequence[str] = (), words: Words | None = None) -> None:
        super().__init__()
        self.heading = heading
        self.held = tuple(held)
        # Every role of the assembly, its own included, in its words.
        self.words = words if words is not None else Words()
        self.roles = self.words.vocabulary.role_ids()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            with RadioSet(id="role"):
                for i, role in enumerate(self.roles):
                    label = self.words.role(role)
                    if role in self.held:
                        label = _("{role} (holds it)").format(role=label)
                    yield RadioButton(label, value=i == 0, name=role)
            with RadioSet(id="move"):
                yield RadioButton(_("grant it for a term"), value=True, name="grant")
                yield RadioButton(_("end it"), name="end")
            yield BidiInput("90", placeholder=_("Term in days (1-730)"), id="days")
            yield from self.buttons(_("Go"))

    def on_mount(self) -> None:
        self.query_one("#role").focus()

    def _pressed(self, selector: str) -> str:
        button = self.query_one(selector, RadioSet).pressed_button
        return button.name if button is not None and button.name else ""

    def submit(self) -> RoleInput | None:
        days_text = self.query_one("#days", Input).value.strip()
        grant = self._pressed("#move") != "end"
        if grant and not (days_text.isdigit() and 1 <= int(days_text) <= 730):
            self.problem(_("A term is 1 to 730 days."), "#days")
            return None
        days = int(days_text) if days_text.isdigit() else 0
        return RoleInput(self._pressed("#role") or self.roles[0], grant, days)


__all__ = [
    "CommentDialog",
    "CommentInput",
    "DeadlineDialog",
    "NameDialog",
    "RoleDialog",
    "RoleInput",
    "parse_deadline",
]
