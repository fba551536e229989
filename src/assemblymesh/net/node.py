"""The asyncio node: listener, dialer, connections, gossip, and one-shot sync.

Each connection runs the sans-I/O handshake (``net/handshake.py``), then a ``SyncMachine``
(``net/sync.py``) over the Noise session. All connections share one ``Gossip``: what the
replica ingests from one peer is pushed to the others. The node polls ``replica.refresh()``
every 250 ms, so changes that other processes (CLI commands on the same home) wrote to the
store reach peers within a second.

Lifecycle (one shape, like python-zeroconf's services)::

    node = Node(config)
    await node.start()             # listening, dialling static peers
    await node.run_until_stopped() # or do other work
    await node.stop()              # bye to every peer, sockets closed; the replica stays open

Listening: ``NodeConfig.listen`` is ``(host, port)``; port ``DEFAULT_PORT`` (7361) unless
given, port 0 for an ephemeral one (``node.listen_address`` tells which), None to not listen.

The event loop is never blocked for long: received changes are ingested in slices (1,000
changes by default, each ending on a signature), yielding to the loop between slices;
outgoing batches are built one at a time as the socket drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.identity import DeviceCertificate, Invite, SigningKey
from assemblymesh.errors import (
    AssemblyMeshError,
    HandshakeError,
    ProtocolError,
    RemoteError,
    StoreError,
    UsageError,
)
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.batch import MAX_BATCH_CHANGES
from assemblymesh.net.framing import Session
from assemblymesh.net.handshake import (
    HANDSHAKE_TIMEOUT_MS,
    Authorize,
    Handshake,
    HandshakeDone,
    PeerIdentity,
    Role,
)
from assemblymesh.net.noise import Rng
from assemblymesh.net.sync import (
    SLICE_CHANGES,
    Bye,
    Counters,
    Gossip,
    Ingest,
    NeedData,
    PeerClosed,
    State,
    Synced,
    SyncMachine,
    SyncReplica,
)

log = logging.getLogger("assemblymesh.net")

DEFAULT_PORT = 7361
READ_SIZE = 65536


class NodeReplica(SyncReplica, Protocol):
    """What the node needs of a replica (``Replica`` satisfies it)."""

    def refresh(self) -> list[Change]: ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 64  # all connections, handshaking or established
    max_per_address: int = 8  # connections from one remote IP address
    handshake_timeout: float = HANDSHAKE_TIMEOUT_MS / 1000
    idle_timeout: float = 90.0  # no byte received for this long: bye and close
    keepalive: float = 30.0  # send a ping after this long without sending anything
    refresh_interval: float = 0.25  # poll the store for other processes' changes
    ingest_slice: int = SLICE_CHANGES
    max_batch_changes: int = MAX_BATCH_CHANGES
    backoff_initial: float = 0.5  # reconnect delays double from here ...
    backoff_max: float = 30.0  # ... up to here, times a jitter factor in [0.5, 1.5)


@dataclass(slots=True)
class NodeConfig:
    replica: NodeReplica
    assembly_id: bytes
    assembly_secret: bytes
    device_key: SigningKey
    certificate: DeviceCertificate
    authorize: Authorize
    invite: tuple[Invite, bytes] | None = None
    listen: tuple[str, int] | None = ("0.0.0.0", DEFAULT_PORT)
    peers: list[tuple[str, int]] = field(default_factory=list)
    clock: Callable[[], int] = wall_clock_ms
    rng: random.Random = field(default_factory=random.Random)
    noise_rng: Rng = os.urandom
    limits: Limits = field(default_factory=Limits)
    address_book: Path | None = None


@dataclass(frozen=True, slots=True)
class PeerStatus:
    """One open connection, for status displays."""

    name: str  # short device id @ address
    role: str  # "initiator" (we dialled) or "responder"
    synced: bool  # the initial sync is done: the connection is live
    received: int  # changes received on this connection
    sent: int
    expected: int  # changes the peer's hello showed we lacked
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What a one-shot sync did."""

    sent: int  # changes sent
    received: int  # changes received
    applied: int  # received changes that were new here
    rejected: int  # received changes ingest refused
    bytes_sent: int
    bytes_received: int


def short_id(device: bytes) -> str:
    return device.hex()[:8]


class _Link:
    """One connection and its counters."""

    def __init__(self, role: Role, host: str, port: int) -> None:
        self.role = role
        self.host = host
        self.port = port
        self.peer: PeerIdentity | None = None
        self.machine: SyncMachine | None = None
        self.session: Session | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.wake = asyncio.Event()
        self.bytes_in = 0
        self.bytes_out = 0
        self.synced: Synced | None = None
        self.closed_by_peer: str | None = None
        self.once = False

    @property
    def name(self) -> str:
        who = short_id(self.peer.device) if self.peer is not None else "?"
        return f"{who}@{self.host}:{self.port}"


