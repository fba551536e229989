"""The fold: documents in, governance state out, identically on every node.

Order
    ``model.order`` places every logged act at its causal time and sorts the placed acts into
    one global order; acts that wait (for an act they name, or for their time) take no part.

Replay
    Placed acts are replayed one by one through ``_Folder.apply``, which checks the process
    rules (``model.rules`` names them, ``model.tables`` holds the transitions) and either
    applies the act or raises ``IllegalMoveError``; a raised act changes nothing and is
    recorded in the audit as ignored, with the rule's name. Every time check uses the causal
    time. Only the final state depends on ``now_ms`` (beyond which future-dated acts wait): a
    pending decision whose cooling-off has passed shows as in effect, and its proposal as
    adopted.

Local commands (``model.commands``) replay the act they are about to write through the same
``apply`` on a copy of the current state (``validate``), so there is one rule book.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping

from assemblymesh.crdt.identity import (
    InvalidSignature,
    Invite,
    assembly_id_for,
    verify_invite_proof,
)
from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import epochs as E
from assemblymesh.model import library, meeting_fold
from assemblymesh.model import rules as R
from assemblymesh.model import tables as T
from assemblymesh.model import vocabulary as V
from assemblymesh.model.devices import Revocations, certifies, genuine_revocation, revocations
from assemblymesh.model.devices import counts as device_counts
from assemblymesh.model.fund_fold import SUPPORTER_FUND_ACTS, FundFolding, check_version_effects
from assemblymesh.model.funds import Fund, LedgerEntry
from assemblymesh.model.meetings import AgendaItem, Meeting
from assemblymesh.model.order import Ordering, Placed, invited_key, order_acts
from assemblymesh.model.partnerships import Partnership
from assemblymesh.model.snapshot import AssemblySnapshot
from assemblymesh.model.state import (
    Assembly,
    AssemblyState,
    AuditEntry,
    Decision,
    InviteRecord,
    Member,
    Position,
    Proposal,
    RoleTerm,
    Round,
    RuleChange,
    Rules,
    Version,
)
from assemblymesh.model.thread import ThreadEntry, check_parent


def fold(snapshot: AssemblySnapshot, now_ms: int) -> AssemblyState:
    """The governance state of ``snapshot`` as of ``now_ms``. Pure and deterministic."""
    ordering = order_acts(snapshot, now_ms)
    folder = _Folder(snapshot.assembly_id, *_contests(ordering), revocations(snapshot))
    for item in ordering.placed:
        # Decisions whose cooling-off ends before this act take effect first.
        folder.run_due(min(item.eff, now_ms))
        folder.feed(item)
    folder.run_due(now_ms)
    for item in ordering.waiting:
        folder.audit_waiting(item)
    return folder.freeze(now_ms, ordering)


def empty_state(assembly_id: bytes, now_ms: int) -> AssemblyState:
    """The state of an assembly none of whose acts are here yet."""
    return _Folder(assembly_id, {}, {}).freeze(now_ms, None)


def causal_time(state: AssemblyState, device: str, act: A.Act) -> int:
    """The causal time an act by ``device`` would be placed at after ``state``."""
    eff = max(act.ts, state.device_last.get(device, 0))
    for ref in act.seen:
        eff = max(eff, state.eff_of.get(ref, 0) + 1)
    if isinstance(act, A.Join):
        key = invited_key(act)
        record = state.invites.get(key[1]) if key is not None else None
        if record is not None and record.recorded_ts is not None:
            eff = max(eff, record.recorded_ts + 1)
    return eff


def validate(state: AssemblyState, actor: str, device: str, act: A.Act) -> str:
    """Replay ``act`` by ``actor`` on a copy of ``state``; return its summary or raise.

    Raises ``IllegalMoveError`` exactly when the fold would ignore the act if it came next.
    """
    return _Folder.thaw(state).apply(_item(state, actor, device, act))


def at_time(state: AssemblyState, now_ms: int) -> AssemblyState:
    """``state`` as of another ``now_ms``: the same acts, time-dependent statuses redone.

    Equal to ``fold(snapshot, now_ms)`` of the snapshot ``state`` was folded from, at a
    fraction of the cost (no replay), unless a future-dated act stops waiting by then
    (``needs_refold``).
    """
    if now_ms == state.now_ms:
        return state
    folder = _Folder.thaw(state)
    folder.run_due(now_ms)
    return folder.freeze(now_ms, None)


def needs_refold(state: AssemblyState, now_ms: int) -> bool:
    """Whether ``at_time(state, now_ms)`` could differ from a fold at ``now_ms``: time goes
    back (effects cannot be undone), a future-dated act stops waiting, or acts placed after
    ``state.now_ms`` would have to follow decisions that take effect in between."""
    if now_ms == state.now_ms:
        return False
    if now_ms < state.now_ms or state.latest_eff > state.now_ms:
        return True
    return state.wake_ms is not None and now_ms >= state.wake_ms


def is_latest(state: AssemblyState, device: str, act: A.Act) -> bool:
    """Whether ``act`` would come last in the global order after ``state``, so that
    ``apply_act`` equals a re-fold."""
    eff = causal_time(state, device, act)
    return all(eff > other for other in state.device_last.values())


def apply_act(state: AssemblyState, actor: str, device: str, act: A.Act) -> AssemblyState:
    """``state`` with ``act`` replayed after it (a preview of writing the act locally).

    Equal to re-folding the documents with the act appended when it comes last in the
    global order (``is_latest``); otherwise the next fold places the act where it belongs.
    """
    item = _item(state, actor, device, act)
    folder = _Folder.thaw(state)
    folder.run_due(min(item.eff, state.now_ms))
    folder.feed(item)
    folder.run_due(state.now_ms)
    frozen = folder.freeze(state.now_ms, None)
    named = {*act.seen, state.device_head.get(device, "")}
    return dataclasses.replace(
        frozen,
        eff_of={**state.eff_of, item.ref: item.eff} if item.ref else state.eff_of,
        device_last={**state.device_last, device: item.eff},
        device_head={**state.device_head, device: item.ref} if item.ref else state.device_head,
        frontier=(
            *(r for r in state.frontier if r not in named),
            *((item.ref,) if item.ref else ()),
        ),
        latest_eff=max(state.latest_eff, item.eff),
    )


def _item(state: AssemblyState, actor: str, device: str, act: A.Act) -> Placed:
    # A change this device writes now comes after every change of it a revocation kept.
    item = Placed(actor, device, A.MAX_INT, 0, act.to_doc(), act)
    item.ref = act.ref(actor) if A.is_hex(actor, A.KEY_HEX_LEN) else None
    item.eff = causal_time(state, device, act)
    return item


def _short(member: str) -> str:
    return member[:8]


def _contests(ordering: Ordering) -> tuple[dict[str, str | None], dict[str, tuple[str, ...]]]:
    """For invites that two member keys claim genuinely: invite key -> the join it admits,
    and invite key -> the claiming joins (in the global order).

    The invite's inviter decides, by its first ``admit`` in the global order naming one of
    the claiming joins; until it has, the contested invite admits nobody (``None``). Dating a
    join early therefore wins nothing.
    """
    contested = _claims(ordering)
    if not contested:
        return {}, {}
    # join ref -> (invite key, inviter) of every claiming join
    joins = {ref: (key, inviter) for key, (inviter, refs) in contested.items() for ref in refs}
    winners: dict[str, str | None] = dict.fromkeys(contested)
    for e in ordering.placed:
        if not (isinstance(e.act, A.Admit) and e.act.join in joins):
            continue
        key, inviter = joins[e.act.join]
        if winners[key] is None and inviter == e.member:
            winners[key] = e.act.join
    return winners, {key: refs for key, (_, refs) in contested.items()}


def _claims(ordering: Ordering) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Invite key -> (inviter, refs of the first genuine join of each claiming member), for
    invites that more than one member key claims."""
    claims: dict[str, tuple[str, dict[str, str]]] = {}
    for e in ordering.placed:
        if not isinstance(e.act, A.Join) or e.ref is None or not _genuine(e.act, e.member):
            continue
        pair = invited_key(e.act)
        if pair is not None:
            inviter, key = pair
            claims.setdefault(key, (inviter, {}))[1].setdefault(e.member, e.ref)
    return {k: (inv, tuple(m.values())) for k, (inv, m) in claims.items() if len(m) > 1}


