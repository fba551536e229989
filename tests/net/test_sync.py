"""The sync machine driven in memory: every message path, no sockets, no clocks."""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgpack
import pytest

from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, assembly_id_for
from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import ProtocolError
from assemblymesh.net.sync import (
    Bye,
    Gossip,
    Ingest,
    NeedData,
    PeerClosed,
    State,
    Synced,
    SyncMachine,
)
from tests.crdt.helpers import ADMIT_EVERYONE

FOUNDER = SigningKey(hashlib.blake2b(b"founder", digest_size=32).digest())
ASSEMBLY = assembly_id_for(FOUNDER.public, b"sync-tests")
SECRET = hashlib.blake2b(b"sync-tests secret", digest_size=32).digest()


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(label.encode(), digest_size=32).digest())


@dataclass
class Member:
    member: SigningKey
    device: SigningKey
    cert: DeviceCertificate


def member(name: str) -> Member:
    m, d = key(f"{name}/member"), key(f"{name}/device")
    return Member(m, d, DeviceCertificate.issue(m, ASSEMBLY, d.public, 0))


def ticking_clock() -> Iterator[int]:
    return itertools.count(1_760_000_000_000)


def open_replica(path: Path, who: Member) -> Replica:
    clock = ticking_clock()
    return Replica.open(
        path, ASSEMBLY, who.device, who.cert, clock=lambda: next(clock), admission=ADMIT_EVERYONE
    )


def write(replica: Replica, n: int, label: str = "k") -> None:
    for i in range(n):
        with replica.transact() as doc:
            doc.array("acts").append({f"{label}{i}": f"v{i}"})
    with replica.transact("shared") as doc:
        doc.text("draft/t").insert(0, label)


class Side:
    """One end of an in-memory connection: a machine over a replica, through a Gossip."""

    def __init__(self, replica: Replica, gossip: Gossip | None = None, name: str = "x") -> None:
        self.replica = replica
        self.gossip = gossip or Gossip(replica)
        self.machine = SyncMachine(
            replica, ASSEMBLY, max_batch_changes=7, slice_changes=3, signature_stride=2, name=name
        )
        self.gossip.attach(self.machine)
        self.synced: Synced | None = None
        self.closed: PeerClosed | None = None
        self.ingests = 0
        self.machine.start()

    def handle_events(self) -> None:
        while not isinstance(event := self.machine.next_event(), NeedData):
            if isinstance(event, Ingest):
                self.ingests += 1
                self.gossip.ingest(self.machine, event.changes)
            elif isinstance(event, Synced):
                self.synced = event
            elif isinstance(event, PeerClosed):
                self.closed = event


def pump(*pairs: tuple[Side, Side]) -> list[bytes]:
    """Move messages until every pair is quiet; return all payloads in order."""
    wire: list[bytes] = []
    moved = True
    while moved:
        moved = False
        for a, b in pairs:
            for src, dst in ((a, b), (b, a)):
                while (payload := src.machine.next_message()) is not None:
                    wire.append(payload)
                    dst.machine.receive_message(payload)
                    dst.handle_events()
                    moved = True
                src.handle_events()  # sending our done may complete the sync
    return wire


def kinds(wire: list[bytes]) -> list[str]:
    return [msgpack.unpackb(p)["t"] for p in wire]


@pytest.fixture
def alice(tmp_path: Path) -> Iterator[Replica]:
    with open_replica(tmp_path / "a.sqlite", member("alice")) as r:
        yield r


@pytest.fixture
def bob(tmp_path: Path) -> Iterator[Replica]:
    with open_replica(tmp_path / "b.sqlite", member("bob")) as r:
        yield r


@pytest.fixture
def carol(tmp_path: Path) -> Iterator[Replica]:
    with open_replica(tmp_path / "c.sqlite", member("carol")) as r:
        yield r


