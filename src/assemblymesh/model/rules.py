"""The process vocabulary as data: rule names, roles, phases, states and defaults.

The transition tables that use them, keyed on the act classes, are in ``model.tables``;
``docs/process.md`` renders both for people and a test keeps the page and the code in step.
"""

from __future__ import annotations

from typing import Final

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
REVOCATION_SIGNED: Final = "revocation-signed-by-member-key"
DEVICE_CERTIFIED: Final = "device-certified-by-member"
# Causal time (model.order): an act waits until what it names is here and its time has come.
CONTEXT_PRESENT: Final = "causal-context-present"
NOT_IN_FUTURE: Final = "not-in-the-future"
INVITE_RECORDED_FIRST: Final = "invite-recorded-first"
INVITE_CONTESTED: Final = "invite-contested"
ADMIT_BY_INVITER: Final = "admit-by-inviter"
ROLE_TERM_CAPPED: Final = "role-term-capped"
# Decisions that do what they say, and supporters who never hold a veto.
EFFECT_APPLIES: Final = "effect-applies"
SUPPORTER_STANDING: Final = "supporter-has-standing"
SUPPORTER_NO_ROLE: Final = "supporter-holds-no-role"
SUPPORTER_MAY_NOT: Final = "supporters-propose-and-advise-only"
MEMBER_REMOVED: Final = "member-not-removed"
REVIEW_DUE: Final = "review-due"
# Seed funds and partnerships (model.funds, model.partnerships).
FUND_EXISTS: Final = "fund-exists"
FUND_OPEN: Final = "fund-open-until-dissolution"
FUND_NAME_UNIQUE: Final = "fund-name-unique"
FUND_STEWARD_ONLY: Final = "fund-disbursed-by-current-steward"
FUND_THRESHOLD: Final = "fund-above-threshold-needs-decision"
FUND_NEVER_NEGATIVE: Final = "fund-balance-never-negative"
FUND_SHORTEN_ONLY: Final = "fund-dissolution-shortens-only"
FUND_LENGTHEN_ALONE: Final = "fund-lengthened-by-its-own-decision"
FUND_LIFE_CAPPED: Final = "fund-life-capped"
PLEDGE_EXISTS: Final = "pledge-exists"
PARTNERSHIP_EXISTS: Final = "partnership-exists"
PARTNERSHIP_SHORTEN_ONLY: Final = "partnership-sunset-shortens-only"
SKILL_BY_LEARNER: Final = "skill-confirmed-by-its-learner"
SKILL_CONFIRMED_ONCE: Final = "skill-confirmed-once"
# A round's closing time is informational (a person still closes) and never before it opened.
DEADLINE_AFTER_OPEN: Final = "deadline-after-open"
# A round's discussion thread: questions and reactions in their phases, answers under a question.
COMMENT_IN_PHASE: Final = "comment-in-its-phase"
ANSWER_TO_QUESTION: Final = "answer-under-a-question"
# Members without a device: added by a facilitator, claimed once by a key of their own.
CLAIM_ONCE: Final = "claim-deviceless-once"
# Epochs of the assembly secret: a new one only when due, one per epoch number, in order;
# sealed boxes only for the current epoch and with its check.
REKEY_WHEN_DUE: Final = "rekey-when-due"
ONE_REKEY_PER_EPOCH: Final = "one-rekey-per-epoch"
SEAL_CURRENT_EPOCH: Final = "seal-current-epoch"
SECRETS_BY_MEMBERS: Final = "secrets-by-members"
# Meetings: their roles, agenda, speaking queue and minutes (``model.meetings``).
MEETING_EXISTS: Final = "meeting-exists"
AGENDA_ITEM_EXISTS: Final = "agenda-item-exists"
MEETING_TRANSITION: Final = "meeting-transition"
MEETING_FACILITATOR_ONLY: Final = "meeting-facilitator-only"
NOTE_TAKER_ONLY: Final = "note-taker-only"
MEETING_ROLES_BY_MEMBERS: Final = "meeting-roles-by-members"
ABSENCE_STEPS_BACK: Final = "absence-steps-back"
REFLECTION_AGENDA: Final = "reflection-agenda-by-members"
SUPPORT_ITEM_ONCE: Final = "support-item-once"
ITEM_NAMES_PROPOSAL: Final = "agenda-item-names-proposal"
ONE_HAND_EACH: Final = "one-hand-each"
MEETING_QUORUM: Final = "meeting-quorum"
CLARIFY_SUPPORTER: Final = "clarification-to-supporter"
MINUTES_HASH: Final = "minutes-hash-matches"

