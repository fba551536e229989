"""The sync protocol: a sans-I/O state machine per connection (docs/protocol.md §5).

The machine sits on top of an established handshake ``Session`` but never touches it: the
adapter feeds it decoded application messages (``receive_message``) and writes what it asks
for (``next_message``). It reads the local record through a small ``SyncSource`` protocol
(``Replica`` satisfies it) and never ingests by itself: received changes come out as
``Ingest`` events, in slices, and the adapter ingests each one and reports back with
``ingested``. So an asyncio adapter can yield to its loop between slices, and a simulator or
a test can drive two machines by hand.

Course of a connection::

    hello  ->                       <- hello           (digest + compact version vector)
    equal digests: nothing more, both sides are in sync (live).
    otherwise each side:  batch* (what the other lacks, per chain, in order)  done
    live:  announce (new changes, same batch encoding) ... ping ... bye

``Gossip`` is the node-level forwarder: what a node ingests from one peer it pushes to its
other peers, never back to the peer it came from.
"""

from __future__ import annotations

import enum
import heapq
import inspect
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import msgpack

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.replica import IngestResult, PendingBudget, ReplicaEvent
from assemblymesh.errors import ProtocolError, RejectedChange, RejectReason, UsageError
from assemblymesh.net.batch import (
    MAX_BATCH_CHANGES,
    SIGNATURE_STRIDE,
    TARGET_BATCH_BYTES,
    BatchDecoder,
    BatchEncoder,
)
from assemblymesh.net.events import NeedData
from assemblymesh.net.framing import DEFAULT_MAX_MESSAGE_SIZE

__all__ = [
    "FIRST_BATCH_CHANGES",
    "MAX_ADDRESSES",
    "MAX_EVIDENCE_PAIRS",
    "MAX_HELLO_DEVICES",
    "MAX_REASON_LENGTH",
    "PENDING_BUDGET_BYTES",
    "PROTOCOL_VERSION",
    "SLICE_CHANGES",
    "TAG_SIZE",
    "Bye",
    "Counters",
    "Event",
    "EvidenceReceived",
    "Gossip",
    "Ingest",
    "NeedData",
    "PeerClosed",
    "State",
    "SyncMachine",
    "SyncReplica",
    "SyncSource",
    "Synced",
    "encode_evidence",
    "encode_hello",
]

log = logging.getLogger("assemblymesh.net")

PROTOCOL_VERSION = 1
TAG_SIZE = 8  # a device is named in hello by the first 8 bytes of its key
MAX_HELLO_DEVICES = 200_000
MAX_ADDRESSES = 16
MAX_REASON_LENGTH = 200
# Equivocation evidence: at most this many pairs per message (each pair two encoded changes).
MAX_EVIDENCE_PAIRS = 16
PENDING_BUDGET_BYTES = 4 * 1024 * 1024  # per connection: what one peer may leave pending
SLICE_CHANGES = 1_000  # changes per ingest slice (the event loop runs between slices)
# Rough per-change overhead on top of the update, to stop filling a batch near its target.
_CHANGE_OVERHEAD = 48
_READ_AHEAD = 256  # changes read from the store per chain at a time
# The peer can do nothing until the first batch arrives: it is built from a short read of
# each chain and holds few changes, so the receiver starts while the next one is built
# (measured on the shared 100k workload: the first full batch took 0.3 s to arrive).
_FIRST_READ = 32
FIRST_BATCH_CHANGES = 1_000


class Bye(enum.StrEnum):
    """Stable reasons carried by ``bye`` (docs/protocol.md §5.1)."""

    DONE = "done"
    SHUTDOWN = "shutdown"
    UNSUPPORTED_VERSION = "unsupported-version"
    UNKNOWN_MESSAGE = "unknown-message"
    MALFORMED = "malformed"
    UNEXPECTED = "unexpected"
    IDLE = "idle-timeout"
    DUPLICATE = "duplicate-connection"
    NOT_AUTHORISED = "not-authorised"