def _genuine(join: A.Join, member: str) -> bool:
    try:
        invite = Invite.decode(bytes.fromhex(join.invite))
        verify_invite_proof(invite, bytes.fromhex(member), bytes.fromhex(join.proof))
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclasses.dataclass(frozen=True)
class _Ctx:
    """The act being replayed and who wrote it."""

    member: str
    act: A.Act
    ts: int  # causal time
    ref: str
    device: str
    deps: tuple[Placed, ...] = ()  # the placed acts it names or needs (a join: the record)


class _Folder(FundFolding):
    """Mutable working state of one replay; records inside it are frozen and replaced."""

    def __init__(
        self,
        assembly_id: bytes,
        contests: Mapping[str, str | None],
        claims: Mapping[str, tuple[str, ...]],
        revoked: Revocations | None = None,
    ) -> None:
        self.assembly_id = assembly_id
        self.contests = contests
        self.claims = claims
        self.revoked: Revocations = {} if revoked is None else revoked
        self.assembly: Assembly | None = None
        self.members: dict[str, Member] = {}
        self.proposals: dict[str, Proposal] = {}
        self.rounds: dict[str, Round] = {}
        self.decisions: dict[str, Decision] = {}
        self.invites: dict[str, InviteRecord] = {}
        self.joins: dict[str, tuple[str, str]] = {}  # join ref -> (invite key, inviter)
        self.admitted: set[str] = set()  # join refs an inviter's admit names
        self.rule_history: list[RuleChange] = []
        self.effect_log: list[AuditEntry] = []  # what each decision's effects did
        self.audit: list[AuditEntry] = []
        self.founding_period = True
        self.act_refs: set[str] = set()
        self.comments: dict[str, ThreadEntry] = {}
        self.library: dict[str, library.LibraryEntry] = {}
        self.meetings: dict[str, Meeting] = {}
        self.agenda_items: dict[str, AgendaItem] = {}
        self.funds: dict[str, Fund] = {}
        self.ledgers: dict[str, list[LedgerEntry]] = {}
        self.partnerships: dict[str, Partnership] = {}
        self.epochs: tuple[E.Epoch, ...] = ()
        self.rotation: E.Rotation | None = None
        self.vocabulary: V.Vocabulary = V.DEFAULT_VOCABULARY

    # --- entry and exit --------------------------------------------------------------------

    @classmethod
    def thaw(cls, state: AssemblyState) -> _Folder:
        f = cls(state.assembly_id, state.contests, state.claims, state.revocations)
        f.assembly = state.assembly
        f.members = dict(state.members)
        f.proposals = dict(state.proposals)
        f.rounds = dict(state.rounds)
        f.decisions = dict(state.decisions)
        f.rule_history = list(state.rule_history)
        f.effect_log = list(state.effect_log)
        f.invites = dict(state.invites)
        f.joins = dict(state.joins)
        f.admitted = set(state.admitted)
        f.audit = list(state.audit)
        f.founding_period = state.founding_period
        f.act_refs = set(state.act_refs)
        f.comments = dict(state.comments)
        f.library = dict(state.library)
        f.meetings = dict(state.meetings)
        f.agenda_items = dict(state.agenda_items)
        f.thaw_funds(dict(state.funds))
        f.partnerships = dict(state.partnerships)
        f.epochs = state.epochs
        f.rotation = state.rotation
        f.vocabulary = state.vocabulary
        f.frozen_from = state
        return f

    frozen_from: AssemblyState | None = None

    def freeze(self, now_ms: int, ordering: Ordering | None) -> AssemblyState:
        decisions: dict[str, Decision] = {}
        for k, d in self.decisions.items():
            if d.status == R.PENDING and now_ms >= d.effective_ts:
                d = dataclasses.replace(d, status=T.decision_move(d.status, T.COOLING_OFF_ELAPSED))
            decisions[k] = d
        proposals: dict[str, Proposal] = {}
        for k, p in self.proposals.items():
            decision = decisions.get(p.decision) if p.decision is not None else None
            if p.state == R.ADOPTED_PENDING and decision and decision.status == R.IN_EFFECT:
                p = dataclasses.replace(p, state=R.ADOPTED)
            proposals[k] = p
        if ordering is not None:
            bookkeeping = _bookkeeping(ordering)
        elif self.frozen_from is not None:
            s = self.frozen_from
            bookkeeping = (s.eff_of, s.device_last, s.device_head, s.frontier, s.wake_ms)
        else:
            bookkeeping = ({}, {}, {}, (), None)
        eff_of, device_last, device_head, frontier, wake = bookkeeping
        if ordering is not None:
            latest = ordering.placed[-1].eff if ordering.placed else 0
        else:
            latest = self.frozen_from.latest_eff if self.frozen_from is not None else 0
        return AssemblyState(
            assembly_id=self.assembly_id,
            now_ms=now_ms,
            assembly=self.assembly,
            members=dict(self.members),
            proposals=dict(self.proposals),
            rounds=dict(self.rounds),
            decisions=dict(self.decisions),
            invites=dict(self.invites),
            audit=tuple(self.audit),
            founding_period=self.founding_period,
            act_refs=frozenset(self.act_refs),
            eff_of=eff_of,
            device_last=device_last,
            device_head=device_head,
            frontier=frontier,
            wake_ms=wake,
            contests=self.contests,
            claims=self.claims,
            joins=dict(self.joins),
            admitted=frozenset(self.admitted),
            rule_history=tuple(self.rule_history),
            effect_log=tuple(self.effect_log),
            latest_eff=latest,
            revocations=dict(sorted(self.revoked.items())),
            comments=dict(self.comments),
            library=dict(self.library),
            meetings=dict(self.meetings),
            agenda_items=dict(self.agenda_items),
            funds=self.frozen_funds(),
            partnerships=dict(self.partnerships),
            epochs=self.epochs,
            rotation=self.rotation,
            vocabulary=self.vocabulary,
        )

    def feed(self, item: Placed) -> None:
        """Replay one placed act; an illegal act is audited, never raised."""
        self._note_revocation(item)
        try:
            summary = self.apply(item)
        except IllegalMoveError as exc:
            self._audit(item, f"{_type_of(item) or 'act'} ignored", exc.rule, exc.detail)
            self.note_fund_refusal(
                item.act, item.eff, (item.member, item.ref or "", item.device), exc
            )
            return
        self._audit(item, summary, None, "")

    def _note_revocation(self, item: Placed) -> None:
        """A genuine revocation counts whatever else the fold says of its act (the whole
        record's revocations were read before the fold: ``model.devices``)."""
        act = item.act
        if isinstance(act, A.RevokeDevice) and genuine_revocation(
            self.assembly_id, item.member, act
        ):
            key = (item.member, act.revoked)
            self.revoked = {**self.revoked, key: min(act.keep, self.revoked.get(key, act.keep))}

    def audit_waiting(self, item: Placed) -> None:
        assert item.waits is not None
        rule, detail = item.waits
        self._audit(item, f"{_type_of(item) or 'act'} waits", rule, detail, waiting=True)

    def _audit(
        self, item: Placed, summary: str, rule: str | None, detail: str, waiting: bool = False
    ) -> None:
        # Waiting acts are listed last: a placed act goes before them.
        at = len(self.audit)
        while not waiting and at and self.audit[at - 1].waiting:
            at -= 1
        self.audit.insert(
            at,
            AuditEntry(
                ts=item.eff,
                member=item.member,
                act_id=item.act.id if item.act is not None else _raw_str(item.raw, "id"),
                act_type=_type_of(item),
                summary=summary,
                accepted=rule is None,
                rule=rule,
                detail=detail,
                ref=item.ref or "",
                waiting=waiting,
                proposal=self._concerns(item),
            ),
        )

    def _concerns(self, item: Placed) -> str:
        """The proposal an act is about, for the per-proposal audit trail."""
        act = item.act
        if isinstance(act, A.Propose):
            return item.ref or ""
        target = getattr(act, "proposal", None)
        if isinstance(target, str):
            return target
        round_ref = getattr(act, "round", None)
        r = self.rounds.get(round_ref) if isinstance(round_ref, str) else None
        return r.proposal if r is not None else ""

    def apply(self, item: Placed) -> str:
        """Check a placed act against the rules and apply it; return a one-line summary.

        All checks run before any change, so a raised act leaves the state untouched.
        """
        if item.act is None or item.ref is None:
            assert item.problem is not None
            raise item.problem
        act = item.act
        if item.ref in self.act_refs:
            raise IllegalMoveError(R.UNIQUE_ID, f"act id {act.id} was already used")
        if not device_counts(self.revoked, item.member, item.device, item.seq):
            raise _revoked(item.device)
        ctx = _Ctx(item.member, act, item.eff, item.ref, item.device, tuple(item.deps))
        if not isinstance(act, (A.Create, A.Join)):
            self._require_member(ctx)
        summary = _HANDLERS[type(act)](self, ctx)
        self.act_refs.add(item.ref)
        m = self.members.get(item.member)
        if m is not None and item.device not in m.devices:
            self.members[item.member] = dataclasses.replace(m, devices=(*m.devices, item.device))
        return summary

    # --- shared checks ---------------------------------------------------------------------

    def _require_member(self, ctx: _Ctx) -> Member:
        """The writer takes part now: a member, or a supporter with standing writing an act
        supporters may write, from a device that was not revoked."""
        if self.assembly is None:
            raise IllegalMoveError(R.ASSEMBLY_EXISTS, "the assembly's genesis act is not here yet")
        m = self.members.get(ctx.member)
        if m is None:
            raise IllegalMoveError(R.MEMBERS_ONLY, f"{_short(ctx.member)} is not a member")
        if m.is_removed(ctx.ts):
            raise IllegalMoveError(R.MEMBER_REMOVED, f"{m.name} was removed by a decision")
        if m.supporter and not m.has_standing(ctx.ts):
            raise IllegalMoveError(R.SUPPORTER_STANDING, f"{m.name} has no standing now")
        if m.supporter and type(ctx.act) not in SUPPORTER_ACTS:
            raise IllegalMoveError(
                R.SUPPORTER_MAY_NOT, f"{m.name} is a supporter: supporters propose and advise"
            )
        return m

    def _require_facilitator(self, ctx: _Ctx) -> None:
        m = self.members[ctx.member]
        if not m.can_facilitate(ctx.ts):
            raise IllegalMoveError(R.FACILITATOR_ONLY, f"{m.name} is not a facilitator now")

    def _proposal(self, ref: str) -> Proposal:
        p = self.proposals.get(ref)
        if p is None:
            raise IllegalMoveError(R.PROPOSAL_EXISTS, f"no proposal {ref}")
        return p

    def _round(self, ref: str) -> Round:
        r = self.rounds.get(ref)
        if r is None:
            raise IllegalMoveError(R.ROUND_EXISTS, f"no round {ref}")
        return r

    def _target_member(self, member: str) -> Member:
        m = self.members.get(self._resolve(member))
        if m is None:
            raise IllegalMoveError(R.MEMBER_EXISTS, f"{_short(member)} is not a member")
        return m

    def _resolve(self, member: str) -> str:
        """The member a deviceless membership became when a key claimed it (else itself)."""
        seen = {member}
        m = self.members.get(member)
        while m is not None and m.claimed_by is not None and m.claimed_by not in seen:
            seen.add(m.claimed_by)
            member, m = m.claimed_by, self.members.get(m.claimed_by)
        return member

    def _claimable(self, member: str, ts: int) -> Member:
        """The deviceless member a claim invite names: still unclaimed and not removed."""
        m = self.members.get(member)
        if m is None or not m.deviceless:
            raise IllegalMoveError(R.CLAIM_ONCE, f"{_short(member)} is no member without a device")
        if m.claimed_by is not None:
            raise IllegalMoveError(R.CLAIM_ONCE, f"{m.name}'s membership was already claimed")
        if m.is_removed(ts):
            raise IllegalMoveError(R.MEMBER_REMOVED, f"{m.name} was removed by a decision")
        return m

    def _counts(self, member: str, ts: int) -> bool:
        m = self.members.get(member)
        return m is not None and m.counts(ts)

    def _check_term(self, ctx: _Ctx, term_end: int, what: str) -> None:
        if term_end <= ctx.ts:
            raise IllegalMoveError(R.ROLE_TERM, f"{what} must end in the future")
        if term_end - ctx.ts > R.MAX_TERM_MS:
            raise IllegalMoveError(
                R.ROLE_TERM_CAPPED,
                f"{what} may run at most {R.MAX_TERM_MS // R.DAY_MS} days",
            )

    def _check_role_authority(self, ctx: _Ctx, decision_id: str | None) -> None:
        """Roles change by a decision's ``grant_role`` / ``end_role`` effect; only the
        founder, while founding, grants and ends them by an act. Nothing cites a decision."""
        m = self.members[ctx.member]
        if decision_id is not None or not (m.is_founder and self.founding_period):
            raise IllegalMoveError(
                R.ROLE_BY_DECISION,
                "roles change by a decision: propose one with a grant_role or end_role effect",
            )

    def _open_round_of(self, p: Proposal) -> Round | None:
        for rid in reversed(p.rounds):
            r = self.rounds[rid]
            if r.phase != R.CLOSED:
                return r
        return None

    # --- decisions taking effect -----------------------------------------------------------

    def run_due(self, until: int) -> None:
        """Let every pending decision whose cooling-off ends by ``until`` take effect, in the
        order they do (then by id): status, proposal, and each effect of its version."""
        due = sorted(
            (
                d
                for d in self.decisions.values()
                if d.status == R.PENDING and d.effective_ts <= until
            ),
            key=lambda d: (d.effective_ts, d.id),
        )
        for d in due:
            self.dissolve_due(d.effective_ts)  # a fund dissolving at that time closes first
            self._take_effect(d)
        self.dissolve_due(until)

    def _take_effect(self, d: Decision) -> None:
        self.decisions[d.id] = dataclasses.replace(
            d, status=T.decision_move(d.status, T.COOLING_OFF_ELAPSED)
        )
        p = self.proposals[d.proposal]
        if p.state == R.ADOPTED_PENDING and p.decision == d.id:
            self.proposals[p.id] = dataclasses.replace(p, state=R.ADOPTED)
        for effect in d.effects:
            try:
                summary = _EFFECTS[type(effect)](self, d, effect)
            except IllegalMoveError as exc:
                self._audit_effect(d, effect, f"{effect.KIND} not applied", exc.rule, exc.detail)
                continue
            self._audit_effect(d, effect, summary, None, "")

    def _audit_effect(
        self, d: Decision, effect: A.Effect, summary: str, rule: str | None, detail: str
    ) -> None:
        self.effect_log.append(
            AuditEntry(
                ts=d.effective_ts,
                member=d.decided_by,
                act_id="",
                act_type="effect:" + effect.KIND,
                summary=summary,
                accepted=rule is None,
                rule=rule,
                detail=detail,
                ref=d.id,
                proposal=d.proposal,
            )
        )

    def _effect_member(self, member: str, *, supporter: bool) -> Member:
        m = self.members.get(self._resolve(member))
        if m is None or m.is_removed(0 if m.removed_ts is None else m.removed_ts):
            raise IllegalMoveError(R.EFFECT_APPLIES, f"{_short(member)} is not a participant")
        if m.supporter != supporter:
            kind = "a supporter" if m.supporter else "a member"
            raise IllegalMoveError(R.EFFECT_APPLIES, f"{m.name} is {kind}")
        return m

    def _effect_grant_role(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.GrantRoleEffect)
        m = self.members.get(self._resolve(e.member))
        if m is not None and m.supporter:
            raise IllegalMoveError(R.SUPPORTER_NO_ROLE, f"{m.name} is a supporter")
        m = self._effect_member(e.member, supporter=False)
        V.check_role(self.vocabulary, e.role, e.term_days)
        end = d.effective_ts + e.term_days * R.DAY_MS
        terms = _end_terms(m.roles, e.role, d.effective_ts)
        new = RoleTerm(e.role, d.effective_ts, end, d.decided_by, d.id)
        self.members[m.id] = dataclasses.replace(m, roles=(*terms, new))
        return f"{m.name} is {e.role} for {e.term_days} days"

    def _effect_end_role(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.EndRoleEffect)
        m = self._effect_member(e.member, supporter=False)
        if not m.has_role(e.role, d.effective_ts):
            raise IllegalMoveError(R.ROLE_HELD, f"{m.name} is not {e.role} now")
        roles = _end_terms(m.roles, e.role, d.effective_ts)
        self.members[m.id] = dataclasses.replace(m, roles=roles)
        return f"{m.name} is no longer {e.role}"

    def _effect_set_rule(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.SetRuleEffect) and self.assembly is not None
        minimum = A.RulesMap.KEYS[e.rule][1]
        if e.value < minimum:
            raise IllegalMoveError(R.EFFECT_APPLIES, f"{e.rule} must be at least {minimum}")
        old = getattr(self.assembly.rules, e.rule)
        rules = dataclasses.replace(self.assembly.rules, **{e.rule: e.value})
        self.assembly = dataclasses.replace(self.assembly, rules=rules)
        self.rule_history.append(RuleChange(d.effective_ts, e.rule, old, e.value, d.id))
        return f"{e.rule} is {e.value} (was {old}) for rounds opened from now"

    def _effect_admit_supporter(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.AdmitSupporterEffect)
        m = self._effect_member(e.member, supporter=True)
        if e.until <= d.effective_ts:
            raise IllegalMoveError(R.EFFECT_APPLIES, "a standing must end after it begins")
        self.members[m.id] = dataclasses.replace(m, standing_until=e.until)
        return f"{m.name} has standing as a supporter until {e.until}"

    def _effect_end_supporter(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.EndSupporterEffect)
        m = self._effect_member(e.member, supporter=True)
        self.members[m.id] = dataclasses.replace(m, standing_until=d.effective_ts)
        return f"{m.name}'s standing as a supporter ended"

    def _effect_remove_member(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.RemoveMemberEffect)
        m = self.members.get(self._resolve(e.member))
        if m is None or m.removed_ts is not None:
            raise IllegalMoveError(R.EFFECT_APPLIES, f"{_short(e.member)} is not a participant")
        roles = tuple(
            dataclasses.replace(t, ended_ts=d.effective_ts) if t.active_at(d.effective_ts) else t
            for t in m.roles
        )
        self.members[m.id] = dataclasses.replace(m, removed_ts=d.effective_ts, roles=roles)
        self.rotation = E.due_after(self.rotation, d.effective_ts, "removal", d.decided_by)
        return f"{m.name} is no longer a participant"

    def _effect_words(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.WordsEffect)
        V.check_labels(self.vocabulary, e.labels)
        self.vocabulary = V.with_labels(self.vocabulary, e.lang, e.labels)
        named = ", ".join(f"{term}={label}" for term, label in e.labels.items())
        return f"the assembly's words in {e.lang}: {named}"

    def _effect_add_role(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.AddRoleEffect)
        V.check_new_role(self.vocabulary, e.role)
        role = V.CustomRole(e.role, e.label, e.term_days, d.id)
        self.vocabulary = V.with_role(self.vocabulary, role)
        return f"the assembly has a role {e.role} ({e.label}), terms of at most {e.term_days} days"

    def _effect_round_shape(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.RoundShapeEffect)
        V.check_shape(e.shape)
        self.vocabulary = V.with_shape(self.vocabulary, e.shape)
        return (
            f"rounds opened from now go through {', '.join(e.phases)} and take {', '.join(e.kinds)}"
        )

    def _effect_rotate_secret(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.RotateSecretEffect)
        self.rotation = E.due_after(self.rotation, d.effective_ts, "decision", d.decided_by)
        return "a new epoch of the assembly secret is due"

    # --- act handlers ----------------------------------------------------------------------

    def _create(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Create)
        if assembly_id_for(bytes.fromhex(ctx.member), bytes.fromhex(act.nonce)) != self.assembly_id:
            raise IllegalMoveError(R.GENESIS_BY_FOUNDER, "the assembly id is not this member's")
        if self.assembly is not None:
            raise IllegalMoveError(R.GENESIS_ONCE, "the assembly was already created")
        self._check_term(ctx, act.term_end, "the founder's facilitator term")
        self.assembly = Assembly(
            name=act.name,
            charter=act.charter,
            founder=ctx.member,
            created_ts=ctx.ts,
            nonce=act.nonce,
            rules=Rules(**act.rules),
        )
        term = RoleTerm(R.FACILITATOR, ctx.ts, act.term_end, ctx.member, None)
        self.members[ctx.member] = Member(
            id=ctx.member,
            name=act.founder_name,
            joined_ts=ctx.ts,
            invited_by=None,
            invite_key=None,
            is_founder=True,
            roles=(term,),
        )
        return f"created assembly {act.name!r}; {act.founder_name} founds and facilitates"

    def _invite(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.RecordInvite)
        if act.invite_key in self.invites:
            raise IllegalMoveError(
                R.INVITE_RECORDED_ONCE, f"invite {act.invite_key[:8]} is already known"
            )
        if act.expires <= ctx.ts:
            raise IllegalMoveError(R.INVITE_NOT_EXPIRED, "the invite expires before it is made")
        what = act.kind
        if act.claim is not None:
            self._require_facilitator(ctx)
            if act.kind != R.MEMBER_INVITE:
                raise IllegalMoveError(R.CLAIM_ONCE, "a claim invite is a member invite")
            what = f"claim ({self._claimable(act.claim, ctx.ts).name})"
        self.invites[act.invite_key] = InviteRecord(
            act.invite_key,
            ctx.member,
            act.expires,
            ctx.ts,
            kind=act.kind,
            claim=act.claim,
            epoch=act.epoch or 0,
        )
        return f"recorded {what} invite {act.invite_key[:8]} (expires {_utc(act.expires)})"

    def _join(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Join)
        if self.assembly is None:
            raise IllegalMoveError(R.ASSEMBLY_EXISTS, "the assembly's genesis act is not here yet")
        if ctx.member in self.members:
            raise IllegalMoveError(R.JOIN_ONCE, f"{_short(ctx.member)} is already a member")
        invite = self._genuine_invite(ctx.member, act)
        inviter = invite.inviter.hex()
        inviting = self.members.get(inviter)
        # An invite speaks for its inviter only while they are a member: a removed member's
        # outstanding invites admit nobody, and a supporter's key signs no invite that counts.
        if inviting is None or inviting.supporter or inviting.is_removed(ctx.ts):
            raise IllegalMoveError(
                R.INVITER_IS_MEMBER, f"inviter {_short(inviter)} is not a member"
            )
        if ctx.ts > invite.expires_ms:
            raise IllegalMoveError(R.INVITE_NOT_EXPIRED, "the invite had expired")
        key = invite.invite_key.hex()
        self._check_contest(ctx, key)
        record = self.invites.get(key)
        if record is not None and record.used_by is not None:
            raise IllegalMoveError(R.INVITE_USED_ONCE, f"invite {key[:8]} already admitted someone")
        if record is None or record.inviter != inviter:
            record = self._inviters_record(ctx, key, inviter, invite.expires_ms)
        claimed = self._claimable(record.claim, ctx.ts) if record.claim is not None else None
        self.invites[key] = dataclasses.replace(record, used_by=ctx.member)
        self.joins[ctx.ref] = (key, inviter)
        supporter = record.kind == R.SUPPORTER_INVITE
        self.members[ctx.member] = Member(
            id=ctx.member,
            name=act.name,
            joined_ts=ctx.ts,
            invited_by=inviter,
            invite_key=key,
            is_founder=False,
            supporter=supporter,
        )
        if claimed is not None:
            self._hand_over(claimed, ctx.member)
            return f"{act.name} claimed the membership of {claimed.name} from a device of their own"
        joined = "joined as a supporter" if supporter else "joined"
        return f"{act.name} {joined}, invited by {self.members[inviter].name}"

    def _hand_over(self, deviceless: Member, key: str) -> None:
        """Make member ``key`` the member ``deviceless`` was: since when, roles, and every
        position and comment recorded for them (positions stay provisional: the member
        confirms them from the new device)."""
        new = self.members[key]
        self.members[key] = dataclasses.replace(
            new, joined_ts=deviceless.joined_ts, roles=deviceless.roles, claimed_from=deviceless.id
        )
        self.members[deviceless.id] = dataclasses.replace(deviceless, claimed_by=key, roles=())
        old = deviceless.id
        for rid, r in list(self.rounds.items()):
            if old in r.positions:
                positions = {(key if m == old else m): p for m, p in r.positions.items()}
                positions[key] = dataclasses.replace(positions[key], member=key)
                self.rounds[rid] = dataclasses.replace(r, positions=positions)
        for ref, c in list(self.comments.items()):
            if c.author == old:
                self.comments[ref] = dataclasses.replace(c, author=key)

    def _inviters_record(self, ctx: _Ctx, key: str, inviter: str, expires: int) -> InviteRecord:
        """The inviter's own record of the invite a join uses, which says what kind it is.

        Another member who saw the code may have recorded the same key first; that record is
        not the inviter's word, so it never turns a supporter invite into a member invite.
        Without the inviter's record (a join previewed locally) the invite admits a supporter.
        """
        for dep in ctx.deps:
            act = dep.act
            if isinstance(act, A.RecordInvite) and act.invite_key == key and dep.member == inviter:
                return InviteRecord(
                    key,
                    inviter,
                    act.expires,
                    dep.eff,
                    kind=act.kind,
                    claim=act.claim,
                    epoch=act.epoch or 0,
                )
        if key in self.invites:
            return InviteRecord(key, inviter, expires, None, kind=R.SUPPORTER_INVITE)
        return InviteRecord(key, inviter, expires, None)

    def _genuine_invite(self, member: str, act: A.Join) -> Invite:
        try:
            invite = Invite.decode(bytes.fromhex(act.invite))
        except InvalidSignature as exc:
            raise IllegalMoveError(R.INVITE_GENUINE, "the invite is malformed") from exc
        if invite.assembly != self.assembly_id:
            raise IllegalMoveError(R.INVITE_FOR_ASSEMBLY, "the invite is for another assembly")
        try:
            verify_invite_proof(invite, bytes.fromhex(member), bytes.fromhex(act.proof))
        except InvalidSignature as exc:
            raise IllegalMoveError(
                R.INVITE_GENUINE, "the invite or its proof does not verify"
            ) from exc
        return invite

    def _check_contest(self, ctx: _Ctx, key: str) -> None:
        if key not in self.contests:
            return
        winner = self.contests[key]
        if winner is None:
            raise IllegalMoveError(
                R.INVITE_CONTESTED,
                f"two member keys claim invite {key[:8]}; it waits for its inviter's admit",
            )
        if winner != ctx.ref:
            raise IllegalMoveError(
                R.INVITE_CONTESTED, f"the inviter admitted another join with invite {key[:8]}"
            )

    def _admit(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Admit)
        joined = self.joins.get(act.join)
        if joined is None:
            contested = [k for k, w in self.contests.items() if w == act.join]
            if not contested:
                raise IllegalMoveError(R.MEMBER_EXISTS, f"no admitted join {act.join[:8]}")
            self.admitted.add(act.join)
            return f"admitted join {act.join[:8]} of a contested invite"
        if joined[1] != ctx.member:
            raise IllegalMoveError(R.ADMIT_BY_INVITER, "only the inviter admits its invite's join")
        self.admitted.add(act.join)
        return f"confirmed join {act.join[:8]}"

    def _grant_role(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.GrantRole)
        target = self._target_member(act.member)
        self._check_role_authority(ctx, act.decision)
        V.check_role(self.vocabulary, act.role)
        self._check_term(ctx, act.term_end, "a role's term")
        if target.supporter:
            raise IllegalMoveError(R.SUPPORTER_NO_ROLE, f"{target.name} is a supporter")
        terms = _end_terms(target.roles, act.role, ctx.ts)
        new = RoleTerm(act.role, ctx.ts, act.term_end, ctx.member, act.decision)
        self.members[target.id] = dataclasses.replace(target, roles=(*terms, new))
        return f"{target.name} is {act.role} until {act.term_end}"

    def _end_role(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.EndRole)
        target = self._target_member(act.member)
        if not (target.id == ctx.member and act.decision is None):
            self._check_role_authority(ctx, act.decision)
        if not target.has_role(act.role, ctx.ts):
            raise IllegalMoveError(R.ROLE_HELD, f"{target.name} is not {act.role} now")
        self.members[target.id] = dataclasses.replace(
            target, roles=_end_terms(target.roles, act.role, ctx.ts)
        )
        return f"{target.name} is no longer {act.role}"

    def _propose(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Propose)
        library.check_origin(self.library, act.origin)
        check_version_effects(act.effects)
        check_vocabulary_effects(self.vocabulary, act.effects)
        first = Version(1, act.body, ctx.member, ctx.ts, "first version", ctx.ref, act.effects)
        self.proposals[ctx.ref] = Proposal(
            id=ctx.ref,
            author=ctx.member,
            title=act.title,
            created_ts=ctx.ts,
            versions=(first,),
            state=R.OPEN,
            by_supporter=self.members[ctx.member].supporter,
            origin=act.origin,
        )
        return f"proposed {act.title!r}"

    def _amend(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Amend)
        p = self._proposal(act.proposal)
        check_version_effects(act.effects)
        check_vocabulary_effects(self.vocabulary, act.effects)
        if ctx.member != p.author and not self.members[ctx.member].can_facilitate(ctx.ts):
            raise IllegalMoveError(
                R.AUTHOR_OR_FACILITATOR, "only the author or a facilitator amends"
            )
        state = T.proposal_move(p.state, A.Amend)
        version = Version(
            len(p.versions) + 1, act.body, ctx.member, ctx.ts, act.note, ctx.ref, act.effects
        )
        self.proposals[p.id] = dataclasses.replace(p, versions=(*p.versions, version), state=state)
        return f"amended {p.title!r} to version {version.number}: {act.note}"

    def _withdraw(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Withdraw)
        p = self._proposal(act.proposal)
        if ctx.member != p.author:
            raise IllegalMoveError(R.AUTHOR_ONLY, "only the author withdraws a proposal")
        state = T.proposal_move(p.state, A.Withdraw)
        current = self._open_round_of(p)
        if current is not None:
            phase = T.round_move(current.phase, A.Withdraw)
            self.rounds[current.id] = dataclasses.replace(
                current,
                phase=phase,
                closed_by=ctx.member,
                closed_ts=ctx.ts,
                outcome=R.OUTCOME_WITHDRAWN,
            )
        self.proposals[p.id] = dataclasses.replace(p, state=state)
        return f"withdrew {p.title!r}"

    def _open_round(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.OpenRound)
        p = self._proposal(act.proposal)
        self._require_facilitator(ctx)
        if act.version != p.latest.number:
            raise IllegalMoveError(
                R.ROUND_ON_LATEST_VERSION,
                f"version {act.version} is not the latest ({p.latest.number})",
            )
        if p.state == R.ADOPTED:
            d = self.decisions.get(p.decision) if p.decision is not None else None
            if d is None or not d.review_due(ctx.ts):
                raise IllegalMoveError(
                    R.REVIEW_DUE, "an adopted decision reopens when due for review"
                )
        state = T.proposal_move(p.state, A.OpenRound)
        _check_deadline(act.deadline, ctx.ts)
        assert self.assembly is not None
        self.rounds[ctx.ref] = Round(
            id=ctx.ref,
            proposal=p.id,
            version=act.version,
            facilitator=ctx.member,
            opened_ts=ctx.ts,
            phase=self.vocabulary.shape.phases[0],
            positions={},
            rules=self.assembly.rules,
            phase_ts=ctx.ts,
            deadline=act.deadline,
            shape=self.vocabulary.shape,
        )
        self.proposals[p.id] = dataclasses.replace(p, state=state, rounds=(*p.rounds, ctx.ref))
        return f"opened a round on {p.title!r} v{act.version}"

    def _advance_round(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.AdvanceRound)
        r = self._round(act.round)
        self._require_facilitator(ctx)
        nxt = T.next_phase(r.phase, r.shape.phases)
        if act.to != nxt:
            raise IllegalMoveError(
                R.ROUND_TRANSITION, f"the round is in {r.phase}; it cannot go to {act.to}"
            )
        _check_deadline(act.deadline, r.opened_ts)
        deadline = r.deadline if act.deadline is None else act.deadline
        self.rounds[r.id] = dataclasses.replace(r, phase=nxt, phase_ts=ctx.ts, deadline=deadline)
        return f"round {r.id[:8]} moved to {nxt}"

    def _position(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.TakePosition)
        r = self._round(act.round)
        # A position recorded for a deviceless member whose key has since claimed it is theirs.
        subject = ctx.member if act.for_member is None else self._resolve(act.for_member)
        proxy = subject != ctx.member
        self._check_position(ctx, act, subject, proxy)
        _check_kind(r, act)
        new = Position(
            member=subject,
            kind=act.kind,
            reason=act.reason,
            provisional=proxy,
            recorded_by=ctx.member,
            ts=act.ts,
            act_id=act.id,
            ref=ctx.ref,
            advisory=not self._counts(subject, ctx.ts),
        )
        if r.phase == R.CLOSED:
            return self._late_objection(ctx, r, new, proxy)
        T.round_move(r.phase, A.TakePosition)
        self._check_replaces(r.positions.get(subject), new, proxy)
        self.rounds[r.id] = dataclasses.replace(r, positions={**r.positions, subject: new})
        name = self.members[subject].name
        how = "provisionally, recorded by " + self.members[ctx.member].name if proxy else ""
        return f"{name}: {act.kind} in round {r.id[:8]} {how}".rstrip()

    def _check_position(self, ctx: _Ctx, act: A.TakePosition, subject: str, proxy: bool) -> None:
        if proxy:
            self._require_facilitator(ctx)
            target = self._target_member(subject)
            if target.supporter:
                raise IllegalMoveError(
                    R.SUPPORTER_MAY_NOT, f"{target.name} is a supporter: only members by proxy"
                )

    def _check_replaces(self, old: Position | None, new: Position, proxy: bool) -> None:
        if old is None:
            return
        name = self.members[new.member].name
        if proxy and not old.provisional:
            raise IllegalMoveError(R.OWN_POSITION_STANDS, f"{name} gave their own position")
        if old.provisional == proxy and (old.ts, old.act_id) > (new.ts, new.act_id):
            raise IllegalMoveError(R.LATEST_POSITION_WINS, f"{name} has a later position")

    def _late_objection(self, ctx: _Ctx, r: Round, pos: Position, proxy: bool) -> str:
        """An objection cast after close but before the decision took effect returns it."""
        d = self._open_to_late_objection(ctx, r, pos, proxy)
        late = dataclasses.replace(pos, late=True)
        self.rounds[r.id] = dataclasses.replace(r, positions={**r.positions, pos.member: late})
        name = self.members[pos.member].name
        if pos.advisory:
            return f"{name} (supporter) objected late: advisory, the decision stands"
        # The late objection that makes the objections reach the assembly's block threshold
        # returns the decision; the others join the list to be integrated.
        others = tuple(o for o in d.late_objections if o.member != pos.member)
        assert self.assembly is not None
        objectors = {o.member for o in r.objections} | {o.member for o in others} | {pos.member}
        blocks = len(objectors) >= (r.rules or self.assembly.rules).block_threshold
        status = T.decision_move(d.status, R.LATE_OBJECTION) if blocks else d.status
        p = self.proposals[r.proposal]
        if d.status == R.PENDING and blocks:
            p = dataclasses.replace(p, state=T.proposal_move(p.state, R.LATE_OBJECTION))
        self.decisions[d.id] = dataclasses.replace(
            d, status=status, late_objections=(*others, late)
        )
        self.proposals[p.id] = p
        returned = status == R.DECISION_RETURNED
        outcome = "returned" if returned else "stands (below the block threshold)"
        return f"{name} objected late: decision on {p.title!r} {outcome}"

    def _open_to_late_objection(self, ctx: _Ctx, r: Round, pos: Position, proxy: bool) -> Decision:
        """The decision of closed round ``r``, if this position is a late objection to it."""
        d = self.decisions.get(r.decision) if r.decision is not None else None
        if proxy or pos.kind != R.OBJECT or d is None:
            raise IllegalMoveError(R.ROUND_TRANSITION, f"round {r.id[:8]} is closed")
        if ctx.ts >= d.effective_ts or d.status == R.IN_EFFECT:
            raise IllegalMoveError(
                R.LATE_OBJECTION_WINDOW,
                f"decision {d.id[:8]} took effect before this objection",
            )
        return d

    def _close_round(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.CloseRound)
        r = self._round(act.round)
        self._require_facilitator(ctx)
        if r.phase == R.CLOSED:
            by = self.members[r.closed_by].name if r.closed_by in self.members else "?"
            raise IllegalMoveError(
                R.ROUND_TRANSITION, f"round {r.id[:8]} was already closed by {by}"
            )
        phase = T.round_move(r.phase, A.CloseRound)
        assert self.assembly is not None
        rules = r.rules or self.assembly.rules
        tally = tally_round(r, rules, lambda m: not self._counts(m, ctx.ts))
        p = self.proposals[r.proposal]
        state = T.proposal_move(p.state, T.close_event(tally.outcome))
        decision_id: str | None = None
        if tally.outcome == R.OUTCOME_ADOPTED:
            decision_id = ctx.ref
            self.decisions[decision_id] = Decision(
                id=decision_id,
                round=r.id,
                proposal=p.id,
                version=r.version,
                outcome=tally.outcome,
                decided_by=ctx.member,
                decided_ts=ctx.ts,
                effective_ts=ctx.ts + rules.cooling_off_ms,
                review_ts=ctx.ts + rules.review_period_ms,
                status=R.PENDING,
                effects=p.versions[r.version - 1].effects,
                statement=act.statement,
            )
            self.founding_period = False
            p = dataclasses.replace(p, decision=decision_id)
        self.rounds[r.id] = dataclasses.replace(
            r,
            phase=phase,
            closed_by=ctx.member,
            closed_ts=ctx.ts,
            outcome=tally.outcome,
            decision=decision_id,
            statement=act.statement,
            announced=act.announced,
        )
        self.proposals[p.id] = dataclasses.replace(p, state=state)
        return f"closed round on {p.title!r}: {tally.outcome} ({tally.describe()})"

    def _comment(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Comment)
        r = self._round(act.round)
        T.comment_move(r.phase, act.kind)
        check_parent(self.comments, r.id, act.kind, act.parent)
        subject = ctx.member
        if act.for_member is not None and self._resolve(act.for_member) != ctx.member:
            self._require_facilitator(ctx)
            target = self._target_member(act.for_member)
            if not target.has_standing(ctx.ts):
                rule = R.SUPPORTER_STANDING if target.supporter else R.MEMBER_REMOVED
                raise IllegalMoveError(rule, f"{target.name} takes no part now")
            subject = target.id
        author = self.members[subject]
        self.comments[ctx.ref] = ThreadEntry(
            ref=ctx.ref,
            round=r.id,
            kind=act.kind,
            text=act.text,
            author=subject,
            recorded_by=ctx.member,
            ts=ctx.ts,
            phase=r.phase,
            parent=act.parent,
            by_supporter=author.supporter,
        )
        how = f", recorded by {self.members[ctx.member].name}" if subject != ctx.member else ""
        return f"{author.name}: {act.kind} in round {r.id[:8]}{how}"

    def _add_member(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.AddMember)
        self._require_facilitator(ctx)
        mid = A.deviceless_id(ctx.member, act.id)
        self.members[mid] = Member(
            id=mid,
            name=act.name,
            joined_ts=ctx.ts,
            invited_by=ctx.member,
            invite_key=None,
            is_founder=False,
            deviceless=True,
        )
        return f"{act.name} joined without a device, added by {self.members[ctx.member].name}"

    def _reject(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Reject)
        p = self._proposal(act.proposal)
        self._require_facilitator(ctx)
        state = T.proposal_move(p.state, A.Reject)
        self.proposals[p.id] = dataclasses.replace(p, state=state, closing_note=act.reason)
        return f"rejected {p.title!r}"

    def _allow_naming(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.AllowNaming)
        m = self.members[ctx.member]
        self.members[m.id] = dataclasses.replace(m, allows_naming=act.allow)
        return f"{m.name} {'allows' if act.allow else 'does not allow'} naming in publications"

    def _add_device(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.AddDevice)
        m = self.members[ctx.member]
        if not certifies(self.assembly_id, m.id, act):
            raise IllegalMoveError(
                R.DEVICE_CERTIFIED, "the certificate is not the member key's for this device"
            )
        if act.device not in m.devices:
            self.members[m.id] = dataclasses.replace(m, devices=(*m.devices, act.device))
        return f"{m.name} added device {act.device[:8]}"

    def _import_publication(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.ImportPublication)
        entry = library.entry_for(
            self.library, self.assembly_id, act.publication, ctx.member, ctx.ts, ctx.ref
        )
        self.library[entry.id] = entry
        header = entry.publication.header
        return f"took {header.title!r} from {header.assembly_name!r} into the library"

    def _revoke_device(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.RevokeDevice)
        m = self.members[ctx.member]
        if act.revoked == ctx.device:
            raise _revoked(ctx.device)  # its own revocation is a change it may not make
        if not genuine_revocation(self.assembly_id, m.id, act):
            raise IllegalMoveError(
                R.REVOCATION_SIGNED, "the revocation is not signed by the member's key"
            )
        if act.revoked in m.revoked_devices:
            raise IllegalMoveError(R.REVOKE_ONCE, f"device {act.revoked[:8]} is already revoked")
        self.members[m.id] = dataclasses.replace(
            m, revoked_devices=(*m.revoked_devices, act.revoked)
        )
        self.rotation = E.due_after(self.rotation, ctx.ts, "revocation", ctx.member)
        return f"{m.name} revoked device {act.revoked[:8]}"

    def _require_counting(self, ctx: _Ctx) -> None:
        m = self.members[ctx.member]
        if not m.counts(ctx.ts):
            raise IllegalMoveError(R.SECRETS_BY_MEMBERS, f"{m.name} is not a member who counts")

    def _rekey(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Rekey)
        self._require_counting(ctx)
        self.epochs = E.apply_rekey(
            self.epochs, self.rotation, number=act.epoch, check=act.check, seals=act.seals,
            ts=ctx.ts, member=ctx.member,
        )  # fmt: skip
        self.rotation = None
        return f"epoch {act.epoch} of the assembly secret, sealed to {len(act.seals)} device(s)"

    def _seal(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.SealSecret)
        self._require_counting(ctx)
        self.epochs, added = E.apply_seal(
            self.epochs, number=act.epoch, check=act.check, seals=act.seals,
            ts=ctx.ts, member=ctx.member,
        )  # fmt: skip
        return f"epoch {act.epoch}'s secret sealed to {added} more device(s)"


