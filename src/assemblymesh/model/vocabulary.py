"""The assembly's own words: stable term ids, their labels, and the shape of a round.

The fold works on term ids only (a position's kind is ``object`` whatever the assembly calls
it); a decision with a ``words`` effect gives labels to terms, for one language, and they
live in ``state.vocabulary`` alone. ``Words`` answers, for one language, what to show for a
term: the assembly's label for that language if it decided one, else the default label
translated through the catalogue.

A decision may also add roles of the assembly's own (``add_role``) and choose which phases a
round goes through and which position kinds exist (``round_shape``), within what keeps
consent meaningful: each limit is a named rule, checked when the decision is proposed and
again when it takes effect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from assemblymesh import i18n
from assemblymesh.errors import IllegalMoveError
from assemblymesh.i18n import N_
from assemblymesh.model import rules as R

# --- term ids ----------------------------------------------------------------------------------

NOUNS: Final = ("proposal", "proposals", "round", "rounds", "objection", "objections")
# The phases a round may be given (``closed`` always ends it).
SHAPE_PHASES: Final = (R.QUESTIONS, R.REACTIONS, R.POSITIONS)
DEFAULT_PHASES: Final = SHAPE_PHASES
DEFAULT_KINDS: Final = R.POSITION_KINDS
# Position kinds that must give a reason.
DEFAULT_REASONED: Final = (R.OBJECT,)
# The kind that blocks: it must exist and give a reason, or consent means nothing.
BLOCKING_KIND: Final = R.OBJECT

# term id -> default label, in English; translated at use through the catalogue.
DEFAULT_LABELS: Final[Mapping[str, str]] = {
    "proposal": N_("proposal"),
    "proposals": N_("proposals"),
    "round": N_("round"),
    "rounds": N_("rounds"),
    "objection": N_("objection"),
    "objections": N_("objections"),
    R.QUESTIONS: N_("questions"),
    R.REACTIONS: N_("reactions"),
    R.POSITIONS: N_("positions"),
    R.CLOSED: N_("closed"),
    R.CONSENT: N_("consent"),
    R.CONCERN: N_("concern"),
    R.STAND_ASIDE: N_("stand aside"),
    R.OBJECT: N_("object"),
    R.FACILITATOR: N_("facilitator"),
    R.NOTE_TAKER: N_("note-taker"),
    R.STEWARD: N_("steward"),
    R.REGULAR: N_("regular"),
    R.REFLECTION: N_("reflection"),
    R.ABSENCE: N_("strategic absence"),
}
TERMS: Final = tuple(DEFAULT_LABELS)
# A plural noun the assembly did not name follows its singular, if that one was named.
PLURAL_OF: Final = {"proposals": "proposal", "rounds": "round", "objections": "objection"}

# A role's id, a term's id, a language's code: lowercase ASCII, as typed after --effect.
ID_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
LANG_PATTERN: Final = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
MAX_LABEL_LEN: Final = 64
MAX_LABELS: Final = 64  # terms named in one effect
MAX_ROLES: Final = 32  # roles of the assembly's own


@dataclass(frozen=True)
class CustomRole:
    """A role of the assembly's own: it confers no powers, only a term of office."""

    id: str
    label: str
    max_term_days: int
    decision: str  # the decision that added it


@dataclass(frozen=True)
class RoundShape:
    """The phases a round goes through and the position kinds it accepts."""

    phases: tuple[str, ...] = DEFAULT_PHASES
    kinds: tuple[str, ...] = DEFAULT_KINDS
    reasoned: tuple[str, ...] = DEFAULT_REASONED  # kinds that must give a reason


DEFAULT_SHAPE: Final = RoundShape()


@dataclass(frozen=True)
class Vocabulary:
    """What decisions made of the assembly's words and its rounds' shape."""

    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lang -> term -> label
    roles: Mapping[str, CustomRole] = field(default_factory=dict)
    shape: RoundShape = DEFAULT_SHAPE

    def role_ids(self) -> tuple[str, ...]:
        return (*R.ROLES, *self.roles)

    def terms(self) -> tuple[str, ...]:
        return (*TERMS, *self.roles)


DEFAULT_VOCABULARY: Final = Vocabulary()


# --- the rules that keep consent meaningful ------------------------------------------------------


def check_shape(shape: RoundShape) -> None:
    """Raise, naming the rule, unless ``shape`` keeps a blocking kind, its reason and the
    positions phase."""
    if R.POSITIONS not in shape.phases:
        raise IllegalMoveError(
            R.POSITIONS_PHASE, "a round must have its positions phase (positions)"
        )
    if BLOCKING_KIND not in shape.kinds:
        raise IllegalMoveError(
            R.BLOCKING_KIND_EXISTS, f"a blocking position kind ({BLOCKING_KIND}) must exist"
        )
    if BLOCKING_KIND not in shape.reasoned:
        raise IllegalMoveError(
            R.OBJECTION_NEEDS_REASON, f"the blocking kind ({BLOCKING_KIND}) must give a reason"
        )
    order = [p for p in SHAPE_PHASES if p in shape.phases]
    if list(shape.phases) != order or len(set(shape.kinds)) != len(shape.kinds):
        raise IllegalMoveError(
            R.EFFECT_APPLIES, "phases go in their order (questions, reactions, positions), once"
        )
    if not set(shape.reasoned) <= set(shape.kinds):
        raise IllegalMoveError(R.EFFECT_APPLIES, "a kind that gives a reason must exist")