def test_cold_sync_both_ways(alice: Replica, bob: Replica) -> None:
    write(alice, 20, "a")
    write(bob, 11, "b")
    a, b = Side(alice, name="a"), Side(bob, name="b")
    wire = pump((a, b))
    assert alice.digest() == bob.digest()
    assert a.synced is not None and b.synced is not None
    assert a.synced.sent == 21 and a.synced.received == 12 and not a.synced.shortcut
    assert kinds(wire).count("batch") == 3 + 2  # batches of at most 7 changes
    assert kinds(wire).count("done") == 2
    assert a.machine.state is State.LIVE and b.machine.state is State.LIVE
    assert str(bob.document("shared").text("draft/t")) in ("ab", "ba")
    assert a.machine.counters.rejected == 0 and b.machine.counters.duplicates == 0
    # Each side learnt from the other's hello how much it would receive.
    assert (a.machine.expected, b.machine.expected) == (12, 21)


def test_in_sync_shortcut_sends_only_hellos(alice: Replica, bob: Replica) -> None:
    write(alice, 5)
    bob.ingest(c.data for c in alice.missing_for({}))
    a, b = Side(alice), Side(bob)
    wire = pump((a, b))
    assert kinds(wire) == ["hello", "hello"]
    assert a.synced is not None and a.synced.shortcut and b.synced is not None


def test_incremental_sync_sends_only_missing(alice: Replica, bob: Replica) -> None:
    write(alice, 30)
    bob.ingest(c.data for c in alice.missing_for({}))
    write(alice, 2, "new")  # 3 new changes
    a, b = Side(alice), Side(bob)
    wire = pump((a, b))
    assert alice.digest() == bob.digest()
    assert a.machine.counters.sent == 3 and b.machine.counters.sent == 0
    assert sorted(kinds(wire)) == ["batch", "done", "done", "hello", "hello"]
    assert b.machine.counters.duplicates == 0


def test_live_announce_after_sync(alice: Replica, bob: Replica) -> None:
    a, b = Side(alice), Side(bob)
    pump((a, b))
    write(alice, 1, "live")  # observed by alice's gossip -> pushed to bob
    wire = pump((a, b))
    assert kinds(wire) == ["announce"]  # two transactions, one message
    assert alice.digest() == bob.digest()
    assert b.machine.counters.received == 2
    # Bob ingested them from alice: nothing is echoed back.
    assert pump((a, b)) == []


def test_push_during_initial_sync_is_held_until_done(alice: Replica, bob: Replica) -> None:
    write(alice, 3)
    a, b = Side(alice), Side(bob)
    first = a.machine.next_message()
    assert first is not None
    b.machine.receive_message(first)
    write(alice, 1, "late")  # arrives before alice even saw bob's hello
    pump((a, b))
    assert alice.digest() == bob.digest()
    assert b.machine.counters.duplicates == 0


def test_gossip_line_a_b_c(tmp_path: Path, alice: Replica, bob: Replica, carol: Replica) -> None:
    write(alice, 4, "a")
    write(carol, 3, "c")
    hub = Gossip(bob)
    ab_a, ab_b = Side(alice, name="a"), Side(bob, hub, name="b<-a")
    bc_b, bc_c = Side(bob, hub, name="b<-c"), Side(carol, name="c")
    pump((ab_a, ab_b), (bc_b, bc_c))
    assert alice.digest() == bob.digest() == carol.digest()
    write(alice, 2, "a-live")
    write(carol, 1, "c-live")
    pump((ab_a, ab_b), (bc_b, bc_c))
    assert alice.digest() == bob.digest() == carol.digest()
    # Nothing ever came back to its sender.
    assert ab_a.machine.counters.duplicates == 0 and bc_c.machine.counters.duplicates == 0


def test_unknown_version_refused_with_bye(alice: Replica, bob: Replica) -> None:
    a = Side(alice)
    a.machine.next_message()
    with pytest.raises(ProtocolError, match="version"):
        a.machine.receive_message(msgpack.packb({"v": 2, "t": "hello"}))
    bye = msgpack.unpackb(a.machine.next_message())
    assert bye == {"v": 1, "t": "bye", "reason": Bye.UNSUPPORTED_VERSION}
    assert a.machine.next_message() is None and a.machine.state is State.CLOSED


