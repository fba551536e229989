"""The governance questions other layers ask, answered from the rule book only.

No file outside ``model/`` counts positions, judges an admission or decides which moves are
legal: the network asks ``peer_admission``, the store asks ``document_admission``, the
screens and the simulator ask ``tally`` and ``legal_moves``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assemblymesh.crdt.identity import (
    InvalidSignature,
    Invite,
    assembly_id_for,
    verify_invite_proof,
)
from assemblymesh.errors import IllegalMoveError, UsageError
from assemblymesh.i18n import N_
from assemblymesh.model import acts as A
from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from assemblymesh.model.commands import Stamp, context_of
from assemblymesh.model.fold import Tally, tally_round
from assemblymesh.model.state import AssemblyState, Round


class Admission(enum.Enum):
    ADMIT = "admit"
    WAIT = "wait"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Verdict:
    """An answer to "may this in?", with the reason a refusal or a wait gives."""

    admission: Admission
    reason: str = ""
    # For a refused joiner: what the network may tell them (docs/protocol.md §3.6).
    code: str = "refused"

    @property
    def admitted(self) -> bool:
        return self.admission is Admission.ADMIT


ADMITTED = Verdict(Admission.ADMIT)


def document_admission(
    assembly_id: bytes, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
) -> Verdict:
    """Whether the store may keep (and pass on) the document of ``member``, judged on what
    the member's first change writes: the assembly's genesis by its founder, or a join with a
    genuine invite of a member whose document is here (otherwise it waits for it)."""
    for value in values:
        try:
            act = A.Act.from_doc(value)
        except IllegalMoveError:
            continue
        if isinstance(act, A.Create) and _founds(assembly_id, member, act):
            return ADMITTED
        if isinstance(act, A.Join):
            invite = _genuine(assembly_id, member, act)
            if invite is None:
                continue
            if known(invite.inviter):
                return ADMITTED
            return Verdict(Admission.WAIT, "its inviter's document is not here yet")
    return Verdict(Admission.REFUSE, N_("not a member of this assembly, and no genuine join"))


def _founds(assembly_id: bytes, member: bytes, create: A.Create) -> bool:
    """Whether ``create`` is the genesis of this assembly by ``member`` (self-certified)."""
    return assembly_id_for(member, bytes.fromhex(create.nonce)) == assembly_id


def _genuine(assembly_id: bytes, member: bytes, join: A.Join) -> Invite | None:
    try:
        invite = Invite.decode(bytes.fromhex(join.invite))
        if invite.assembly != assembly_id:
            return None
        verify_invite_proof(invite, member, bytes.fromhex(join.proof))
    except (InvalidSignature, ValueError):
        return None
    return invite


def peer_admission(
    state: AssemblyState, member: bytes, device: bytes, invite: Invite | None, now_ms: int
) -> Verdict:
    """Whether a proven peer device may sync with this node (the handshake's question)."""
    mid = member.hex()
    m = state.members.get(mid)
    if m is not None:
        if state.is_revoked(mid, device.hex()):
            return Verdict(Admission.REFUSE, N_("device was revoked by its member"))
        if m.is_removed(now_ms):
            return Verdict(Admission.REFUSE, N_("member was removed by a decision"))
        if m.supporter and m.standing_until is not None and now_ms >= m.standing_until:
            return Verdict(Admission.REFUSE, N_("supporter's standing has ended"))
        return ADMITTED
    if invite is None:
        return Verdict(Admission.REFUSE, N_("not a member of this assembly"))
    key = invite.invite_key.hex()
    record = state.invites.get(key)
    if record is not None and record.used_by not in (None, mid):
        return Verdict(Admission.REFUSE, N_("invite was already used"), "invite-used")
    inviter = state.members.get(invite.inviter.hex())
    # A supporter holds a member key too, and could sign an invite it may not record: such
    # an invite never admits anyone, so its holder has nothing to sync.
    if inviter is None or inviter.supporter:
        return Verdict(
            Admission.REFUSE, N_("invite was issued by someone who is not a member"), "invite-void"
        )
    if invite.expires_ms < now_ms:
        return Verdict(Admission.REFUSE, N_("invite has expired"), "invite-expired")
    return ADMITTED


@dataclass(frozen=True, slots=True)
class DeviceLimit:
    """How much of a device's chain the store may keep: changes up to ``last`` (``None``: no
    limit), and why there is one."""

    last: int | None
    reason: str = ""


def device_limit(state: AssemblyState, member: bytes, device: bytes, issued_ms: int) -> DeviceLimit:
    """The store's question about a device's changes: a revoked device's changes count up
    to its revocation's ``keep`` only; a removed member's device certified at or after the
    removal took effect is refused outright (``issued_ms`` is its certificate's time, or
    -1 for a device already stored). Its other devices keep their chains: the fold ignores
    their acts after the removal by causal time."""
    mid, did = member.hex(), device.hex()
    keep = state.revocations.get((mid, did))
    if keep is not None:
        return DeviceLimit(keep, "device was revoked by its member")
    m = state.members.get(mid)
    if m is not None and m.removed_ts is not None and issued_ms >= m.removed_ts:
        return DeviceLimit(0, "device certified after its member was removed")
    return DeviceLimit(None)


def tally(state: AssemblyState, round_ref: str) -> Tally:
    """What closing the round now would give: quorum, objections, outcome."""
    r = state.find_round(round_ref)
    assert state.assembly is not None
    now = state.now_ms

    def cannot_count(member: str) -> bool:
        m = state.members.get(member)
        return m is None or not m.counts(now)

    return tally_round(r, r.rules or state.assembly.rules, cannot_count)


def waiting_on(state: AssemblyState, r: Round) -> tuple[str, ...]:
    """The members an open round still waits for: those whose position would count (not
    supporters: they advise) and who have none yet, by name. A closed round waits for nobody."""
    if r.phase == R.CLOSED:
        return ()
    now = state.now_ms
    members = sorted(
        (m for m in state.members.values() if m.counts(now) and m.id not in r.positions),
        key=lambda m: (m.name.casefold(), m.id),
    )
    return tuple(m.id for m in members)


def rounds_waiting_for(state: AssemblyState, member: str) -> tuple[Round, ...]:
    """The rounds in the positions phase that wait for ``member``'s position, soonest
    deadline first (rounds without one last)."""
    found = [
        r
        for r in state.rounds.values()
        if r.phase == R.POSITIONS and member in waiting_on(state, r)
    ]
    return tuple(
        sorted(found, key=lambda r: (r.deadline is None, r.deadline or 0, r.opened_ts, r.id))
    )


def deadline_near(r: Round, now_ms: int) -> bool:
    """Whether ``r``'s deadline has passed or is within ``DEADLINE_REMINDER_MS``."""
    return r.deadline is not None and r.deadline - now_ms <= R.DEADLINE_REMINDER_MS


class Move(enum.StrEnum):
    """What a member can do next on a proposal or its round."""

    OPEN_ROUND = "open_round"
    ADVANCE = "advance_round"
    POSITION = "position"
    CLOSE = "close_round"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    REJECT = "reject"


def legal_moves(
    state: AssemblyState, member: str, device: str, proposal_ref: str
) -> frozenset[Move]:
    """The moves ``member`` may make now on a proposal and its open round: each is the
    command that would write it, run through the rule book, so this is what writing allows."""
    p = state.proposals.get(proposal_ref)
    if p is None:
        return frozenset()
    stamp = Stamp(member, device, state.now_ms, "00000000000000aa", context_of(state))
    tries: list[tuple[Move, Callable[[], object]]] = [
        (Move.OPEN_ROUND, lambda: C.open_round(state, stamp, p.id)),
        (Move.AMEND, lambda: C.amend(state, stamp, p.id, p.latest.body, "")),
        (Move.WITHDRAW, lambda: C.withdraw(state, stamp, p.id)),
        (Move.REJECT, lambda: C.reject(state, stamp, p.id, "")),
    ]
    r = state.open_round_of(p.id)
    if r is not None:
        rid = r.id
        tries += [
            (Move.ADVANCE, lambda: C.advance_round(state, stamp, rid)),
            (Move.POSITION, lambda: C.position(state, stamp, rid, R.CONSENT, "")),
            (Move.CLOSE, lambda: C.close_round(state, stamp, rid)),
        ]
    legal = set()
    for move, attempt in tries:
        try:
            attempt()
        except (IllegalMoveError, UsageError):
            continue
        legal.add(move)
    return frozenset(legal)


__all__ = [
    "ADMITTED",
    "Admission",
    "Move",
    "Verdict",
    "deadline_near",
    "document_admission",
    "legal_moves",
    "peer_admission",
    "rounds_waiting_for",
    "tally",
    "waiting_on",
]


def joins_to_admit(state: AssemblyState, me: str) -> list[str]:
    """Joins with invites ``me`` issued that ``me`` has not admitted yet, in the global order.

    The inviter's node admits each join the first time it sees it, so should a second member
    key claim the same invite later, the inviter's first word decides (``model.fold``). When
    two claims arrive together, the first in the global order is admitted.
    """
    found = [ref for ref, (_, inviter) in state.joins.items() if inviter == me]
    for key, refs in state.claims.items():
        record = state.invites.get(key)
        if state.contests.get(key) is None and record is not None and record.inviter == me:
            found.append(refs[0])
    return [ref for ref in found if ref not in state.admitted]


__all__ += ["joins_to_admit"]