@dataclasses.dataclass(frozen=True)
class Tally:
    """What a round's standing positions add up to, and the outcome a close would give."""

    objections: tuple[Position, ...]
    taking_part: int
    not_counted: tuple[Position, ...]  # positions of participants who cannot block or count
    outcome: str

    def describe(self) -> str:
        if self.objections:
            return f"{len(self.objections)} objection(s)"
        return f"{self.taking_part} taking part"


def _utc(ms: int) -> str:
    """A time for the audit trail: the same text on every node, whatever the value."""
    if ms >= _PAST_LAST_DATE_MS:  # a writer may put any whole number here
        return f"{ms} ms"
    return f"{dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC):%Y-%m-%d %H:%M} UTC"


_PAST_LAST_DATE_MS = 253_402_300_800_000  # 10000-01-01: past what datetime holds


def tally_round(r: Round, rules: Rules, cannot_count: Callable[[str], bool]) -> Tally:
    """The outcome of closing ``r`` now: the one place positions are counted."""
    counted = [p for p in r.positions.values() if not cannot_count(p.member)]
    objections = tuple(p for p in counted if p.kind == R.OBJECT)
    support = sum(1 for p in counted if p.kind in R.QUORUM_KINDS)
    if len(objections) >= rules.block_threshold:
        outcome = R.OUTCOME_OBJECTIONS
    elif support >= rules.quorum:
        outcome = R.OUTCOME_ADOPTED
    else:
        outcome = R.OUTCOME_NO_QUORUM
    ignored = tuple(p for p in r.positions.values() if cannot_count(p.member))
    return Tally(objections, support, ignored, outcome)


