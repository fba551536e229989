"""A replica: one node's copy of one assembly's documents, change log and ingest rules.

``Replica`` is the only way documents change. Local edits happen inside ``transact()`` and
become one signed change each; changes from anywhere else (a peer, a bundle, a test) enter
through ``ingest()``. Ingest order (ARCHITECTURE §4):

decode -> size limits -> duplicate / equivocation check -> causal order (buffer until
``prev`` is present) -> hash links + signature of the last change of each contiguous run ->
certificate and authority -> Yjs update header -> apply (origin ``REMOTE``) -> store.

Everything a batch changes is written in one SQLite transaction; a batch that fails to be
stored leaves the documents reloaded from the store, as if it never arrived.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assemblymesh.crdt.change import SHARED_DOC, Change, decode_change, decode_stored
from assemblymesh.crdt.document import SHARED, Document, is_panic
from assemblymesh.crdt.identity import (
    DeviceCertificate,
    InvalidSignature,
    SigningKey,
    verify,
    yjs_client_id,
)
from assemblymesh.crdt.store import DeviceRow, Store
from assemblymesh.crdt.yupdate import (
    Checked,
    check_member_update,
    check_shared_update,
    decode_state_vector,
    update_end_clock,
    update_header,
)
from assemblymesh.errors import (
    RejectedChange,
    RejectReason,
    StoreError,
    UsageError,
)

LOCAL_ORIGIN = "assemblymesh:local"
REMOTE_ORIGIN = "assemblymesh:remote"

CHECKPOINT_EVERY = 20_000  # changes to one document between checkpoints
MAX_PENDING_PER_DEVICE = 200_000  # causally early changes buffered per device

Clock = Callable[[], int]
# Per document, per device id: (seq, first clock) of changes not yet in a checkpoint.
_Tails = dict[int, list[tuple[int, int | None]]]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def doc_name(doc: bytes) -> str:
    """The name of the document a change's ``doc`` field designates."""
    return SHARED if doc == SHARED_DOC else doc.hex()


def doc_field(name: str) -> bytes:
    return SHARED_DOC if name == SHARED else bytes.fromhex(name)


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
    """Told to observers after changes were durably stored and applied."""

    changes: tuple[Change, ...]
    local: bool


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


def check_update(doc: bytes, update: bytes, client: int) -> Checked:
    """The structural check of a change's update against its document's schema."""
    if doc == SHARED_DOC:
        return check_shared_update(update, client)
    return check_member_update(update, client)


def _signature_ok(change: Change) -> bool:
    if not change.signature:
        return False
    try:
        verify(change.device, b"", change.signed_message, change.signature)
    except InvalidSignature:
        return False
    return True