class SyncSource(Protocol):
    """What the machine reads from the local record (``Replica`` satisfies it)."""

    def vector(self) -> Mapping[bytes, tuple[int, bytes]]: ...

    def digest(self) -> bytes: ...

    def changes_of(self, device: bytes, after_seq: int = 0) -> Iterator[Change]: ...

    def equivocation_evidence(self) -> list[tuple[bytes, bytes]]:
        """Pairs of encoded changes, each two different changes signed at one (device, seq)."""
        ...

    def take_evidence(self, first: bytes, second: bytes) -> bool:
        """Verify and keep one pair; True if it was new. Raises ``RejectedChange`` if invalid."""
        ...


class SyncReplica(SyncSource, Protocol):
    """What ``Gossip`` needs besides: ingest and change notifications.

    ``Gossip`` passes ``budget=`` (a per-connection ``PendingBudget``) to ``ingest`` when the
    replica's ``ingest`` accepts that keyword.
    """

    def ingest(self, items: Iterable[bytes | Change]) -> IngestResult: ...

    def observe(self, callback: Callable[[ReplicaEvent], None]) -> Callable[[], None]: ...


# --- events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ingest:
    """Changes from the peer to ingest now; report with ``SyncMachine.ingested``.

    Each slice ends on a change that carries a signature whenever the batch has one there,
    so ingesting the slice on its own leaves nothing buffered.
    """

    changes: list[Change]
    live: bool


@dataclass(frozen=True, slots=True)
class Synced:
    """Both sides hold what the other had at hello: the connection is now live."""

    sent: int
    received: int
    shortcut: bool


@dataclass(frozen=True, slots=True)
class PeerClosed:
    """The peer said bye."""

    reason: str


@dataclass(frozen=True, slots=True)
class EvidenceReceived:
    """The peer sent equivocation evidence: hand each pair to the replica (``Gossip`` does)."""

    pairs: list[tuple[bytes, bytes]]


Event = NeedData | Ingest | Synced | PeerClosed | EvidenceReceived


class State(enum.Enum):
    HELLO = "hello"  # our hello is out; waiting for the peer's
    SYNCING = "syncing"  # sending what the peer lacks and/or receiving what we lack
    LIVE = "live"  # in sync; announcing new changes both ways
    CLOSED = "closed"


@dataclass(slots=True)
class Counters:
    sent: int = 0  # changes sent
    received: int = 0  # changes received
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    messages_sent: int = 0
    messages_received: int = 0


# --- messages ---------------------------------------------------------------------------


def _pack(message: dict[str, Any]) -> bytes:
    packed: bytes = msgpack.packb({"v": PROTOCOL_VERSION, **message})
    return packed


def encode_hello(
    digest: bytes,
    vector: Mapping[bytes, tuple[int, bytes]],
    addresses: Sequence[tuple[str, int]] = (),
) -> bytes:
    devices = sorted(d for d, (seq, _) in vector.items() if seq > 0)
    return _pack(
        {
            "t": "hello",
            "digest": digest,
            "tags": b"".join(d[:TAG_SIZE] for d in devices),
            "seqs": [vector[d][0] for d in devices],
            "addrs": [[h, p] for h, p in addresses[:MAX_ADDRESSES]],
        }
    )