def test_unknown_type_refused_with_bye(alice: Replica) -> None:
    a = Side(alice)
    a.machine.next_message()
    with pytest.raises(ProtocolError, match="unknown message type"):
        a.machine.receive_message(msgpack.packb({"v": 1, "t": "gimme"}))
    assert msgpack.unpackb(a.machine.next_message())["reason"] == "unknown-message"


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc1",
        msgpack.packb([1, 2]),
        msgpack.packb({"v": 1, "t": "hello", "digest": b"x", "tags": b"", "seqs": []}),
        msgpack.packb({"v": 1, "t": "hello", "digest": bytes(32), "tags": b"1234567", "seqs": [1]}),
        msgpack.packb({"v": True, "t": "hello"}),
    ],
)
def test_malformed_messages_refused(alice: Replica, payload: bytes) -> None:
    a = Side(alice)
    a.machine.next_message()
    with pytest.raises(ProtocolError):
        a.machine.receive_message(payload)
    assert a.machine.state is State.CLOSED


def test_malformed_batch_refused_changing_nothing(alice: Replica, bob: Replica) -> None:
    write(alice, 5)
    a, b = Side(alice), Side(bob)
    b.machine.receive_message(a.machine.next_message() or b"")
    a.machine.receive_message(b.machine.next_message() or b"")
    batch = msgpack.unpackb(a.machine.next_message())
    assert batch["t"] == "batch"
    before = bob.digest()
    for bad in (batch["z"][:-3], b"junk", batch["z"] + b"x"):
        b2 = Side(bob)
        b2.machine.receive_message(msgpack.packb({"v": 1, "t": "hello", **_hello_of(alice)}))
        with pytest.raises(ProtocolError, match="batch"):
            b2.machine.receive_message(msgpack.packb({**batch, "z": bad}))
        assert isinstance(b2.machine.next_event(), NeedData)
        assert bob.digest() == before


def _hello_of(replica: Replica) -> dict[str, object]:
    vector = replica.vector()
    devices = sorted(vector)
    return {
        "digest": replica.digest(),
        "tags": b"".join(d[:8] for d in devices),
        "seqs": [vector[d][0] for d in devices],
    }


def test_batch_outside_sync_and_second_hello_refused(alice: Replica, bob: Replica) -> None:
    a, b = Side(alice), Side(bob)
    pump((a, b))
    with pytest.raises(ProtocolError, match="second hello"):
        a.machine.receive_message(msgpack.packb({"v": 1, "t": "hello", **_hello_of(bob)}))
    a2 = Side(alice)
    with pytest.raises(ProtocolError, match="before hello"):
        a2.machine.receive_message(msgpack.packb({"v": 1, "t": "ping"}))


def test_bye_ends_the_connection(alice: Replica, bob: Replica) -> None:
    a, b = Side(alice), Side(bob)
    pump((a, b))
    a.machine.close(Bye.DONE)
    pump((a, b))
    assert b.closed == PeerClosed("done")
    assert b.machine.state is State.CLOSED and b.machine.next_message() is None


def test_ingest_slices_end_on_signatures(alice: Replica, bob: Replica) -> None:
    write(alice, 6)
    a, b = Side(alice), Side(bob)
    pump((a, b))
    assert alice.digest() == bob.digest()
    assert bob.pending_count() == 0
    assert b.ingests >= 2


def test_first_batch_is_small_so_the_receiver_starts_early(
    alice: Replica, bob: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("assemblymesh.net.sync.FIRST_BATCH_CHANGES", 3)
    write(alice, 12)
    a, b = Side(alice), Side(bob)
    wire = pump((a, b))
    sizes = [m["n"] for m in map(msgpack.unpackb, wire) if m["t"] == "batch"]
    assert sizes[0] <= 3 and max(sizes) > 3 and sum(sizes) == 13
    assert alice.digest() == bob.digest()


def test_later_batches_name_known_devices_by_index(alice: Replica, bob: Replica) -> None:
    write(alice, 20)
    a, b = Side(alice), Side(bob)
    wire = pump((a, b))
    batches = [m for m in map(msgpack.unpackb, wire) if m["t"] == "batch"]
    assert len(batches) > 2
    for message in batches[1:]:
        runs = msgpack.unpackb(zlib.decompress(message["z"]))[1]
        # Same device, continuing its chain: an index and no prev.
        assert all(type(run[0]) is int and run[2] is None for run in runs)
    assert alice.digest() == bob.digest()
