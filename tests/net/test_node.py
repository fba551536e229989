"""Nodes on real sockets (127.0.0.1, ephemeral ports): convergence, restarts, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import HandshakeError
from assemblymesh.net.credentials import Admitted, Authorization, Credentials, Refused
from assemblymesh.net.handshake import PeerIdentity
from assemblymesh.net.node import Limits, Node, NodeConfig, sync_once
from tests.net.test_sync import ASSEMBLY, SECRET, Member, member, open_replica, write

GUARD = 30.0  # failure guard only: every wait below ends on an event long before this


def admit_all(peer: PeerIdentity) -> Authorization:
    return Admitted()


def config(
    replica: Replica,
    who: Member,
    *,
    peers: list[tuple[str, int]] | None = None,
    secret: bytes = SECRET,
    authorize: Callable[[PeerIdentity], Authorization] = admit_all,
    limits: Limits | None = None,
    seed: int = 1,
) -> NodeConfig:
    return NodeConfig(
        replica=replica,
        credentials=Credentials(ASSEMBLY, secret, who.device, who.cert),
        authorize=authorize,
        listen=("127.0.0.1", 0),
        peers=peers or [],
        rng=random.Random(seed),
        limits=limits or Limits(backoff_initial=0.05, backoff_max=0.2),
    )


def addr(node: Node) -> tuple[str, int]:
    assert node.listen_address is not None
    return node.listen_address


async def until(node: Node, predicate: Callable[[], bool]) -> None:
    await asyncio.wait_for(node.wait_for(predicate), GUARD)


@pytest.fixture
def people() -> dict[str, Member]:
    return {n: member(n) for n in ("alice", "bob", "carol", "dave")}


@pytest.fixture
def replicas(tmp_path: Path, people: dict[str, Member]) -> Iterator[dict[str, Replica]]:
    opened = {n: open_replica(tmp_path / f"{n}.sqlite", m) for n, m in people.items()}
    yield opened
    for r in opened.values():
        r.close()


@pytest.fixture
async def alice_node(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> AsyncIterator[Node]:
    node = Node(config(replicas["alice"], people["alice"]))
    await node.start()
    yield node
    await node.stop()


async def test_three_nodes_in_a_line_converge(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    a, b, c = replicas["alice"], replicas["bob"], replicas["carol"]
    write(a, 5, "a")
    write(b, 3, "b")
    write(c, 4, "c")
    na = Node(config(a, people["alice"]))
    await na.start()
    nb = Node(config(b, people["bob"], peers=[addr(na)]))
    await nb.start()
    nc = Node(config(c, people["carol"], peers=[addr(nb)]))
    await nc.start()
    try:
        await until(nc, lambda: a.digest() == b.digest() == c.digest())
        # Live edits at both ends and the middle travel along the line.
        write(a, 2, "a-live")
        write(c, 2, "c-live")
        write(b, 1, "b-live")
        await until(nc, lambda: a.digest() == b.digest() == c.digest())
        await until(na, lambda: a.digest() == b.digest() == c.digest())
        assert a.change_count() == 6 + 4 + 5 + 3 + 3 + 2
        assert {r.pending_count() for r in (a, b, c)} == {0}
        # Alice and Carol never connected: the line carried everything.
        assert all(
            name.split("@")[0] != people["carol"].device.public.hex()[:8]
            for name, _, _ in na.connections()
        )
    finally:
        for node in (nc, nb, na):
            await node.stop()


async def test_sync_once_both_ways_then_bye(
    replicas: dict[str, Replica], people: dict[str, Member], alice_node: Node
) -> None:
    a, b = replicas["alice"], replicas["bob"]
    write(a, 10, "a")
    write(b, 4, "b")
    summary = await sync_once(config(b, people["bob"]), addr(alice_node), timeout=GUARD)
    assert summary.sent == 5 and summary.received == 11 and summary.applied == 11
    assert summary.rejected == 0 and summary.bytes_sent > 0 and summary.bytes_received > 0
    assert a.digest() == b.digest()
    await until(alice_node, lambda: alice_node.open_connections == 0)
    # Again: already in sync, only hellos move.
    again = await sync_once(config(b, people["bob"]), addr(alice_node), timeout=GUARD)
    assert (again.sent, again.received) == (0, 0)


async def test_other_process_writes_reach_peers(
    tmp_path: Path, replicas: dict[str, Replica], people: dict[str, Member], alice_node: Node
) -> None:
    a, b = replicas["alice"], replicas["bob"]
    nb = Node(config(b, people["bob"], peers=[addr(alice_node)]))
    await nb.start()
    try:
        await until(nb, lambda: any(synced for _, _, synced in nb.connections()))
        # A second handle on alice's store, as a CLI command in another process would hold.
        other = open_replica(tmp_path / "alice.sqlite", people["alice"])
        write(other, 2, "cli")
        other.close()
        await until(nb, lambda: b.digest() == a.digest() and b.change_count() == 3)
    finally:
        await nb.stop()


async def test_restart_mid_sync_resumes_without_loss_or_duplicates(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    a, b = replicas["alice"], replicas["bob"]
    write(a, 1500, "a")
    na = Node(config(a, people["alice"], limits=Limits(max_batch_changes=100)))
    await na.start()
    slow = Limits(ingest_slice=50, backoff_initial=0.05, backoff_max=0.2)
    try:
        nb = Node(config(b, people["bob"], peers=[addr(na)], limits=slow))
        await nb.start()
        await until(nb, lambda: b.change_count() > 0)
        await nb.stop()
        partial = b.change_count()
        assert 0 < partial < a.change_count()
        nb = Node(config(b, people["bob"], peers=[addr(na)], limits=slow, seed=2))
        await nb.start()
        await until(nb, lambda: b.digest() == a.digest())
        await nb.stop()
        assert b.change_count() == a.change_count() and b.pending_count() == 0
        last = nb.finished[-1][1]
        assert last.duplicates == 0 and last.received == a.change_count() - partial
    finally:
        await na.stop()


async def _refused(node: Node, attempt: Callable[[], object]) -> None:
    before = node.refused
    digest = node.config.replica.digest()
    result = attempt()
    if asyncio.iscoroutine(result):
        await result
    await until(node, lambda: node.refused > before and node.open_connections == 0)
    assert node.config.replica.digest() == digest


async def test_wrong_secret_refused(
    replicas: dict[str, Replica], people: dict[str, Member], alice_node: Node
) -> None:
    write(replicas["bob"], 2)
    wrong = hashlib.blake2b(b"wrong", digest_size=32).digest()
    with pytest.raises(HandshakeError):
        await sync_once(
            config(replicas["bob"], people["bob"], secret=wrong), addr(alice_node), GUARD
        )
    await until(alice_node, lambda: alice_node.refused == 1 and alice_node.open_connections == 0)
    assert replicas["alice"].change_count() == 0
    (count, reason) = alice_node.refusals["127.0.0.1"]
    assert count == 1 and reason


@pytest.mark.parametrize("reason", ["not a member", "device revoked"])
async def test_unauthorised_device_refused(
    replicas: dict[str, Replica], people: dict[str, Member], reason: str
) -> None:
    bob_device = people["bob"].device.public

    def authorize(peer: PeerIdentity) -> Authorization:
        return Refused(reason) if peer.device == bob_device else Admitted()

    node = Node(config(replicas["alice"], people["alice"], authorize=authorize))
    await node.start()
    try:
        write(replicas["bob"], 2)
        with pytest.raises(HandshakeError):
            await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        await until(node, lambda: node.refused == 1 and node.open_connections == 0)
        assert replicas["alice"].change_count() == 0
    finally:
        await node.stop()


async def _raw_connect(node: Node, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(*addr(node))
    writer.write(payload)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), GUARD)  # the node closes on us
    writer.close()
    await writer.wait_closed()
    return data


async def test_random_bytes_refused(alice_node: Node) -> None:
    rng = random.Random(7)
    data = await _raw_connect(alice_node, bytes(rng.getrandbits(8) for _ in range(300)))
    assert data == b""
    await until(alice_node, lambda: alice_node.refused == 1 and alice_node.open_connections == 0)


async def test_oversize_length_prefix_refused(alice_node: Node) -> None:
    data = await _raw_connect(alice_node, b"\xff\xff" + b"\x00" * 10)
    assert data == b""
    await until(alice_node, lambda: alice_node.refused == 1)


async def test_slow_handshake_times_out(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    limits = Limits(handshake_timeout=0.2)
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    try:
        data = await _raw_connect(node, b"")  # connects, then says nothing
        assert data == b""
        await until(node, lambda: node.refused == 1 and node.open_connections == 0)
    finally:
        await node.stop()


@pytest.mark.parametrize("per_address", [8, 1000])
async def test_connection_flood_limits_hold(
    replicas: dict[str, Replica], people: dict[str, Member], per_address: int
) -> None:
    limits = Limits(
        max_connections=64, max_handshakes=64, max_per_address=per_address, handshake_timeout=GUARD
    )
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    cap = min(64, per_address)
    try:
        opened = await asyncio.gather(*(asyncio.open_connection(*addr(node)) for _ in range(200)))
        await until(node, lambda: node.refused == 200 - cap)
        assert node.open_connections == cap
        for _, writer in opened:
            writer.close()
        await until(node, lambda: node.open_connections == 0)
        write(replicas["bob"], 3)
        summary = await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        assert summary.sent == 4
        assert replicas["alice"].digest() == replicas["bob"].digest()
    finally:
        await node.stop()


async def test_event_loop_stays_responsive_during_large_ingest(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    a, b = replicas["alice"], replicas["bob"]
    _write_fast(a, people["alice"], 20_000)
    na = Node(config(a, people["alice"]))
    await na.start()
    # Work counted per turn of the loop, not wall time: the node must hand the loop back after
    # every ingest slice, however slow a loaded machine makes each slice.
    # A slice runs on to the next signature (every 512th change); the loop may let a second
    # slice through before the heartbeat's next turn. Wall time does not enter.
    slice_size = 2 * (Limits().ingest_slice + 512)
    worst = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal worst
        last = b.change_count()
        while not stop.is_set():
            await asyncio.sleep(0)  # one turn of the loop
            now = b.change_count()
            worst, last = max(worst, now - last), now

    beat = asyncio.ensure_future(heartbeat())
    try:
        summary = await sync_once(config(b, people["bob"]), addr(na), timeout=120)
        assert summary.received == 20_000 and b.digest() == a.digest()
    finally:
        stop.set()
        await beat
        await na.stop()
    assert 0 < worst <= slice_size, f"{worst} changes ingested in one turn of the loop"


def _write_fast(replica: Replica, who: Member, n: int) -> None:
    """n changes of one device, made outside the replica and ingested in one go."""
    import pycrdt

    from assemblymesh.crdt.change import Change
    from assemblymesh.crdt.identity import yjs_client_id

    doc: pycrdt.Doc[object] = pycrdt.Doc(client_id=yjs_client_id(who.device.public))
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(bytes(event.update)))
    acts = doc.get("acts", type=pycrdt.Array)
    blobs: list[bytes] = []
    prev = b""
    for i in range(n):
        with doc.transaction():
            acts.append({f"k{i % 500}": os.urandom(6).hex()})
        change = Change.create(
            who.device, ASSEMBLY, who.member.public, i + 1, prev, 1_760_000_000_000 + i,
            updates[-1], who.cert.encode() if i == 0 else None,
        )  # fmt: skip
        prev = change.hash
        blobs.append(change.data)
    result = replica.ingest(blobs)
    assert not result.rejected and len(result.applied) == n


async def test_a_peer_refused_after_its_handshake_is_disconnected_and_gets_nothing_new(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    """Governance changes its answer (a device revoked, a member removed) while the peer is
    connected: the next check closes the link with a bye, and the peer's redials are
    refused, so it receives nothing written after that."""
    a, b = replicas["alice"], replicas["bob"]
    refused: set[bytes] = set()

    def authorize(peer: PeerIdentity) -> Authorization:
        return Refused("member was removed") if peer.device in refused else Admitted()

    na = Node(config(a, people["alice"], authorize=authorize))
    await na.start()
    nb = Node(config(b, people["bob"], peers=[addr(na)]))
    await nb.start()
    try:
        write(a, 2, "before")
        await until(na, lambda: a.digest() == b.digest())
        assert na.recheck_peers() == 0  # nothing changed: nobody is closed
        refused.add(people["bob"].device.public)
        assert na.recheck_peers() == 1
        await until(na, lambda: na.refused >= 1)  # bob's redial, refused at the handshake
        held, before = b.change_count(), a.change_count()
        write(a, 3, "after")
        await until(na, lambda: na.refused >= 2)  # and refused again: still nothing for bob
        assert a.change_count() > before and b.change_count() == held
    finally:
        await nb.stop()
        await na.stop()
