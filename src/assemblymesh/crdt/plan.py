"""Ingest as a pure plan (docs/protocol.md §2.3).

``plan_batch`` takes what the store knows, through the read-only ``Ledger``, and a decoded
batch, and decides, without changing anything: which runs of changes to apply (each a
contiguous extension of a device's chain, ending on a verified signature, structurally
checked), what to buffer as pending, what to drop from pending, what to refuse and why, and
which pairs of changes prove that a device equivocated. ``Replica`` carries the plan out in
one SQLite transaction.

Rules, per device, in order:

1. a flagged device's changes at or after its fork point are refused (``equivocation``);
2. a change at a seq the device already has is a duplicate when its hash is the stored one;
   otherwise it is equivocation only if both it and the stored change are validly signed,
   else it is refused (``bad-signature`` or ``bad-chain``);
3. the rest, with the device's pending changes in the seq range they can reach, build the
   longest chain extending the head; a signed copy of a change replaces an unsigned one;
   two validly signed changes at one seq are equivocation (the fork point is that seq);
4. the chain is cut at its last verified signature; a forged signature refuses the changes
   it was meant to vouch for;
5. certificate (first change of an unknown device), authority (the device writes its own
   member's document or the shared one) and the structural check of each update cut the
   chain at the first change that fails, refusing its successors;
6. the first change of a member no accepted device speaks for goes to the admission policy:
   admit, wait (buffered), or refuse (``not-authorised``);
7. what is left over and cannot link yet is buffered, only for devices whose certificate
   verified, within the byte and count quotas; signed changes are verified before buffering.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

from assemblymesh.crdt.change import SHARED_DOC, Change
from assemblymesh.crdt.identity import DeviceCertificate, verify, yjs_client_id
from assemblymesh.crdt.yupdate import Checked, check_member_update, check_shared_update
from assemblymesh.errors import InvalidSignature, RejectedChange, RejectReason

__all__ = [
    "PENDING_CHUNK",
    "AdmissionPolicy",
    "DeviceLimits",
    "DeviceState",
    "Ledger",
    "Plan",
    "Refusal",
    "Verdict",
    "check_certificate",
    "check_update",
    "plan_batch",
    "signature_ok",
]

PENDING_CHUNK = 512  # pending changes of one device looked up at a time


class Verdict(enum.Enum):
    """The admission policy's answer for a member no accepted device speaks for yet."""

    ADMIT = "admit"
    WAIT = "wait"
    REFUSE = "refuse"


class AdmissionPolicy(Protocol):
    """Decides, outside this package (governance lives in ``model``), whether a member's
    document may be stored and passed on. ``values`` are what the member's first change
    appends to its document (empty if it writes the shared one); ``known(member)`` is
    whether that member has an accepted device on this node."""

    def admit(
        self, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
    ) -> tuple[Verdict, str]: ...


@runtime_checkable
class DeviceLimits(Protocol):
    """An admission policy may also bound a device's chain (a revoked device's, or one its
    member had no standing to certify): ``device_limit`` returns the last seq the store may
    keep (``None``: no bound) and why. ``issued_ms`` is the certificate's time for a device
    first seen, -1 for one already stored."""

    def device_limit(
        self, member: bytes, device: bytes, issued_ms: int
    ) -> tuple[int | None, str]: ...


class DeviceState(NamedTuple):
    """What the store knows of one accepted device."""

    member: bytes
    head_seq: int
    head_hash: bytes
    fork_seq: int  # 0: no equivocation known; else the first seq with two signed changes


class Ledger(Protocol):
    """Read-only access to what the store knows (the plan never writes)."""

    assembly: bytes

    def device_state(self, device: bytes) -> DeviceState | None: ...

    def member_known(self, member: bytes) -> bool: ...

    def stored_change(self, device: bytes, seq: int) -> Change | None: ...

    def has_pending(self, device: bytes) -> bool: ...

    def pending_changes(self, device: bytes, first: int, last: int) -> list[Change]: ...

    def pending_room(self, device: bytes) -> tuple[int, int]:
        """How many more changes of ``device``, and bytes in all, pending may hold."""
        ...

    def admit(self, member: bytes, values: Sequence[object]) -> tuple[Verdict, str]: ...

    def device_limit(
        self, member: bytes, device: bytes, issued_ms: int
    ) -> tuple[int | None, str]: ...