class Replica:
    """One assembly's record on this node. Not thread-safe: one owner at a time."""

    def __init__(
        self,
        store: Store,
        assembly: bytes,
        device_key: SigningKey,
        certificate: DeviceCertificate,
        clock: Clock = wall_clock_ms,
    ) -> None:
        if certificate.device != device_key.public or certificate.assembly != assembly:
            raise UsageError("the device certificate does not match this device and assembly")
        self._store = store
        self.assembly = assembly
        self.device_key = device_key
        self.certificate = certificate
        self.member_id = certificate.member.hex()
        self._clock = clock
        self._client_id = yjs_client_id(device_key.public)
        self._docs: dict[str, Document] = {}
        self._observers: list[Callable[[ReplicaEvent], None]] = []
        self._load()

    @classmethod
    def open(
        cls,
        path: Path,
        assembly: bytes,
        device_key: SigningKey,
        certificate: DeviceCertificate,
        clock: Clock = wall_clock_ms,
    ) -> Replica:
        store = Store(path)
        try:
            stored = store.get_meta("assembly")
            if stored is None:
                with store.write():
                    store.set_meta("assembly", assembly)
                    store.set_meta("device", device_key.public)
            elif stored != assembly:
                raise StoreError(f"store {path} belongs to another assembly")
            return cls(store, assembly, device_key, certificate, clock)
        except BaseException:
            store.close()
            raise

    # --- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        """(Re)build the in-memory documents from checkpoints plus the log after them."""
        self._docs = {}
        self._uncheckpointed: dict[int, int] = {}
        self._data_version = self._store.data_version()
        rows = self._store.load_devices()
        self._devices: dict[bytes, DeviceRow] = {r.device: r for r in rows}
        self._devices_by_id: dict[int, DeviceRow] = {r.id: r for r in rows}
        self._doc_ids: dict[str, int] = self._store.load_docs()
        self._doc_names: dict[int, str] = {i: n for n, i in self._doc_ids.items()}
        checkpoints = self._store.load_checkpoints()
        for doc_id, (state, _) in checkpoints.items():
            self._apply_update(self._document(self._doc_names[doc_id]), state)
        self._pending_devices = self._store.pending_devices()
        self._covered = {doc_id: heads for doc_id, (_, heads) in checkpoints.items()}
        self._tails: dict[int, _Tails] = {}
        replay: dict[int, list[bytes]] = {}
        for row in rows:
            floors = [self._covered.get(d, {}).get(row.id, 0) for d in self._doc_ids.values()]
            lowest = min(floors, default=0)
            for seq, doc_id, digest, data in self._store.changes_after(row.id, lowest):
                if seq > self._covered.get(doc_id, {}).get(row.id, 0):
                    change = decode_stored(data, digest)
                    replay.setdefault(doc_id, []).append(change.update)
                    self._track(doc_id, row.id, seq, change.update)
        # The log after the checkpoints, one engine transaction per document (each device's
        # changes stay in chain order within it).
        for doc_id, updates in replay.items():
            doc = self._document(self._doc_names[doc_id])
            with doc.engine_doc.transaction(origin=REMOTE_ORIGIN):
                for update in updates:
                    self._apply_update(doc, update)

    def _document(self, name: str) -> Document:
        doc = self._docs.get(name)
        if doc is None:
            doc = Document(name, self._client_id)
            self._docs[name] = doc
        return doc

    @staticmethod
    def _apply_update(doc: Document, update: bytes) -> None:
        engine = doc.engine_doc
        try:
            with engine.transaction(origin=REMOTE_ORIGIN):
                engine.apply_update(update)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if is_panic(exc) or isinstance(exc, ValueError):
                raise RejectedChange(
                    RejectReason.BAD_UPDATE, "the CRDT update does not apply"
                ) from exc
            raise

    def _track(self, doc_id: int, device_id: int, seq: int, update: bytes) -> None:
        """Note an applied change for the next checkpoint of its document."""
        try:
            header = update_header(update)
        except ValueError:
            header = None
        self._track_start(doc_id, device_id, seq, None if header is None else header[1])

    def _track_start(self, doc_id: int, device_id: int, seq: int, start: int | None) -> None:
        tail = self._tails.setdefault(doc_id, {}).setdefault(device_id, [])
        tail.append((seq, start))
        self._uncheckpointed[doc_id] = self._uncheckpointed.get(doc_id, 0) + 1
        self._document(self._doc_names[doc_id]).revision += 1

    def _doc_id(self, name: str) -> int:
        doc_id = self._doc_ids.get(name)
        if doc_id is None:
            doc_id = self._store.add_doc(name)
            self._doc_ids[name] = doc_id
            self._doc_names[doc_id] = name
        return doc_id

    # --- reading ------------------------------------------------------------------------

    def document(self, name: str) -> Document:
        """The document ``name`` ("shared" or a member id); empty if nothing was written."""
        return self._document(name)

    def document_names(self) -> list[str]:
        return sorted(self._docs)

    def vector(self) -> dict[bytes, tuple[int, bytes]]:
        return {d: (r.head_seq, r.head_hash) for d, r in self._devices.items() if r.head_seq}

    def digest(self) -> bytes:
        return vector_digest(self.vector())

    def change_count(self) -> int:
        return sum(r.head_seq for r in self._devices.values())

    def device_member(self, device: bytes) -> bytes | None:
        row = self._devices.get(device)
        return None if row is None else row.member

    def equivocating_devices(self) -> list[bytes]:
        return sorted(d for d, r in self._devices.items() if r.equivocated)

    def missing_for(self, theirs: VersionVector) -> Iterator[Change]:
        """The changes the holder of vector ``theirs`` lacks: device by device, each chain in
        order, each ending at this node's (signed) head. Cost grows with what is missing,
        not with the history."""
        for device in sorted(self._devices):
            row = self._devices[device]
            their_seq = theirs.get(device, (0, b""))[0]
            if row.head_seq > their_seq:
                yield from self.changes_of(device, their_seq)

    def changes_of(self, device: bytes, after_seq: int = 0) -> Iterator[Change]:
        """A device's stored changes after ``after_seq``, in chain order."""
        row = self._devices.get(device)
        if row is not None:
            for _, _, digest, data in self._store.changes_after(row.id, after_seq):
                yield decode_stored(data, digest)

    def pending_count(self) -> int:
        return self._store.count_pending()

    def observe(self, callback: Callable[[ReplicaEvent], None]) -> Callable[[], None]:
        """Call ``callback`` after each durable local change or ingested batch."""
        self._observers.append(callback)
        return lambda: self._observers.remove(callback)

    def _notify(self, changes: list[Change], local: bool) -> None:
        if changes:
            event = ReplicaEvent(tuple(changes), local)
            for callback in list(self._observers):
                callback(event)

    # --- writing locally ----------------------------------------------------------------

    @contextlib.contextmanager
    def transact(self, name: str | None = None) -> Iterator[Document]:
        """Edit a document; on exit the edit becomes one signed, durable change.

        A device writes only its own member's document and the shared one. If the body
        raises, whatever it already wrote is still recorded (the CRDT engine cannot roll
        back), then the exception propagates.
        """
        name = self.member_id if name is None else name
        if name not in (SHARED, self.member_id):
            raise UsageError("a device may write only its own member's document or the shared one")
        own = self._devices.get(self.device_key.public)
        if own is not None and own.equivocated:
            raise UsageError("this device is flagged for equivocation and may not write")
        stored: list[Change] = []
        failure: BaseException | None = None
        fresh: list[Change] = []
        try:
            with self._store.write():
                fresh = self._refresh_locked(notify=False)
                doc = self._document(name)
                captured: list[bytes] = []
                # Observed only while writing locally: an observer makes the engine encode
                # every transaction's update, remote applies and checkpoint loads included.
                subscription = doc.engine_doc.observe(
                    lambda event: captured.append(bytes(event.update))
                )
                doc._writable = True
                try:
                    with doc.engine_doc.transaction(origin=LOCAL_ORIGIN):
                        yield doc
                except BaseException as exc:
                    failure = exc
                finally:
                    doc._writable = False
                    doc.engine_doc.unobserve(subscription)
                for update in captured:
                    stored.append(self._record_local(name, update))
        except StoreError:
            self._load()
            raise
        # What other processes wrote is news to observers too (the node forwards it).
        self._notify(fresh, local=False)
        self._notify(stored, local=True)
        if failure is not None:
            raise failure

    def _record_local(self, name: str, update: bytes) -> Change:
        own = self._devices.get(self.device_key.public)
        seq = 1 if own is None else own.head_seq + 1
        prev = b"" if own is None else own.head_hash
        change = Change.create(
            self.device_key,
            self.assembly,
            doc_field(name),
            seq,
            prev,
            self._clock(),
            update,
            self.certificate.encode() if seq == 1 else None,
        )
        if own is None:
            own = self._register_device(self.certificate)
        doc_id = self._doc_id(name)
        self._store.insert_changes([(own.id, seq, doc_id, change.hash, change.data)])
        own.head_seq, own.head_hash = seq, change.hash
        self._store.set_heads([(own.id, change.hash, seq)])
        self._track(doc_id, own.id, seq, update)
        self._checkpoint_due([doc_id])
        return change

    def _register_device(self, cert: DeviceCertificate) -> DeviceRow:
        encoded = cert.encode()
        device_id = self._store.add_device(cert.device, cert.member, encoded)
        row = DeviceRow(device_id, cert.device, cert.member, encoded, 0, b"", False)
        self._devices[cert.device] = row
        self._devices_by_id[device_id] = row
        return row

    def _checkpoint_due(self, doc_ids: Iterable[int]) -> None:
        for doc_id in doc_ids:
            if self._uncheckpointed.get(doc_id, 0) >= CHECKPOINT_EVERY:
                self._checkpoint(doc_id)

    def _checkpoint(self, doc_id: int) -> None:
        """Store the document's full state and, per device, the last change it surely holds.

        The engine leaves out of its full state any items still waiting for a dependency
        (measured: yrs drops pending structs from ``get_update()``), so a checkpoint covers a
        device's change only when the document provably integrated it: its own changes, and
        a remote change whose items end at a clock the document's state vector has reached
        (a device's items on one document have consecutive clocks, so the end is where its
        next change there starts, or, for the last one, the engine measures it). The rest is
        replayed from the log on open (re-applying what the state already holds is a no-op).
        """
        doc = self._document(self._doc_names[doc_id])
        reached = decode_state_vector(doc.state_vector())
        # A device with nothing unproven on this document is covered up to its head.
        covered = {r.id: r.head_seq for r in self._devices.values() if r.head_seq}
        own = self._devices.get(self.device_key.public)
        for device_id, tail in self._tails.get(doc_id, {}).items():
            client = yjs_client_id(self._devices_by_id[device_id].device)
            proven = 0
            for i, (seq, start) in enumerate(tail):
                if own is not None and device_id == own.id:
                    proven = i + 1
                    continue
                if start is None:
                    break  # deletions only: nothing shows whether they are all applied
                end = tail[i + 1][1] if i + 1 < len(tail) else self._end_clock(device_id, seq)
                if end is None or reached.get(client, 0) < end:
                    break
                proven = i + 1
            del tail[:proven]
            if tail:
                covered[device_id] = tail[0][0] - 1
        self._store.save_checkpoint(doc_id, doc.full_state(), covered)
        self._covered[doc_id] = covered
        self._uncheckpointed[doc_id] = 0

    def _end_clock(self, device_id: int, seq: int) -> int | None:
        data = self._store.change_at(device_id, seq)
        return None if data is None else update_end_clock(decode_change(data).update)

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
        except StoreError:
            self._load()
            raise

    def _refresh_locked(self, notify: bool) -> list[Change]:
        if self._store.data_version() == self._data_version:
            return []
        self._doc_ids = self._store.load_docs()
        self._doc_names = {i: n for n, i in self._doc_ids.items()}
        fresh: list[Change] = []
        for row in self._store.load_devices():
            mine = self._devices_by_id.get(row.id)
            after = 0 if mine is None else mine.head_seq
            for seq, doc_id, _, data in self._store.changes_after(row.id, after):
                change = decode_change(data)
                self._apply_update(self._document(self._doc_names[doc_id]), change.update)
                self._track(doc_id, row.id, seq, change.update)
                fresh.append(change)
            self._devices[row.device] = row
            self._devices_by_id[row.id] = row
        self._data_version = self._store.data_version()
        if notify:
            self._notify(fresh, local=False)
        return fresh

    # --- ingest -------------------------------------------------------------------------

    def ingest(self, items: Iterable[bytes | Change]) -> IngestResult:
        """Take a batch of changes from anywhere. Never raises for bad input: every refused
        change is listed in ``result.rejected`` with its reason.

        Items are encoded changes, or ``Change`` values a decoder of this package already
        built (``decode_change``, or the sync batch codec, which rebuilds each body with
        ``encode_body``): those skip decoding, and every rule after it still applies.
        """
        result = IngestResult()
        decoded: list[tuple[int, Change]] = []
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
            decoded.append((index, change))
        fresh: list[Change] = []
        try:
            with self._store.write():
                fresh = self._refresh_locked(notify=False)
                self._ingest_locked(decoded, result)
        except StoreError:
            self._load()
            raise
        self._notify(fresh, local=False)
        self._notify(result.applied, local=False)
        return result

    def _reject(
        self, result: IngestResult, change: Change, reason: RejectReason, detail: str
    ) -> None:
        self._rejected_now.add(change.hash)
        result.rejected.append(Rejection(reason, detail, None, change.device, change.seq))

    def _flag_equivocation(
        self, result: IngestResult, device: bytes, changes: list[Change]
    ) -> None:
        self._store.add_evidence([(c.device, c.seq, c.hash, c.data) for c in changes])
        row = self._devices.get(device)
        if row is not None and not row.equivocated:
            row.equivocated = True
            self._store.mark_equivocated(row.id)
        if device not in result.equivocating:
            result.equivocating.append(device)

    def _ingest_locked(self, decoded: list[tuple[int, Change]], result: IngestResult) -> None:
        self._rejected_now: set[bytes] = set()
        groups: dict[bytes, list[Change]] = {}  # device -> its new changes, in batch order
        for _, change in decoded:
            row = self._devices.get(change.device)
            if row is not None and change.seq <= row.head_seq:
                stored_hash = self._store.hash_at(row.id, change.seq)
                if stored_hash == change.hash:
                    result.duplicates += 1
                elif _signature_ok(change):
                    stored = self._store.change_at(row.id, change.seq)
                    earlier = [decode_change(stored)] if stored is not None else []
                    self._flag_equivocation(result, change.device, [*earlier, change])
                    self._reject(
                        result, change, RejectReason.EQUIVOCATION, "second change at a seq"
                    )
                else:
                    self._reject(result, change, RejectReason.BAD_SIGNATURE, "replayed or forged")
                continue
            if row is not None and row.equivocated:
                self._reject(result, change, RejectReason.EQUIVOCATION, "device equivocated")
                continue
            group = groups.get(change.device)
            if group is None:
                groups[change.device] = [change]
            else:
                group.append(change)

        runs: list[list[Change]] = []
        starts: dict[bytes, Checked] = {}
        new_pending: list[Change] = []
        consumed_pending: list[tuple[bytes, int, bytes]] = []
        for device, group in groups.items():
            if device not in self._pending_devices and self._extends_head(device, group):
                # The usual case: the device's changes continue its chain, in order, and end
                # on a signature. The general path below would build this very run and find
                # nothing to buffer: whatever verification cuts off is refused.
                run = self._verify_run(group, result)
                run = self._check_authority(device, run, result, starts)
                if run:
                    runs.append(run)
                continue
            by_seq: dict[int, dict[bytes, Change]] = {}
            for change in group:
                at_seq = by_seq.setdefault(change.seq, {})
                if change.hash in at_seq:
                    result.duplicates += 1
                else:
                    at_seq[change.hash] = change
            from_pending: dict[bytes, int] = {}
            stored_pending = (
                self._store.pending_for(device) if device in self._pending_devices else []
            )
            for data in stored_pending:
                change = decode_change(data)
                from_pending[change.hash] = change.seq
                row = self._devices.get(device)
                if row is not None and change.seq <= row.head_seq:
                    consumed_pending.append((device, change.seq, change.hash))
                    continue
                slot = by_seq.setdefault(change.seq, {})
                if change.hash in slot:
                    result.duplicates += 1
                slot[change.hash] = change
            run = self._build_run(device, by_seq, result)
            run = self._verify_run(run, result)
            run = self._check_authority(device, run, result, starts)
            if run:
                runs.append(run)
            used = {c.hash for c in run}
            run_end = (
                run[-1].seq if run else (row.head_seq if (row := self._devices.get(device)) else 0)
            )
            for h, seq in from_pending.items():
                if (
                    h in used
                    or seq <= run_end
                    or h not in by_seq.get(seq, {})
                    or h in self._rejected_now
                ):
                    consumed_pending.append((device, seq, h))
            pending_here = len(from_pending) - sum(1 for p in consumed_pending if p[0] == device)
            for seq in sorted(by_seq):
                if seq <= run_end:
                    continue
                for h, change in by_seq[seq].items():
                    if h in from_pending or h in self._rejected_now:
                        continue
                    # A signed change can be checked now rather than buffered unverified;
                    # unsigned ones wait for the signature at the end of their run.
                    if change.signature and not _signature_ok(change):
                        self._reject(result, change, RejectReason.BAD_SIGNATURE, "forged change")
                        continue
                    if pending_here >= MAX_PENDING_PER_DEVICE:
                        self._reject(result, change, RejectReason.BAD_CHAIN, "too far ahead")
                        continue
                    pending_here += 1
                    new_pending.append(change)
        self._apply_runs(runs, result, starts)
        if consumed_pending:
            self._store.drop_pending(consumed_pending)
        if new_pending:
            self._store.add_pending([(c.device, c.seq, c.hash, c.data) for c in new_pending])
        if consumed_pending or new_pending:
            self._pending_devices = self._store.pending_devices()
        result.buffered = len(new_pending)

    def _extends_head(self, device: bytes, changes: list[Change]) -> bool:
        """Whether ``changes`` continue the device's applied chain link by link, one change
        per seq, and the last one carries a signature."""
        if not changes[-1].signature:
            return False
        row = self._devices.get(device)
        seq, prev = (0, b"") if row is None else (row.head_seq, row.head_hash)
        for change in changes:
            seq += 1
            if change.seq != seq or change.prev != prev:
                return False
            prev = change.hash
        return True

    def _build_run(
        self, device: bytes, by_seq: dict[int, dict[bytes, Change]], result: IngestResult
    ) -> list[Change]:
        """The longest chain extending this device's head from the candidates."""
        row = self._devices.get(device)
        seq, prev = (0, b"") if row is None else (row.head_seq, row.head_hash)
        run: list[Change] = []
        while seq + 1 in by_seq:
            options = list(by_seq[seq + 1].values())
            if len(options) > 1:
                genuine = [c for c in options if _signature_ok(c)]
                for change in options:
                    if change not in genuine:
                        self._reject(result, change, RejectReason.BAD_SIGNATURE, "forged change")
                        del by_seq[seq + 1][change.hash]
                if len(genuine) > 1:
                    self._flag_equivocation(result, device, genuine)
                    for change in genuine:
                        self._reject(
                            result, change, RejectReason.EQUIVOCATION, "two changes at a seq"
                        )
                        del by_seq[seq + 1][change.hash]
                    break
                options = genuine
                if not options:
                    break
            change = options[0]
            if change.prev != prev:
                if run:
                    break  # a later change of the batch does not link: leave it pending
                if _signature_ok(change) and row is not None and row.head_seq:
                    stored = self._store.change_at(row.id, row.head_seq)
                    earlier = [decode_change(stored)] if stored is not None else []
                    self._flag_equivocation(result, device, [*earlier, change])
                    self._reject(result, change, RejectReason.EQUIVOCATION, "forks the chain")
                else:
                    self._reject(result, change, RejectReason.BAD_CHAIN, "prev does not link")
                del by_seq[seq + 1][change.hash]
                break
            run.append(change)
            prev = change.hash
            seq += 1
        return run

    def _verify_run(self, run: list[Change], result: IngestResult) -> list[Change]:
        """Hash links were checked while building; one signature covers the run up to it.

        Returns the verified prefix; unsigned changes after it stay pending until a later
        signature vouches for them. On a bad signature, falls back to checking each signed
        change to keep the longest genuine prefix.
        """
        signed = [i for i, change in enumerate(run) if change.signature]
        if not signed:
            return []
        last = signed[-1]
        if _signature_ok(run[last]):
            return run[: last + 1]
        good = 0
        for i in signed:
            if _signature_ok(run[i]):
                good = i + 1
                continue
            self._reject(result, run[i], RejectReason.BAD_SIGNATURE, "signature does not verify")
            for change in run[good:i] + run[i + 1 :]:
                self._reject(result, change, RejectReason.BAD_CHAIN, "no valid signature vouches")
            break
        return run[:good]

    def _check_authority(
        self,
        device: bytes,
        run: list[Change],
        result: IngestResult,
        starts: dict[bytes, Checked],
    ) -> list[Change]:
        """Cut the run at the first change its device may not make; note each clock start."""
        if not run:
            return run
        row = self._devices.get(device)
        member: bytes
        if row is None:
            first = run[0]
            problem = self._certificate_problem(first)
            if problem is not None:
                for change in run:
                    self._reject(result, change, RejectReason.BAD_CERTIFICATE, problem)
                return []
            assert first.cert is not None
            member = DeviceCertificate.decode(first.cert).member
        else:
            member = row.member
        client = yjs_client_id(device)
        for i, change in enumerate(run):
            reason: RejectReason | None = None
            if change.doc not in (SHARED_DOC, member):
                reason, detail = (
                    RejectReason.NOT_AUTHORISED,
                    "device writes another member's document",
                )
            else:
                try:
                    starts[change.hash] = check_update(change.doc, change.update, client)
                except RejectedChange as exc:
                    reason, detail = exc.reason, exc.detail
            if reason is not None:
                self._reject(result, change, reason, detail)
                for later in run[i + 1 :]:
                    self._reject(result, later, RejectReason.BAD_CHAIN, "follows a rejected change")
                return run[:i]
        return run

    def _certificate_problem(self, first: Change) -> str | None:
        if first.cert is None:
            return "first change of a device carries no certificate"
        try:
            cert = DeviceCertificate.decode(first.cert)
            cert.verify()
        except InvalidSignature:
            return "device certificate is malformed or forged"
        if cert.device != first.device:
            return "certificate is for another device"
        if cert.assembly != self.assembly:
            return "certificate is for another assembly"
        return None

    def _apply_runs(
        self, runs: list[list[Change]], result: IngestResult, starts: dict[bytes, Checked]
    ) -> None:
        """Apply all runs, interleaved by timestamp (each run stays in chain order), and
        stage their rows. Interleaving by time lets most cross-device references resolve
        at once instead of waiting in the engine's pending set."""
        rows: list[tuple[int, int, int, bytes, bytes]] = []
        cut: set[bytes] = set()
        order: list[tuple[int, bytes, int, Change]] = []
        for run in runs:
            # A running maximum keeps each chain in order even if its clock went backwards.
            latest = 0
            for change in run:
                if change.ts > latest:
                    latest = change.ts
                order.append((latest, change.device, change.seq, change))
        # (time, device, seq) is unique, so the sort never compares the changes themselves.
        order.sort()
        # Per document field: (apply, engine transaction, doc id, the document's tails). One
        # engine transaction per document for the whole batch: a commit costs as much as a
        # small apply. The engine is called below pycrdt's per-call wrapper, which opens and
        # checks a nested transaction each time: for small updates it costs as much as the
        # apply itself.
        targets: dict[bytes, tuple[Callable[[Any, bytes], None], Any, int, _Tails]] = {}
        devices = self._devices
        applied = result.applied
        counts: dict[int, int] = {}
        with contextlib.ExitStack() as transactions:
            for _, device, seq, change in order:
                if device in cut:
                    self._reject(
                        result, change, RejectReason.BAD_CHAIN, "follows a rejected change"
                    )
                    continue
                target = targets.get(change.doc)
                if target is None:
                    name = doc_name(change.doc)
                    doc = self._document(name)
                    txn = transactions.enter_context(
                        doc.engine_doc.transaction(origin=REMOTE_ORIGIN)
                    )
                    if txn._txn is None:
                        raise UsageError("the engine transaction is already closed")
                    doc_id = self._doc_id(name)
                    target = targets[change.doc] = (
                        doc.engine_doc._doc.apply_update,
                        txn._txn,
                        doc_id,
                        self._tails.setdefault(doc_id, {}),
                    )
                apply, engine_txn, doc_id, tails = target
                try:
                    apply(engine_txn, change.update)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:
                    if not (is_panic(exc) or isinstance(exc, ValueError)):
                        raise
                    self._reject(
                        result, change, RejectReason.BAD_UPDATE, "the CRDT update does not apply"
                    )
                    cut.add(device)
                    continue
                row = devices.get(device)
                if row is None:
                    assert change.cert is not None
                    row = self._register_device(DeviceCertificate.decode(change.cert))
                row.head_seq = seq
                row.head_hash = change.hash
                rows.append((row.id, seq, doc_id, change.hash, change.data))
                tail = tails.get(row.id)
                if tail is None:
                    tail = tails[row.id] = []
                tail.append((seq, starts[change.hash].start))
                counts[doc_id] = counts.get(doc_id, 0) + 1
                applied.append(change)
        for doc_id, count in counts.items():
            self._uncheckpointed[doc_id] = self._uncheckpointed.get(doc_id, 0) + count
            self._document(self._doc_names[doc_id]).revision += count
        touched_docs = {doc_id for _, _, doc_id, _ in targets.values()}
        self._store.insert_changes(rows)
        touched = {c.device: self._devices[c.device] for c in result.applied}
        self._store.set_heads([(r.id, r.head_hash, r.head_seq) for r in touched.values()])
        self._checkpoint_due(touched_docs)

    # --- closing ------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Write checkpoints of every document changed since its last one (fast next open)."""
        dirty = [d for d, n in self._uncheckpointed.items() if n]
        if dirty:
            with self._store.write():
                for doc_id in dirty:
                    self._checkpoint(doc_id)

    def close(self) -> None:
        try:
            self.checkpoint()
        finally:
            self._store.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
