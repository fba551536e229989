"""The transition tables, keyed on the act classes of ``model.acts``.

They are the single source of truth for both sides of the model: the fold (``model.fold``)
replays remote acts through them, and the local commands (``model.commands``) run a proposed
act through the very same replay step before it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model import vocabulary as V

# An event on a proposal or a decision: an act class, or a named event that is not an act.
Event = type[A.Act] | str


def close_event(outcome: str) -> str:
    return "close:" + outcome


# (phase, act) -> phase after the act. A pair that is absent is an illegal move.
ROUND_MOVES: Final[Mapping[tuple[str, type[A.Act]], str]] = MappingProxyType(
    {
        (R.QUESTIONS, A.AdvanceRound): R.REACTIONS,
        (R.REACTIONS, A.AdvanceRound): R.POSITIONS,
        (R.POSITIONS, A.TakePosition): R.POSITIONS,
        (R.POSITIONS, A.CloseRound): R.CLOSED,
        (R.QUESTIONS, A.Withdraw): R.CLOSED,
        (R.REACTIONS, A.Withdraw): R.CLOSED,
        (R.POSITIONS, A.Withdraw): R.CLOSED,
        (R.QUESTIONS, A.Comment): R.QUESTIONS,
        (R.REACTIONS, A.Comment): R.REACTIONS,
        (R.POSITIONS, A.Comment): R.POSITIONS,
    }
)

# kind of comment -> the phases it may be posted in. Questions and reactions belong to the
# first two phases (either of them: a device that had not seen the advance still counts);
# an answer may follow its question until the round closes.
COMMENT_PHASES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        R.QUESTION: frozenset({R.QUESTIONS, R.REACTIONS}),
        R.REACTION: frozenset({R.QUESTIONS, R.REACTIONS}),
        R.ANSWER: frozenset({R.QUESTIONS, R.REACTIONS, R.POSITIONS}),
    }
)

# (state, event) -> state. ``adopted`` (in effect) is reached by time alone, never by an act,
# so no act moves a proposal out of it: an adopted decision is changed by a new proposal.
PROPOSAL_MOVES: Final[Mapping[tuple[str, Event], str]] = MappingProxyType(
    {
        (R.OPEN, A.Amend): R.OPEN,
        (R.RETURNED, A.Amend): R.OPEN,
        (R.OPEN, A.OpenRound): R.IN_ROUND,
        (R.ADOPTED, A.OpenRound): R.IN_ROUND,  # a review round, once the review is due
        (R.IN_ROUND, close_event(R.OUTCOME_ADOPTED)): R.ADOPTED_PENDING,
        (R.IN_ROUND, close_event(R.OUTCOME_OBJECTIONS)): R.RETURNED,
        (R.IN_ROUND, close_event(R.OUTCOME_NO_QUORUM)): R.OPEN,
        (R.OPEN, A.Withdraw): R.WITHDRAWN,
        (R.IN_ROUND, A.Withdraw): R.WITHDRAWN,
        (R.RETURNED, A.Withdraw): R.WITHDRAWN,
        (R.RETURNED, A.Reject): R.REJECTED,
        (R.ADOPTED_PENDING, R.LATE_OBJECTION): R.RETURNED,
    }
)

COOLING_OFF_ELAPSED: Final = "cooling_off_elapsed"

# (status, event) -> status. ``cooling_off_elapsed`` is not an act: it happens when the
# clock passes ``effective_ts``, which is why the fold takes ``now_ms``.
DECISION_MOVES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (R.PENDING, COOLING_OFF_ELAPSED): R.IN_EFFECT,
        (R.PENDING, R.LATE_OBJECTION): R.DECISION_RETURNED,
        (R.DECISION_RETURNED, R.LATE_OBJECTION): R.DECISION_RETURNED,
    }
)

# (state, state named by ``advance_meeting``) -> the meeting's state after it.
MEETING_MOVES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (R.SCHEDULED, R.IN_SESSION): R.IN_SESSION,
        (R.IN_SESSION, R.ENDED): R.ENDED,
        (R.SCHEDULED, R.CANCELLED): R.CANCELLED,
    }
)

# Who may write each act type, in words (docs/process.md).
WHO_MAY: Final[Mapping[str, str]] = MappingProxyType({cls.TYPE: cls.WHO for cls in A.ACT_CLASSES})


def event_name(event: Event) -> str:
    return event if isinstance(event, str) else event.TYPE


def round_move(phase: str, act: type[A.Act]) -> str:
    """The phase a round reaches by ``act``; raise if the table has no such move."""
    nxt = ROUND_MOVES.get((phase, act))
    if nxt is None:
        raise IllegalMoveError(
            R.ROUND_TRANSITION, f"a round in phase {phase!r} allows no {act.TYPE}"
        )
    return nxt


def comment_move(phase: str, kind: str) -> None:
    """Raise unless a comment of ``kind`` may be posted on a round in ``phase``."""
    round_move(phase, A.Comment)
    if phase not in COMMENT_PHASES[kind]:
        allowed = " or ".join(p for p in R.PHASES if p in COMMENT_PHASES[kind])
        raise IllegalMoveError(
            R.COMMENT_IN_PHASE, f"a {kind} belongs to the {allowed} phase; the round is in {phase}"
        )


def next_phase(phase: str, phases: tuple[str, ...] = V.DEFAULT_PHASES) -> str:
    """The phase ``advance_round`` leads to from ``phase`` in a round going through
    ``phases`` (the table's moves, for the default phases); raise if there is none."""
    if phases == V.DEFAULT_PHASES:
        return round_move(phase, A.AdvanceRound)
    at = phases.index(phase) if phase in phases else len(phases)
    if at + 1 >= len(phases):
        raise IllegalMoveError(
            R.ROUND_TRANSITION, f"a round in phase {phase!r} allows no {A.AdvanceRound.TYPE}"
        )
    return phases[at + 1]


def proposal_move(state: str, event: Event) -> str:
    """The state a proposal reaches by ``event``; raise if the table has no such move."""
    nxt = PROPOSAL_MOVES.get((state, event))
    if nxt is None:
        raise IllegalMoveError(
            R.PROPOSAL_TRANSITION, f"a proposal that is {state} allows no {event_name(event)}"
        )
    return nxt


def meeting_move(state: str, to: str) -> str:
    """The state a meeting reaches when advanced ``to``; raise if the table has no such move."""
    nxt = MEETING_MOVES.get((state, to))
    if nxt is None:
        raise IllegalMoveError(R.MEETING_TRANSITION, f"a meeting that is {state} cannot be {to}")
    return nxt


def decision_move(status: str, event: str) -> str:
    """The status a decision reaches by ``event``; raise if the table has no such move."""
    nxt = DECISION_MOVES.get((status, event))
    if nxt is None:
        raise IllegalMoveError(
            R.LATE_OBJECTION_WINDOW, f"a decision that is {status} allows no {event}"
        )
    return nxt


__all__ = [
    "COMMENT_PHASES",
    "COOLING_OFF_ELAPSED",
    "DECISION_MOVES",
    "MEETING_MOVES",
    "PROPOSAL_MOVES",
    "ROUND_MOVES",
    "WHO_MAY",
    "close_event",
    "comment_move",
    "decision_move",
    "event_name",
    "meeting_move",
    "next_phase",
    "proposal_move",
    "round_move",
]
