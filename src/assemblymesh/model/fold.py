"""The fold: documents in, governance state out, identically on every node.

Global order
    Each act gets an *effective ts*: its own ``ts``, raised to the effective ts of the act
    before it in the same member document (``eff = max(ts, previous eff)``). All acts of all
    documents are then sorted by ``(effective ts, member id, index in the member's
    document)``. The effective ts keeps a member's acts in document order even when a
    device clock went backwards; the member id breaks ties between members; the index breaks
    ties inside one document. (An act id would serve as tie-break too, but ``(member, index)``
    is already unique and, unlike an id, never reorders a member's own document.) The order
    depends only on the documents' content, never on the order a snapshot lists them in.

Replay
    Acts are replayed one by one through ``_Folder.apply``, which checks the process rules
    of ``model.rules`` and either applies the act or raises ``IllegalMoveError``; a raised
    act changes nothing and is recorded in the audit as ignored, with the rule's name.
    Every time check uses the effective ts. Only the final state depends on ``now_ms``: a
    pending decision whose cooling-off has passed shows as in effect, and its proposal as
    adopted.

Local commands (``model.commands``) replay the act they are about to write through the same
``apply`` on a copy of the current state (``validate``), so there is one rule book.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assemblymesh.crdt.identity import (
    InvalidSignature,
    Invite,
    assembly_id_for,
    verify_invite_proof,
)
from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
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
    Rules,
    Version,
)


@dataclass(frozen=True)
class OrderedAct:
    """One act in the global order."""

    eff_ts: int
    member: str
    index: int
    act: Any  # whatever the document held; checked by the replay


def order_acts(snapshot: AssemblySnapshot) -> list[OrderedAct]:
    """All acts of ``snapshot`` in the global order (see the module docstring)."""
    out: list[OrderedAct] = []
    for member, doc in snapshot.acts.items():
        # Remote data: a document that is not a list of acts contributes nothing.
        if not isinstance(member, str) or not isinstance(doc, Sequence) or isinstance(doc, str):
            continue
        prev = 0
        for index, act in enumerate(doc):
            raw = A.as_int(act.get("ts")) if isinstance(act, Mapping) else None
            eff = prev if raw is None else max(raw, prev)
            out.append(OrderedAct(eff, member, index, act))
            prev = eff
    out.sort(key=lambda o: (o.eff_ts, o.member, o.index))
    return out


def fold(snapshot: AssemblySnapshot, now_ms: int) -> AssemblyState:
    """The governance state of ``snapshot`` as of ``now_ms``. Pure and deterministic."""
    folder = _Folder(snapshot.assembly_id)
    for item in order_acts(snapshot):
        folder.feed(item.member, item.act, item.eff_ts)
    return folder.freeze(now_ms)


def empty_state(assembly_id: bytes, now_ms: int) -> AssemblyState:
    """The state of an assembly none of whose acts are here yet."""
    return _Folder(assembly_id).freeze(now_ms)


def effective_ts(state: AssemblyState, member: str, ts: int) -> int:
    """The effective ts an act of ``member`` written at ``ts`` would get after ``state``."""
    return max(ts, state.last_ts.get(member, ts))


def validate(state: AssemblyState, actor: str, act: Mapping[str, Any]) -> str:
    """Replay ``act`` by ``actor`` on a copy of ``state``; return its summary or raise.

    Raises ``IllegalMoveError`` exactly when the fold would ignore the act if it came next.
    """
    ts = A.as_int(act.get("ts"))
    eff = effective_ts(state, actor, ts if ts is not None else 0)
    return _Folder.thaw(state).apply(actor, act, eff)


def at_time(state: AssemblyState, now_ms: int) -> AssemblyState:
    """``state`` as of another ``now_ms``: the same acts, time-dependent statuses redone.

    Equal to ``fold(snapshot, now_ms)`` of the snapshot ``state`` was folded from, at a
    fraction of the cost (no replay).
    """
    if now_ms == state.now_ms:
        return state
    return _Folder.thaw(state).freeze(now_ms)


def is_latest(state: AssemblyState, actor: str, act: Mapping[str, Any]) -> bool:
    """Whether ``act`` would come last in the global order after ``state``, so that
    ``apply_act`` equals a re-fold."""
    ts = A.as_int(act.get("ts"))
    eff = effective_ts(state, actor, ts if ts is not None else 0)
    return all(eff > other for member, other in state.last_ts.items() if member != actor)


def apply_act(state: AssemblyState, actor: str, act: Mapping[str, Any]) -> AssemblyState:
    """``state`` with ``act`` replayed after it (a preview of writing the act locally).

    Equal to re-folding the documents with the act appended when no other member's act has
    a later effective ts; otherwise the next fold places the act in its global position.
    """
    ts = A.as_int(act.get("ts"))
    eff = effective_ts(state, actor, ts if ts is not None else 0)
    folder = _Folder.thaw(state)
    folder.feed(actor, act, eff)
    return folder.freeze(state.now_ms)


def _illegal(rule: str, detail: str) -> IllegalMoveError:
    return IllegalMoveError(rule, detail)


def _short(member: str) -> str:
    return member[:8]


@dataclass(frozen=True)
class _Ctx:
    """The act being replayed and who wrote it."""

    member: str
    act: Mapping[str, Any]
    ts: int  # effective ts
    raw_ts: int
    act_id: str
    device: str


class _Folder:
    """Mutable working state of one replay; records inside it are frozen and replaced."""

    def __init__(self, assembly_id: bytes) -> None:
        self.assembly_id = assembly_id
        self.assembly: Assembly | None = None
        self.members: dict[str, Member] = {}
        self.proposals: dict[str, Proposal] = {}
        self.rounds: dict[str, Round] = {}
        self.decisions: dict[str, Decision] = {}
        self.invites: dict[str, InviteRecord] = {}
        self.audit: list[AuditEntry] = []
        self.founding_period = True
        self.act_ids: set[str] = set()
        self.last_ts: dict[str, int] = {}

    # --- entry and exit --------------------------------------------------------------------

    @classmethod
    def thaw(cls, state: AssemblyState) -> _Folder:
        f = cls(state.assembly_id)
        f.assembly = state.assembly
        f.members = dict(state.members)
        # The working state keeps time-dependent statuses in their pre-time form, so the
        # replay never depends on the ``now_ms`` the state was frozen at.
        f.proposals = {
            k: dataclasses.replace(p, state=R.ADOPTED_PENDING) if p.state == R.ADOPTED else p
            for k, p in state.proposals.items()
        }
        f.rounds = dict(state.rounds)
        f.decisions = {
            k: dataclasses.replace(d, status=R.PENDING) if d.status == R.IN_EFFECT else d
            for k, d in state.decisions.items()
        }
        f.invites = dict(state.invites)
        f.audit = list(state.audit)
        f.founding_period = state.founding_period
        f.act_ids = set(state.act_ids)
        f.last_ts = dict(state.last_ts)
        return f

    def freeze(self, now_ms: int) -> AssemblyState:
        decisions: dict[str, Decision] = {}
        for k, d in self.decisions.items():
            if d.status == R.PENDING and now_ms >= d.effective_ts:
                d = dataclasses.replace(d, status=R.decision_move(d.status, "cooling_off_elapsed"))
            decisions[k] = d
        proposals: dict[str, Proposal] = {}
        for k, p in self.proposals.items():
            decision = decisions.get(p.decision) if p.decision is not None else None
            if p.state == R.ADOPTED_PENDING and decision and decision.status == R.IN_EFFECT:
                p = dataclasses.replace(p, state=R.ADOPTED)
            proposals[k] = p
        return AssemblyState(
            assembly_id=self.assembly_id,
            now_ms=now_ms,
            assembly=self.assembly,
            members=dict(self.members),
            proposals=proposals,
            rounds=dict(self.rounds),
            decisions=decisions,
            invites=dict(self.invites),
            audit=tuple(self.audit),
            founding_period=self.founding_period,
            act_ids=frozenset(self.act_ids),
            last_ts=dict(self.last_ts),
        )

    def feed(self, member: str, act: Any, eff_ts: int) -> None:
        """Replay one act from a document; an illegal act is audited, never raised."""
        self.last_ts[member] = eff_ts
        try:
            summary = self.apply(member, act, eff_ts)
        except IllegalMoveError as exc:
            self.audit.append(
                AuditEntry(
                    ts=eff_ts,
                    member=member,
                    act_id=_field_str(act, "id"),
                    act_type=_field_str(act, "type"),
                    summary=f"{_field_str(act, 'type') or 'act'} ignored",
                    accepted=False,
                    rule=exc.rule,
                    detail=exc.detail,
                )
            )
            return
        self.audit.append(
            AuditEntry(
                ts=eff_ts,
                member=member,
                act_id=str(act["id"]),
                act_type=str(act["type"]),
                summary=summary,
                accepted=True,
            )
        )

    def apply(self, member: str, act: Any, ts: int) -> str:
        """Check ``act`` against the rules and apply it; return a one-line summary.

        All checks run before any change, so a raised act leaves the state untouched.
        """
        if not isinstance(act, Mapping):
            raise _illegal(R.WELL_FORMED, "an act must be a mapping")
        if not A.is_hex(member, A.KEY_HEX_LEN):
            raise _illegal(R.WELL_FORMED, "the document does not belong to a member key")
        act_type = act.get("type")
        if not isinstance(act_type, str):
            raise _illegal(R.WELL_FORMED, "field 'type' must be text")
        act_id = A.read_id(act, "id")
        raw_ts = A.read_int(act, "ts")
        device = A.read_hex(act, "device", A.KEY_HEX_LEN)
        handler = _HANDLERS.get(act_type)
        if handler is None:
            raise _illegal(R.KNOWN_TYPE, f"unknown act type {act_type!r}")
        if act_id in self.act_ids:
            raise _illegal(R.UNIQUE_ID, f"act id {act_id} was already used")
        ctx = _Ctx(member, act, ts, raw_ts, act_id, device)
        if act_type not in (A.CREATE, A.JOIN):
            self._require_member(ctx)
        summary = handler(self, ctx)
        self.act_ids.add(act_id)
        m = self.members.get(member)
        if m is not None and device not in m.devices:
            self.members[member] = dataclasses.replace(m, devices=(*m.devices, device))
        return summary

    # --- shared checks ---------------------------------------------------------------------

    def _require_member(self, ctx: _Ctx) -> Member:
        if self.assembly is None:
            raise _illegal(R.ASSEMBLY_EXISTS, "the assembly's genesis act is not here yet")
        m = self.members.get(ctx.member)
        if m is None:
            raise _illegal(R.MEMBERS_ONLY, f"{_short(ctx.member)} is not a member")
        if ctx.device in m.revoked_devices:
            raise _illegal(R.DEVICE_NOT_REVOKED, f"device {_short(ctx.device)} was revoked")
        return m

    def _require_facilitator(self, ctx: _Ctx) -> None:
        m = self.members[ctx.member]
        if m.is_ally(ctx.ts) and m.has_role(R.FACILITATOR, ctx.ts):
            raise _illegal(R.ALLY_CANNOT_FACILITATE, f"{m.name} is an ally")
        if not m.can_facilitate(ctx.ts):
            raise _illegal(R.FACILITATOR_ONLY, f"{m.name} is not a facilitator now")

    def _proposal(self, ctx: _Ctx) -> Proposal:
        pid = A.read_id(ctx.act, "proposal")
        p = self.proposals.get(pid)
        if p is None:
            raise _illegal(R.PROPOSAL_EXISTS, f"no proposal {pid}")
        return p

    def _round(self, ctx: _Ctx) -> Round:
        rid = A.read_id(ctx.act, "round")
        r = self.rounds.get(rid)
        if r is None:
            raise _illegal(R.ROUND_EXISTS, f"no round {rid}")
        return r

    def _target_member(self, ctx: _Ctx, key: str) -> Member:
        mid = A.read_hex(ctx.act, key, A.KEY_HEX_LEN)
        m = self.members.get(mid)
        if m is None:
            raise _illegal(R.MEMBER_EXISTS, f"{_short(mid)} is not a member")
        return m

    def _is_ally(self, member: str, ts: int) -> bool:
        m = self.members.get(member)
        return m is not None and m.is_ally(ts)

    def _check_role_authority(self, ctx: _Ctx, decision_id: str | None) -> None:
        """Roles change by a decision in effect, or by the founder while founding."""
        if decision_id is None:
            m = self.members[ctx.member]
            if not (m.is_founder and self.founding_period):
                raise _illegal(R.ROLE_BY_DECISION, "roles change by a decision in effect")
            return
        d = self.decisions.get(decision_id)
        if d is None:
            raise _illegal(R.DECISION_EXISTS, f"no decision {decision_id}")
        if d.status != R.PENDING or ctx.ts < d.effective_ts:
            raise _illegal(R.DECISION_IN_EFFECT, f"decision {decision_id[:8]} is not in effect")
        self._require_facilitator(ctx)

    # --- act handlers ----------------------------------------------------------------------

    def _create(self, ctx: _Ctx) -> str:
        name = A.read_str(ctx.act, "name", required=True)
        charter = A.read_str(ctx.act, "charter")
        founder_name = A.read_str(ctx.act, "founder_name", required=True)
        nonce = A.read_hex(ctx.act, "nonce")
        cooling, quorum, review, block = A.read_rules(ctx.act.get("rules"))
        term_end = A.read_int(ctx.act, "term_end")
        if assembly_id_for(bytes.fromhex(ctx.member), bytes.fromhex(nonce)) != self.assembly_id:
            raise _illegal(R.GENESIS_BY_FOUNDER, "the assembly id is not this member's")
        if self.assembly is not None:
            raise _illegal(R.GENESIS_ONCE, "the assembly was already created")
        if term_end <= ctx.ts:
            raise _illegal(R.ROLE_TERM, "the founder's facilitator term must end in the future")
        self.assembly = Assembly(
            name=name,
            charter=charter,
            founder=ctx.member,
            created_ts=ctx.ts,
            nonce=nonce,
            rules=Rules(
                cooling_off_ms=cooling,
                quorum=quorum,
                review_period_ms=review,
                block_threshold=block,
            ),
        )
        term = RoleTerm(R.FACILITATOR, ctx.ts, term_end, ctx.member, None)
        self.members[ctx.member] = Member(
            id=ctx.member,
            name=founder_name,
            joined_ts=ctx.ts,
            invited_by=None,
            invite_key=None,
            is_founder=True,
            roles=(term,),
        )
        return f"created assembly {name!r}; {founder_name} founds and facilitates"

    def _invite(self, ctx: _Ctx) -> str:
        key = A.read_hex(ctx.act, "invite_key", A.KEY_HEX_LEN)
        expires = A.read_int(ctx.act, "expires")
        if key in self.invites:
            raise _illegal(R.INVITE_RECORDED_ONCE, f"invite {key[:8]} is already known")
        if expires <= ctx.ts:
            raise _illegal(R.INVITE_NOT_EXPIRED, "the invite expires before it is made")
        self.invites[key] = InviteRecord(key, ctx.member, expires, ctx.ts)
        return f"recorded invite {key[:8]} (expires {expires})"

    def _join(self, ctx: _Ctx) -> str:
        name = A.read_str(ctx.act, "name", required=True)
        invite_hex = A.read_hex(ctx.act, "invite")
        proof = A.read_hex(ctx.act, "proof", A.SIGNATURE_HEX_LEN)
        if self.assembly is None:
            raise _illegal(R.ASSEMBLY_EXISTS, "the assembly's genesis act is not here yet")
        if ctx.member in self.members:
            raise _illegal(R.JOIN_ONCE, f"{_short(ctx.member)} is already a member")
        try:
            invite = Invite.decode(bytes.fromhex(invite_hex))
        except InvalidSignature as exc:
            raise _illegal(R.INVITE_GENUINE, "the invite is malformed") from exc
        if invite.assembly != self.assembly_id:
            raise _illegal(R.INVITE_FOR_ASSEMBLY, "the invite is for another assembly")
        try:
            verify_invite_proof(invite, bytes.fromhex(ctx.member), bytes.fromhex(proof))
        except InvalidSignature as exc:
            raise _illegal(R.INVITE_GENUINE, "the invite or its proof does not verify") from exc
        inviter = invite.inviter.hex()
        if inviter not in self.members:
            raise _illegal(R.INVITER_IS_MEMBER, f"inviter {_short(inviter)} is not a member")
        if ctx.ts > invite.expires_ms:
            raise _illegal(R.INVITE_NOT_EXPIRED, "the invite had expired")
        key = invite.invite_key.hex()
        record = self.invites.get(key)
        if record is not None and record.used_by is not None:
            raise _illegal(R.INVITE_USED_ONCE, f"invite {key[:8]} already admitted someone")
        if record is None:
            record = InviteRecord(key, inviter, invite.expires_ms, None)
        self.invites[key] = dataclasses.replace(record, used_by=ctx.member)
        self.members[ctx.member] = Member(
            id=ctx.member,
            name=name,
            joined_ts=ctx.ts,
            invited_by=inviter,
            invite_key=key,
            is_founder=False,
        )
        return f"{name} joined, invited by {self.members[inviter].name}"

    def _grant_role(self, ctx: _Ctx) -> str:
        target = self._target_member(ctx, "member")
        role = A.read_choice(ctx.act, "role", R.ROLES)
        term_end = A.read_int(ctx.act, "term_end")
        decision = A.read_opt_id(ctx.act, "decision")
        self._check_role_authority(ctx, decision)
        if term_end <= ctx.ts:
            raise _illegal(R.ROLE_TERM, "a role's term must end in the future")
        if role in R.DECIDING_ROLES and target.is_ally(ctx.ts):
            raise _illegal(R.ALLY_CANNOT_FACILITATE, f"{target.name} is an ally")
        terms = _end_terms(target.roles, role, ctx.ts)
        new = RoleTerm(role, ctx.ts, term_end, ctx.member, decision)
        self.members[target.id] = dataclasses.replace(target, roles=(*terms, new))
        return f"{target.name} is {role} until {term_end}"

    def _end_role(self, ctx: _Ctx) -> str:
        target = self._target_member(ctx, "member")
        role = A.read_choice(ctx.act, "role", R.ROLES)
        decision = A.read_opt_id(ctx.act, "decision")
        if not (target.id == ctx.member and decision is None):
            self._check_role_authority(ctx, decision)
        if not target.has_role(role, ctx.ts):
            raise _illegal(R.ROLE_HELD, f"{target.name} is not {role} now")
        self.members[target.id] = dataclasses.replace(
            target, roles=_end_terms(target.roles, role, ctx.ts)
        )
        return f"{target.name} is no longer {role}"

    def _propose(self, ctx: _Ctx) -> str:
        title = A.read_str(ctx.act, "title", required=True)
        body = A.read_str(ctx.act, "body")
        first = Version(1, body, ctx.member, ctx.ts, "first version", ctx.act_id)
        self.proposals[ctx.act_id] = Proposal(
            id=ctx.act_id,
            author=ctx.member,
            title=title,
            created_ts=ctx.ts,
            versions=(first,),
            state=R.OPEN,
        )
        return f"proposed {title!r}"

    def _amend(self, ctx: _Ctx) -> str:
        p = self._proposal(ctx)
        body = A.read_str(ctx.act, "body")
        note = A.read_str(ctx.act, "note")
        if ctx.member != p.author and not self.members[ctx.member].can_facilitate(ctx.ts):
            raise _illegal(R.AUTHOR_OR_FACILITATOR, "only the author or a facilitator amends")
        state = R.proposal_move(p.state, A.AMEND)
        version = Version(len(p.versions) + 1, body, ctx.member, ctx.ts, note, ctx.act_id)
        self.proposals[p.id] = dataclasses.replace(p, versions=(*p.versions, version), state=state)
        return f"amended {p.title!r} to version {version.number}: {note}"

    def _withdraw(self, ctx: _Ctx) -> str:
        p = self._proposal(ctx)
        if ctx.member != p.author:
            raise _illegal(R.AUTHOR_ONLY, "only the author withdraws a proposal")
        state = R.proposal_move(p.state, A.WITHDRAW)
        current = self._open_round_of(p)
        if current is not None:
            phase = R.round_move(current.phase, A.WITHDRAW)
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
        p = self._proposal(ctx)
        version = A.read_int(ctx.act, "version", minimum=1)
        self._require_facilitator(ctx)
        if version != p.latest.number:
            raise _illegal(
                R.ROUND_ON_LATEST_VERSION,
                f"version {version} is not the latest ({p.latest.number})",
            )
        state = R.proposal_move(p.state, A.OPEN_ROUND)
        self.rounds[ctx.act_id] = Round(
            id=ctx.act_id,
            proposal=p.id,
            version=version,
            facilitator=ctx.member,
            opened_ts=ctx.ts,
            phase=R.QUESTIONS,
            positions={},
        )
        self.proposals[p.id] = dataclasses.replace(p, state=state, rounds=(*p.rounds, ctx.act_id))
        return f"opened a round on {p.title!r} v{version}"

    def _advance_round(self, ctx: _Ctx) -> str:
        r = self._round(ctx)
        to = A.read_choice(ctx.act, "to", R.PHASES)
        self._require_facilitator(ctx)
        nxt = R.round_move(r.phase, A.ADVANCE_ROUND)
        if to != nxt:
            raise _illegal(R.ROUND_TRANSITION, f"the round is in {r.phase}; it cannot go to {to}")
        self.rounds[r.id] = dataclasses.replace(r, phase=nxt)
        return f"round {r.id[:8]} moved to {nxt}"

    def _position(self, ctx: _Ctx) -> str:
        r = self._round(ctx)
        kind = A.read_choice(ctx.act, "kind", R.POSITION_KINDS)
        reason = A.read_str(ctx.act, "reason")
        for_member = A.read_opt_hex(ctx.act, "for", A.KEY_HEX_LEN)
        proxy = for_member is not None and for_member != ctx.member
        subject = for_member if proxy and for_member is not None else ctx.member
        if proxy:
            self._require_facilitator(ctx)
            if subject not in self.members:
                raise _illegal(R.MEMBER_EXISTS, f"{_short(subject)} is not a member")
        if kind == R.OBJECT and not reason.strip():
            raise _illegal(R.OBJECTION_NEEDS_REASON, "an objection must give its reason")
        if kind == R.OBJECT and self._is_ally(subject, ctx.ts):
            raise _illegal(R.ALLY_CANNOT_BLOCK, f"{self.members[subject].name} is an ally")
        new = Position(
            member=subject,
            kind=kind,
            reason=reason,
            provisional=proxy,
            recorded_by=ctx.member,
            ts=ctx.raw_ts,
            act_id=ctx.act_id,
        )
        name = self.members[subject].name
        if r.phase == R.CLOSED:
            return self._late_objection(ctx, r, new, proxy)
        R.round_move(r.phase, A.POSITION)
        old = r.positions.get(subject)
        if old is not None:
            if proxy and not old.provisional:
                raise _illegal(R.OWN_POSITION_STANDS, f"{name} gave their own position")
            if old.provisional == proxy and (old.ts, old.act_id) > (new.ts, new.act_id):
                raise _illegal(R.LATEST_POSITION_WINS, f"{name} has a later position")
        self.rounds[r.id] = dataclasses.replace(r, positions={**r.positions, subject: new})
        how = "provisionally, recorded by " + self.members[ctx.member].name if proxy else ""
        return f"{name}: {kind} in round {r.id[:8]} {how}".rstrip()

    def _late_objection(self, ctx: _Ctx, r: Round, pos: Position, proxy: bool) -> str:
        """An objection cast after close but before the decision took effect returns it."""
        d = self.decisions.get(r.decision) if r.decision is not None else None
        if proxy or pos.kind != R.OBJECT or d is None:
            raise _illegal(R.ROUND_TRANSITION, f"round {r.id[:8]} is closed")
        if ctx.ts >= d.effective_ts:
            raise _illegal(
                R.LATE_OBJECTION_WINDOW,
                f"decision {d.id[:8]} took effect before this objection",
            )
        # The late objection that makes the objections reach the assembly's block threshold
        # returns the decision; the others join the list to be integrated.
        late = dataclasses.replace(pos, late=True)
        others = tuple(o for o in d.late_objections if o.member != pos.member)
        assert self.assembly is not None
        objectors = {o.member for o in r.objections} | {o.member for o in others} | {pos.member}
        blocks = len(objectors) >= self.assembly.rules.block_threshold
        status = R.decision_move(d.status, R.LATE_OBJECTION) if blocks else d.status
        p = self.proposals[r.proposal]
        if d.status == R.PENDING and blocks:
            p = dataclasses.replace(p, state=R.proposal_move(p.state, R.LATE_OBJECTION))
        self.decisions[d.id] = dataclasses.replace(
            d, status=status, late_objections=(*others, late)
        )
        self.rounds[r.id] = dataclasses.replace(r, positions={**r.positions, pos.member: late})
        self.proposals[p.id] = p
        outcome = (
            "returned" if status == R.DECISION_RETURNED else "stands (below the block threshold)"
        )
        return f"{self.members[pos.member].name} objected late: decision on {p.title!r} {outcome}"

    def _close_round(self, ctx: _Ctx) -> str:
        r = self._round(ctx)
        self._require_facilitator(ctx)
        if r.phase == R.CLOSED:
            by = self.members[r.closed_by].name if r.closed_by in self.members else "?"
            raise _illegal(R.ROUND_TRANSITION, f"round {r.id[:8]} was already closed by {by}")
        phase = R.round_move(r.phase, A.CLOSE_ROUND)
        assert self.assembly is not None
        rules = self.assembly.rules
        counted = [p for p in r.positions.values() if not self._is_ally(p.member, ctx.ts)]
        objections = [p for p in counted if p.kind == R.OBJECT]
        support = sum(1 for p in counted if p.kind in R.QUORUM_KINDS)
        if len(objections) >= rules.block_threshold:
            outcome = R.OUTCOME_OBJECTIONS
        elif support >= rules.quorum:
            outcome = R.OUTCOME_ADOPTED
        else:
            outcome = R.OUTCOME_NO_QUORUM
        p = self.proposals[r.proposal]
        state = R.proposal_move(p.state, "close:" + outcome)
        decision_id: str | None = None
        if outcome == R.OUTCOME_ADOPTED:
            decision_id = ctx.act_id
            self.decisions[decision_id] = Decision(
                id=decision_id,
                round=r.id,
                proposal=p.id,
                version=r.version,
                outcome=outcome,
                decided_by=ctx.member,
                decided_ts=ctx.ts,
                effective_ts=ctx.ts + rules.cooling_off_ms,
                review_ts=ctx.ts + rules.review_period_ms,
                status=R.PENDING,
            )
            self.founding_period = False
            p = dataclasses.replace(p, decision=decision_id)
        self.rounds[r.id] = dataclasses.replace(
            r,
            phase=phase,
            closed_by=ctx.member,
            closed_ts=ctx.ts,
            outcome=outcome,
            decision=decision_id,
        )
        self.proposals[p.id] = dataclasses.replace(p, state=state)
        detail = f"{len(objections)} objection(s)" if objections else f"{support} taking part"
        return f"closed round on {p.title!r}: {outcome} ({detail})"

    def _reject(self, ctx: _Ctx) -> str:
        p = self._proposal(ctx)
        reason = A.read_str(ctx.act, "reason")
        self._require_facilitator(ctx)
        state = R.proposal_move(p.state, A.REJECT)
        self.proposals[p.id] = dataclasses.replace(p, state=state, closing_note=reason)
        return f"rejected {p.title!r}"

    def _revoke_device(self, ctx: _Ctx) -> str:
        revoked = A.read_hex(ctx.act, "revoked", A.KEY_HEX_LEN)
        m = self.members[ctx.member]
        if revoked in m.revoked_devices:
            raise _illegal(R.REVOKE_ONCE, f"device {revoked[:8]} is already revoked")
        self.members[m.id] = dataclasses.replace(m, revoked_devices=(*m.revoked_devices, revoked))
        return f"{m.name} revoked device {revoked[:8]}"

    def _open_round_of(self, p: Proposal) -> Round | None:
        for rid in reversed(p.rounds):
            r = self.rounds[rid]
            if r.phase != R.CLOSED:
                return r
        return None


def _end_terms(terms: tuple[RoleTerm, ...], role: str, ts: int) -> tuple[RoleTerm, ...]:
    """``terms`` with every term of ``role`` still active at ``ts`` ended at ``ts``."""
    return tuple(
        dataclasses.replace(t, ended_ts=ts) if t.role == role and t.active_at(ts) else t
        for t in terms
    )


def _field_str(act: Any, key: str) -> str:
    if isinstance(act, Mapping):
        value = act.get(key)
        if isinstance(value, str):
            return value[:64]
    return ""


_HANDLERS: Mapping[str, Callable[[_Folder, _Ctx], str]] = {
    A.CREATE: _Folder._create,
    A.INVITE: _Folder._invite,
    A.JOIN: _Folder._join,
    A.GRANT_ROLE: _Folder._grant_role,
    A.END_ROLE: _Folder._end_role,
    A.PROPOSE: _Folder._propose,
    A.AMEND: _Folder._amend,
    A.WITHDRAW: _Folder._withdraw,
    A.OPEN_ROUND: _Folder._open_round,
    A.ADVANCE_ROUND: _Folder._advance_round,
    A.POSITION: _Folder._position,
    A.CLOSE_ROUND: _Folder._close_round,
    A.REJECT: _Folder._reject,
    A.REVOKE_DEVICE: _Folder._revoke_device,
}
