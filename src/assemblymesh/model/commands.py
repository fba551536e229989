"""The local side: build the act a member is about to write, after checking it is legal.

Each command takes the current state, the acting member id, ``now_ms`` (the act's ``ts``), a
fresh act id and the writing device, resolves id prefixes (``NotFoundError`` /
``UsageError``), builds the act dict and replays it with ``fold.validate`` - the same step
the fold runs on remote acts - so a move is refused locally exactly when every other node
would ignore it. An illegal move raises ``IllegalMoveError`` naming the rule. The caller
appends the returned dict to the member's document.
"""

from __future__ import annotations

from collections.abc import Mapping

from assemblymesh.crdt.identity import Invite, assembly_id_for
from assemblymesh.errors import UsageError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.fold import empty_state, validate
from assemblymesh.model.state import AssemblyState, Rules

Act = A.Act


def _checked(state: AssemblyState, actor: str, act: Act) -> Act:
    validate(state, actor, act)
    return act


def _decision_id(state: AssemblyState, decision: str | None) -> str | None:
    return None if decision is None else state.find_decision(decision).id


def create_assembly(
    founder: str,
    now_ms: int,
    act_id: str,
    device: str,
    *,
    name: str,
    charter: str,
    founder_name: str,
    nonce: bytes,
    rules: Rules | None = None,
    term_ms: int = R.DEFAULT_TERM_MS,
) -> tuple[bytes, Act]:
    """The new assembly's id and its genesis act (for the founder's own document)."""
    if not A.is_hex(founder, A.KEY_HEX_LEN):
        raise UsageError("the founder must be a member key in lowercase hex")
    if not nonce:
        raise UsageError("the nonce must not be empty")
    assembly_id = assembly_id_for(bytes.fromhex(founder), nonce)
    given = rules or Rules(R.DEFAULT_COOLING_OFF_MS, R.DEFAULT_QUORUM, R.DEFAULT_REVIEW_PERIOD_MS)
    act = A.create(
        act_id,
        now_ms,
        device,
        name=name,
        charter=charter,
        founder_name=founder_name,
        nonce=nonce.hex(),
        rules_=rules_dict(given),
        term_end=now_ms + term_ms,
    )
    return assembly_id, _checked(empty_state(assembly_id, now_ms), founder, act)


def record_invite(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, invite: Invite
) -> Act:
    """Record an invite the actor issued (optional: a join is valid without it)."""
    if invite.inviter.hex() != actor:
        raise UsageError("record only invites you issued")
    act = A.invite(
        act_id, now_ms, device, invite_key=invite.invite_key.hex(), expires=invite.expires_ms
    )
    return _checked(state, actor, act)


def join(
    state: AssemblyState,
    joiner: str,
    now_ms: int,
    act_id: str,
    device: str,
    name: str,
    invite: Invite,
    proof: bytes,
) -> Act:
    act = A.join(act_id, now_ms, device, name=name, invite=invite.encode().hex(), proof=proof.hex())
    return _checked(state, joiner, act)


def grant_role(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    member: str,
    role: str,
    term_end: int,
    decision: str | None = None,
) -> Act:
    act = A.grant_role(
        act_id,
        now_ms,
        device,
        member=state.find_member(member).id,
        role=role,
        term_end=term_end,
        decision=_decision_id(state, decision),
    )
    return _checked(state, actor, act)


def end_role(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    member: str,
    role: str,
    decision: str | None = None,
) -> Act:
    act = A.end_role(
        act_id,
        now_ms,
        device,
        member=state.find_member(member).id,
        role=role,
        decision=_decision_id(state, decision),
    )
    return _checked(state, actor, act)


def propose(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, title: str, body: str
) -> Act:
    return _checked(state, actor, A.propose(act_id, now_ms, device, title=title, body=body))


def amend(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    proposal: str,
    body: str,
    note: str,
) -> Act:
    pid = state.find_proposal(proposal).id
    return _checked(
        state, actor, A.amend(act_id, now_ms, device, proposal=pid, body=body, note=note)
    )


def withdraw(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, proposal: str
) -> Act:
    pid = state.find_proposal(proposal).id
    return _checked(state, actor, A.withdraw(act_id, now_ms, device, proposal=pid))


def open_round(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    proposal: str,
    version: int | None = None,
) -> Act:
    """Open a consent round on ``version`` (default: the latest) of a proposal."""
    p = state.find_proposal(proposal)
    number = p.latest.number if version is None else version
    return _checked(
        state, actor, A.open_round(act_id, now_ms, device, proposal=p.id, version=number)
    )


def advance_round(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, round_ref: str
) -> Act:
    """Move a round to its next phase (questions -> reactions -> positions)."""
    r = state.find_round(round_ref)
    to = R.next_phase(r.phase)
    return _checked(state, actor, A.advance_round(act_id, now_ms, device, round_=r.id, to=to))


def position(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    round_ref: str,
    kind: str,
    reason: str,
    for_member: str | None = None,
) -> Act:
    """Take a position; a facilitator may record one ``for_member`` (provisional)."""
    r = state.find_round(round_ref)
    subject = None if for_member is None else state.find_member(for_member).id
    act = A.position(
        act_id, now_ms, device, round_=r.id, kind=kind, reason=reason, for_member=subject
    )
    return _checked(state, actor, act)


def close_round(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, round_ref: str
) -> Act:
    r = state.find_round(round_ref)
    return _checked(state, actor, A.close_round(act_id, now_ms, device, round_=r.id))


def reject(
    state: AssemblyState,
    actor: str,
    now_ms: int,
    act_id: str,
    device: str,
    proposal: str,
    reason: str,
) -> Act:
    pid = state.find_proposal(proposal).id
    return _checked(state, actor, A.reject(act_id, now_ms, device, proposal=pid, reason=reason))


def revoke_device(
    state: AssemblyState, actor: str, now_ms: int, act_id: str, device: str, revoked: str
) -> Act:
    return _checked(state, actor, A.revoke_device(act_id, now_ms, device, revoked=revoked))


def rules_dict(rules: Rules) -> Mapping[str, int]:
    """``rules`` as the plain mapping a genesis act carries."""
    return {
        "cooling_off_ms": rules.cooling_off_ms,
        "quorum": rules.quorum,
        "review_period_ms": rules.review_period_ms,
        "block_threshold": rules.block_threshold,
    }
