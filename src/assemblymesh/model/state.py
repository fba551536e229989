"""The folded governance state: frozen records, and lookups by id prefix.

Mapping fields hold plain dicts that are never changed once a record is built (the fold
replaces a record rather than editing it). Their insertion order is the global act order,
so two nodes that fold the same documents hold equal states with equal iteration order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

from assemblymesh.errors import NotFoundError, UsageError
from assemblymesh.i18n import N_, _, label
from assemblymesh.model import rules
from assemblymesh.model.acts import Effect
from assemblymesh.model.epochs import Epoch, Rotation
from assemblymesh.model.funds import Fund
from assemblymesh.model.meetings import AgendaItem, Meeting
from assemblymesh.model.partnerships import Partnership
from assemblymesh.model.thread import ThreadEntry
from assemblymesh.model.vocabulary import (
    DEFAULT_SHAPE,
    DEFAULT_VOCABULARY,
    RoundShape,
    Vocabulary,
    Words,
)

if TYPE_CHECKING:
    from assemblymesh.model.library import LibraryEntry


@dataclass(frozen=True)
class Rules:
    """An assembly's process parameters, fixed by its genesis act."""

    cooling_off_ms: int
    # Minimum number of non-ally members whose standing position is consent, concern or
    # stand aside when the round closes. A count rather than a fraction: the membership a
    # fraction would be taken of is not the same on both sides of a partition.
    quorum: int
    review_period_ms: int
    # What counts as a block: how many members' standing objections stop a decision. 1 is
    # consent (any reasoned objection blocks); an assembly may choose "consent minus one".
    block_threshold: int = 1
    # Meetings: members present to record an item as decided; how the agenda is ordered
    # before the facilitator reorders it; how many past meetings an absence meeting looks at.
    meeting_quorum: int = rules.DEFAULT_MEETING_QUORUM
    agenda_order: int = rules.DEFAULT_AGENDA_ORDER
    absence_lookback: int = rules.DEFAULT_ABSENCE_LOOKBACK


@dataclass(frozen=True)
class Assembly:
    name: str
    charter: str
    founder: str
    created_ts: int
    nonce: str
    rules: Rules


@dataclass(frozen=True)
class RoleTerm:
    role: str
    start_ts: int
    term_end: int
    granted_by: str
    decision: str | None
    ended_ts: int | None = None

    def active_at(self, ts: int) -> bool:
        if self.ended_ts is not None and ts >= self.ended_ts:
            return False
        return self.start_ts <= ts < self.term_end


@dataclass(frozen=True)
class Member:
    """A participant: a member, or an outside supporter (``supporter``), who is never a
    member: a supporter proposes and advises, never blocks, facilitates, counts towards
    quorum or holds a role, and takes part only while its standing lasts."""

    id: str
    name: str
    joined_ts: int
    invited_by: str | None
    invite_key: str | None
    is_founder: bool
    roles: tuple[RoleTerm, ...] = ()
    devices: tuple[str, ...] = ()
    revoked_devices: tuple[str, ...] = ()
    supporter: bool = False
    standing_until: int | None = None  # a supporter's standing ends then (None: none yet)
    removed_ts: int | None = None  # removed by a decision from then on
    allows_naming: bool = False  # may publications to other assemblies name them
    deviceless: bool = False  # added by a facilitator; takes part without a device
    claimed_by: str | None = None  # the member key that claimed this deviceless membership
    claimed_from: str | None = None  # the deviceless membership this member claimed

    @property
    def current(self) -> bool:
        """Whether this record is the member's own, not one a device has since claimed."""
        return self.claimed_by is None

    def has_role(self, role: str, at_ms: int) -> bool:
        return any(t.role == role and t.active_at(at_ms) for t in self.roles)

    def is_removed(self, at_ms: int) -> bool:
        return self.removed_ts is not None and at_ms >= self.removed_ts

    def has_standing(self, at_ms: int) -> bool:
        """Whether this participant may act at ``at_ms``."""
        if self.is_removed(at_ms) or self.claimed_by is not None:
            return False
        return not self.supporter or (
            self.standing_until is not None and at_ms < self.standing_until
        )

    def counts(self, at_ms: int) -> bool:
        """Whether this participant's positions count (quorum, blocks): members only."""
        return not self.supporter and not self.is_removed(at_ms) and self.claimed_by is None

    def can_facilitate(self, at_ms: int) -> bool:
        return self.counts(at_ms) and self.has_role(rules.FACILITATOR, at_ms)

    def active_roles(self, at_ms: int) -> tuple[str, ...]:
        """The roles held at ``at_ms``: the usual ones in their order, then the assembly's own."""
        held = {t.role for t in self.roles if t.active_at(at_ms)}
        return (*(r for r in rules.ROLES if r in held), *sorted(held - set(rules.ROLES)))