class Node:
    """An AssemblyMesh node for one replica. See the module docstring for the lifecycle."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self._limits = config.limits
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._gossip: Gossip | None = None
        self._stopped = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running = False
        self._progress = asyncio.Condition()
        self._book = AddressBook(config.address_book)
        self.listen_address: tuple[str, int] | None = None
        self.refused = 0  # connections refused (limits, handshake, protocol)
        # Per remote host: how many of its connections were refused, and the last reason.
        self.refusals: dict[str, tuple[int, str]] = {}
        self.finished: list[tuple[str, Counters]] = []  # (peer, counters) of closed links

    # --- lifecycle ---

    async def start(self) -> None:
        if self._running:
            raise UsageError("the node is already running")
        self._running = True
        self._stopped.clear()
        self._stopping.clear()
        self._gossip = Gossip(self.config.replica)
        if self.config.listen is not None:
            host, port = self.config.listen
            try:
                self._server = await asyncio.start_server(self._accept, host, port)
            except OSError as exc:
                self._gossip.close()
                self._running = False
                raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
            bound = self._server.sockets[0].getsockname()
            self.listen_address = (str(bound[0]), int(bound[1]))
            log.info("listening on %s:%d", *self.listen_address)
        now = self.config.clock()
        for host, port in self.config.peers:
            self._book.add(host, port, "static", now)
            self._spawn(self._dial_loop(host, port))
        self._spawn(self._refresh_loop())

    def add_peer(self, host: str, port: int) -> None:
        """Dial ``host:port`` and keep reconnecting to it until the node stops."""
        if not self._running:
            raise UsageError("start the node before adding peers")
        self._book.add(host, port, "static", self.config.clock())
        self._spawn(self._dial_loop(host, port))

    async def stop(self) -> None:
        """Say bye to every peer, close every socket. The replica stays open (caller's)."""
        if not self._running:
            return
        self._running = False
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            if link.machine is not None:
                link.machine.close(Bye.SHUTDOWN)
                link.wake.set()
        # Give writers a moment to flush their byes, then cancel whatever is left.
        flushing = [t for t in self._tasks if not t.done()]
        if flushing:
            await asyncio.wait(flushing, timeout=1.0)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._gossip is not None:
            self._gossip.close()
            self._gossip = None
        self._save_book()
        self._stopped.set()
        log.info("node stopped")

    async def run_until_stopped(self) -> None:
        await self._stopped.wait()

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- observation (tests, status display) ---

    def connections(self) -> list[tuple[str, str, bool]]:
        """(peer name, role, synced) of each established connection."""
        return [
            (link.name, link.role, link.synced is not None)
            for link in self._links
            if link.machine is not None
        ]

    def peer_status(self) -> list[PeerStatus]:
        """Every established connection with its counters."""
        return [
            PeerStatus(
                link.name,
                link.role,
                link.synced is not None,
                link.machine.counters.received,
                link.machine.counters.sent,
                link.machine.expected,
                link.bytes_in,
                link.bytes_out,
            )
            for link in self._links
            if link.machine is not None
        ]

    def traffic(self) -> tuple[int, int]:
        """(bytes sent, bytes received) on the connections open now."""
        return sum(k.bytes_out for k in self._links), sum(k.bytes_in for k in self._links)

    @property
    def open_connections(self) -> int:
        return len(self._links)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every sync event."""
        async with self._progress:
            await self._progress.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- background loops ---

    async def _refresh_loop(self) -> None:
        while not await self._pause(self._limits.refresh_interval):
            self._refresh()

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if the node stops; True if it stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    def _refresh(self) -> None:
        try:
            self.config.replica.refresh()  # observers push what other processes wrote
        except StoreError as exc:
            log.warning("cannot refresh the store: %s", exc)

    async def _dial_loop(self, host: str, port: int) -> None:
        failures = 0
        while self._running:
            link = _Link("initiator", host, port)
            try:
                await self._dial(link)
            except (RemoteError, OSError, TimeoutError) as exc:
                log.info("connection to %s:%d failed: %s", host, port, _describe(exc))
            failures = 0 if link.synced is not None else failures + 1
            if not self._running:
                return
            base = min(
                self._limits.backoff_max, self._limits.backoff_initial * 2 ** min(failures, 16)
            )
            # Jitter keeps nodes that lost the same peer from all retrying at once.
            if await self._pause(base * (0.5 + self.config.rng.random())):
                return

    async def _dial(self, link: _Link) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(link.host, link.port), self._limits.handshake_timeout
            )
        except OSError as exc:
            raise RemoteError(f"cannot connect to {link.host}:{link.port}: {exc.strerror}") from exc
        except TimeoutError as exc:
            raise RemoteError(f"connecting to {link.host}:{link.port} timed out") from exc
        self._links.add(link)
        try:
            await self._run(link, reader, writer)
        finally:
            self._links.discard(link)
            await self._notify()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername") or ("?", 0)
        link = _Link("responder", str(peername[0]), int(peername[1]))
        same_address = sum(1 for other in self._links if other.host == link.host)
        if not self._running or len(self._links) >= self._limits.max_connections:
            self._refuse(writer, link, "too many connections")
            await self._notify()
            return
        if same_address >= self._limits.max_per_address:
            self._refuse(writer, link, "too many connections from this address")
            await self._notify()
            return
        self._links.add(link)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._run(link, reader, writer)
        except (RemoteError, OSError, TimeoutError) as exc:
            log.info("connection from %s ended: %s", link.name, _describe(exc))
        finally:
            self._links.discard(link)
            if task is not None:
                self._tasks.discard(task)
            await self._notify()

    def _refuse(self, writer: asyncio.StreamWriter, link: _Link, reason: str) -> None:
        self._count_refusal(link, reason)
        log.warning("refused %s: %s", link.name, reason)
        writer.close()

    def _count_refusal(self, link: _Link, reason: str) -> None:
        self.refused += 1
        count, _ = self.refusals.get(link.host, (0, ""))
        self.refusals[link.host] = (count + 1, reason)

    # --- one connection ---

    async def _run(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        link.writer = writer
        try:
            done = await self._handshake(link, reader, writer)
            if done is None:
                return
            await self._sync(link, done, reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handshake(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> HandshakeDone | None:
        config = self.config
        handshake = Handshake(
            role=link.role,
            assembly_id=config.assembly_id,
            assembly_secret=config.assembly_secret,
            device_key=config.device_key,
            certificate=config.certificate,
            authorize=config.authorize,
            now_ms=config.clock(),
            invite=config.invite,
            rng=config.noise_rng,
            timeout_ms=int(self._limits.handshake_timeout * 1000),
        )

        async def exchange() -> HandshakeDone:
            while True:
                out = handshake.data_to_send()
                if out:
                    link.bytes_out += len(out)
                    writer.write(out)
                    await writer.drain()
                event = handshake.next_event()
                if isinstance(event, HandshakeDone):
                    return event
                data = await reader.read(READ_SIZE)
                if not data:
                    handshake.connection_closed()
                link.bytes_in += len(data)
                handshake.receive_data(data, config.clock())

        try:
            return await asyncio.wait_for(exchange(), self._limits.handshake_timeout)
        except HandshakeError as exc:
            self._count_refusal(link, str(exc))
            log.warning("handshake with %s failed: %s", link.name, exc)
            if link.once:
                raise
        except TimeoutError:
            self._count_refusal(link, "handshake timed out")
            log.warning("handshake with %s failed: timed out", link.name)
            if link.once:
                raise HandshakeError("handshake timed out") from None
        return None

    async def _sync(
        self,
        link: _Link,
        done: HandshakeDone,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        assert self._gossip is not None
        link.peer, link.session = done.peer, done.session
        addresses = [("", self.listen_address[1])] if self.listen_address else []
        machine = SyncMachine(
            self.config.replica,
            self.config.assembly_id,
            addresses=addresses,
            max_batch_changes=self._limits.max_batch_changes,
            slice_changes=self._limits.ingest_slice,
            name=link.name,
        )
        link.machine = machine
        log.info(
            "connected %s %s (member %s)",
            "to" if link.role == "initiator" else "from",
            link.name,
            short_id(done.peer.member),
        )
        self._gossip.attach(machine, link.wake.set)
        machine.start()
        writer_task = asyncio.ensure_future(self._write_loop(link))
        try:
            if done.trailing_data:
                # Already counted in bytes_in: the handshake read them with its last frame.
                await self._receive(link, done.trailing_data)
            while machine.state is not State.CLOSED:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), self._limits.idle_timeout)
                except TimeoutError:
                    log.info("%s idle for %.0f s: closing", link.name, self._limits.idle_timeout)
                    machine.close(Bye.IDLE)
                    break
                if not data:
                    link.session.eof()
                    if link.closed_by_peer is None:
                        log.info("%s closed the connection without bye", link.name)
                    break
                link.bytes_in += len(data)
                await self._receive(link, data)
        except ProtocolError as exc:
            self._count_refusal(link, str(exc))
            log.warning("protocol error from %s: %s", link.name, exc)
        finally:
            self._gossip.detach(machine)
            machine.close(Bye.SHUTDOWN)  # no-op if a bye was already exchanged
            link.wake.set()
            # Let the writer flush the bye; it never waits long on a dead socket.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer_task, 1.0)
            writer_task.cancel()
            self._log_summary(link)

    async def _receive(self, link: _Link, data: bytes) -> None:
        assert link.session is not None and link.machine is not None
        for message in link.session.feed(data):
            link.machine.receive_message(message)
            await self._handle_events(link)
        link.wake.set()

    async def _handle_events(self, link: _Link) -> None:
        assert link.machine is not None and self._gossip is not None
        machine = link.machine
        while not isinstance(event := machine.next_event(), NeedData):
            if isinstance(event, Ingest):
                # Pick up other processes' writes first: ingest would absorb them silently.
                self._refresh()
                self._gossip.ingest(machine, event.changes)
                link.wake.set()
                await self._notify()
                await asyncio.sleep(0)  # one slice at a time: the loop runs in between
            elif isinstance(event, Synced):
                link.synced = event
                log.info(
                    "in sync with %s%s: sent %d, received %d changes",
                    link.name,
                    " (already)" if event.shortcut else "",
                    event.sent,
                    event.received,
                )
                if link.once:
                    machine.close(Bye.DONE)
                    link.wake.set()
                self._learn_addresses(link)
                await self._notify()
            elif isinstance(event, PeerClosed):
                link.closed_by_peer = event.reason
                log.info("%s said bye: %s", link.name, event.reason)
        await self._notify()

    async def _write_loop(self, link: _Link) -> None:
        assert link.machine is not None and link.session is not None and link.writer is not None
        machine, writer = link.machine, link.writer
        while True:
            link.wake.clear()  # before asking: anything queued after this sets it again
            payload = machine.next_message()
            if payload is None:
                if machine.state is State.CLOSED:
                    break
                await self._handle_events(link)  # sending our done may complete the sync
                if link.wake.is_set():
                    continue
                try:
                    await asyncio.wait_for(link.wake.wait(), self._limits.keepalive)
                except TimeoutError:
                    machine.ping()
                continue
            data = link.session.encrypt_message(payload)
            link.bytes_out += len(data)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()

    def _learn_addresses(self, link: _Link) -> None:
        if link.machine is None:
            return
        now = self.config.clock()
        changed = False
        for host, port in link.machine.peer_addresses:
            if host == "":
                changed |= self._book.add(link.host, port, "peer", now)
            else:
                changed |= self._book.add(host, port, "gossip", now)
        if changed:
            self._save_book()

    def _save_book(self) -> None:
        try:
            self._book.save()
        except StoreError as exc:
            log.warning("%s", exc)

    def _log_summary(self, link: _Link) -> None:
        machine = link.machine
        if machine is None:
            return
        c = machine.counters
        self.finished.append((link.name, c))
        log.info(
            "closed %s: sent %d changes, received %d (%d new, %d refused), "
            "%d bytes out, %d bytes in",
            link.name,
            c.sent,
            c.received,
            c.applied,
            c.rejected,
            link.bytes_out,
            link.bytes_in,
        )

    # --- one-shot sync ---

    async def sync_with(self, host: str, port: int) -> SyncSummary:
        """Connect, sync both ways until in sync, say bye; return what moved."""
        link = _Link("initiator", host, port)
        link.once = True
        await self._dial(link)
        if link.synced is None:
            reason = link.closed_by_peer or "connection closed before the sync finished"
            raise RemoteError(f"sync with {host}:{port} did not finish: {reason}")
        assert link.machine is not None
        c = link.machine.counters
        return SyncSummary(c.sent, c.received, c.applied, c.rejected, link.bytes_out, link.bytes_in)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AssemblyMeshError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


async def sync_once(config: NodeConfig, peer_addr: tuple[str, int], timeout: float) -> SyncSummary:
    """Sync once with ``peer_addr`` (``assemblymesh sync --peer HOST:PORT``).

    Does not listen and does not dial ``config.peers``. Raises ``HandshakeError`` if the
    peer refuses us (or we it), ``RemoteError`` on connection failure or timeout.
    """
    solo = dataclasses.replace(config, listen=None, peers=[])
    node = Node(solo)
    await node.start()
    try:
        return await asyncio.wait_for(node.sync_with(*peer_addr), timeout)
    except TimeoutError as exc:
        raise RemoteError(f"sync with {peer_addr[0]}:{peer_addr[1]} timed out") from exc
    finally:
        await node.stop()
