"""The local side: build the act a member is about to write, after checking it is legal.

Each command takes the current state and a ``Stamp`` (who writes, from which device, when,
with which id, having seen what), resolves id prefixes (``NotFoundError`` / ``UsageError``),
builds the typed act and replays it with ``fold.validate`` - the same step the fold runs on
remote acts - so a move is refused locally exactly when every other node would ignore it. An
illegal move raises ``IllegalMoveError`` naming the rule. The caller appends
``act.to_doc()`` to the member's document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assemblymesh.crdt.identity import DeviceCertificate, Invite, assembly_id_for
from assemblymesh.errors import IllegalMoveError, UsageError
from assemblymesh.i18n import _, ngettext
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model import tables as T
from assemblymesh.model.fold import empty_state, tally_round, validate
from assemblymesh.model.refusals import refusal_line
from assemblymesh.model.state import AssemblyState, Rules

_A = TypeVar("_A", bound=A.Act)


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes an act, from which device, when, under which id, having seen what."""

    member: str
    device: str
    ts: int
    act_id: str
    seen: tuple[str, ...] = ()


def context_of(state: AssemblyState) -> tuple[str, ...]:
    """What a new act has seen: the newest acts of the record, which no act names yet."""
    refs = sorted(state.frontier, key=lambda r: (state.eff_of.get(r, 0), r), reverse=True)
    return tuple(sorted(refs[: A.MAX_SEEN]))


def _checked(state: AssemblyState, stamp: Stamp, act: _A) -> _A:
    """``act`` if every node would accept it next: its fields read back as written (types,
    limits) and the rule book allows it."""
    if A.Act.from_doc(act.to_doc()) != act:
        raise UsageError(_("{type}: a field does not read back as written").format(type=act.TYPE))
    try:
        validate(state, stamp.member, stamp.device, act)
    except IllegalMoveError as refused:
        # The fold's detail stays English (the audit keeps it); the person reads it in words.
        refused.args = (refusal_line(refused),)
        raise
    return act


def built(state: AssemblyState, stamp: Stamp, cls: type[_A], **fields: Any) -> _A:
    """The act of type ``cls`` with ``fields``, stamped and checked as ``_checked`` does."""
    return _checked(state, stamp, cls(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, **fields))


def _decision_id(state: AssemblyState, decision: str | None) -> str | None:
    return None if decision is None else state.find_decision(decision).id


def create_assembly(
    stamp: Stamp,
    *,
    name: str,
    charter: str,
    founder_name: str,
    nonce: bytes,
    rules: Rules | None = None,
    term_ms: int = R.DEFAULT_TERM_MS,
) -> tuple[bytes, A.Create]:
    """The new assembly's id and its genesis act (for the founder's own document)."""
    if not A.is_hex(stamp.member, A.KEY_HEX_LEN):
        raise UsageError(_("the founder must be a member key in lowercase hex"))
    if not nonce:
        raise UsageError(_("the nonce must not be empty"))
    assembly_id = assembly_id_for(bytes.fromhex(stamp.member), nonce)
    given = rules or Rules(R.DEFAULT_COOLING_OFF_MS, R.DEFAULT_QUORUM, R.DEFAULT_REVIEW_PERIOD_MS)
    act = A.Create(
        id=stamp.act_id,
        ts=stamp.ts,
        name=name,
        charter=charter,
        founder_name=founder_name,
        nonce=nonce.hex(),
        rules=rules_dict(given),
        term_end=stamp.ts + term_ms,
    )
    return assembly_id, _checked(empty_state(assembly_id, stamp.ts), stamp, act)


def record_invite(
    state: AssemblyState,
    stamp: Stamp,
    invite: Invite,
    kind: str = R.MEMBER_INVITE,
    claim: str | None = None,
    epoch: int = 0,
) -> A.RecordInvite:
    """Record an invite the actor issued: a join with it is placed after this record, and
    ``kind`` (a member or a supporter invite) decides what the joiner becomes; with ``claim``
    (a facilitator's, naming a member without a device) the joiner becomes that member."""
    if invite.inviter.hex() != stamp.member:
        raise UsageError(_("record only invites you issued"))
    if kind not in R.INVITE_KINDS:
        raise UsageError(_("an invite is one of: {kinds}").format(kinds=", ".join(R.INVITE_KINDS)))
    act = A.RecordInvite(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        invite_key=invite.invite_key.hex(),
        expires=invite.expires_ms,
        kind=kind,
        claim=None if claim is None else state.find_member(claim).id,
        epoch=epoch or None,
    )
    return _checked(state, stamp, act)


def join(
    stamp: Stamp, name: str, invite: Invite, proof: bytes, state: AssemblyState | None = None
) -> A.Join:
    """A join. A joiner usually has none of the assembly yet (``state`` None): then it is
    not checked here, and every node checks it when it arrives."""
    act = A.Join(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        name=name,
        invite=invite.encode().hex(),
        proof=proof.hex(),
    )
    return act if state is None else _checked(state, stamp, act)