# Publications between assemblies (model.library): a library entry verifies, once, bounded.
PUBLICATION_VERIFIES: Final = "publication-verifies"
PUBLICATION_FROM_ELSEWHERE: Final = "publication-from-another-assembly"
LIBRARY_ONCE: Final = "library-once"
LIBRARY_BOUNDED: Final = "library-bounded"
ORIGIN_IN_LIBRARY: Final = "origin-in-library"

# The assembly's own words and the shape of its rounds (model.vocabulary): what keeps consent
# meaningful whatever a decision renames or removes.
BLOCKING_KIND_EXISTS: Final = "blocking-kind-exists"
POSITIONS_PHASE: Final = "positions-phase-exists"
KIND_IN_ROUND: Final = "position-kind-in-round"
ROLE_EXISTS: Final = "role-exists"
TERM_KNOWN: Final = "term-known"

# --- roles -----------------------------------------------------------------------------------

FACILITATOR: Final = "facilitator"
NOTE_TAKER: Final = "note_taker"
STEWARD: Final = "steward"
ROLES: Final = (FACILITATOR, NOTE_TAKER, STEWARD)

# --- positions -------------------------------------------------------------------------------

CONSENT: Final = "consent"
CONCERN: Final = "concern"
STAND_ASIDE: Final = "stand_aside"
OBJECT: Final = "object"
POSITION_KINDS: Final = (CONSENT, CONCERN, STAND_ASIDE, OBJECT)
# Positions that count towards quorum: taking part without blocking.
QUORUM_KINDS: Final = frozenset({CONSENT, CONCERN, STAND_ASIDE})

# --- a round's thread -----------------------------------------------------------------------

QUESTION: Final = "question"
REACTION: Final = "reaction"
ANSWER: Final = "answer"
COMMENT_KINDS: Final = (QUESTION, REACTION, ANSWER)

# --- round phases ----------------------------------------------------------------------------

QUESTIONS: Final = "questions"
REACTIONS: Final = "reactions"
POSITIONS: Final = "positions"
CLOSED: Final = "closed"
PHASES: Final = (QUESTIONS, REACTIONS, POSITIONS, CLOSED)

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
# What closing can give (a withdrawal ends a round without a close).
CLOSE_OUTCOMES: Final = (OUTCOME_ADOPTED, OUTCOME_OBJECTIONS, OUTCOME_NO_QUORUM)

# Events on a proposal besides acts: ``close:<outcome>`` and a late objection.
LATE_OBJECTION: Final = "late_objection"

# --- decision statuses -----------------------------------------------------------------------

PENDING: Final = "pending"
IN_EFFECT: Final = "in-effect"
DECISION_RETURNED: Final = "returned"
DECISION_STATUSES: Final = (PENDING, IN_EFFECT, DECISION_RETURNED)

# --- who may do what -------------------------------------------------------------------------

ANYONE: Final = "anyone holding a genuine invite"
FOUNDER: Final = "the founder (self-certified by the assembly id)"
MEMBER: Final = "any member"
AUTHOR: Final = "the proposal's author"
AUTHOR_OR_FACILITATOR_WHO: Final = "the author or a facilitator"
FACILITATOR_WHO: Final = "a facilitator"
MEMBER_OR_PROXY: Final = (
    "a member, or a facilitator on a member's behalf (provisional); a supporter, advisory"
)
ROLE_AUTHORITY: Final = (
    "the founder while founding (afterwards only a decision's effect; `decision` stays null)"
)
INVITER: Final = "the member who issued the invite"
COMMENTER: Final = "a member, or a supporter with standing; a facilitator on someone's behalf"
PARTICIPANT: Final = "any member, or a supporter with standing"
FUND_STEWARD_WHO: Final = "the fund's current steward, up to the fund's threshold"
PLEDGER_WHO: Final = "whoever made the pledge"
LEARNER_WHO: Final = "the member the skill is to be transferred to, for themselves"
REKEY_WHO: Final = (
    "any member, once a rotation is due (a removal, a revocation or a decision to rotate):"
    " first a device of the member whose act made it due, after 10 minutes anyone"
)
SEAL_WHO: Final = "any member holding the epoch's secret"

# --- invites and participants -----------------------------------------------------------------

MEMBER_INVITE: Final = "member"
SUPPORTER_INVITE: Final = "supporter"
INVITE_KINDS: Final = (MEMBER_INVITE, SUPPORTER_INVITE)