@dataclass(frozen=True)
class Version:
    number: int
    body: str
    author: str
    ts: int
    note: str
    act_id: str  # the ref of the act that wrote this version
    effects: tuple[Effect, ...] = ()  # what the decision does when it takes effect


@dataclass(frozen=True)
class Proposal:
    id: str
    author: str
    title: str
    created_ts: int
    versions: tuple[Version, ...]
    state: str
    rounds: tuple[str, ...] = ()
    decision: str | None = None  # the decision that adopted it, if any
    closing_note: str = ""  # the reason given when rejected
    by_supporter: bool = False  # originated by an outside supporter, not a member
    origin: str | None = None  # the published item of another assembly it was put from

    @property
    def latest(self) -> Version:
        return self.versions[-1]


@dataclass(frozen=True)
class Position:
    member: str
    kind: str
    reason: str
    provisional: bool
    recorded_by: str
    ts: int  # as written by the recording device: later ts wins between devices
    act_id: str  # the act's id as written (the tie-break between equal ts)
    late: bool = False  # an objection cast after close, before the decision took effect
    ref: str = ""  # the act's ref
    advisory: bool = False  # a supporter's: on record, never counted


@dataclass(frozen=True)
class Round:
    id: str
    proposal: str
    version: int
    facilitator: str
    opened_ts: int
    phase: str
    positions: Mapping[str, Position]
    rules: Rules | None = None  # the assembly's rules when the round opened: they govern it
    phase_ts: int = 0  # causal time of the last phase change (open or advance)
    closed_by: str | None = None
    closed_ts: int | None = None
    outcome: str | None = None
    decision: str | None = None
    statement: str = ""  # what was decided and why, as the facilitator wrote at close
    deadline: int | None = None  # informational closing time (ms); the facilitator closes
    # The phases and position kinds the assembly had chosen when the round opened.
    shape: RoundShape = DEFAULT_SHAPE
    # The outcome the facilitator's node counted at close (None: not said). It differs from
    # ``outcome`` when positions the facilitator had not received count in the fold.
    announced: str | None = None

    @property
    def changed_since_close(self) -> bool:
        """The outcome is not the one announced at close: positions from members out of
        range arrived afterwards."""
        return self.announced is not None and self.announced != self.outcome

    @property
    def objections(self) -> tuple[Position, ...]:
        """The standing objections that count (a supporter's is advisory only)."""
        return tuple(
            p for p in self.positions.values() if p.kind == rules.OBJECT and not p.advisory
        )


@dataclass(frozen=True)
class Decision:
    id: str  # the id of the close_round act that made it
    round: str
    proposal: str
    version: int
    outcome: str
    decided_by: str
    decided_ts: int
    effective_ts: int
    review_ts: int
    status: str
    late_objections: tuple[Position, ...] = ()
    effects: tuple[Effect, ...] = ()  # of the adopted version; run when it takes effect
    statement: str = ""  # what was decided and why, as the facilitator wrote at close

    def review_due(self, at_ms: int) -> bool:
        return self.status == rules.IN_EFFECT and at_ms >= self.review_ts


@dataclass(frozen=True)
class RuleChange:
    """One change of a rule, by the decision that made it, from when it took effect."""

    ts: int
    rule: str
    old: int
    new: int
    decision: str


@dataclass(frozen=True)
class InviteRecord:
    key: str
    inviter: str
    expires: int
    recorded_ts: int | None  # None when only a join revealed the invite
    used_by: str | None = None
    kind: str = rules.MEMBER_INVITE  # or a supporter invite
    claim: str | None = None  # the deviceless member whose membership the joiner takes over
    epoch: int = 0  # the epoch of the secret its join key comes from


@dataclass(frozen=True)
class AuditEntry:
    ts: int  # effective ts: the position of the act in the global order
    member: str
    act_id: str  # the id as written (empty if the value has none)
    act_type: str
    summary: str
    accepted: bool
    rule: str | None = None
    detail: str = ""
    ref: str = ""  # the act's ref, by which other acts and the screens name it
    waiting: bool = False  # not placed yet: what it names, or its time, has not come
    proposal: str = ""  # the proposal the act concerns, if any


