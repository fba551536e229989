"""A round's discussion thread: clarifying questions, reactions, and answers under a question
(Loomio's discussion thread, in the phases of a sociocratic round).

Each entry is a signed ``comment`` act (``model.acts.Comment``) folded in the global order:
the records here, the checks the fold runs on a comment, and the thread as the screens and
the command line show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import rules as R


@dataclass(frozen=True)
class ThreadEntry:
    """One question, reaction or answer, as the fold accepted it."""

    ref: str  # the comment act's ref: answers name it
    round: str
    kind: str  # question, reaction or answer
    text: str
    author: str  # whose words: the member it was recorded for, or its writer
    recorded_by: str  # the member whose device wrote it (a facilitator, for someone else)
    ts: int  # causal time
    phase: str  # the round's phase when it was posted
    parent: str | None = None  # an answer: the question it answers
    by_supporter: bool = False  # an outside supporter's words: a request to clarify, advisory

    @property
    def proxy(self) -> bool:
        return self.recorded_by != self.author


def check_parent(
    comments: Mapping[str, ThreadEntry], round_ref: str, kind: str, parent: str | None
) -> None:
    """An answer names a question of the same round; a question or a reaction names none."""
    if kind != R.ANSWER:
        if parent is not None:
            raise IllegalMoveError(R.ANSWER_TO_QUESTION, f"a {kind} answers nothing: no parent")
        return
    if parent is None:
        raise IllegalMoveError(R.ANSWER_TO_QUESTION, "an answer names the question it answers")
    question = comments.get(parent)
    if question is None or question.round != round_ref or question.kind != R.QUESTION:
        raise IllegalMoveError(
            R.ANSWER_TO_QUESTION, f"{parent[:8]} is not a question of this round"
        )


@dataclass(frozen=True)
class Strand:
    """A question or a reaction, with the answers under it (a question's), in order."""

    entry: ThreadEntry
    answers: tuple[ThreadEntry, ...] = ()


def thread_of(comments: Mapping[str, ThreadEntry], round_ref: str) -> tuple[Strand, ...]:
    """The thread of a round: its questions and reactions in the order the record holds
    them, each question with its answers."""
    tops = [c for c in comments.values() if c.round == round_ref and c.parent is None]
    answers: dict[str, list[ThreadEntry]] = {}
    for c in comments.values():
        if c.round == round_ref and c.parent is not None:
            answers.setdefault(c.parent, []).append(c)
    return tuple(Strand(t, tuple(answers.get(t.ref, ()))) for t in tops)


def open_questions(comments: Mapping[str, ThreadEntry], round_ref: str) -> tuple[ThreadEntry, ...]:
    """The round's questions that have no answer yet, oldest first."""
    strands = thread_of(comments, round_ref)
    return tuple(s.entry for s in strands if s.entry.kind == R.QUESTION and not s.answers)


__all__ = ["Strand", "ThreadEntry", "check_parent", "open_questions", "thread_of"]