_Bookkeeping = tuple[
    Mapping[str, int], Mapping[str, int], Mapping[str, str], tuple[str, ...], int | None
]


def _bookkeeping(ordering: Ordering) -> _Bookkeeping:
    device_last: dict[str, int] = {}
    device_head: dict[str, str] = {}
    for e in ordering.placed:  # in the global order, so a device's last act comes last
        device_last[e.device] = e.eff
        if e.ref is not None:
            device_head[e.device] = e.ref
    return dict(ordering.eff_of), device_last, device_head, ordering.frontier, ordering.wake_ms


def _revoked(device: str) -> IllegalMoveError:
    return IllegalMoveError(
        R.DEVICE_NOT_REVOKED, f"device {_short(device)} was revoked before this change of it"
    )


def _check_kind(r: Round, act: A.TakePosition) -> None:
    """The round takes positions of this kind, with a reason where its kind needs one."""
    if act.kind not in r.shape.kinds:
        raise IllegalMoveError(
            R.KIND_IN_ROUND,
            f"round {r.id[:8]} takes no {act.kind} (it takes {', '.join(r.shape.kinds)})",
        )
    if act.kind in r.shape.reasoned and not act.reason.strip():
        if act.kind == R.OBJECT:
            raise IllegalMoveError(R.OBJECTION_NEEDS_REASON, "an objection must give its reason")
        raise IllegalMoveError(
            R.OBJECTION_NEEDS_REASON, f"a position of kind {act.kind} must give its reason"
        )