_T = TypeVar("_T")


# What each kind of thing found by id is called, for the messages of ``_by_prefix``
# (proposals and rounds take the assembly's own words for them).
KIND_NOUNS: Final[Mapping[str, str]] = {
    "proposal": N_("proposal"),
    "round": N_("round"),
    "decision": N_("decision"),
    "meeting": N_("meeting"),
    "agenda item": N_("agenda item"),
    "fund": N_("fund"),
    "partnership": N_("partnership"),
    "member": N_("member"),
    "library item": N_("library item"),
    "publication": N_("publication"),
}


def _noun(kind: str, vocabulary: Vocabulary | None) -> str:
    if vocabulary is not None and kind in vocabulary.terms():
        return Words(vocabulary).term(kind)
    return label(KIND_NOUNS, kind)


def _by_prefix(
    kind: str, items: Mapping[str, _T], prefix: str, vocabulary: Vocabulary | None = None
) -> _T:
    """The item whose id is or begins with ``prefix``; the messages name ``kind`` in the
    chosen language (in the assembly's own words, given its ``vocabulary``)."""
    prefix = prefix.strip().lower()
    if not prefix:
        raise UsageError(_("give a {kind} id").format(kind=_noun(kind, vocabulary)))
    if prefix in items:
        return items[prefix]
    hits = [key for key in items if key.startswith(prefix)]
    if not hits:
        raise NotFoundError(
            _("no {kind} with an id starting {prefix!r}").format(
                kind=_noun(kind, vocabulary), prefix=prefix
            )
        )
    if len(hits) > 1:
        raise UsageError(
            _("{kind} id {prefix!r} is ambiguous ({count} match); give more").format(
                kind=_noun(kind, vocabulary), prefix=prefix, count=len(hits)
            )
        )
    return items[hits[0]]


by_prefix = _by_prefix  # for the practices' own modules (model.library, ...)


