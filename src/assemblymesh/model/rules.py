"""The process rules as data: names, transition tables and who may do what.

These tables are the single source of truth for both sides of the model: the fold
(``model.fold``) replays remote acts through them, and the local commands
(``model.commands``) run a proposed act through the very same replay step before it is
written. ``docs/process.md`` renders them for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from assemblymesh.errors import IllegalMoveError

DAY_MS: Final = 24 * 60 * 60 * 1000

# --- rule names (stable strings: they appear in the audit log and in error messages) ---------

WELL_FORMED: Final = "well-formed-act"
KNOWN_TYPE: Final = "known-act-type"
UNIQUE_ID: Final = "unique-act-id"
GENESIS_BY_FOUNDER: Final = "genesis-by-founder"
GENESIS_ONCE: Final = "genesis-once"
ASSEMBLY_EXISTS: Final = "assembly-exists"
MEMBERS_ONLY: Final = "members-only"
DEVICE_NOT_REVOKED: Final = "device-not-revoked"
JOIN_ONCE: Final = "join-once"
INVITE_GENUINE: Final = "invite-genuine"
INVITE_FOR_ASSEMBLY: Final = "invite-for-this-assembly"
INVITER_IS_MEMBER: Final = "inviter-is-member"
INVITE_NOT_EXPIRED: Final = "invite-not-expired"
INVITE_USED_ONCE: Final = "invite-used-once"
INVITE_RECORDED_ONCE: Final = "invite-recorded-once"
MEMBER_EXISTS: Final = "member-exists"
PROPOSAL_EXISTS: Final = "proposal-exists"
ROUND_EXISTS: Final = "round-exists"
DECISION_EXISTS: Final = "decision-exists"
ROLE_BY_DECISION: Final = "role-by-decision"
DECISION_IN_EFFECT: Final = "decision-in-effect"
ROLE_TERM: Final = "role-term-in-future"
ROLE_HELD: Final = "role-held"
ALLY_CANNOT_FACILITATE: Final = "ally-cannot-facilitate"
ALLY_CANNOT_BLOCK: Final = "ally-cannot-block"
FACILITATOR_ONLY: Final = "facilitator-only"
AUTHOR_ONLY: Final = "author-only"
AUTHOR_OR_FACILITATOR: Final = "author-or-facilitator"
PROPOSAL_TRANSITION: Final = "proposal-transition"
ROUND_TRANSITION: Final = "round-transition"
ROUND_ON_LATEST_VERSION: Final = "round-on-latest-version"
OBJECTION_NEEDS_REASON: Final = "objection-needs-reason"
LATE_OBJECTION_WINDOW: Final = "late-objection-before-effect"
OWN_POSITION_STANDS: Final = "own-position-stands"
LATEST_POSITION_WINS: Final = "latest-position-wins"
REVOKE_ONCE: Final = "revoke-once"

# --- roles -----------------------------------------------------------------------------------

FACILITATOR: Final = "facilitator"
NOTE_TAKER: Final = "note_taker"
STEWARD: Final = "steward"
ALLY: Final = "ally"
ROLES: Final = (FACILITATOR, NOTE_TAKER, STEWARD, ALLY)
# Roles that run rounds and write decisions: an ally may never hold them to effect.
DECIDING_ROLES: Final = frozenset({FACILITATOR})

# --- positions -------------------------------------------------------------------------------

CONSENT: Final = "consent"
CONCERN: Final = "concern"
STAND_ASIDE: Final = "stand_aside"
OBJECT: Final = "object"
POSITION_KINDS: Final = (CONSENT, CONCERN, STAND_ASIDE, OBJECT)
# Positions that count towards quorum: taking part without blocking.
QUORUM_KINDS: Final = frozenset({CONSENT, CONCERN, STAND_ASIDE})

# --- round phases ----------------------------------------------------------------------------

QUESTIONS: Final = "questions"
REACTIONS: Final = "reactions"
POSITIONS: Final = "positions"
CLOSED: Final = "closed"
PHASES: Final = (QUESTIONS, REACTIONS, POSITIONS, CLOSED)

# (phase, act type) -> phase after the act. A pair that is absent is an illegal move.
ROUND_MOVES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (QUESTIONS, "advance_round"): REACTIONS,
        (REACTIONS, "advance_round"): POSITIONS,
        (POSITIONS, "position"): POSITIONS,
        (POSITIONS, "close_round"): CLOSED,
        (QUESTIONS, "withdraw"): CLOSED,
        (REACTIONS, "withdraw"): CLOSED,
        (POSITIONS, "withdraw"): CLOSED,
    }
)

# --- proposal states -------------------------------------------------------------------------

OPEN: Final = "open"
IN_ROUND: Final = "in-round"
ADOPTED_PENDING: Final = "adopted-pending"
ADOPTED: Final = "adopted"
RETURNED: Final = "returned"
REJECTED: Final = "rejected"
WITHDRAWN: Final = "withdrawn"
PROPOSAL_STATES: Final = (OPEN, IN_ROUND, ADOPTED_PENDING, ADOPTED, RETURNED, REJECTED, WITHDRAWN)

# Round outcomes, decided by ``close_round`` (or by the author's ``withdraw`` mid-round).
OUTCOME_ADOPTED: Final = "adopted"
OUTCOME_OBJECTIONS: Final = "objections"
OUTCOME_NO_QUORUM: Final = "no-quorum"
OUTCOME_WITHDRAWN: Final = "withdrawn"

# Events on a proposal: act types, plus ``close:<outcome>`` and ``late_objection``.
LATE_OBJECTION: Final = "late_objection"

# (state, event) -> state. ``adopted`` (in effect) is reached by time alone, never by an act,
# so no act moves a proposal out of it: an adopted decision is changed by a new proposal.
PROPOSAL_MOVES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (OPEN, "amend"): OPEN,
        (RETURNED, "amend"): OPEN,
        (OPEN, "open_round"): IN_ROUND,
        (IN_ROUND, "close:" + OUTCOME_ADOPTED): ADOPTED_PENDING,
        (IN_ROUND, "close:" + OUTCOME_OBJECTIONS): RETURNED,
        (IN_ROUND, "close:" + OUTCOME_NO_QUORUM): OPEN,
        (OPEN, "withdraw"): WITHDRAWN,
        (IN_ROUND, "withdraw"): WITHDRAWN,
        (RETURNED, "withdraw"): WITHDRAWN,
        (RETURNED, "reject"): REJECTED,
        (ADOPTED_PENDING, LATE_OBJECTION): RETURNED,
    }
)

# --- decision statuses -----------------------------------------------------------------------

PENDING: Final = "pending"
IN_EFFECT: Final = "in-effect"
DECISION_RETURNED: Final = "returned"
DECISION_STATUSES: Final = (PENDING, IN_EFFECT, DECISION_RETURNED)

# (status, event) -> status. ``cooling_off_elapsed`` is not an act: it happens when the
# clock passes ``effective_ts``, which is why the fold takes ``now_ms``.
DECISION_MOVES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (PENDING, "cooling_off_elapsed"): IN_EFFECT,
        (PENDING, LATE_OBJECTION): DECISION_RETURNED,
        (DECISION_RETURNED, LATE_OBJECTION): DECISION_RETURNED,
    }
)

# --- who may do what -------------------------------------------------------------------------

ANYONE: Final = "anyone holding a genuine invite"
FOUNDER: Final = "the founder (self-certified by the assembly id)"
MEMBER: Final = "any member"
AUTHOR: Final = "the proposal's author"
AUTHOR_OR_FACILITATOR_WHO: Final = "the author or a facilitator"
FACILITATOR_WHO: Final = "a facilitator (not an ally)"
MEMBER_OR_PROXY: Final = "the member, or a facilitator on their behalf (provisional)"
ROLE_AUTHORITY: Final = "a facilitator citing a decision in effect; the founder while founding"

WHO_MAY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "create": FOUNDER,
        "invite": MEMBER,
        "join": ANYONE,
        "grant_role": ROLE_AUTHORITY,
        "end_role": ROLE_AUTHORITY + "; the holder themselves",
        "propose": MEMBER,
        "amend": AUTHOR_OR_FACILITATOR_WHO,
        "withdraw": AUTHOR,
        "open_round": FACILITATOR_WHO,
        "advance_round": FACILITATOR_WHO,
        "position": MEMBER_OR_PROXY,
        "close_round": FACILITATOR_WHO,
        "reject": FACILITATOR_WHO,
        "revoke_device": "the member, for their own devices",
    }
)

# --- defaults --------------------------------------------------------------------------------

DEFAULT_COOLING_OFF_MS: Final = 3 * DAY_MS
DEFAULT_QUORUM: Final = 1
DEFAULT_REVIEW_PERIOD_MS: Final = 180 * DAY_MS
DEFAULT_TERM_MS: Final = 365 * DAY_MS


def round_move(phase: str, act_type: str) -> str:
    """The phase a round reaches by ``act_type``; raise if the table has no such move."""
    nxt = ROUND_MOVES.get((phase, act_type))
    if nxt is None:
        raise IllegalMoveError(ROUND_TRANSITION, f"a round in phase {phase!r} allows no {act_type}")
    return nxt


def next_phase(phase: str) -> str:
    """The phase ``advance_round`` leads to from ``phase``; raise if there is none."""
    return round_move(phase, "advance_round")


def proposal_move(state: str, event: str) -> str:
    """The state a proposal reaches by ``event``; raise if the table has no such move."""
    nxt = PROPOSAL_MOVES.get((state, event))
    if nxt is None:
        raise IllegalMoveError(PROPOSAL_TRANSITION, f"a proposal that is {state} allows no {event}")
    return nxt


def decision_move(status: str, event: str) -> str:
    """The status a decision reaches by ``event``; raise if the table has no such move."""
    nxt = DECISION_MOVES.get((status, event))
    if nxt is None:
        raise IllegalMoveError(
            LATE_OBJECTION_WINDOW, f"a decision that is {status} allows no {event}"
        )
    return nxt