def check_vocabulary_effects(vocabulary: V.Vocabulary, effects: tuple[A.Effect, ...]) -> None:
    """A version's effects keep consent meaningful and name roles and terms that exist, the
    roles the version adds itself included (effects run in their order)."""
    for e in effects:
        if isinstance(e, A.RoundShapeEffect):
            V.check_shape(e.shape)
        elif isinstance(e, A.AddRoleEffect):
            V.check_new_role(vocabulary, e.role)
            vocabulary = V.with_role(vocabulary, V.CustomRole(e.role, e.label, e.term_days, ""))
        elif isinstance(e, A.WordsEffect):
            V.check_labels(vocabulary, e.labels)
        elif isinstance(e, A.GrantRoleEffect):
            V.check_role(vocabulary, e.role, e.term_days)
        elif isinstance(e, A.EndRoleEffect):
            V.check_role(vocabulary, e.role)


def _check_deadline(deadline: int | None, opened_ts: int) -> None:
    """A round's deadline, if any, is not before the round opened."""
    if deadline is not None and deadline < opened_ts:
        raise IllegalMoveError(
            R.DEADLINE_AFTER_OPEN, "the deadline is earlier than the round's open time"
        )


def _end_terms(terms: tuple[RoleTerm, ...], role: str, ts: int) -> tuple[RoleTerm, ...]:
    """``terms`` with every term of ``role`` still active at ``ts`` ended at ``ts``."""
    return tuple(
        dataclasses.replace(t, ended_ts=ts) if t.role == role and t.active_at(ts) else t
        for t in terms
    )


