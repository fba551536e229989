"""The round's thread on the meeting screen: questions and reactions as posted, answers under
their question, and the keys to ask, react and answer (a facilitator may record for someone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from assemblymesh.i18n import N_, _
from assemblymesh.model import Round, commands
from assemblymesh.model import rules as R
from assemblymesh.model.thread import Strand, ThreadEntry, thread_of
from assemblymesh.tui.forms import CommentDialog, CommentInput
from assemblymesh.tui.view import Digest, clip, name_of

if TYPE_CHECKING:
    from assemblymesh.tui.base import AssemblyScreen

    _Screen = AssemblyScreen
else:
    _Screen = object

THREAD_BINDINGS: list[BindingType] = [
    Binding("k", "ask", N_("Ask")),
    Binding("r", "react", N_("React")),
    Binding("y", "answer", N_("Answer")),
]
# TRANSLATORS: Q, R and A number the thread's questions, reactions and answers (Q1, R2).
MARKS: dict[str, str] = {R.QUESTION: N_("Q"), R.REACTION: N_("R"), R.ANSWER: N_("A")}
RECORDED: dict[str, str] = {
    R.QUESTION: N_("question recorded"),
    R.REACTION: N_("reaction recorded"),
    R.ANSWER: N_("answer recorded"),
}
RECORDED_FOR: dict[str, str] = {
    R.QUESTION: N_("question recorded for them"),
    R.REACTION: N_("reaction recorded for them"),
    R.ANSWER: N_("answer recorded for them"),
}


def who_said(d: Digest, c: ThreadEntry) -> str:
    """'Kofi', 'Sam (supporter)', 'Ama (recorded by Rosa)'."""
    who = name_of(d.state, c.author)
    if c.by_supporter:
        who = _("{name} (supporter)").format(name=who)
    if c.proxy:
        who = _("{name} (recorded by {recorder})").format(
            name=who, recorder=name_of(d.state, c.recorded_by)
        )
    return who


def numbered(strands: tuple[Strand, ...]) -> list[tuple[str, Strand]]:
    """Each question or reaction with its label: Q1, Q2, R1, ... in the thread's order."""
    counts: dict[str, int] = {}
    out = []
    for s in strands:
        counts[s.entry.kind] = counts.get(s.entry.kind, 0) + 1
        out.append((f"{_(MARKS[s.entry.kind])}{counts[s.entry.kind]}", s))
    return out


def thread_text(d: Digest, r: Round | None) -> Text:
    """The thread of ``r``, with a line saying which keys add to it."""
    if r is None:
        return Text(_("No round yet: questions and reactions come once one opens."))
    text = Text()
    for label, strand in numbered(thread_of(d.state.comments, r.id)):
        text.append(f"{label} ", style="bold")
        question = strand.entry.kind == R.QUESTION
        text.append(f"{who_said(d, strand.entry)}: ", style="bold" if question else "")
        text.append(f"{strand.entry.text}\n")
        for answer in strand.answers:
            text.append(f"   ↳ {who_said(d, answer)}: {answer.text}\n")
    if not text:
        text.append(_("No questions or reactions yet.") + "\n")
    if r.phase in (R.QUESTIONS, R.REACTIONS):
        text.append(_("k asks a question, r gives a reaction, y answers a question"), style="dim")
    elif r.phase == R.POSITIONS:
        text.append(_("y answers a question until the round closes"), style="dim")
    text.rstrip()
    return text


class ThreadMoves(_Screen):
    """The meeting screen's thread keys (mixed into ``MeetingScreen``)."""

    THREAD_BINDINGS: ClassVar[list[BindingType]] = THREAD_BINDINGS

    def _thread_round(self) -> tuple[Digest, Round] | None:
        d = self.am.digest
        _proposal, r = self.current()
        if d is None or r is None or r.phase == R.CLOSED:
            self.notify(_("no open round here: a facilitator opens one (o)"), severity="warning")
            return None
        return d, r

    def _on_behalf(self, d: Digest) -> list[tuple[str, str]]:
        """Whom a facilitator may record for: every other participant who takes part now."""
        if not d.can_facilitate():
            return []
        members = (d.state.members[m] for m in d.members)
        return [
            (_("{name} (supporter)").format(name=m.name) if m.supporter else m.name, m.id)
            for m in members
            if m.id != d.me and m.current and m.has_standing(d.now_ms)
        ]

    def _post(self, r: Round, kind: str, answer: CommentInput | None) -> None:
        if answer is None:
            return
        if self.am.write(
            commands.comment, r.id, kind, answer.text, answer.parent, answer.for_member
        ):
            recorded = RECORDED_FOR if answer.for_member else RECORDED
            self.notify(_(recorded[kind]))

    def _comment(self, kind: str) -> None:
        got = self._thread_round()
        if got is None:
            return
        d, r = got
        if r.phase not in (R.QUESTIONS, R.REACTIONS):
            self.notify(
                _("the round is in {phase}: questions and reactions came before").format(
                    phase=d.words.phase(r.phase)
                ),
                title=_("Not now"),
                severity="warning",
            )
            return
        title = name_of_round(d, r)
        heading = (
            _("A question on {title}") if kind == R.QUESTION else _("A reaction to {title}")
        ).format(title=repr(title))
        dialog = CommentDialog(heading, on_behalf=self._on_behalf(d))
        self.app.push_screen(dialog, callback=lambda answer: self._post(r, kind, answer))

    def action_ask(self) -> None:
        self._comment(R.QUESTION)

    def action_react(self) -> None:
        self._comment(R.REACTION)

    def action_answer(self) -> None:
        got = self._thread_round()
        if got is None:
            return
        d, r = got
        strands = numbered(thread_of(d.state.comments, r.id))
        questions = [(label, s) for label, s in strands if s.entry.kind == R.QUESTION]
        if not questions:
            self.notify(_("no question to answer yet (k asks one)"), severity="warning")
            return
        # Unanswered questions first: those are what the room waits for.
        questions.sort(key=lambda item: bool(item[1].answers))
        choices = [
            (f"{label} {name_of(d.state, s.entry.author)}: {clip(s.entry.text, 50)}", s.entry.ref)
            for label, s in questions
        ]
        dialog = CommentDialog(
            _("An answer on {title}").format(title=repr(name_of_round(d, r))),
            questions=choices,
            on_behalf=self._on_behalf(d),
        )
        self.app.push_screen(dialog, callback=lambda answer: self._post(r, R.ANSWER, answer))


def name_of_round(d: Digest, r: Round) -> str:
    p = d.state.proposals.get(r.proposal)
    return p.title if p is not None else r.proposal[:8]


__all__ = ["THREAD_BINDINGS", "ThreadMoves", "thread_text", "who_said"]
