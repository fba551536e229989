"""A replica: one node's copy of one assembly's documents, change log and ingest rules.

``Replica`` is the only way documents change. Local edits happen inside ``transact()`` and
become one signed change each; changes from anywhere else (a peer, a bundle, a test) enter
through ``ingest()``, which decodes them, asks ``plan.plan_batch`` what to do (a pure
function: docs/protocol.md §2.3 lists the rules) and carries the plan out in one SQLite
transaction, applying to the engine only what the plan says.

Memory never runs ahead of the store: a batch that fails to be stored, or whose apply made
the engine fail, leaves the documents rebuilt from the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assemblymesh.clock import Clock, wall_clock_ms
from assemblymesh.crdt.actlog import ActLog, LogEntry
from assemblymesh.crdt.change import Change, decode_change, decode_stored
from assemblymesh.crdt.checkpoints import CHECKPOINT_EVERY, Checkpoints
from assemblymesh.crdt.document import Document
from assemblymesh.crdt.engine import EngineBatch
from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, yjs_client_id
from assemblymesh.crdt.local import LocalWrites
from assemblymesh.crdt.plan import (
    AdmissionPolicy,
    DeviceLimits,
    DeviceState,
    Plan,
    Verdict,
    plan_batch,
    signature_ok,
)
from assemblymesh.crdt.registry import (
    LOCAL_ORIGIN,
    REMOTE_ORIGIN,
    Registry,
    apply_update,
    doc_field,
    doc_name,
)
from assemblymesh.crdt.store import DeviceRow, Store
from assemblymesh.crdt.validate import validate_store
from assemblymesh.crdt.yupdate import update_end_clock, update_header
from assemblymesh.errors import RejectedChange, RejectReason, StoreError, UsageError
from assemblymesh.i18n import _

__all__ = [
    "CHECKPOINT_EVERY",
    "LOCAL_ORIGIN",
    "MAX_PENDING_BYTES",
    "MAX_PENDING_PER_DEVICE",
    "PENDING_TTL_MS",
    "REMOTE_ORIGIN",
    "AdmissionPolicy",
    "Clock",
    "IngestResult",
    "LogEntry",
    "PendingBudget",
    "Rejection",
    "Replica",
    "ReplicaEvent",
    "Verdict",
    "VersionVector",
    "doc_field",
    "doc_name",
    "vector_digest",
    "wall_clock_ms",
]

log = logging.getLogger(__name__)

MAX_PENDING_PER_DEVICE = 10_000  # causally early changes buffered per device
MAX_PENDING_BYTES = 32 << 20  # pending changes of all devices, in bytes
PENDING_TTL_MS = 7 * 24 * 3600 * 1000  # pending changes older than this are dropped
_ADMISSION_ROUNDS = 8  # re-evaluations of waiting members within one ingest


@dataclass(slots=True)
class PendingBudget:
    """Bytes of pending changes one source (a connection, a bundle) may still leave here;
    ``Replica.ingest`` decrements it."""

    bytes_left: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """One change refused by ingest. ``index`` is its position in the batch, if it had one."""

    reason: RejectReason
    detail: str
    index: int | None = None
    device: bytes | None = None
    seq: int | None = None


@dataclass(slots=True)
class IngestResult:
    applied: list[Change] = field(default_factory=list)
    duplicates: int = 0
    buffered: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    equivocating: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReplicaEvent:
    """Told to observers after changes were durably stored and applied, or (``evidence``)
    after equivocation evidence changed what the record counts."""

    changes: tuple[Change, ...]
    local: bool
    evidence: bool = False


VersionVector = Mapping[bytes, tuple[int, bytes]]  # device -> (head seq, head hash)


def vector_digest(vector: VersionVector) -> bytes:
    """BLAKE2b-256 over the sorted heads: equal exactly when two nodes hold the same changes
    (each device's applied changes form one hash chain, so its head names all of them)."""
    h = hashlib.blake2b(b"assemblymesh/digest/v1\x00", digest_size=32)
    for device in sorted(vector):
        seq, head = vector[device]
        if seq:
            h.update(device + seq.to_bytes(8, "big") + head)
    return h.digest()


class _Ledger:
    """What the plan may read: the replica's view of the store (``plan.Ledger``)."""

    def __init__(self, replica: Replica) -> None:
        self._r = replica
        self.assembly = replica.assembly

    def device_state(self, device: bytes) -> DeviceState | None:
        row = self._r._devices.get(device)
        if row is None:
            return None
        return DeviceState(row.member, row.head_seq, row.head_hash, row.fork_seq)

    def member_known(self, member: bytes) -> bool:
        return member in self._r._members

    def stored_change(self, device: bytes, seq: int) -> Change | None:
        row = self._r._devices.get(device)
        data = None if row is None else self._r._store.change_at(row.id, seq)
        return None if data is None else decode_change(data)

    def has_pending(self, device: bytes) -> bool:
        return device in self._r._pending_devices

    def pending_changes(self, device: bytes, first: int, last: int) -> list[Change]:
        out: list[Change] = []
        for data in self._r._store.pending_range(device, first, last):
            try:
                out.append(decode_change(data))
            except RejectedChange:
                continue
        return out

    def pending_room(self, device: bytes) -> tuple[int, int]:
        store = self._r._store
        count = store.count_pending(device) if device in self._r._pending_devices else 0
        return MAX_PENDING_PER_DEVICE - count, MAX_PENDING_BYTES - self._r._pending_bytes

    def admit(self, member: bytes, values: Sequence[object]) -> tuple[Verdict, str]:
        return self._r._admission.admit(member, values, self.member_known)

    def device_limit(self, member: bytes, device: bytes, issued_ms: int) -> tuple[int | None, str]:
        policy = self._r._admission
        if isinstance(policy, DeviceLimits):
            return policy.device_limit(member, device, issued_ms)
        return None, ""


class Replica:
    """One assembly's record on this node. Not thread-safe: one owner at a time."""

    def __init__(
        self,
        store: Store,
        assembly: bytes,
        device_key: SigningKey,
        certificate: DeviceCertificate,
        clock: Clock = wall_clock_ms,
        *,
        admission: AdmissionPolicy,
    ) -> None:
        if certificate.device != device_key.public or certificate.assembly != assembly:
            raise UsageError(_("the device certificate does not match this device and assembly"))
        self._store = store
        self.assembly = assembly
        self.device_key = device_key
        self.certificate = certificate
        self.member_id = certificate.member.hex()
        self._clock = clock
        self._admission = admission
        self._client_id = yjs_client_id(device_key.public)
        self._observers: list[Callable[[ReplicaEvent], None]] = []
        self._local = LocalWrites(self)
        if store.get_meta("validated") is None:
            validate_store(store)
        self._load()
        self._expire_pending()

    @classmethod
    def open(
        cls,
        path: Path,
        assembly: bytes,
        device_key: SigningKey,
        certificate: DeviceCertificate,
        clock: Clock = wall_clock_ms,
        *,
        admission: AdmissionPolicy,
    ) -> Replica:
        store = Store(path)
        try:
            stored = store.get_meta("assembly")
            if stored is None:
                with store.write():
                    store.set_meta("assembly", assembly)
                    store.set_meta("device", device_key.public)
            elif stored != assembly:
                raise StoreError(_("store {path} belongs to another assembly").format(path=path))
            return cls(store, assembly, device_key, certificate, clock, admission=admission)
        except BaseException:
            store.close()
            raise

    # --- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        """(Re)build the in-memory documents from checkpoints plus the log after them."""
        store = self._store
        self._data_version = store.data_version()
        rows = store.load_devices()
        self._devices: dict[bytes, DeviceRow] = {r.device: r for r in rows}
        self._devices_by_id: dict[int, DeviceRow] = {r.id: r for r in rows}
        self._members = {r.member for r in rows}
        self._registry = Registry(store, self._client_id)
        saved = store.load_checkpoints()
        covered = {doc_id: heads for doc_id, (_, heads) in saved.items()}
        self._checkpoints = Checkpoints(store, self._registry, covered, self._end_clock)
        for doc_id, (state, _heads) in saved.items():
            self._apply_quietly(self._registry.by_id(doc_id), [state])
        self._pending_devices = store.pending_devices()
        self._pending_bytes = store.pending_bytes()
        self._acts = ActLog(store)
        replay: dict[int, list[bytes]] = {}
        for row in rows:
            floors = [self._checkpoints.floor(d, row.id) for d in self._registry.ids.values()]
            for seq, doc_id, digest, data in store.changes_after(row.id, min(floors, default=0)):
                if seq > self._checkpoints.floor(doc_id, row.id):
                    update = decode_stored(data, digest).update
                    replay.setdefault(doc_id, []).append(update)
                    self._track(doc_id, row.id, seq, update)
        # The log after the checkpoints, one engine transaction per document (each device's
        # changes stay in chain order within it).
        for doc_id, updates in replay.items():
            self._apply_quietly(self._registry.by_id(doc_id), updates)

    @staticmethod
    def _apply_quietly(doc: Document, updates: list[bytes]) -> None:
        """Apply stored updates; one the engine refuses is skipped (and logged): a document
        that cannot be read contributes nothing, and never stops the replica."""
        with doc.engine_doc.transaction(origin=REMOTE_ORIGIN):
            for update in updates:
                try:
                    apply_update(doc, update)
                except RejectedChange:
                    log.warning("document %s: a stored update does not apply", doc.name[:16])

    def _track(self, doc_id: int, device_id: int, seq: int, update: bytes) -> None:
        try:
            header = update_header(update)
        except ValueError:
            header = None
        self._checkpoints.track(doc_id, device_id, seq, None if header is None else header[1])

    def _end_clock(self, device_id: int, seq: int) -> int | None:
        data = self._store.change_at(device_id, seq)
        return None if data is None else update_end_clock(decode_change(data).update)

    # --- reading ------------------------------------------------------------------------

    def document(self, name: str) -> Document:
        """The document ``name`` ("shared" or a member id); empty if nothing was written."""
        return self._registry.document(name)

    def document_names(self) -> list[str]:
        return sorted(self._registry.docs)

    def _counted(self, row: DeviceRow) -> tuple[int, bytes]:
        """A device's head as the vector counts it: up to its fork point minus one."""
        if not row.fork_seq or row.head_seq < row.fork_seq:
            return row.head_seq, row.head_hash
        seq = row.fork_seq - 1
        return seq, (self._store.hash_at(row.id, seq) or b"") if seq else b""

    def vector(self) -> dict[bytes, tuple[int, bytes]]:
        heads = {d: self._counted(r) for d, r in self._devices.items() if r.head_seq}
        return {d: head for d, head in heads.items() if head[0]}

    def digest(self) -> bytes:
        return vector_digest(self.vector())

    def change_count(self) -> int:
        return sum(self._counted(r)[0] for r in self._devices.values())

    def device_member(self, device: bytes) -> bytes | None:
        row = self._devices.get(device)
        return None if row is None else row.member

    def device_certificate(self, device: bytes) -> bytes | None:
        """The encoded certificate the store holds for ``device`` (checked at ingest)."""
        row = self._devices.get(device)
        return None if row is None else row.cert

    def equivocating_devices(self) -> list[bytes]:
        return sorted(d for d, r in self._devices.items() if r.equivocated)

    def missing_for(self, theirs: VersionVector) -> Iterator[Change]:
        """The changes the holder of vector ``theirs`` lacks: device by device, each chain in
        order, each ending at this node's (signed) head, never at or past a fork point.
        Cost grows with what is missing, not with the history."""
        for device in sorted(self._devices):
            their_seq = theirs.get(device, (0, b""))[0]
            if self._counted(self._devices[device])[0] > their_seq:
                yield from self.changes_of(device, their_seq)

    def changes_of(self, device: bytes, after_seq: int = 0) -> Iterator[Change]:
        """A device's stored changes after ``after_seq``, in chain order (up to its fork)."""
        row = self._devices.get(device)
        if row is not None:
            last = self._counted(row)[0]
            for seq, _, digest, data in self._store.changes_after(row.id, after_seq):
                if seq > last:
                    return
                yield decode_stored(data, digest)

    def pending_count(self) -> int:
        return self._store.count_pending()

    def member_logs(self) -> dict[str, list[LogEntry]]:
        """Per member document (member id hex): the values its changes appended, each with
        the device that signed it, in (device, seq, pos) order; nothing from a change at or
        after its device's fork point."""
        return self._acts.logs(self._registry.names, self._devices_by_id)

    def log_revision(self) -> int:
        """Changes whenever ``member_logs()`` may have changed."""
        return self._acts.revision

    def observe(self, callback: Callable[[ReplicaEvent], None]) -> Callable[[], None]:
        """Call ``callback`` after each durable local change or ingested batch."""
        self._observers.append(callback)
        return lambda: self._observers.remove(callback)

    def _notify(self, changes: list[Change], local: bool, evidence: bool = False) -> None:
        if changes or evidence:
            event = ReplicaEvent(tuple(changes), local, evidence)
            for callback in list(self._observers):
                callback(event)

    # --- equivocation evidence ------------------------------------------------------------

    def equivocation_evidence(self) -> list[tuple[bytes, bytes]]:
        """Pairs of encoded, signed changes of one device at one seq (for peers)."""
        by_slot: dict[tuple[bytes, int], list[bytes]] = {}
        for device, seq, data in self._store.evidence_data():
            by_slot.setdefault((device, seq), []).append(data)
        return [(datas[0], datas[1]) for datas in by_slot.values() if len(datas) > 1]

    def take_evidence(self, first: bytes, second: bytes) -> bool:
        """Take a peer's proof that a device signed two changes at one seq. Flags the device
        (True) if this is news; False if already known; ``RejectedChange`` if invalid."""
        a, b = decode_change(first), decode_change(second)
        if a.assembly != self.assembly or b.assembly != self.assembly:
            raise RejectedChange(RejectReason.WRONG_ASSEMBLY, "evidence for another assembly")
        if a.device != b.device or a.seq != b.seq or a.hash == b.hash:
            raise RejectedChange(RejectReason.MALFORMED, "not two changes of one device at a seq")
        if not (signature_ok(a) and signature_ok(b)):
            raise RejectedChange(RejectReason.BAD_SIGNATURE, "evidence is not validly signed")
        if a.device not in self._devices:
            raise RejectedChange(RejectReason.BAD_CERTIFICATE, "the device is not known here")
        with self._store.write():
            self._store.add_evidence([(c.device, c.seq, c.hash, c.data) for c in (a, b)])
            news = self._flag(a.device, a.seq)
        if news:
            self._notify([], local=False, evidence=True)
        return news

    def _flag(self, device: bytes, fork: int) -> bool:
        """Flag ``device`` with fork point ``fork`` (the earliest known wins); True if new."""
        row = self._devices.get(device)
        if row is None:
            return False
        fork = min(fork, row.fork_seq) if row.fork_seq else fork
        if row.equivocated and row.fork_seq == fork:
            return False
        row.equivocated, row.fork_seq = True, fork
        self._store.mark_equivocated(row.id, fork)
        self._acts.revision += 1
        return True

    # --- writing locally ----------------------------------------------------------------

    def transact(self, name: str | None = None) -> contextlib.AbstractContextManager[Document]:
        """Edit a document; on exit the edit becomes one signed, durable change.

        A device writes only its own member's document and the shared one. If the body
        raises, whatever it already wrote is still recorded (the CRDT engine cannot roll
        back), then the exception propagates.
        """
        return self._local.transact(self.member_id if name is None else name)

    def _register_device(self, cert: DeviceCertificate) -> DeviceRow:
        encoded = cert.encode()
        device_id = self._store.add_device(cert.device, cert.member, encoded)
        row = DeviceRow(device_id, cert.device, cert.member, encoded, 0, b"", False)
        self._devices[cert.device] = row
        self._devices_by_id[device_id] = row
        self._members.add(cert.member)
        return row

    # --- closing ------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Write checkpoints of every document changed since its last one (fast next open)."""
        dirty = self._checkpoints.dirty()
        if dirty:
            with self._store.write():
                for doc_id in dirty:
                    self._checkpoints.write(doc_id, self._devices_by_id, self._own_id())

    def _own_id(self) -> int | None:
        own = self._devices.get(self.device_key.public)
        return None if own is None else own.id

    def close(self) -> None:
        try:
            self.checkpoint()
        finally:
            self._store.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- other processes ----------------------------------------------------------------

    def refresh(self) -> list[Change]:
        """Apply changes other processes sharing this store have written since we looked."""
        # data_version is readable outside a transaction: when nothing was committed by
        # another connection, skip taking the write lock (the node asks before every slice).
        if self._store.data_version() == self._data_version:
            return []
        try:
            with self._store.write():
                return self._refresh_locked(notify=True)
        except BaseException:
            self._load()
            raise

    def _refresh_locked(self, notify: bool) -> list[Change]:
        if self._store.data_version() == self._data_version:
            return []
        self._registry.reload_ids()
        fresh: list[Change] = []
        for row in self._store.load_devices():
            mine = self._devices_by_id.get(row.id)
            after = 0 if mine is None else mine.head_seq
            for seq, doc_id, _digest, data in self._store.changes_after(row.id, after):
                change = decode_change(data)
                self._apply_quietly(self._registry.by_id(doc_id), [change.update])
                self._track(doc_id, row.id, seq, change.update)
                fresh.append(change)
            self._devices[row.device] = row
            self._devices_by_id[row.id] = row
            self._members.add(row.member)
        self._pending_devices = self._store.pending_devices()
        self._pending_bytes = self._store.pending_bytes()
        self._acts.forget()
        self._data_version = self._store.data_version()
        if notify:
            self._notify(fresh, local=False)
        return fresh

    # --- ingest -------------------------------------------------------------------------

    def ingest(
        self, items: Iterable[bytes | Change], *, budget: PendingBudget | None = None
    ) -> IngestResult:
        """Take a batch of changes from anywhere. Never raises for bad input: every refused
        change is listed in ``result.rejected`` with its reason. ``budget`` caps the bytes
        this source may leave pending (decremented).

        Items are encoded changes, or ``Change`` values a decoder of this package already
        built (``decode_change``, or the sync batch codec, which rebuilds each body with
        ``encode_body``): those skip decoding, and every rule after it still applies.
        """
        result = IngestResult()
        batch = self._decode(items, result)
        fresh: list[Change] = []
        flagged = False
        try:
            with self._store.write():
                fresh = self._refresh_locked(notify=False)
                rebuild, flagged = self._ingest_locked(batch, result, budget)
        except BaseException:
            self._load()
            raise
        if rebuild:
            self._load()  # the engine failed mid-batch: memory is rebuilt from the store
        self._notify(fresh, local=False)
        self._notify(result.applied, local=False, evidence=flagged)
        return result

    def _decode(self, items: Iterable[bytes | Change], result: IngestResult) -> list[Change]:
        batch: list[Change] = []
        for index, data in enumerate(items):
            try:
                change = data if isinstance(data, Change) else decode_change(data)
            except RejectedChange as exc:
                result.rejected.append(Rejection(exc.reason, exc.detail, index))
                continue
            if change.assembly != self.assembly:
                result.rejected.append(
                    Rejection(RejectReason.WRONG_ASSEMBLY, "change is for another assembly", index)
                )
                continue
            batch.append(change)
        return batch

    def _ingest_locked(
        self, batch: list[Change], result: IngestResult, budget: PendingBudget | None
    ) -> tuple[bool, bool]:
        """Plan and carry out; re-plan waiting members while new ones are admitted.
        Returns (memory must be rebuilt, a device was newly flagged)."""
        if self._pending_devices:
            self._expire_pending()
        ledger = _Ledger(self)
        bytes_left = None if budget is None else budget.bytes_left
        revisit: list[bytes] = []
        rebuild = flagged = False
        for _round in range(_ADMISSION_ROUNDS):
            plan, bytes_left = plan_batch(ledger, batch, bytes_left=bytes_left, revisit=revisit)
            applied_before = len(result.applied)
            failed, news = self._carry_out(plan, result)
            rebuild, flagged = rebuild or failed, flagged or news
            revisit = [d for d in self._pending_devices if d not in self._devices]
            if not revisit or len(result.applied) == applied_before:
                break
            batch = []
        if budget is not None and bytes_left is not None:
            budget.bytes_left = bytes_left
        return rebuild, flagged

    def _carry_out(self, plan: Plan, result: IngestResult) -> tuple[bool, bool]:
        """Do what the plan says, inside the caller's store transaction."""
        applied, failed = EngineBatch(self, result).apply(plan.runs, plan.checked)
        flagged = False
        if plan.evidence:
            rows = [(c.device, c.seq, c.hash, c.data) for pair in plan.evidence for c in pair]
            self._store.add_evidence(rows)
        for device, fork in plan.forks.items():
            flagged = self._flag(device, fork) or flagged
            if device not in result.equivocating:
                result.equivocating.append(device)
        result.duplicates += plan.duplicates
        result.rejected.extend(
            Rejection(r.reason, r.detail, None, r.change.device, r.change.seq) for r in plan.refused
        )
        self._settle_pending(plan, applied)
        result.buffered += len(plan.buffer)
        return failed, flagged

    def _settle_pending(self, plan: Plan, applied: list[Change]) -> None:
        drop = list(plan.unpend)
        if self._pending_devices:
            done = applied + [r.change for r in plan.refused]
            drop += [(c.device, c.seq, c.hash) for c in done if c.device in self._pending_devices]
        dropped = self._store.drop_pending(drop) if drop else 0
        if plan.buffer:
            rows = [(c.device, c.seq, c.hash, c.data) for c in plan.buffer]
            self._store.add_pending(rows, self._clock())
        if dropped or plan.buffer:
            self._pending_devices = self._store.pending_devices()
            self._pending_bytes = self._store.pending_bytes()

    def _expire_pending(self) -> None:
        """Drop pending changes received more than ``PENDING_TTL_MS`` ago."""
        if not self._pending_devices:
            return
        with contextlib.nullcontext() if self._store.in_write else self._store.write():
            if self._store.expire_pending(self._clock() - PENDING_TTL_MS):
                self._pending_devices = self._store.pending_devices()
                self._pending_bytes = self._store.pending_bytes()