def _raw_str(raw: object, key: str) -> str:
    if isinstance(raw, Mapping):
        value = raw.get(key)
        if isinstance(value, str):
            return value[:64]
    return ""


def _type_of(item: Placed) -> str:
    return item.act.TYPE if item.act is not None else _raw_str(item.raw, "type")


_EFFECTS: Mapping[type[A.Effect], Callable[[_Folder, Decision, A.Effect], str]] = {
    A.GrantRoleEffect: _Folder._effect_grant_role,
    A.EndRoleEffect: _Folder._effect_end_role,
    A.SetRuleEffect: _Folder._effect_set_rule,
    A.AdmitSupporterEffect: _Folder._effect_admit_supporter,
    A.EndSupporterEffect: _Folder._effect_end_supporter,
    A.RemoveMemberEffect: _Folder._effect_remove_member,
    A.EstablishFundEffect: _Folder._effect_establish_fund,
    A.ShortenFundEffect: _Folder._effect_move_dissolution,
    A.LengthenFundEffect: _Folder._effect_move_dissolution,
    A.DisburseEffect: _Folder._effect_disburse,
    A.FundStewardsEffect: _Folder._effect_fund_stewards,
    A.EstablishPartnershipEffect: _Folder._effect_establish_partnership,
    A.ShortenPartnershipEffect: _Folder._effect_move_sunset,
    A.RenewPartnershipEffect: _Folder._effect_move_sunset,
    A.RotateSecretEffect: _Folder._effect_rotate_secret,
    A.WordsEffect: _Folder._effect_words,
    A.AddRoleEffect: _Folder._effect_add_role,
    A.RoundShapeEffect: _Folder._effect_round_shape,
}