class Refusal(NamedTuple):
    change: Change
    reason: RejectReason
    detail: str


@dataclass(slots=True)
class Plan:
    """What ingest of one batch will do. ``runs`` are applied in order, each a device's
    chain extension; ``checked`` holds each run change's structural-check result."""

    runs: list[list[Change]] = field(default_factory=list)
    checked: dict[bytes, Checked] = field(default_factory=dict)
    buffer: list[Change] = field(default_factory=list)
    unpend: list[tuple[bytes, int, bytes]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    evidence: list[tuple[Change, Change]] = field(default_factory=list)
    forks: dict[bytes, int] = field(default_factory=dict)  # device -> fork seq
    duplicates: int = 0
    waiting: int = 0
    admitted: set[bytes] = field(default_factory=set)  # members newly accepted

    def refuse(self, changes: Iterable[Change], reason: RejectReason, detail: str) -> None:
        self.refused.extend(Refusal(c, reason, detail) for c in changes)

    def fork(self, first: Change, second: Change) -> None:
        self.evidence.append((first, second))
        device = first.device
        self.forks[device] = min(self.forks.get(device, first.seq), first.seq)


def signature_ok(change: Change) -> bool:
    if not change.signature:
        return False
    try:
        verify(change.device, b"", change.signed_message, change.signature)
    except InvalidSignature:
        return False
    return True


def check_update(doc: bytes, update: bytes, client: int) -> Checked:
    """The structural check of a change's update against its document's schema."""
    if doc == SHARED_DOC:
        return check_shared_update(update, client)
    return check_member_update(update, client)


@dataclass(slots=True)
class _Budget:
    bytes_left: int | None  # None: no per-source quota
    # The store's overall pending room, shared by every device of the batch (None: not read
    # yet); read per device, one batch could overshoot the quota by its own size.
    store_bytes_left: int | None = None


def plan_batch(
    ledger: Ledger,
    batch: Sequence[Change],
    *,
    bytes_left: int | None = None,
    revisit: Iterable[bytes] = (),
) -> tuple[Plan, int | None]:
    """Plan the ingest of ``batch`` (decoded, for this assembly). ``revisit`` names further
    devices whose pending changes are re-examined (members waiting for admission).
    Returns the plan and what is left of ``bytes_left``."""
    plan = Plan()
    budget = _Budget(bytes_left)
    groups: dict[bytes, list[Change]] = {}
    for change in batch:
        groups.setdefault(change.device, []).append(change)
    for device in revisit:
        groups.setdefault(device, [])
    for device, group in groups.items():
        _plan_device(ledger, plan, budget, device, group)
    return plan, budget.bytes_left


# --- one device ---------------------------------------------------------------------------


def _plan_device(
    ledger: Ledger, plan: Plan, budget: _Budget, device: bytes, group: list[Change]
) -> None:
    state = ledger.device_state(device)
    head_seq, head_hash = (0, b"") if state is None else (state.head_seq, state.head_hash)
    fresh = _sort_out_known(ledger, plan, state, group)
    pending = ledger.has_pending(device)
    if not fresh and not pending:
        return
    kept: set[bytes] = set()
    if not pending and _extends(head_seq, head_hash, fresh):
        run, tail = fresh, list[Change]()  # the usual case: a whole signed run continuing the chain
    else:
        run, tail, kept = _build(ledger, plan, device, head_seq, head_hash, fresh)
    run, tail = _verify(plan, run, tail)
    certified = state is not None or pending or _certified(ledger.assembly, run + tail)
    run, cut = _authorise(ledger, plan, state, run)
    if cut:
        plan.refuse(tail, RejectReason.BAD_CHAIN, "follows a rejected change")
        tail = []
    run, tail = _bound(ledger, plan, state, run, tail)
    verdict = _admission(ledger, plan, state, run)
    if verdict is Verdict.WAIT:
        run, tail = [], run + tail
        plan.waiting += 1
    elif verdict is Verdict.REFUSE:
        plan.refuse(tail, RejectReason.NOT_AUTHORISED, "member not admitted")
        return
    if run:
        plan.runs.append(run)
    _buffer(ledger, plan, budget, device, certified, [c for c in tail if c.hash not in kept])


def _sort_out_known(
    ledger: Ledger, plan: Plan, state: DeviceState | None, group: list[Change]
) -> list[Change]:
    """Drop duplicates, refuse what conflicts with the stored chain or follows a fork;
    return the changes after the head, in batch order."""
    if state is None:
        return group
    fresh: list[Change] = []
    for change in group:
        if state.fork_seq and change.seq >= state.fork_seq:
            plan.refuse([change], RejectReason.EQUIVOCATION, "device equivocated")
        elif change.seq > state.head_seq:
            fresh.append(change)
        else:
            _against_stored(ledger, plan, change)
    return fresh


def _against_stored(ledger: Ledger, plan: Plan, change: Change) -> None:
    stored = ledger.stored_change(change.device, change.seq)
    if stored is not None and stored.hash == change.hash:
        plan.duplicates += 1
    elif not signature_ok(change):
        plan.refuse([change], RejectReason.BAD_SIGNATURE, "replayed or forged")
    elif stored is not None and signature_ok(stored):
        plan.fork(stored, change)
        plan.refuse([change], RejectReason.EQUIVOCATION, "second change at a seq")
    else:
        plan.refuse([change], RejectReason.BAD_CHAIN, "conflicts with the stored chain")


def _extends(seq: int, prev: bytes, changes: list[Change]) -> bool:
    """Whether ``changes`` continue the chain link by link and end on a signature."""
    if not changes or not changes[-1].signature:
        return False
    for change in changes:
        seq += 1
        if change.seq != seq or change.prev != prev:
            return False
        prev = change.hash
    return True


def _candidates(
    ledger: Ledger, plan: Plan, device: bytes, head_seq: int, fresh: list[Change]
) -> tuple[dict[int, dict[bytes, Change]], set[bytes]]:
    """Fresh and pending changes by seq, then hash; a signed copy replaces an unsigned one.
    Returns them and the hashes that came from pending."""
    by_seq: dict[int, dict[bytes, Change]] = {}
    for change in fresh:
        slot = by_seq.setdefault(change.seq, {})
        if change.hash in slot and not (change.signature and not slot[change.hash].signature):
            plan.duplicates += 1
            continue
        slot[change.hash] = change
    from_pending: set[bytes] = set()
    if ledger.has_pending(device):
        # What can link to the head, and what the fresh changes may duplicate: never the
        # device's whole pending set (the chain loads further chunks as it grows).
        near = head_seq + PENDING_CHUNK
        pending = ledger.pending_changes(device, head_seq, near)
        if fresh and max(c.seq for c in fresh) > near:
            low = max(near, min(c.seq for c in fresh) - 1)
            pending += ledger.pending_changes(device, low, max(c.seq for c in fresh))
        _merge_pending(plan, by_seq, from_pending, pending)
    return by_seq, from_pending


def _merge_pending(
    plan: Plan,
    by_seq: dict[int, dict[bytes, Change]],
    from_pending: set[bytes],
    pending: list[Change],
) -> None:
    for change in pending:
        slot = by_seq.setdefault(change.seq, {})
        current = slot.get(change.hash)
        if current is not None and current.signature and not change.signature:
            # A signed copy arrived for an unsigned pending one: the signed one replaces it.
            plan.unpend.append((change.device, change.seq, change.hash))
            continue
        if current is not None:
            plan.duplicates += 1
        slot[change.hash] = change
        from_pending.add(change.hash)


def _pick(plan: Plan, options: list[Change], prev: bytes) -> Change | None:
    """The change to follow at one seq: the one linking to ``prev``, preferring a verified
    signature; two validly signed changes are equivocation (None is returned)."""
    linking = [c for c in options if c.prev == prev]
    signed = [c for c in linking if c.signature and signature_ok(c)]
    if len(signed) > 1:
        plan.fork(signed[0], signed[1])
        plan.refuse(signed, RejectReason.EQUIVOCATION, "two changes at a seq")
        return None
    if signed:
        return signed[0]
    unsigned = [c for c in linking if not c.signature]
    return unsigned[0] if unsigned else None


def _build(
    ledger: Ledger, plan: Plan, device: bytes, seq: int, prev: bytes, fresh: list[Change]
) -> tuple[list[Change], list[Change], set[bytes]]:
    """The longest chain extending the head, the leftovers that may wait, and the hashes of
    the candidates that came from pending (they stay there unless used or refused)."""
    by_seq, from_pending = _candidates(ledger, plan, device, seq, fresh)
    run: list[Change] = []
    while seq + 1 in by_seq:
        change = _pick(plan, list(by_seq[seq + 1].values()), prev)
        if change is None:
            break
        del by_seq[seq + 1][change.hash]
        run.append(change)
        seq, prev = seq + 1, change.hash
        if seq + 1 not in by_seq and ledger.has_pending(device):
            more = ledger.pending_changes(device, seq, seq + PENDING_CHUNK)
            _merge_pending(plan, by_seq, from_pending, more)
    refused = {r.change.hash for r in plan.refused}
    tail: list[Change] = []
    for at in sorted(by_seq):
        for change in by_seq[at].values():
            waiting = change.hash in from_pending
            if at <= seq and waiting:
                plan.unpend.append((change.device, change.seq, change.hash))
            elif at <= seq and change.hash not in refused:
                plan.refuse([change], RejectReason.BAD_CHAIN, "prev does not link")
            elif at > seq and not waiting and change.hash not in refused:
                tail.append(change)
    return run, tail, from_pending


def _verify(plan: Plan, run: list[Change], tail: list[Change]) -> tuple[list[Change], list[Change]]:
    """Cut the run at its last verified signature. Unsigned changes after it wait (they go
    to the tail); a forged signature refuses what it was meant to vouch for."""
    signed = [i for i, change in enumerate(run) if change.signature]
    if not signed:
        return [], run + tail
    last = signed[-1]
    if signature_ok(run[last]):
        return run[: last + 1], run[last + 1 :] + tail
    good = 0
    for i in signed:
        if not signature_ok(run[i]):
            plan.refuse([run[i]], RejectReason.BAD_SIGNATURE, "signature does not verify")
            plan.refuse(run[good:i] + run[i + 1 :], RejectReason.BAD_CHAIN, "no valid signature")
            break
        good = i + 1
    return run[:good], tail


def check_certificate(assembly: bytes, first: Change) -> DeviceCertificate:
    """The certificate carried by a device's first change, checked; ``RejectedChange``
    (``bad-certificate``) if it is missing, forged, or for another device or assembly."""
    if first.cert is None:
        raise RejectedChange(
            RejectReason.BAD_CERTIFICATE, "first change of a device carries no certificate"
        )
    try:
        cert = DeviceCertificate.decode(first.cert)
        cert.verify()
    except InvalidSignature:
        raise RejectedChange(
            RejectReason.BAD_CERTIFICATE, "device certificate is malformed or forged"
        ) from None
    if cert.device != first.device:
        raise RejectedChange(RejectReason.BAD_CERTIFICATE, "certificate is for another device")
    if cert.assembly != assembly:
        raise RejectedChange(RejectReason.BAD_CERTIFICATE, "certificate is for another assembly")
    return cert


def _certified(assembly: bytes, changes: list[Change]) -> bool:
    for change in changes:
        if change.seq == 1:
            try:
                check_certificate(assembly, change)
            except RejectedChange:
                continue
            return True
    return False


def _authorise(
    ledger: Ledger, plan: Plan, state: DeviceState | None, run: list[Change]
) -> tuple[list[Change], bool]:
    """Cut the run at the first change its device may not make (certificate, authority,
    structure); True when something was cut."""
    if not run:
        return run, False
    if state is None:
        try:
            member = check_certificate(ledger.assembly, run[0]).member
        except RejectedChange as exc:
            plan.refuse(run, exc.reason, exc.detail)
            return [], True
    else:
        member = state.member
    client = yjs_client_id(run[0].device)
    for i, change in enumerate(run):
        try:
            if change.doc not in (SHARED_DOC, member):
                raise RejectedChange(
                    RejectReason.NOT_AUTHORISED, "device writes another member's document"
                )
            plan.checked[change.hash] = check_update(change.doc, change.update, client)
        except RejectedChange as exc:
            plan.refuse([change], exc.reason, exc.detail)
            plan.refuse(run[i + 1 :], RejectReason.BAD_CHAIN, "follows a rejected change")
            return run[:i], True
    return run, False


def _bound(
    ledger: Ledger, plan: Plan, state: DeviceState | None, run: list[Change], tail: list[Change]
) -> tuple[list[Change], list[Change]]:
    """Refuse the device's changes beyond the bound governance sets on its chain, if any."""
    if not run:
        return run, tail
    if state is None:
        assert run[0].cert is not None  # checked by _authorise
        cert = DeviceCertificate.decode(run[0].cert)
        member, issued = cert.member, cert.issued_ms
    else:
        member, issued = state.member, -1
    last, why = ledger.device_limit(member, run[0].device, issued)
    if last is None:
        return run, tail
    beyond = [c for c in run + tail if c.seq > last]
    plan.refuse(beyond, RejectReason.NOT_AUTHORISED, why)
    return [c for c in run if c.seq <= last], [c for c in tail if c.seq <= last]


def _admission(ledger: Ledger, plan: Plan, state: DeviceState | None, run: list[Change]) -> Verdict:
    """Ask the policy about a member no accepted device speaks for yet."""
    if state is not None or not run:
        return Verdict.ADMIT
    assert run[0].cert is not None  # checked by _authorise
    member = DeviceCertificate.decode(run[0].cert).member
    if member in plan.admitted or ledger.member_known(member):
        return Verdict.ADMIT
    values = plan.checked[run[0].hash].values if run[0].doc == member else []
    verdict, why = ledger.admit(member, values)
    if verdict is Verdict.ADMIT:
        plan.admitted.add(member)
    elif verdict is Verdict.REFUSE:
        plan.refuse(run, RejectReason.NOT_AUTHORISED, f"member not admitted: {why}")
    return verdict


def _buffer(
    ledger: Ledger,
    plan: Plan,
    budget: _Budget,
    device: bytes,
    certified: bool,
    tail: list[Change],
) -> None:
    """Buffer what cannot link yet, within the quotas."""
    if not tail:
        return
    if not certified:
        plan.refuse(tail, RejectReason.BAD_CERTIFICATE, "no certified first change of the device")
        return
    room, store_bytes = ledger.pending_room(device)
    if budget.store_bytes_left is None:
        budget.store_bytes_left = store_bytes
    for change in sorted(tail, key=lambda c: c.seq):
        size = len(change.data)
        if change.signature and not signature_ok(change):
            plan.refuse([change], RejectReason.BAD_SIGNATURE, "forged change")
        elif room <= 0 or size > budget.store_bytes_left or _over(budget, size):
            plan.refuse([change], RejectReason.TOO_LARGE, "pending quota exhausted")
        else:
            room -= 1
            budget.store_bytes_left -= size
            if budget.bytes_left is not None:
                budget.bytes_left -= size
            plan.buffer.append(change)


def _over(budget: _Budget, size: int) -> bool:
    return budget.bytes_left is not None and budget.bytes_left < size