@dataclass(frozen=True)
class AssemblyState:
    """Everything the fold derives from an assembly's documents at ``now_ms``."""

    assembly_id: bytes
    now_ms: int
    assembly: Assembly | None
    members: Mapping[str, Member]
    proposals: Mapping[str, Proposal]
    rounds: Mapping[str, Round]
    decisions: Mapping[str, Decision]
    invites: Mapping[str, InviteRecord]
    audit: tuple[AuditEntry, ...]
    # True until the first decision is adopted: the founder may assign roles directly.
    founding_period: bool
    # Bookkeeping that lets a command place and replay one more act exactly as the fold would:
    # the causal time of every placed act, of each device's last act, the acts nothing names
    # yet (what a new act has seen), and when a future-dated act stops waiting.
    act_refs: frozenset[str]
    eff_of: Mapping[str, int]
    device_last: Mapping[str, int]
    device_head: Mapping[str, str] = field(default_factory=dict)
    frontier: tuple[str, ...] = ()
    wake_ms: int | None = None
    # Invites two member keys claim (key -> the join its inviter admitted, if it has), and
    # every admitted join (ref -> (invite key, inviter)).
    contests: Mapping[str, str | None] = field(default_factory=dict)
    claims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    joins: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    admitted: frozenset[str] = frozenset()  # joins an inviter's admit names
    rule_history: tuple[RuleChange, ...] = ()
    effect_log: tuple[AuditEntry, ...] = ()  # each effect of each decision that took effect
    latest_eff: int = 0  # the causal time of the last placed act
    # (member, device) -> the last change of a revoked device that counts (model.devices)
    revocations: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Every question, reaction and answer of every round's thread, in the global order.
    comments: Mapping[str, ThreadEntry] = field(default_factory=dict)
    # Other assemblies' publications taken in (model.library), by publication id.
    library: Mapping[str, LibraryEntry] = field(default_factory=dict)
    meetings: Mapping[str, Meeting] = field(default_factory=dict)  # by the scheduling act's ref
    agenda_items: Mapping[str, AgendaItem] = field(default_factory=dict)  # by the adding act's ref
    funds: Mapping[str, Fund] = field(default_factory=dict)  # by fund id
    partnerships: Mapping[str, Partnership] = field(default_factory=dict)
    # Epochs of the assembly secret (model.epochs), and the rotation due, if one is.
    epochs: tuple[Epoch, ...] = ()
    rotation: Rotation | None = None
    # The assembly's own words, roles and round shape (model.vocabulary): labels live here only.
    vocabulary: Vocabulary = DEFAULT_VOCABULARY

    # --- lookups ---------------------------------------------------------------------------

    def find_proposal(self, prefix: str) -> Proposal:
        return _by_prefix("proposal", self.proposals, prefix, self.vocabulary)

    def find_round(self, prefix: str) -> Round:
        return _by_prefix("round", self.rounds, prefix, self.vocabulary)

    def find_decision(self, prefix: str) -> Decision:
        return _by_prefix("decision", self.decisions, prefix)

    def find_meeting(self, prefix: str) -> Meeting:
        return _by_prefix("meeting", self.meetings, prefix)

    def find_item(self, prefix: str) -> AgendaItem:
        return _by_prefix("agenda item", self.agenda_items, prefix)

    def find_fund(self, ref: str) -> Fund:
        """A fund by exact name (case-insensitive; the open one first) or unique id prefix."""
        named = [f for f in self.funds.values() if f.name.casefold() == ref.strip().casefold()]
        named.sort(key=lambda f: (f.dissolved_ts is not None, -f.established_ts))
        return named[0] if named else _by_prefix("fund", self.funds, ref)

    def find_partnership(self, ref: str) -> Partnership:
        """A partnership by exact name (case-insensitive; the newest) or unique id prefix."""
        key = ref.strip().casefold()
        named = [p for p in self.partnerships.values() if p.name.casefold() == key]
        if named:
            return max(named, key=lambda p: p.established_ts)
        return _by_prefix("partnership", self.partnerships, ref)

    def find_member(self, ref: str) -> Member:
        """A member by exact name (case-insensitive) or by unique id prefix."""
        named = [
            m
            for m in self.members.values()
            if m.current and m.name.casefold() == ref.strip().casefold()
        ]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise UsageError(
                _("{count} members are named {name!r}; give an id prefix").format(
                    count=len(named), name=ref
                )
            )
        found = _by_prefix("member", self.members, ref)
        # A deviceless membership a device claimed is that member now.
        while found.claimed_by is not None and found.claimed_by in self.members:
            found = self.members[found.claimed_by]
        return found

    def find_supporter(self, ref: str) -> Member:
        """A supporter by name or id prefix; ``UsageError`` if ``ref`` names a member."""
        m = self.find_member(ref)
        if not m.supporter:
            raise UsageError(
                _("{name} is a member of the assembly, not a supporter").format(name=m.name)
            )
        return m

    # --- questions the other layers ask ----------------------------------------------------

    def is_member(self, member: str) -> bool:
        return member in self.members

    def device_allowed(self, member: str, device: str) -> bool:
        """Whether ``device`` may still write for ``member`` as far as governance knows."""
        m = self.members.get(member)
        return m is not None and not self.is_revoked(member, device) and m.has_standing(self.now_ms)

    def is_revoked(self, member: str, device: str) -> bool:
        """Whether ``member``'s member key revoked ``device`` (``model.devices``)."""
        return (member, device) in self.revocations

    def supporters(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members.values() if m.supporter)

    def reviews_due(self) -> tuple[Decision, ...]:
        """Decisions due for review, whose proposal has no review round open yet."""
        return tuple(
            d
            for d in self.decisions.values()
            if d.review_due(self.now_ms)
            and self.proposals[d.proposal].decision == d.id
            and self.open_round_of(d.proposal) is None
        )

    def facilitators(self, at_ms: int | None = None) -> tuple[Member, ...]:
        at = self.now_ms if at_ms is None else at_ms
        return tuple(m for m in self.members.values() if m.can_facilitate(at))

    def open_round_of(self, proposal: str) -> Round | None:
        """The round currently open on ``proposal``, if any."""
        p = self.proposals.get(proposal)
        if p is None:
            return None
        for rid in reversed(p.rounds):
            r = self.rounds[rid]
            if r.phase != rules.CLOSED:
                return r
        return None

    def accepted(self) -> Iterable[AuditEntry]:
        return (e for e in self.audit if e.accepted)

    def ignored(self) -> Iterable[AuditEntry]:
        return (e for e in self.audit if not e.accepted)