def check_role(vocabulary: Vocabulary, role: str, term_days: int | None = None) -> None:
    """Raise unless ``role`` is a role (and ``term_days`` within its longest term)."""
    if role not in vocabulary.role_ids():
        raise IllegalMoveError(R.ROLE_EXISTS, f"the assembly has no role {role!r}")
    custom = vocabulary.roles.get(role)
    if custom is not None and term_days is not None and term_days > custom.max_term_days:
        raise IllegalMoveError(
            R.ROLE_TERM_CAPPED, f"a term as {custom.label} runs at most {custom.max_term_days} days"
        )


def check_new_role(vocabulary: Vocabulary, role: str) -> None:
    if role in vocabulary.terms():
        raise IllegalMoveError(R.ROLE_EXISTS, f"{role!r} is already a term of the assembly")
    if len(vocabulary.roles) >= MAX_ROLES:
        raise IllegalMoveError(R.EFFECT_APPLIES, f"an assembly has at most {MAX_ROLES} own roles")


def check_labels(vocabulary: Vocabulary, labels: Mapping[str, str]) -> None:
    unknown = [t for t in labels if t not in vocabulary.terms()]
    if unknown:
        raise IllegalMoveError(R.TERM_KNOWN, f"no term {unknown[0]!r} to name")


def with_labels(vocabulary: Vocabulary, lang: str, labels: Mapping[str, str]) -> Vocabulary:
    merged = {**vocabulary.labels.get(lang, {}), **labels}
    return Vocabulary({**vocabulary.labels, lang: merged}, vocabulary.roles, vocabulary.shape)


def with_role(vocabulary: Vocabulary, role: CustomRole) -> Vocabulary:
    return Vocabulary(vocabulary.labels, {**vocabulary.roles, role.id: role}, vocabulary.shape)


def with_shape(vocabulary: Vocabulary, shape: RoundShape) -> Vocabulary:
    return Vocabulary(vocabulary.labels, vocabulary.roles, shape)


# --- words for one language ---------------------------------------------------------------------


def capitalised(text: str) -> str:
    """``text`` with a capital first letter: a heading whose translation opens with the
    assembly's own (lower-case) word still reads as a heading."""
    return text[:1].upper() + text[1:]


class Words:
    """The labels to show, in one language, for an assembly's vocabulary. Pure: the
    translation of the default labels is handed in (``i18n._`` unless told)."""

    def __init__(
        self,
        vocabulary: Vocabulary = DEFAULT_VOCABULARY,
        lang: str | None = None,
        translate: Callable[[str], str] | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.lang = lang if lang is not None else i18n.language()
        self.translate = translate if translate is not None else i18n._
        own = vocabulary.labels
        self.own = {**own.get(self.lang.split("_")[0], {}), **own.get(self.lang, {})}

    def term(self, term: str) -> str:
        """The label of ``term`` (an unknown id shows as itself)."""
        own = self.own.get(term)
        if own:
            return own
        singular = PLURAL_OF.get(term)
        if singular is not None and singular in self.own:
            return self.own[singular]
        default = DEFAULT_LABELS.get(term)
        if default is not None:
            return self.translate(default)
        custom = self.vocabulary.roles.get(term)
        return custom.label if custom is not None else term

    def title(self, term: str) -> str:
        """The label with a capital first letter, for headings."""
        return capitalised(self.term(term))

    phase = term
    kind = term
    role = term
    meeting_kind = term

    def roles(self, roles: Iterable[str]) -> str:
        return ", ".join(self.role(r) for r in roles)

    def find_kind(self, text: str, kinds: Iterable[str] = DEFAULT_KINDS) -> str | None:
        """The kind id ``text`` names: an id, an id with a hyphen, or a label."""
        wanted = text.strip().casefold()
        for kind in kinds:
            if wanted in (kind, kind.replace("_", "-"), self.kind(kind).casefold()):
                return kind
        return None

    def find_role(self, text: str) -> str | None:
        """The role id ``text`` names: an id, an id with a hyphen, or a label."""
        wanted = text.strip().casefold()
        for role in self.vocabulary.role_ids():
            if wanted in (role, role.replace("_", "-"), self.role(role).casefold()):
                return role
        return None

    def as_data(self) -> dict[str, str]:
        """Every term id with its label, for ``status --json``."""
        return {t: self.term(t) for t in self.vocabulary.terms()}


__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_SHAPE",
    "DEFAULT_VOCABULARY",
    "TERMS",
    "CustomRole",
    "RoundShape",
    "Vocabulary",
    "Words",
    "check_labels",
    "check_new_role",
    "check_role",
    "check_shape",
]