# --- meetings --------------------------------------------------------------------------------

REGULAR: Final = "regular"
REFLECTION: Final = "reflection"  # the members set the whole agenda: no reordering by anyone
ABSENCE: Final = "absence"  # the usual facilitators and the supporters step back
MEETING_KINDS: Final = (REGULAR, REFLECTION, ABSENCE)
SCHEDULED: Final = "scheduled"
IN_SESSION: Final = "in_session"
ENDED: Final = "ended"
CANCELLED: Final = "cancelled"
MEETING_STATES: Final = (SCHEDULED, IN_SESSION, ENDED, CANCELLED)
ITEM_PROPOSAL: Final = "proposal"
ITEM_TOPIC: Final = "topic"
ITEM_REPORT: Final = "report"
ITEM_QUESTION: Final = "question"
ITEM_KINDS: Final = (ITEM_PROPOSAL, ITEM_TOPIC, ITEM_REPORT, ITEM_QUESTION)
DISCUSSED: Final = "discussed"
DECIDED: Final = "decided"
DEFERRED: Final = "deferred"
DROPPED: Final = "dropped"
ITEM_OUTCOMES: Final = (DISCUSSED, DECIDED, DEFERRED, DROPPED)
# The speaking queue: in the order hands went up, or a progressive stack that puts first
# those who have not spoken yet in this meeting, or ever.
STACK_IN_ORDER: Final = "in_order"
STACK_MEETING: Final = "new_in_meeting"
STACK_EVER: Final = "new_ever"
STACK_MODES: Final = (STACK_IN_ORDER, STACK_MEETING, STACK_EVER)
# ``agenda_order``: how items are ordered before the facilitator reorders them.
ORDER_BY_SUPPORT: Final = 0  # most supported first, then the oldest
ORDER_BY_AGE: Final = 1  # the oldest first
AGENDA_ORDERS: Final = (ORDER_BY_SUPPORT, ORDER_BY_AGE)
MAX_AGENDA_ORDER: Final = 64  # item refs a reorder names

# --- rules the assembly may change by decision -----------------------------------------------

RULE_NAMES: Final = (
    "cooling_off_ms",
    "quorum",
    "review_period_ms",
    "block_threshold",
    "meeting_quorum",
    "agenda_order",
    "absence_lookback",
)

# --- defaults --------------------------------------------------------------------------------

DEFAULT_COOLING_OFF_MS: Final = 3 * DAY_MS
DEFAULT_QUORUM: Final = 1
DEFAULT_REVIEW_PERIOD_MS: Final = 180 * DAY_MS
DEFAULT_BLOCK_THRESHOLD: Final = 1
# Members present for a meeting to record an item as decided.
DEFAULT_MEETING_QUORUM: Final = 1
DEFAULT_AGENDA_ORDER: Final = ORDER_BY_SUPPORT
# An absence meeting steps back those who facilitated most of the last N meetings held.
DEFAULT_ABSENCE_LOOKBACK: Final = 3
DEFAULT_TERM_MS: Final = 365 * DAY_MS
# No term of office runs longer than this from the act that grants it.
MAX_TERM_MS: Final = 2 * 365 * DAY_MS
# An act dated further than this past the folding node's clock waits until then.
MAX_FUTURE_SKEW_MS: Final = 5 * 60 * 1000
# A fund lives at most this long from the decision that establishes it (or lengthens it).
MAX_FUND_LIFE_MS: Final = 10 * 365 * DAY_MS
# "Decisions of the last period" in the withdrawal-readiness report.
DEFAULT_READINESS_PERIOD_MS: Final = 90 * DAY_MS
# What a fund does with a balance left at its dissolution.
REMAINDER_RETURN: Final = "return"  # back to the contributors, in proportion
REMAINDER_GIVE: Final = "give"  # to the recipient the fund names
REMAINDER_KINDS: Final = (REMAINDER_RETURN, REMAINDER_GIVE)
# How long after a rotation the previous epoch's secret is still accepted (handshakes,
# bundles, discovery), so that nodes that missed the rotation catch up through a member.
EPOCH_GRACE_MS: Final = 7 * DAY_MS
# A rotation due for this long may be written by any member (the designated writer, a
# device of the member whose act made it due, may be away).
REKEY_FALLBACK_MS: Final = 10 * 60 * 1000
# A round waiting for a member whose deadline is this close (or past) shows a reminder.
DEADLINE_REMINDER_MS: Final = DAY_MS