# What a supporter with standing may write: propose, amend and withdraw its own proposals,
# state an advisory position, ask, react and answer in a round's thread, and look after its
# own devices and name.
SUPPORTER_ACTS: frozenset[type[A.Act]] = frozenset(
    {A.Propose, A.Amend, A.Withdraw, A.TakePosition, A.Comment}
    | {A.AddDevice, A.RevokeDevice, A.AllowNaming}
    | meeting_fold.SUPPORTER_ACTS
    | SUPPORTER_FUND_ACTS
)

_HANDLERS: Mapping[type[A.Act], Callable[[_Folder, _Ctx], str]] = {
    A.Create: _Folder._create,
    A.RecordInvite: _Folder._invite,
    A.Join: _Folder._join,
    A.Admit: _Folder._admit,
    A.GrantRole: _Folder._grant_role,
    A.EndRole: _Folder._end_role,
    A.Propose: _Folder._propose,
    A.Amend: _Folder._amend,
    A.Withdraw: _Folder._withdraw,
    A.OpenRound: _Folder._open_round,
    A.AdvanceRound: _Folder._advance_round,
    A.TakePosition: _Folder._position,
    A.CloseRound: _Folder._close_round,
    A.Reject: _Folder._reject,
    A.AddDevice: _Folder._add_device,
    A.RevokeDevice: _Folder._revoke_device,
    A.AllowNaming: _Folder._allow_naming,
    A.Comment: _Folder._comment,
    A.AddMember: _Folder._add_member,
    A.ImportPublication: _Folder._import_publication,
    **meeting_fold.HANDLERS,
    A.Contribute: _Folder._contribute,
    A.Pledge: _Folder._pledge,
    A.PausePledge: _Folder._pause_pledge,
    A.Disburse: _Folder._disburse,
    A.ConfirmSkill: _Folder._confirm_skill,
    A.Rekey: _Folder._rekey,
    A.SealSecret: _Folder._seal,
}

__all__ = [
    "Tally",
    "apply_act",
    "at_time",
    "causal_time",
    "empty_state",
    "fold",
    "is_latest",
    "needs_refold",
    "tally_round",
    "validate",
]