def admit(state: AssemblyState, stamp: Stamp, join_ref: str) -> A.Admit:
    """The inviter's word on which join its invite admitted."""
    return _checked(
        state, stamp, A.Admit(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, join=join_ref)
    )


def grant_role(
    state: AssemblyState,
    stamp: Stamp,
    member: str,
    role: str,
    term_end: int,
    decision: str | None = None,
) -> A.GrantRole:
    act = A.GrantRole(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        member=state.find_member(member).id,
        role=role,
        term_end=term_end,
        decision=_decision_id(state, decision),
    )
    return _checked(state, stamp, act)


def end_role(
    state: AssemblyState,
    stamp: Stamp,
    member: str,
    role: str,
    decision: str | None = None,
) -> A.EndRole:
    act = A.EndRole(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        member=state.find_member(member).id,
        role=role,
        decision=_decision_id(state, decision),
    )
    return _checked(state, stamp, act)


def propose(
    state: AssemblyState,
    stamp: Stamp,
    title: str,
    body: str,
    effects: Sequence[A.Effect] = (),
    origin: str | None = None,
) -> A.Propose:
    """Put a proposal to the assembly; ``effects`` run if and when it is adopted and takes
    effect; ``origin`` names the published item of another assembly it comes from."""
    act = A.Propose(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        title=title,
        body=body,
        effects=tuple(effects),
        origin=origin,
    )
    return _checked(state, stamp, act)


def amend(
    state: AssemblyState,
    stamp: Stamp,
    proposal: str,
    body: str,
    note: str,
    effects: Sequence[A.Effect] | None = None,
) -> A.Amend:
    """A new version; its effects are ``effects``, or the current version's if None."""
    p = state.find_proposal(proposal)
    act = A.Amend(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        proposal=p.id,
        body=body,
        note=note,
        effects=p.latest.effects if effects is None else tuple(effects),
    )
    return _checked(state, stamp, act)


def withdraw(state: AssemblyState, stamp: Stamp, proposal: str) -> A.Withdraw:
    pid = state.find_proposal(proposal).id
    return _checked(
        state, stamp, A.Withdraw(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, proposal=pid)
    )


def open_round(
    state: AssemblyState,
    stamp: Stamp,
    proposal: str,
    version: int | None = None,
    deadline: int | None = None,
) -> A.OpenRound:
    """Open a consent round on ``version`` (default: the latest) of a proposal, closing
    (informationally: a facilitator still closes it) at ``deadline`` ms if given."""
    p = state.find_proposal(proposal)
    number = p.latest.number if version is None else version
    act = A.OpenRound(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        proposal=p.id,
        version=number,
        deadline=deadline,
    )
    return _checked(state, stamp, act)


def advance_round(
    state: AssemblyState, stamp: Stamp, round_ref: str, deadline: int | None = None
) -> A.AdvanceRound:
    """Move a round to its next phase (questions -> reactions -> positions), setting a new
    ``deadline`` if given."""
    r = state.find_round(round_ref)
    to = T.next_phase(r.phase, r.shape.phases)
    act = A.AdvanceRound(
        id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, round=r.id, to=to, deadline=deadline
    )
    return _checked(state, stamp, act)


def position(
    state: AssemblyState,
    stamp: Stamp,
    round_ref: str,
    kind: str,
    reason: str,
    for_member: str | None = None,
) -> A.TakePosition:
    """Take a position; a facilitator may record one ``for_member`` (provisional)."""
    r = state.find_round(round_ref)
    subject = None if for_member is None else state.find_member(for_member).id
    act = A.TakePosition(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        round=r.id,
        kind=kind,
        reason=reason,
        for_member=subject,
    )
    return _checked(state, stamp, act)


def comment(
    state: AssemblyState,
    stamp: Stamp,
    round_ref: str,
    kind: str,
    text: str,
    parent: str | None = None,
    for_member: str | None = None,
) -> A.Comment:
    """A question or a reaction on a round, or an answer under one of its questions
    (``parent``: the question's ref or a unique prefix of it); a facilitator may record one
    ``for_member``. An answer has seen its question, so it is placed after it."""
    r = state.find_round(round_ref)
    parent_ref = None if parent is None else _find_comment(state, parent)
    seen = stamp.seen
    if parent_ref is not None and parent_ref not in seen:
        seen = (parent_ref, *seen[: A.MAX_SEEN - 1])
    act = A.Comment(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=seen,
        round=r.id,
        kind=kind,
        text=text,
        parent=parent_ref,
        for_member=None if for_member is None else state.find_member(for_member).id,
    )
    return _checked(state, stamp, act)


def _find_comment(state: AssemblyState, prefix: str) -> str:
    prefix = prefix.strip().lower()
    hits = [ref for ref in state.comments if ref.startswith(prefix)] if prefix else []
    if len(hits) != 1:
        if not hits:
            raise UsageError(_("no question with an id starting {prefix!r}").format(prefix=prefix))
        raise UsageError(
            ngettext(
                "{count} comment with an id starting {prefix!r}",
                "{count} comments with an id starting {prefix!r}",
                len(hits),
            ).format(count=len(hits), prefix=prefix)
        )
    return hits[0]


