"""Co-editing a draft in the shared document, with others' edits appearing live.

Each local edit is written at once as the smallest delete + insert against the last text
this editor saw in the shared document, so concurrent edits merge in the CRDT. When others'
edits arrive, only the changed spans of the text area are replaced, so the cursor stays on
the text it was on.
"""

from __future__ import annotations

import difflib
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static, TextArea

from assemblymesh.errors import AssemblyMeshError
from assemblymesh.i18n import N_, _
from assemblymesh.model import Proposal, commands
from assemblymesh.model.effect_text import parse_effect
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import TextDialog, TextInput, too_long
from assemblymesh.tui.footer import TranslatedFooter
from assemblymesh.tui.messages import SharedChanged

DRAFT_PREFIX = "draft/"


def draft_key(proposal: str | None) -> str:
    """The shared text a draft lives in: one per proposal (amendments), one for a new one."""
    return DRAFT_PREFIX + (proposal or "new")


def edit_span(old: str, new: str) -> tuple[int, int, str]:
    """The smallest (start, end, replacement) turning ``old`` into ``new``."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, new[start:end_new]


def _location(text: str, index: int) -> tuple[int, int]:
    """(row, column) of a code point index, as the text area counts them."""
    before = text[:index]
    row = before.count("\n")
    return row, index - (before.rfind("\n") + 1)


class DraftScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", N_("Back")),
        Binding("ctrl+s", "submit", N_("Amend / propose from draft")),
        Binding("ctrl+r", "seed", N_("Start from current text")),
    ]

    def __init__(self, key: str, proposal: Proposal | None) -> None:
        super().__init__(id="draft")
        self.key = key
        self.proposal = proposal
        self._synced = ""  # the shared text as this editor last wrote or read it

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        about = (
            _(
                "Co-editing an amendment to '{title}'. Everyone's edits appear live;"
                " ctrl+s puts the text to the assembly."
            ).format(title=self.proposal.title)
            if self.proposal is not None
            else _(
                "Co-editing a new proposal. Everyone's edits appear live;"
                " ctrl+s puts the text to the assembly."
            )
        )
        yield Static(display(about), classes="nav", markup=False)
        yield TextArea(id="draft-text", soft_wrap=True)
        yield TranslatedFooter()

    def _shared_text(self) -> str:
        local = getattr(self.app, "local", None)
        if local is None:
            return ""
        return str(local.draft(self.key))

    def on_mount(self) -> None:
        self._synced = self._shared_text()
        area = self.query_one(TextArea)
        area.load_text(self._synced)
        area.focus()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _flush(self) -> None:
        """Write what was typed since the last sync, rebased onto the shared text."""
        typed = self.text
        if typed == self._synced:
            return
        local = getattr(self.app, "local", None)
        if local is None:
            return
        start, end, insert = edit_span(self._synced, typed)
        try:
            # Others' edits may have landed since: the root moves the span onto today's text.
            self._synced = local.edit_draft(self.key, self._synced, start, end, insert)
        except AssemblyMeshError as exc:
            self.notify(_("draft not saved: {error}").format(error=exc), severity="error")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._flush()

    def on_shared_changed(self, message: SharedChanged) -> None:
        if message.local:
            return
        self._flush()
        merged = self._shared_text()
        self._synced = merged
        area = self.query_one(TextArea)
        current = area.text
        if merged == current:
            return
        matcher = difflib.SequenceMatcher(None, current, merged, autojunk=False)
        # Right to left, so the locations of spans still to edit do not move.
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                continue
            start = _location(current, i1)
            end = _location(current, i2)
            area.replace(merged[j1:j2], start, end, maintain_selection_offset=True)

    def action_seed(self) -> None:
        if self.proposal is None or self.text.strip():
            self.notify(_("the draft already has text"), severity="warning")
            return
        self.query_one(TextArea).load_text(self.proposal.latest.body)
        self._flush()

    def action_submit(self) -> None:
        write = getattr(self.app, "write", None)
        body = self.text.strip()
        if write is None or not body:
            self.notify(_("the draft is empty"), severity="warning")
            return
        problem = too_long("draft", body)
        if problem is not None:
            self.notify(problem, title=_("Not put to the assembly"), severity="error")
            return
        proposal = self.proposal
        if proposal is not None:

            def amend(answer: TextInput | None) -> None:
                if answer is not None and write(commands.amend, proposal.id, body, answer.body):
                    self.notify(_("'{title}' amended from the draft").format(title=proposal.title))
                    self.dismiss()

            self.app.push_screen(
                TextDialog(
                    _("Amend '{title}': what changed and why?").format(title=proposal.title)
                ),
                callback=amend,
            )
        else:

            def propose(answer: TextInput | None) -> None:
                if answer is not None and write(
                    commands.propose, answer.title, answer.body, answer.effects or ()
                ):
                    self.notify(_("proposed '{title}'").format(title=answer.title))
                    self.dismiss()

            digest = getattr(self.app, "digest", None)
            parser = partial(parse_effect, digest.state) if digest is not None else None
            dialog = TextDialog(
                _("Propose the draft"), title="", body=body, effects="", parse_effect=parser
            )
            self.app.push_screen(dialog, callback=propose)

    def action_leave(self) -> None:
        self._flush()
        self.dismiss()
