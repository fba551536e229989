"""The node's trust boundary on real loopback sockets: members are never locked out by
strangers holding sockets, refusals are cheap to log, socket errors are one line, a crash
mid-frame is a disconnection, two nodes that know each other keep one connection.

Attackers connect from other loopback addresses (127.0.0.2 ...), members from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import logging
import random
import socket
import struct
from pathlib import Path

import pytest

from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import HandshakeError, RemoteError
from assemblymesh.net import node as node_module
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.credentials import Admitted, Authorization, Credentials, PeerIdentity
from assemblymesh.net.handshake import Handshake, HandshakeDone
from assemblymesh.net.node import Limits, Node, bind_listen_sockets, sync_once
from tests.net import test_node
from tests.net.test_node import GUARD, _raw_connect, addr, admit_all, config, until
from tests.net.test_sync import ASSEMBLY, SECRET, Member, write

people = test_node.people  # fixtures shared with the node tests
replicas = test_node.replicas

FAST = dict(backoff_initial=0.05, backoff_max=0.2)


async def _hold(node: Node, count: int, hosts: list[str]) -> list[asyncio.StreamWriter]:
    """Open ``count`` sockets that never send a byte, round-robin from ``hosts``."""
    writers = []
    for i in range(count):
        _, writer = await asyncio.open_connection(
            *addr(node), local_addr=(hosts[i % len(hosts)], 0)
        )
        writers.append(writer)
    return writers


def _close(writers: list[asyncio.StreamWriter]) -> None:
    for w in writers:
        w.close()


async def test_member_gets_in_while_64_sockets_from_8_addresses_are_held(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    limits = Limits(first_message_timeout=GUARD, handshake_timeout=GUARD, **FAST)  # type: ignore[arg-type]
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    held: list[asyncio.StreamWriter] = []
    try:
        held = await _hold(node, 64, [f"127.0.0.{2 + k}" for k in range(8)])
        await until(node, lambda: node.handshaking + node.refused == 64)
        assert node.handshaking == Limits().max_handshakes  # the pool is small and full
        write(replicas["bob"], 3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        summary = await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        elapsed = loop.time() - started
        assert summary.sent == 4 and replicas["alice"].digest() == replicas["bob"].digest()
        assert elapsed < GUARD
    finally:
        _close(held)
        await node.stop()


async def test_500_sockets_from_one_address_do_not_block_a_member_elsewhere(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    limits = Limits(first_message_timeout=GUARD, handshake_timeout=GUARD, **FAST)  # type: ignore[arg-type]
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    held: list[asyncio.StreamWriter] = []
    try:
        held = await _hold(node, 500, ["127.0.0.2"])
        await until(node, lambda: node.refused == 500 - Limits().max_per_address)
        assert node.handshaking == Limits().max_per_address
        write(replicas["bob"], 2)
        summary = await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        assert summary.sent == 3
    finally:
        _close(held)
        await node.stop()


async def test_first_handshake_message_has_a_short_deadline(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    limits = Limits(first_message_timeout=0.2, handshake_timeout=GUARD)
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    try:
        # Ten bytes of a message 1, then nothing: the node hangs up at the first deadline,
        # long before the handshake timeout.
        data = await _raw_connect(node, b"\x00\x30" + b"\x00" * 8)
        assert data == b""
        await until(node, lambda: node.refused == 1 and node.open_connections == 0)
        assert "first handshake message" in node.refusals["127.0.0.1"][1]
    finally:
        await node.stop()


async def test_addresses_and_devices_met_before_get_reserved_slots(
    tmp_path: Path, replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    book = tmp_path / "peers.json"
    limits = Limits(max_handshakes=4, first_message_timeout=GUARD, handshake_timeout=GUARD)
    cfg = dataclasses.replace(
        config(replicas["alice"], people["alice"], limits=limits), address_book=book
    )
    node = Node(cfg)
    await node.start()
    held: list[asyncio.StreamWriter] = []
    try:
        await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        held = await _hold(node, 10, ["127.0.0.2"])
        await until(node, lambda: node.refused == 6)
        # Bob's address completed a handshake before: his connection takes a reserved slot
        # and pushes no stranger out.
        write(replicas["bob"], 1)
        await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        assert node.refused == 6 and node.handshaking == 4
    finally:
        _close(held)
        await node.stop()
    remembered = AddressBook(book)
    assert remembered.admitted_host("127.0.0.1")
    assert remembered.admitted_device(people["bob"].device.public)
    assert not remembered.admitted_host("127.0.0.2")


async def test_refusals_are_logged_once_per_address_per_interval(
    replicas: dict[str, Replica], people: dict[str, Member], caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_760_000_000_000]
    cfg = dataclasses.replace(config(replicas["alice"], people["alice"]), clock=lambda: now[0])
    node = Node(cfg)
    await node.start()
    rng = random.Random(3)
    try:
        with caplog.at_level(logging.WARNING, "assemblymesh.net"):
            for n in range(1, 6):
                await _raw_connect(node, bytes(rng.getrandbits(8) for _ in range(100)))
                await until(node, lambda n=n: node.refused == n)  # type: ignore[misc]
            lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
            assert len(lines) == 1
            now[0] += 61_000
            await _raw_connect(node, b"\xff\xff" + b"\x00" * 4)
            await until(node, lambda: node.refused == 6)
            lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
            assert len(lines) == 2 and "(4 more refused since the last line)" in lines[1]
    finally:
        await node.stop()


async def test_an_authorize_that_raises_is_a_refusal_not_a_crash(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    bob = people["bob"].device.public

    def authorize(peer: PeerIdentity) -> Authorization:
        if peer.device == bob:
            raise RuntimeError("roster unreadable")
        return Admitted()

    node = Node(config(replicas["alice"], people["alice"], authorize=authorize))
    await node.start()
    try:
        with pytest.raises(HandshakeError):
            await sync_once(config(replicas["bob"], people["bob"]), addr(node), GUARD)
        await until(node, lambda: node.refused == 1 and node.open_connections == 0)
        assert "authorization failed: RuntimeError" in node.refusals["127.0.0.1"][1]
        write(replicas["carol"], 1)
        summary = await sync_once(config(replicas["carol"], people["carol"]), addr(node), GUARD)
        assert summary.sent == 2
    finally:
        await node.stop()


async def _handshake_as(
    who: Member, node: Node
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, HandshakeDone]:
    reader, writer = await asyncio.open_connection(*addr(node))
    hs = Handshake(
        role="initiator",
        credentials=Credentials(ASSEMBLY, SECRET, who.device, who.cert),
        authorize=admit_all,
        now_ms=0,
    )
    while True:
        writer.write(hs.data_to_send())
        event = hs.next_event()
        if isinstance(event, HandshakeDone):
            return reader, writer, event
        data = await asyncio.wait_for(reader.read(65536), GUARD)
        if not data:
            hs.connection_closed()
        hs.receive_data(data, 0)


async def test_a_peer_that_dies_mid_frame_is_a_disconnection_not_a_refusal(
    replicas: dict[str, Replica], people: dict[str, Member], alice_node: Node
) -> None:
    node = alice_node
    _, writer, _ = await _handshake_as(people["bob"], node)
    await until(node, lambda: node.connections() != [])
    writer.write(b"\x00\x50" + b"\x00" * 10)  # a frame of 80 bytes, cut after 10
    await writer.drain()
    writer.close()
    await until(node, lambda: node.open_connections == 0 and len(node.finished) == 1)
    assert node.refused == 0 and node.refusals == {}


async def test_after_a_framing_failure_the_node_sends_nothing_more(
    replicas: dict[str, Replica], people: dict[str, Member], alice_node: Node
) -> None:
    import msgpack

    reader, writer, done = await _handshake_as(people["bob"], alice_node)
    writer.write(b"\x00\x20" + bytes(range(32)))  # a frame whose tag cannot verify
    await writer.drain()
    data = done.trailing_data + await asyncio.wait_for(reader.read(), GUARD)
    writer.close()
    kinds = [msgpack.unpackb(m)["t"] for m in done.session.feed(data)]
    assert "bye" not in kinds
    await until(alice_node, lambda: alice_node.refused == 1)


@pytest.fixture
async def alice_node(replicas: dict[str, Replica], people: dict[str, Member]):  # type: ignore[no-untyped-def]
    node = Node(config(replicas["alice"], people["alice"]))
    await node.start()
    yield node
    await node.stop()


async def _resetting_server() -> tuple[asyncio.Server, int]:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_reset_connection_is_one_remote_error(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    server, port = await _resetting_server()
    try:
        for _ in range(3):
            with pytest.raises(RemoteError) as info:
                await sync_once(config(replicas["bob"], people["bob"]), ("127.0.0.1", port), GUARD)
            assert "\n" not in str(info.value)
    finally:
        server.close()
        await server.wait_closed()


async def test_two_nodes_that_know_each_other_keep_one_connection(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    a, b = replicas["alice"], replicas["bob"]
    write(a, 300, "a")
    write(b, 200, "b")
    na = Node(config(a, people["alice"]))
    await na.start()
    nb = Node(config(b, people["bob"], peers=[addr(na)]))
    await nb.start()
    na.add_peer(*addr(nb))
    try:
        await until(na, lambda: a.digest() == b.digest())
        await until(na, lambda: na.open_connections == 1 and len(na.connections()) == 1)
        await until(nb, lambda: nb.open_connections == 1 and len(nb.connections()) == 1)
        # The survivor is the connection the smaller device key dialled.
        smaller = min(people["alice"].device.public, people["bob"].device.public)
        dialler = na if smaller == people["alice"].device.public else nb
        assert dialler.connections()[0][1] == "initiator"
    finally:
        await nb.stop()
        await na.stop()
    counters = [c for _, c in na.finished + nb.finished]
    assert sum(c.duplicates for c in counters) == 0
    assert sum(c.received for _, c in nb.finished) == 301
    assert sum(c.received for _, c in na.finished) == 201


async def test_listening_on_all_addresses_is_one_port_for_ipv6_and_ipv4(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 on this machine")
    cfg = dataclasses.replace(config(replicas["alice"], people["alice"]), listen=("", 0))
    node = Node(cfg)
    await node.start()
    try:
        hosts = {h for h, _ in node.listen_addresses}
        ports = {p for _, p in node.listen_addresses}
        assert hosts == {"::", "0.0.0.0"} and len(ports) == 1
        port = ports.pop()
        write(replicas["bob"], 1)
        await sync_once(config(replicas["bob"], people["bob"]), ("::1", port), GUARD)
        await sync_once(config(replicas["carol"], people["carol"]), ("127.0.0.1", port), GUARD)
        assert replicas["alice"].digest() == replicas["bob"].digest()
    finally:
        await node.stop()


def test_without_ipv6_listening_falls_back_to_ipv4_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = node_module._bind

    def no_ipv6(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return real(family, host, port)

    monkeypatch.setattr(node_module, "_bind", no_ipv6)
    sockets = bind_listen_sockets("", 0)
    try:
        assert [s.family for s in sockets] == [socket.AF_INET]
    finally:
        for s in sockets:
            s.close()


async def test_a_full_pool_evicts_from_the_busiest_address(
    replicas: dict[str, Replica], people: dict[str, Member]
) -> None:
    limits = Limits(max_handshakes=4, first_message_timeout=GUARD, handshake_timeout=GUARD)
    node = Node(config(replicas["alice"], people["alice"], limits=limits))
    await node.start()
    held: list[asyncio.StreamWriter] = []
    try:
        held = await _hold(node, 3, ["127.0.0.2"])
        held += await _hold(node, 1, ["127.0.0.3"])
        held += await _hold(node, 1, ["127.0.0.4"])
        await until(node, lambda: node.refused == 1 and node.handshaking == 4)
        # The lone connection from 127.0.0.3 is older, yet 127.0.0.2 holds the most slots.
        assert set(node.refusals) == {"127.0.0.2"}
    finally:
        _close(held)
        await node.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", ""])
async def test_accepted_connections_disable_nagle(
    replicas: dict[str, Replica], people: dict[str, Member], host: str
) -> None:
    # Without TCP_NODELAY a live push waits for the peer's delayed ACK (~40 ms).
    cfg = dataclasses.replace(config(replicas["alice"], people["alice"]), listen=(host, 0))
    node = Node(cfg)
    await node.start()
    held: list[asyncio.StreamWriter] = []
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", addr(node)[1])
        held.append(writer)
        await until(node, lambda: node.handshaking == 1)
        link = next(iter(node._handshaking))
        assert link.writer is not None
        sock = link.writer.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        _close(held)
        await node.stop()


def test_any_free_port_tries_again_when_ipv4_has_the_ipv6_port_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_bind = node_module._bind
    taken = [True]

    def bind(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
        if family == socket.AF_INET and taken[0]:
            taken[0] = False  # another program holds that port on IPv4, once
            raise OSError(errno.EADDRINUSE, "Address already in use")
        return real_bind(family, host, port)

    monkeypatch.setattr(node_module, "_bind", bind)
    sockets = bind_listen_sockets("", 0)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1 and not taken[0]
    finally:
        for s in sockets:
            s.close()