def add_member(state: AssemblyState, stamp: Stamp, name: str) -> A.AddMember:
    """Facilitator: add a member who takes part without a device (see ``deviceless_id``)."""
    act = A.AddMember(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, name=name)
    return _checked(state, stamp, act)


def close_round(
    state: AssemblyState, stamp: Stamp, round_ref: str, statement: str = ""
) -> A.CloseRound:
    """Close a round; ``statement`` says what was decided and why (kept with the decision).
    The act carries the outcome counted here, so that every node can tell when positions this
    node had not received change it."""
    r = state.find_round(round_ref)
    assert state.assembly is not None

    def cannot_count(member: str) -> bool:
        m = state.members.get(member)
        return m is None or not m.counts(stamp.ts)

    counted = tally_round(r, r.rules or state.assembly.rules, cannot_count)
    act = A.CloseRound(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        round=r.id,
        statement=statement,
        announced=counted.outcome,
    )
    return _checked(state, stamp, act)


def reject(state: AssemblyState, stamp: Stamp, proposal: str, reason: str) -> A.Reject:
    pid = state.find_proposal(proposal).id
    act = A.Reject(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, proposal=pid, reason=reason)
    return _checked(state, stamp, act)


def allow_naming(state: AssemblyState, stamp: Stamp, allow: bool) -> A.AllowNaming:
    """Whether publications to other assemblies may name this member."""
    act = A.AllowNaming(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, allow=allow)
    return _checked(state, stamp, act)


def import_publication(state: AssemblyState, stamp: Stamp, data: bytes) -> A.ImportPublication:
    """Take another assembly's publication file into the library (it is verified here, and
    by every node that folds the act)."""
    act = A.ImportPublication(id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, publication=data)
    return _checked(state, stamp, act)


def add_device(state: AssemblyState, stamp: Stamp, certificate: bytes) -> A.AddDevice:
    """Name a device of this member, with the certificate the member key signed for it."""
    return _checked(state, stamp, add_device_act(stamp, certificate))


def add_device_act(stamp: Stamp, certificate: bytes) -> A.AddDevice:
    """The act unchecked: a restored device writes it before it holds the record."""
    device = DeviceCertificate.decode(certificate).device.hex()
    return A.AddDevice(
        id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, device=device,
        certificate=certificate.hex(),
    )  # fmt: skip


def revoke_device(
    state: AssemblyState, stamp: Stamp, revoked: str, keep: int, signature: str
) -> A.RevokeDevice:
    """Revoke one of this member's devices: its changes after ``keep`` count no more.
    ``signature`` is ``identity.sign_revocation`` by the member key."""
    if revoked == stamp.device:
        raise UsageError(_("this device cannot revoke itself: revoke it from another device"))
    act = A.RevokeDevice(
        id=stamp.act_id, ts=stamp.ts, seen=stamp.seen, revoked=revoked, keep=keep,
        signature=signature,
    )  # fmt: skip
    return _checked(state, stamp, act)


def rekey(
    state: AssemblyState,
    stamp: Stamp,
    epoch: int,
    check: bytes,
    seals: tuple[tuple[bytes, bytes], ...],
) -> A.Rekey:
    """Begin epoch ``epoch`` of the assembly secret: its check, and the secret sealed to each
    remaining device (``(device key, box)`` pairs)."""
    act = A.Rekey(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        epoch=epoch,
        check=check.hex(),
        seals=tuple((device.hex(), box.hex()) for device, box in seals),
    )
    return _checked(state, stamp, act)


def seal_secret(
    state: AssemblyState,
    stamp: Stamp,
    epoch: int,
    check: bytes,
    seals: tuple[tuple[bytes, bytes], ...],
) -> A.SealSecret:
    """Seal the current epoch's secret to devices that lack it."""
    act = A.SealSecret(
        id=stamp.act_id,
        ts=stamp.ts,
        seen=stamp.seen,
        epoch=epoch,
        check=check.hex(),
        seals=tuple((device.hex(), box.hex()) for device, box in seals),
    )
    return _checked(state, stamp, act)


def rules_dict(rules: Rules) -> dict[str, int]:
    """``rules`` as the plain mapping a genesis act carries."""
    return {
        "cooling_off_ms": rules.cooling_off_ms,
        "quorum": rules.quorum,
        "review_period_ms": rules.review_period_ms,
        "block_threshold": rules.block_threshold,
        "meeting_quorum": rules.meeting_quorum,
        "agenda_order": rules.agenda_order,
        "absence_lookback": rules.absence_lookback,
    }


__all__ = [
    "Stamp",
    "add_device",
    "add_device_act",
    "add_member",
    "admit",
    "advance_round",
    "allow_naming",
    "amend",
    "close_round",
    "comment",
    "context_of",
    "create_assembly",
    "end_role",
    "grant_role",
    "import_publication",
    "join",
    "open_round",
    "position",
    "propose",
    "record_invite",
    "reject",
    "rekey",
    "revoke_device",
    "rules_dict",
    "seal_secret",
    "withdraw",
]