def encode_evidence(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    """One ``evidence`` message (at most ``MAX_EVIDENCE_PAIRS`` pairs)."""
    if not 0 < len(pairs) <= MAX_EVIDENCE_PAIRS:
        raise UsageError(f"an evidence message holds 1 to {MAX_EVIDENCE_PAIRS} pairs")
    return _pack({"t": "evidence", "pairs": [[a, b] for a, b in pairs]})


def _parse_evidence(value: object) -> list[tuple[bytes, bytes]]:
    if type(value) is not list or not 0 < len(value) <= MAX_EVIDENCE_PAIRS:
        raise ProtocolError("evidence pairs are malformed")
    pairs: list[tuple[bytes, bytes]] = []
    for item in value:
        if (
            type(item) is not list
            or len(item) != 2
            or type(item[0]) is not bytes
            or type(item[1]) is not bytes
        ):
            raise ProtocolError("evidence pair is malformed")
        pairs.append((item[0], item[1]))
    return pairs


def _unpack(payload: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(
            payload,
            raw=False,
            strict_map_key=True,
            max_bin_len=DEFAULT_MAX_MESSAGE_SIZE,
            max_str_len=MAX_REASON_LENGTH,
            max_array_len=MAX_HELLO_DEVICES,
            max_map_len=16,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises many unrelated types on bad input
        raise ProtocolError("message is not a msgpack value") from exc
    if type(message) is not dict:
        raise ProtocolError("message is not a map")
    return message


def _parse_hello(message: dict[str, Any]) -> tuple[bytes, bytes, list[int]]:
    digest, tags, seqs = message.get("digest"), message.get("tags"), message.get("seqs")
    if type(digest) is not bytes or len(digest) != 32:
        raise ProtocolError("hello digest is not 32 bytes")
    if (
        type(tags) is not bytes
        or type(seqs) is not list
        or len(tags) != TAG_SIZE * len(seqs)
        or any(type(s) is not int or s < 1 for s in seqs)
    ):
        raise ProtocolError("hello version vector is malformed")
    return digest, tags, seqs


def _parse_addresses(value: object) -> list[tuple[str, int]]:
    if value is None:
        return []
    if type(value) is not list or len(value) > MAX_ADDRESSES:
        raise ProtocolError("hello addresses are malformed")
    out: list[tuple[str, int]] = []
    for item in value:
        if (
            type(item) is not list
            or len(item) != 2
            or type(item[0]) is not str
            or type(item[1]) is not int
            or not 0 < item[1] < 65536
        ):
            raise ProtocolError("hello address is malformed")
        out.append((item[0], item[1]))
    return out


# --- the machine ------------------------------------------------------------------------


class SyncMachine:
    """One side of one connection's sync (sans-I/O).

    ``assembly`` is known from the handshake and needed to rebuild change bodies.
    ``addresses`` go into hello so the peer can learn where to reach us (host ``""`` means
    "the address you see me at").
    Call ``start()`` once, then loop: write every ``next_message()`` until it returns None,
    feed each received message to ``receive_message``, and handle ``next_event()`` until it
    returns ``NeedData``. ``push(changes)`` hands live changes over (the node's gossip does).
    """

    def __init__(
        self,
        source: SyncSource,
        assembly: bytes,
        *,
        addresses: Sequence[tuple[str, int]] = (),
        max_batch_changes: int = MAX_BATCH_CHANGES,
        target_batch_bytes: int = TARGET_BATCH_BYTES,
        slice_changes: int = SLICE_CHANGES,
        signature_stride: int = SIGNATURE_STRIDE,
        name: str = "peer",
    ) -> None:
        if not 1 <= max_batch_changes <= MAX_BATCH_CHANGES:
            raise UsageError(f"batches hold 1 to {MAX_BATCH_CHANGES} changes")
        self.name = name
        self.counters = Counters()
        # Changes the peer's hello shows it has and we lack: what the initial sync brings.
        self.expected = 0
        self.peer_addresses: list[tuple[str, int]] = []
        self._source = source
        self._assembly = assembly
        self._addresses = list(addresses)
        self._max_batch = max_batch_changes
        self._target_bytes = target_batch_bytes
        self._slice = slice_changes
        # Batches and announces of one direction share tables (devices, documents, last
        # change per device), so each names a device or document in full only once.
        self._encoder = BatchEncoder(stride=signature_stride)
        self._decoder = BatchDecoder(assembly)
        self._state = State.HELLO
        self._started = False
        self._outbox: deque[bytes] = deque()
        self._events: deque[Event] = deque()
        self._hello_digest = b""
        # device -> seq the peer is known to hold (from its hello, and what went either way)
        self._peer_seq: dict[bytes, int] = {}
        self._peer_tags: dict[bytes, int] = {}
        # Backlog still to send, streamed by next_message in batches: per device the seq
        # read up to and a small read-ahead buffer; a heap orders devices by next timestamp.
        self._plan: dict[bytes, _Backlog] = {}
        self._heap: list[tuple[int, bytes]] = []
        self._held: list[Change] = []  # live pushes held back until the backlog is out
        self._announcing: list[Change] = []  # live changes queued for the next announce
        self._sent_done = False
        self._peer_done = False
        self._unacked = 0
        self._shortcut = False
        self._evidence_sent: set[tuple[bytes, bytes]] = set()

    # --- state ---

    @property
    def state(self) -> State:
        return self._state

    @property
    def synced(self) -> bool:
        return self._state is State.LIVE

    def start(self) -> None:
        """Queue our hello. Call once, right after the handshake."""
        if self._started:
            raise UsageError("the sync machine is already started")
        self._started = True
        self._hello_digest = self._source.digest()
        self._outbox.append(
            encode_hello(self._hello_digest, self._source.vector(), self._addresses)
        )
        self.push_evidence(self._source.equivocation_evidence())

    # --- sending ---

    def next_message(self) -> bytes | None:
        """The next application message to send, or None for now.

        Backlog batches are built here, one per call, so the adapter controls the pace
        (write, wait for the socket to drain, ask again) and memory stays bounded.
        """
        if self._outbox:
            return self._take()
        if self._announcing and self._state is not State.CLOSED:
            part = self._announcing[: self._max_batch]
            del self._announcing[: self._max_batch]
            self.counters.sent += len(part)
            self.counters.messages_sent += 1
            return _pack({"t": "announce", "n": len(part), "z": self._encoder.encode(part)})
        if self._state is State.SYNCING and not self._sent_done:
            payload = self._next_backlog_batch()
            if payload is not None:
                return payload
            self._sent_done = True
            self._outbox.append(_pack({"t": "done", "n": self.counters.sent}))
            held, self._held = self._held, []
            self._announce(held)
            self._maybe_synced()
            return self._take()
        return None

    def _take(self) -> bytes:
        self.counters.messages_sent += 1
        return self._outbox.popleft()

    def push(self, changes: Sequence[Change]) -> None:
        """Live changes (local, or ingested from another peer) for this peer."""
        if self._state is State.CLOSED or not changes:
            return
        if self._state is State.LIVE or self._sent_done:
            self._announce(changes)
        else:
            self._held.extend(changes)

    def push_evidence(self, pairs: Sequence[tuple[bytes, bytes]]) -> None:
        """Queue equivocation evidence for the peer (each pair at most once per connection)."""
        if self._state is State.CLOSED:
            return
        fresh = [p for p in pairs if p not in self._evidence_sent]
        self._evidence_sent.update(fresh)
        for i in range(0, len(fresh), MAX_EVIDENCE_PAIRS):
            self._outbox.append(encode_evidence(fresh[i : i + MAX_EVIDENCE_PAIRS]))

    def abort(self) -> None:
        """Close without sending anything more (after a framing failure, §4.5)."""
        self._outbox.clear()
        self._announcing.clear()
        self._state = State.CLOSED

    def ping(self) -> None:
        """Queue a keepalive (an idle connection is closed by the peer's idle timeout)."""
        if self._state is not State.CLOSED:
            self._outbox.append(_pack({"t": "ping"}))

    def close(self, reason: str = Bye.SHUTDOWN) -> None:
        """Queue a bye; nothing is sent after it."""
        if self._state is State.CLOSED:
            return
        self._outbox.clear()
        self._announcing.clear()
        self._outbox.append(_pack({"t": "bye", "reason": str(reason)[:MAX_REASON_LENGTH]}))
        self._state = State.CLOSED

    def _known(self, device: bytes) -> int:
        seq = self._peer_seq.get(device)
        if seq is None:
            seq = self._peer_seq[device] = self._peer_tags.get(device[:TAG_SIZE], 0)
        return seq

    def _announce(self, changes: Sequence[Change]) -> None:
        """Queue announce messages for the changes the peer lacks, filling chain gaps."""
        out: list[Change] = []
        for change in changes:
            have = self._known(change.device)
            if change.seq <= have:
                continue
            if change.seq > have + 1:
                # The peer misses earlier changes of this chain: send them first, in order.
                out.extend(self._read(change.device, have, change.seq - have - 1))
            out.append(change)
            self._peer_seq[change.device] = change.seq
        # Built lazily by next_message: a burst of local writes leaves as one announce.
        self._announcing.extend(out)

    def _read(self, device: bytes, after: int, limit: int) -> list[Change]:
        # A store cursor must not stay open across the adapter's awaits: read and close.
        changes = self._source.changes_of(device, after)
        try:
            return list(itertools.islice(changes, limit))
        finally:
            close = getattr(changes, "close", None)
            if close is not None:
                close()

    def _refill(self, device: bytes, backlog: _Backlog) -> None:
        """Read ahead a device's chain and put the device back on the heap (if not done)."""
        if not backlog.buffer:
            limit = _READ_AHEAD if backlog.read else _FIRST_READ
            backlog.read = True
            backlog.buffer.extend(self._read(device, backlog.after, limit))
            if backlog.buffer:
                backlog.after = backlog.buffer[-1].seq
        if backlog.buffer:
            # A running maximum keeps the heap order consistent with chain order.
            backlog.key = max(backlog.key, backlog.buffer[0].ts)
            heapq.heappush(self._heap, (backlog.key, device))
        else:
            del self._plan[device]

    def _next_backlog_batch(self) -> bytes | None:
        """The next batch of the backlog: the earliest changes across all chains.

        Changes go out roughly in time order, not chain after chain: a receiver applying one
        writer's whole history before the others' leaves the CRDT engine holding most items
        as pending, waiting for references (measured: 4.2x slower ingest on the shared
        workload). Within a batch, changes are grouped per chain so each run is encoded once.
        """
        limit = self._max_batch if self.counters.sent else min(self._max_batch, FIRST_BATCH_CHANGES)
        picked = self._pick(limit)
        if not picked:
            return None
        batch: list[Change] = []
        for device, run in picked.items():
            backlog_left = self._plan.get(device)
            if backlog_left is not None and not run[-1].signature:
                self._end_on_signature(device, run, backlog_left)
            batch.extend(run)
        peer_seq = self._peer_seq
        for change in batch:
            if change.seq > peer_seq.get(change.device, 0):
                peer_seq[change.device] = change.seq
        self.counters.sent += len(batch)
        self.counters.messages_sent += 1
        return _pack({"t": "batch", "n": len(batch), "z": self._encoder.encode(batch)})

    def _pick(self, limit: int) -> dict[bytes, list[Change]]:
        """Pop up to ``limit`` changes (or the byte target) off the heap, grouped per chain."""
        picked: dict[bytes, list[Change]] = {}
        count = size = 0
        heap, plan, target = self._heap, self._plan, self._target_bytes
        while heap and count < limit and size < target:
            key, device = heapq.heappop(heap)
            backlog = plan[device]
            buffer = backlog.buffer
            change = buffer.popleft()
            run = picked.get(device)
            if run is None:
                picked[device] = [change]
            else:
                run.append(change)
            count += 1
            size += len(change.update) + _CHANGE_OVERHEAD
            if buffer:  # _refill without a store read, inlined: it runs once per change
                backlog.key = key = max(key, buffer[0].ts)
                heapq.heappush(heap, (key, device))
            else:
                self._refill(device, backlog)
        return picked

    def _end_on_signature(self, device: bytes, run: list[Change], backlog: _Backlog) -> None:
        """A run that continues later ends where a signature is, if it can: the receiver
        then ingests it at once instead of buffering it as pending."""
        for k in range(len(run) - 1, -1, -1):
            if run[k].signature:
                backlog.buffer.extendleft(reversed(run[k + 1 :]))
                backlog.key = min(backlog.key, run[k + 1].ts)
                self._heap = [(key, d) for key, d in self._heap if d != device]
                heapq.heapify(self._heap)
                heapq.heappush(self._heap, (backlog.key, device))
                del run[k + 1 :]
                return

    # --- receiving ---

    def receive_message(self, payload: bytes) -> None:
        """Take one application message from the peer.

        Raises ``ProtocolError`` for anything malformed, unknown or out of order; a bye
        naming the reason is then queued (send it, then close).
        """
        if self._state is State.CLOSED:
            return  # after a bye nothing counts
        if not self._started:
            raise UsageError("start() the machine before feeding it")
        self.counters.messages_received += 1
        try:
            message = _unpack(payload)
            version = message.get("v")
            if version != PROTOCOL_VERSION or type(version) is not int:
                raise _Refusal(Bye.UNSUPPORTED_VERSION, f"unsupported protocol version {version!r}")
            kind = message.get("t")
            handler = self._handlers.get(kind) if type(kind) is str else None
            if handler is None:
                raise _Refusal(Bye.UNKNOWN_MESSAGE, f"unknown message type {kind!r}")
            handler(self, message)
        except _Refusal as refusal:
            self.close(refusal.reason)
            raise ProtocolError(str(refusal)) from None
        except ProtocolError:
            self.close(Bye.MALFORMED)
            raise

    def _on_hello(self, message: dict[str, Any]) -> None:
        if self._state is not State.HELLO:
            raise _Refusal(Bye.UNEXPECTED, "second hello")
        digest, tags, seqs = _parse_hello(message)
        self.peer_addresses = _parse_addresses(message.get("addrs"))
        for i, seq in enumerate(seqs):
            tag = tags[i * TAG_SIZE : (i + 1) * TAG_SIZE]
            # Two devices sharing a tag: assume the peer has neither (it dedupes the excess).
            self._peer_tags[tag] = 0 if tag in self._peer_tags else seq
        if digest == self._hello_digest:
            self._shortcut = True
            self._sent_done = self._peer_done = True
            self._go_live()
            return
        self._state = State.SYNCING
        self._plan_backlog(self._source.vector())

    def _plan_backlog(self, mine: Mapping[bytes, tuple[int, bytes]]) -> None:
        """From the peer's vector: what it brings (``expected``) and what we send it."""
        mine_by_tag = {device[:TAG_SIZE]: seq for device, (seq, _) in mine.items()}
        self.expected = sum(
            max(0, seq - mine_by_tag.get(tag, 0)) for tag, seq in self._peer_tags.items()
        )
        by_tag: dict[bytes, int] = {}
        for device in mine:
            by_tag[device[:TAG_SIZE]] = by_tag.get(device[:TAG_SIZE], 0) + 1
        for device in sorted(mine):
            tag = device[:TAG_SIZE]
            theirs = self._peer_tags.get(tag, 0) if by_tag[tag] == 1 else 0
            self._peer_seq[device] = theirs
            if mine[device][0] > theirs:
                backlog = self._plan[device] = _Backlog(theirs)
                self._refill(device, backlog)

    def _on_batch(self, message: dict[str, Any]) -> None:
        if self._state is not State.SYNCING or self._peer_done:
            raise _Refusal(Bye.UNEXPECTED, "batch outside the initial sync")
        self._receive_changes(message, live=False)

    def _on_announce(self, message: dict[str, Any]) -> None:
        if self._state is State.HELLO:
            raise _Refusal(Bye.UNEXPECTED, "announce before hello")
        self._receive_changes(message, live=True)

    def _receive_changes(self, message: dict[str, Any], live: bool) -> None:
        data, count = message.get("z"), message.get("n")
        if type(data) is not bytes or type(count) is not int:
            raise ProtocolError("batch message is malformed")
        changes = self._decoder.decode(data)
        if len(changes) != count:
            raise ProtocolError(f"batch says {count} changes but holds {len(changes)}")
        self.counters.received += len(changes)
        for change in changes:
            if change.seq > self._peer_seq.get(change.device, 0):
                self._peer_seq[change.device] = change.seq
        start = 0
        for i, change in enumerate(changes):
            if i + 1 == len(changes) or (change.signature and i + 1 - start >= self._slice):
                self._events.append(Ingest(changes[start : i + 1], live))
                self._unacked += 1
                start = i + 1

    def _on_done(self, message: dict[str, Any]) -> None:
        if self._state is not State.SYNCING or self._peer_done:
            raise _Refusal(Bye.UNEXPECTED, "done outside the initial sync")
        if type(message.get("n")) is not int:
            raise ProtocolError("done message is malformed")
        self._peer_done = True
        self._maybe_synced()

    def _on_ping(self, message: dict[str, Any]) -> None:
        if self._state is State.HELLO:
            raise _Refusal(Bye.UNEXPECTED, "ping before hello")

    def _on_evidence(self, message: dict[str, Any]) -> None:
        if self._state is State.HELLO:
            raise _Refusal(Bye.UNEXPECTED, "evidence before hello")
        pairs = _parse_evidence(message.get("pairs"))
        # What the peer sent us it holds: never send it back on this connection.
        self._evidence_sent.update(pairs)
        self._events.append(EvidenceReceived(pairs))

    def _on_bye(self, message: dict[str, Any]) -> None:
        reason = message.get("reason")
        if type(reason) is not str:
            reason = "?"
        self._state = State.CLOSED
        self._outbox.clear()
        self._announcing.clear()
        self._events.append(PeerClosed(reason))

    _handlers: ClassVar[dict[str, Callable[[SyncMachine, dict[str, Any]], None]]] = {
        "hello": _on_hello,
        "batch": _on_batch,
        "announce": _on_announce,
        "done": _on_done,
        "ping": _on_ping,
        "evidence": _on_evidence,
        "bye": _on_bye,
    }

    # --- events ---

    def next_event(self) -> Event:
        if self._events:
            return self._events.popleft()
        return NeedData()

    def ingested(self, result: IngestResult) -> None:
        """The adapter ingested the oldest outstanding ``Ingest`` slice."""
        if self._unacked <= 0:
            raise UsageError("no ingest slice is outstanding")
        self._unacked -= 1
        self.counters.applied += len(result.applied)
        self.counters.duplicates += result.duplicates
        self.counters.rejected += len(result.rejected)
        self._maybe_synced()

    def _maybe_synced(self) -> None:
        if (
            self._state is State.SYNCING
            and self._sent_done
            and self._peer_done
            and self._unacked == 0
        ):
            self._go_live()

    def _go_live(self) -> None:
        self._state = State.LIVE
        self._events.append(Synced(self.counters.sent, self.counters.received, self._shortcut))
        held, self._held = self._held, []
        self._announce(held)


@dataclass(slots=True)
class _Backlog:
    """One chain's part of the backlog: read up to ``after``, ``buffer`` not yet sent."""

    after: int
    buffer: deque[Change] = field(default_factory=deque)
    key: int = 0
    read: bool = False  # whether the chain was read from the store before


class _Refusal(Exception):
    """Internal: a message the protocol refuses, with the bye reason to send."""

    def __init__(self, reason: Bye, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


# --- gossip -----------------------------------------------------------------------------


class Gossip:
    """Forwards what the replica takes in to every connection but the one it came from.

    The node registers each live machine with ``attach`` (``wake`` tells its writer that
    messages are waiting) and ingests through ``ingest`` so the origin is known. Local
    writes and changes picked up from other processes (``refresh``) go to every peer.

    Each attached connection gets its own ``PendingBudget`` of ``pending_budget`` bytes,
    passed to ``replica.ingest(..., budget=)`` when the replica accepts it, so one peer
    cannot fill the replica's pending buffer for everyone. Equivocation evidence received
    (``take_evidence``) or found by ingest goes to every connection that may lack it.
    """

    def __init__(self, replica: SyncReplica, *, pending_budget: int = PENDING_BUDGET_BYTES) -> None:
        self._replica = replica
        self._links: dict[SyncMachine, Callable[[], None]] = {}
        self._budgets: dict[SyncMachine, PendingBudget] = {}
        self._budget_bytes = pending_budget
        self._takes_budget = _accepts_keyword(replica.ingest, "budget")
        self._origin: SyncMachine | None = None
        self._evidence: set[tuple[bytes, bytes]] = set(replica.equivocation_evidence())
        self._unsubscribe = replica.observe(self._on_event)

    def attach(self, machine: SyncMachine, wake: Callable[[], None] = lambda: None) -> None:
        self._links[machine] = wake
        self._budgets[machine] = PendingBudget(self._budget_bytes)

    def detach(self, machine: SyncMachine) -> None:
        self._links.pop(machine, None)
        self._budgets.pop(machine, None)

    def budget_of(self, machine: SyncMachine) -> PendingBudget | None:
        return self._budgets.get(machine)

    def ingest(self, machine: SyncMachine, changes: Sequence[Change]) -> IngestResult:
        """Ingest one ``Ingest`` slice received by ``machine`` and report it back."""
        self._origin = machine
        try:
            if self._takes_budget:
                budget = self._budgets.setdefault(machine, PendingBudget(self._budget_bytes))
                ingest: Callable[..., IngestResult] = self._replica.ingest
                result = ingest(changes, budget=budget)
            else:
                result = self._replica.ingest(changes)
        finally:
            self._origin = None
        machine.ingested(result)
        for rejection in result.rejected[:3]:
            log.warning(
                "%s: change refused (%s): %s", machine.name, rejection.reason, rejection.detail
            )
        if len(result.rejected) > 3:
            log.warning("%s: %d more changes refused", machine.name, len(result.rejected) - 3)
        if any(r.reason == RejectReason.EQUIVOCATION for r in result.rejected):
            self._spread(self._replica.equivocation_evidence())
        return result

    def take_evidence(self, machine: SyncMachine, pairs: Sequence[tuple[bytes, bytes]]) -> int:
        """Hand evidence from ``machine``'s peer to the replica; forward what was new.

        Invalid evidence is logged and ignored: it is not a protocol error.
        """
        new: list[tuple[bytes, bytes]] = []
        for first, second in pairs:
            try:
                if self._replica.take_evidence(first, second):
                    new.append((first, second))
            except RejectedChange as exc:
                log.warning("%s: evidence ignored: %s", machine.name, exc)
        self._spread(new)
        return len(new)

    def _spread(self, pairs: Sequence[tuple[bytes, bytes]]) -> None:
        fresh = [p for p in pairs if p not in self._evidence]
        if not fresh:
            return
        self._evidence.update(fresh)
        for machine, wake in list(self._links.items()):
            machine.push_evidence(fresh)  # a machine skips what went either way on it
            wake()

    def _on_event(self, event: ReplicaEvent) -> None:
        # The connection a batch came from is told too: each machine skips what its peer is
        # known to hold, and a batch may admit changes that waited, which came from elsewhere.
        for machine, wake in list(self._links.items()):
            machine.push(event.changes)
            wake()

    def close(self) -> None:
        self._unsubscribe()
        self._links.clear()
        self._budgets.clear()


def _accepts_keyword(function: Callable[..., object], name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
