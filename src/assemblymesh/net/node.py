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
Host ``""`` (the default) listens on every address, IPv6 (``::``) and IPv4 (``0.0.0.0``) on
one port; where IPv6 is unavailable it quietly listens on IPv4 only.

Admission (the trust boundary): a connection still in the handshake holds a slot of a small
pool (``Limits.max_handshakes``; the oldest is evicted when a new one arrives and the pool is
full) and must deliver a complete Noise message 1 within ``Limits.first_message_timeout``.
Addresses and devices that completed a handshake before (remembered in memory and in the
address book) get reserved slots strangers cannot take. Refusals are logged at most once per
address per ``Limits.refusal_log_interval``, with a count of the lines left out.

The event loop is never blocked for long: received changes are ingested in slices (1,000
changes by default, each ending on a signature), yielding to the loop between slices;
outgoing batches are built one at a time as the socket drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
import random
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assemblymesh.clock import Clock, wall_clock_ms
from assemblymesh.crdt.change import Change
from assemblymesh.errors import (
    AssemblyMeshError,
    HandshakeError,
    InviteRefused,
    ProtocolError,
    RemoteError,
    StoreError,
    UsageError,
)
from assemblymesh.i18n import _
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.batch import MAX_BATCH_CHANGES
from assemblymesh.net.credentials import Authorize, Credentials, PeerIdentity, Refused, decide
from assemblymesh.net.framing import Session
from assemblymesh.net.handshake import HANDSHAKE_TIMEOUT_MS, Handshake, HandshakeDone, Role
from assemblymesh.net.lifecycle import Lifecycle
from assemblymesh.net.noise import Rng
from assemblymesh.net.sync import (
    PENDING_BUDGET_BYTES,
    SLICE_CHANGES,
    Bye,
    Counters,
    EvidenceReceived,
    Gossip,
    Ingest,
    NeedData,
    PeerClosed,
    State,
    Synced,
    SyncMachine,
    SyncReplica,
)

__all__ = [
    "ALL_ADDRESSES",
    "DEFAULT_PORT",
    "Limits",
    "Node",
    "NodeConfig",
    "NodeReplica",
    "PeerStatus",
    "RefusalLog",
    "SyncSummary",
    "bind_listen_sockets",
    "short_id",
    "sync_once",
    "wall_clock_ms",
]

log = logging.getLogger("assemblymesh.net")

DEFAULT_PORT = 7361
READ_SIZE = 65536
ALL_ADDRESSES = ""  # listen host: every address, IPv6 and IPv4


class NodeReplica(SyncReplica, Protocol):
    """What the node needs of a replica (``Replica`` satisfies it)."""

    def refresh(self) -> list[Change]: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 64  # established connections
    reserved_connections: int = 16  # more established slots, for devices admitted before
    max_handshakes: int = 32  # connections still in the handshake (oldest evicted when full)
    reserved_handshakes: int = 16  # a pool of its own for addresses admitted before
    max_per_address: int = 8  # handshaking connections from one remote IP address
    first_message_timeout: float = 2.0  # a responder gets a whole Noise message 1 by then
    handshake_timeout: float = HANDSHAKE_TIMEOUT_MS / 1000
    idle_timeout: float = 90.0  # no byte received for this long: bye and close
    keepalive: float = 30.0  # send a ping after this long without sending anything
    refresh_interval: float = 0.25  # poll the store for other processes' changes
    # Established peers are asked governance's question again this often: a device revoked
    # or a member removed since the handshake is disconnected.
    recheck_interval: float = 5.0
    ingest_slice: int = SLICE_CHANGES
    max_batch_changes: int = MAX_BATCH_CHANGES
    pending_budget: int = PENDING_BUDGET_BYTES  # per connection
    backoff_initial: float = 0.5  # reconnect delays double from here ...
    backoff_max: float = 30.0  # ... up to here, times a jitter factor in [0.5, 1.5)
    refusal_log_interval: float = 60.0  # at most one refusal line per address this often
    max_refusal_hosts: int = 256  # addresses remembered in ``Node.refusals``


@dataclass(slots=True)
class NodeConfig:
    replica: NodeReplica
    credentials: Credentials
    authorize: Authorize
    listen: tuple[str, int] | None = (ALL_ADDRESSES, DEFAULT_PORT)
    peers: list[tuple[str, int]] = field(default_factory=list)  # static: dialled for ever
    dial_known: bool = True  # also dial the address book's candidates (``dial_candidates``)
    clock: Clock = wall_clock_ms
    rng: random.Random = field(default_factory=random.Random)
    noise_rng: Rng = os.urandom
    limits: Limits = field(default_factory=Limits)
    address_book: Path | None = None
    # Told the code when a peer refuses this joiner's invite and says why (protocol §3.6).
    on_invite_refused: Callable[[str], None] | None = None


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


class RefusalLog:
    """One log line per address per ``interval_ms`` at most, counting the lines left out."""

    def __init__(self, clock: Clock, interval_ms: int, max_hosts: int = 1024) -> None:
        self._clock = clock
        self._interval = interval_ms
        self._max = max_hosts
        self._last: dict[str, tuple[int, int]] = {}  # host -> (logged at, suppressed since)

    def refused(self, host: str, what: str) -> bool:
        """Log ``what`` for ``host`` unless a line went out recently; True if logged."""
        now = self._clock()
        last = self._last.get(host)
        if last is not None and now - last[0] < self._interval:
            self._last[host] = (last[0], last[1] + 1)
            return False
        self._last.pop(host, None)
        self._last[host] = (now, 0)
        while len(self._last) > self._max:
            del self._last[next(iter(self._last))]
        if last is not None and last[1]:
            log.warning("refused %s (%d more refused since the last line)", what, last[1])
        else:
            log.warning("refused %s", what)
        return True


EPHEMERAL_BIND_TRIES = 8


def bind_listen_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host`` (an IP literal, or ``ALL_ADDRESSES``).

    ``ALL_ADDRESSES`` binds ``::`` (IPv6 only) and ``0.0.0.0`` on one port; without IPv6
    it binds IPv4 alone. Raise ``OSError`` if the port cannot be had.
    """
    if host != ALL_ADDRESSES:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return [_bind(family, host, port)]
    # Any free port (0): the port IPv6 was given may be taken on IPv4; then try another.
    for _try in range(EPHEMERAL_BIND_TRIES if port == 0 else 1):
        try:
            return _bind_both(port)
        except OSError as exc:
            if port != 0 or exc.errno != errno.EADDRINUSE:
                raise
    return _bind_both(port)


def _bind_both(port: int) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    try:
        sockets.append(_bind(socket.AF_INET6, "::", port))
        port = sockets[0].getsockname()[1]
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise
        log.debug("no IPv6 here (%s): listening on IPv4 only", exc.strerror or exc)
    try:
        sockets.append(_bind(socket.AF_INET, "0.0.0.0", port))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
    # (accepted sockets inherit it); without it Nagle and delayed ACKs add ~40 ms per push.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


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
        self.reserved = False  # holds a reserved handshake slot (address admitted before)
        self.evicted = False  # pushed out of the handshake pool (already counted as refused)
        self.duplicate = False  # closed as the losing one of two connections to one device

    @property
    def name(self) -> str:
        who = short_id(self.peer.device) if self.peer is not None else "?"
        return f"{who}@{self.host}:{self.port}"


class Node(Lifecycle):
    """An AssemblyMesh node for one replica. See the module docstring for the lifecycle."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self._limits = config.limits
        self._links: set[_Link] = set()
        self._handshaking: dict[_Link, None] = {}  # oldest first
        self._dialling: set[tuple[str, int]] = set()
        # The device that answered at each address this node dialled (status displays list
        # one peer once, whatever addresses and connections lead to it).
        self.device_at: dict[tuple[str, int], bytes] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.Server] = []
        self._gossip: Gossip | None = None
        self._stopped = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running = False
        self._progress = asyncio.Condition()
        self._book = AddressBook(config.address_book)
        self._refusal_log = RefusalLog(config.clock, int(self._limits.refusal_log_interval * 1000))
        self.listen_addresses: list[tuple[str, int]] = []
        self.refused = 0  # connections refused (limits, handshake, protocol)
        # Per remote host: how many of its connections were refused, and the last reason.
        self.refusals: dict[str, tuple[int, str]] = {}
        self.finished: list[tuple[str, Counters]] = []  # (peer, counters) of closed links

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """The first address listened on (all share its port), None when not listening."""
        return self.listen_addresses[0] if self.listen_addresses else None

    @property
    def address_book(self) -> AddressBook:
        return self._book

    # --- lifecycle ---

    async def start(self) -> None:
        if self._running:
            raise UsageError("the node is already running")
        self._running = True
        self._stopped.clear()
        self._stopping.clear()
        self._gossip = Gossip(self.config.replica, pending_budget=self._limits.pending_budget)
        if self.config.listen is not None:
            try:
                await self._listen(*self.config.listen)
            except UsageError:
                self._gossip.close()
                self._running = False
                raise
        now = self.config.clock()
        for host, port in self.config.peers:
            self._book.add(host, port, "static", now)
            self._start_dialling(host, port, keep=True)
        if self.config.dial_known:
            for host, port in self._book.dial_candidates(now):
                if (host, port) not in self.config.peers:
                    self._start_dialling(host, port, keep=False)
        self._spawn(self._refresh_loop())
        self._spawn(self._recheck_loop())

    async def _listen(self, host: str, port: int) -> None:
        shown = host or "*"
        try:
            if host == ALL_ADDRESSES or ":" in host or host.replace(".", "").isdigit():
                sockets = bind_listen_sockets(host, port)
                for sock in sockets:
                    self._servers.append(await asyncio.start_server(self._accept, sock=sock))
            else:  # a host name
                self._servers.append(await asyncio.start_server(self._accept, host, port))
        except OSError as exc:
            for server in self._servers:
                server.close()
            self._servers.clear()
            raise UsageError(
                _("cannot listen on {host}:{port}: {reason}").format(
                    host=shown, port=port, reason=exc.strerror or exc
                )
            ) from exc
        for server in self._servers:
            for sock in server.sockets:
                bound = sock.getsockname()
                self.listen_addresses.append((str(bound[0]), int(bound[1])))
        log.info(
            "listening on %s", ", ".join(_show_address(h, p) for h, p in self.listen_addresses)
        )

    def add_peer(self, host: str, port: int, source: str = "static") -> None:
        """Dial ``host:port`` and keep reconnecting to it until the node stops (a ``static``
        peer), or until it failed for too long (any other ``source``, e.g. ``discovery``)."""
        if not self._running:
            raise UsageError("start the node before adding peers")
        if self._book.add(host, port, source, self.config.clock()):
            self._save_book()
        if (host, port) not in self._dialling:
            self._start_dialling(host, port, keep=source == "static")

    async def stop(self) -> None:
        """Say bye to every peer, close every socket. The replica stays open (caller's)."""
        if not self._running:
            return
        self._running = False
        self._stopping.set()
        for server in self._servers:
            server.close()
        for link in list(self._links):
            if link.machine is not None:
                link.machine.close(Bye.SHUTDOWN)
                link.wake.set()
        await self._end_tasks()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        self.listen_addresses = []
        if self._gossip is not None:
            self._gossip.close()
            self._gossip = None
        self._save_book()
        self._stopped.set()
        log.info("node stopped")

    async def _end_tasks(self) -> None:
        """Give writers a moment to flush their byes, then drop what is left: an aborted
        socket ends its task, so only tasks stuck elsewhere are cancelled."""
        await self._settle()
        for link in list(self._links):
            if link.writer is not None:
                link.writer.transport.abort()
        await self._settle()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _settle(self) -> None:
        running = [t for t in self._tasks if not t.done()]
        if running:
            await asyncio.wait(running, timeout=1.0)

    async def run_until_stopped(self) -> None:
        await self._stopped.wait()

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

    @property
    def dialling(self) -> set[tuple[str, int]]:
        """The addresses the node dials (and redials with backoff) now."""
        return set(self._dialling)

    @property
    def handshaking(self) -> int:
        """Connections still in the handshake."""
        return len(self._handshaking)

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

    async def _recheck_loop(self) -> None:
        while not await self._pause(self._limits.recheck_interval):
            self.recheck_peers()

    def recheck_peers(self) -> int:
        """Ask governance again about every established peer; close, with a ``bye``, the
        links of peers it now refuses (a revoked device, a removed member). Returns how
        many were closed."""
        closed = 0
        for link in list(self._links):
            machine, peer = link.machine, link.peer
            if machine is None or peer is None or machine.state is State.CLOSED:
                continue
            answer = decide(self.config.authorize, peer)
            if isinstance(answer, Refused):
                log.info("closing %s: %s", link.name, answer.reason)
                machine.close(Bye.NOT_AUTHORISED)
                link.wake.set()
                closed += 1
        return closed

    def _refresh(self) -> None:
        try:
            self.config.replica.refresh()  # observers push what other processes wrote
        except StoreError as exc:
            log.warning("cannot refresh the store: %s", exc)

    def _start_dialling(self, host: str, port: int, *, keep: bool) -> None:
        self._dialling.add((host, port))
        self._spawn(self._dial_loop(host, port, keep=keep))

    async def _dial_loop(self, host: str, port: int, *, keep: bool) -> None:
        """Dial until the node stops; ``keep`` False: give up once the book drops the entry."""
        try:
            await self._dial_until_stopped(host, port, keep)
        finally:
            self._dialling.discard((host, port))

    async def _dial_until_stopped(self, host: str, port: int, keep: bool) -> None:
        failures = 0
        while self._running:
            link = _Link("initiator", host, port)
            try:
                await self._dial(link)
            except (RemoteError, OSError, TimeoutError) as exc:
                log.info("connection to %s:%d failed: %s", host, port, _describe(exc))
            if link.peer is not None:
                self.device_at[(host, port)] = link.peer.device
            if link.synced is not None:
                failures = 0
                self._book.succeeded(host, port, self.config.clock())
            else:
                failures += 1
                if not self._book.failed(host, port, self.config.clock()) and not keep:
                    log.info("giving up on %s:%d: it failed for too long", host, port)
                    return
            if not self._running:
                return
            if link.duplicate and link.peer is not None:
                await self._while_connected(link.peer.device)
                failures = 0
            base = min(
                self._limits.backoff_max, self._limits.backoff_initial * 2 ** min(failures, 16)
            )
            # Jitter keeps nodes that lost the same peer from all retrying at once.
            if await self._pause(base * (0.5 + self.config.rng.random())):
                return

    async def _while_connected(self, device: bytes) -> None:
        """Wait while another connection to ``device`` is up (or until the node stops)."""
        await self.wait_for(
            lambda: self._stopping.is_set() or self._live_link_to(device, None) is None
        )

    async def _dial(self, link: _Link) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(link.host, link.port), self._limits.handshake_timeout
            )
        except OSError as exc:
            raise RemoteError(
                _("cannot connect to {host}:{port}: {strerror}").format(
                    host=link.host, port=link.port, strerror=exc.strerror
                )
            ) from exc
        except TimeoutError as exc:
            raise RemoteError(
                _("connecting to {host}:{port} timed out").format(host=link.host, port=link.port)
            ) from exc
        self._links.add(link)
        try:
            await self._run(link, reader, writer)
        finally:
            self._links.discard(link)
            await self._notify()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername") or ("?", 0)
        link = _Link("responder", _plain_host(str(peername[0])), int(peername[1]))
        link.writer = writer
        if not self._running:
            writer.close()
            return
        self._admit_handshaking(link)
        self._links.add(link)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        await self._notify()
        try:
            await self._run(link, reader, writer)
        except (RemoteError, OSError, TimeoutError) as exc:
            log.info("connection from %s ended: %s", link.name, _describe(exc))
        finally:
            self._links.discard(link)
            if task is not None:
                self._tasks.discard(task)
            await self._notify()

    def _admit_handshaking(self, link: _Link) -> None:
        """Give ``link`` a handshake slot, evicting the oldest holder of a full pool."""
        link.reserved = self._book.admitted_host(link.host)
        pool = [other for other in self._handshaking if other.reserved == link.reserved]
        cap = self._limits.reserved_handshakes if link.reserved else self._limits.max_handshakes
        same = [other for other in pool if other.host == link.host]
        if len(same) >= self._limits.max_per_address:
            self._evict(same[0], "too many connections from this address")
        elif len(pool) >= cap:
            self._evict(_oldest_of_busiest(pool), "too many connections in the handshake")
        self._handshaking[link] = None

    def _evict(self, link: _Link, reason: str) -> None:
        self._handshaking.pop(link, None)
        self._links.discard(link)  # its slot is free now; its task ends on the abort
        link.evicted = True
        self._count_refusal(link, reason)
        if link.writer is not None:
            link.writer.transport.abort()

    def _count_refusal(self, link: _Link, reason: str) -> None:
        self.refused += 1
        count, _ = self.refusals.pop(link.host, (0, ""))
        self.refusals[link.host] = (count + 1, reason)
        while len(self.refusals) > self._limits.max_refusal_hosts:
            del self.refusals[next(iter(self.refusals))]
        self._refusal_log.refused(link.host, f"{link.name}: {reason}")

    # --- one connection ---

    async def _run(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        link.writer = writer
        try:
            done = await self._handshake(link, reader, writer)
            self._handshaking.pop(link, None)
            if done is None:
                return
            await self._sync(link, done, reader, writer)
        finally:
            self._handshaking.pop(link, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handshake(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> HandshakeDone | None:
        try:
            return await asyncio.wait_for(
                self._exchange(link, reader, writer), self._limits.handshake_timeout
            )
        except HandshakeError as exc:
            self._handshake_failed(link, str(exc))
            if isinstance(exc, InviteRefused) and self.config.on_invite_refused is not None:
                self.config.on_invite_refused(exc.code)
            if link.once:
                raise
        except TimeoutError:
            self._handshake_failed(link, "handshake timed out")
            if link.once:
                raise HandshakeError(_("handshake timed out")) from None
        except OSError as exc:
            # A reset or a dead route: the connection failed, nobody misbehaved.
            log.info("connection %s lost in the handshake: %s", link.name, _describe(exc))
            if link.once:
                raise RemoteError(
                    _("connection lost in the handshake: {reason}").format(reason=_describe(exc))
                ) from exc
        return None

    def _handshake_failed(self, link: _Link, reason: str) -> None:
        if not link.evicted:  # an evicted link was counted when it was evicted
            self._count_refusal(link, f"handshake failed: {reason}")

    async def _exchange(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> HandshakeDone:
        config, loop = self.config, asyncio.get_running_loop()
        handshake = Handshake(
            role=link.role,
            credentials=config.credentials,
            authorize=config.authorize,
            now_ms=config.clock(),
            rng=config.noise_rng,
            timeout_ms=int(self._limits.handshake_timeout * 1000),
            keyring=config.credentials.keys(),
        )
        first_by = loop.time() + self._limits.first_message_timeout
        while True:
            out = handshake.data_to_send()
            if out:
                link.bytes_out += len(out)
                writer.write(out)
                await writer.drain()
            event = handshake.next_event()
            if isinstance(event, HandshakeDone):
                return event
            if handshake.first_message_received:
                data = await reader.read(READ_SIZE)
            else:
                try:
                    data = await asyncio.wait_for(
                        reader.read(READ_SIZE), max(0.0, first_by - loop.time())
                    )
                except TimeoutError:
                    raise HandshakeError(
                        _("no complete first handshake message within {seconds:g} s").format(
                            seconds=self._limits.first_message_timeout
                        )
                    ) from None
            if not data:
                handshake.connection_closed()
            link.bytes_in += len(data)
            try:
                handshake.receive_data(data, config.clock())
            except HandshakeError:
                # A responder refusing a proven joiner has its reason to send (§3.6).
                farewell = handshake.data_to_send()
                if farewell:
                    with contextlib.suppress(OSError):
                        writer.write(farewell)
                        await writer.drain()
                raise

    def _admit_established(self, link: _Link, peer: PeerIdentity) -> str | None:
        """A refusal reason if the established pool has no room for ``peer``."""
        established = sum(1 for other in self._links if other.machine is not None)
        cap = self._limits.max_connections
        if self._book.admitted_device(peer.device):
            cap += self._limits.reserved_connections
        return "too many connections" if established >= cap else None

    def _remember(self, link: _Link, peer: PeerIdentity) -> None:
        changed = self._book.admit_device(peer.device)
        if link.role == "responder":
            changed |= self._book.admit_host(link.host)
        if changed:
            self._save_book()

    def _live_link_to(self, device: bytes, besides: _Link | None) -> _Link | None:
        for other in self._links:
            if (
                other is not besides
                and other.peer is not None
                and other.peer.device == device
                and other.machine is not None
                and other.machine.state is not State.CLOSED
            ):
                return other
        return None

    def _duplicate_loser(self, link: _Link, peer: PeerIdentity) -> _Link | None:
        """Of two connections to one device, the one to close (docs/protocol.md §5.2).

        The connection initiated by the device with the smaller key survives. Of two dialled
        the same way, the dialler closes its newer one; the responder leaves that to it.
        """
        other = self._live_link_to(peer.device, link)
        if other is None or other.once or link.once:
            return None
        if other.role == link.role:
            return link if link.role == "initiator" else None
        mine = self.config.credentials.device

        def initiator(candidate: _Link) -> bytes:
            return mine if candidate.role == "initiator" else peer.device

        return link if initiator(link) > initiator(other) else other

    async def _sync(
        self,
        link: _Link,
        done: HandshakeDone,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        assert self._gossip is not None
        link.peer, link.session = done.peer, done.session
        self._remember(link, done.peer)
        refusal = self._admit_established(link, done.peer)
        if refusal is not None:
            self._count_refusal(link, refusal)
            return
        machine = link.machine = self._new_machine(link)
        loser = self._duplicate_loser(link, done.peer)
        if loser is not None:
            self._close_duplicate(loser)
        if loser is link:
            await self._flush(link, asyncio.ensure_future(self._write_loop(link)))
            return
        if loser is not None:
            # Start once the loser is gone: our hello then covers what it brought, and what
            # was still in flight on it is dropped, never ingested twice.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.wait_for(lambda: loser not in self._links), self._limits.handshake_timeout
                )
        log.info(
            "connected %s %s (member %s)",
            "to" if link.role == "initiator" else "from",
            link.name,
            short_id(done.peer.member),
        )
        _log_epochs(link.name, done, self.config.credentials.keys().epoch)
        # What other processes wrote to the store goes into our hello, not into a later
        # announce the peer would have to wait for.
        self._refresh()
        self._gossip.attach(machine, link.wake.set)
        machine.start()
        writer_task = asyncio.ensure_future(self._write_loop(link))
        try:
            if done.trailing_data:
                # Already counted in bytes_in: the handshake read them with its last frame.
                await self._receive(link, done.trailing_data)
            await self._read_loop(link, reader)
        except ProtocolError as exc:
            self._count_refusal(link, f"protocol error: {exc}")
        finally:
            self._gossip.detach(machine)
            machine.close(Bye.SHUTDOWN)  # no-op if a bye was already exchanged
            await self._flush(link, writer_task)
            self._log_summary(link)

    def _new_machine(self, link: _Link) -> SyncMachine:
        addresses = [("", self.listen_address[1])] if self.listen_address else []
        return SyncMachine(
            self.config.replica,
            self.config.credentials.assembly_id,
            addresses=addresses,
            max_batch_changes=self._limits.max_batch_changes,
            slice_changes=self._limits.ingest_slice,
            name=link.name,
        )

    def _close_duplicate(self, loser: _Link) -> None:
        log.info("closing %s: another connection to that device survives", loser.name)
        loser.duplicate = True
        if loser.machine is not None:
            loser.machine.close(Bye.DUPLICATE)
        loser.wake.set()

    async def _flush(self, link: _Link, writer_task: asyncio.Future[None]) -> None:
        """Let the writer flush (a bye); it never waits long on a dead socket."""
        link.wake.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer_task, 1.0)
        writer_task.cancel()

    async def _read_loop(self, link: _Link, reader: asyncio.StreamReader) -> None:
        assert link.machine is not None and link.session is not None
        machine = link.machine
        while machine.state is not State.CLOSED:
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), self._limits.idle_timeout)
            except TimeoutError:
                log.info("%s idle for %.0f s: closing", link.name, self._limits.idle_timeout)
                machine.close(Bye.IDLE)
                return
            if not data:
                try:
                    link.session.eof()
                except ProtocolError as exc:
                    # A peer that crashed mid-frame: a disconnection, not a refusal.
                    log.info("%s disconnected: %s", link.name, exc)
                    return
                if link.closed_by_peer is None:
                    log.info("%s closed the connection without bye", link.name)
                return
            link.bytes_in += len(data)
            await self._receive(link, data)

    async def _receive(self, link: _Link, data: bytes) -> None:
        assert link.session is not None and link.machine is not None
        try:
            messages = link.session.feed(data)
        except ProtocolError:
            link.machine.abort()  # §4.5: after a framing failure, nothing more is sent
            raise
        for message in messages:
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
                self._on_synced(link, event)
                await self._notify()
            elif isinstance(event, EvidenceReceived):
                self._gossip.take_evidence(machine, event.pairs)
                link.wake.set()
            elif isinstance(event, PeerClosed):
                link.closed_by_peer = event.reason
                link.duplicate = event.reason == Bye.DUPLICATE
                log.info("%s said bye: %s", link.name, event.reason)
        await self._notify()

    def _on_synced(self, link: _Link, event: Synced) -> None:
        assert link.machine is not None
        link.synced = event
        log.info(
            "in sync with %s%s: sent %d, received %d changes",
            link.name,
            " (already)" if event.shortcut else "",
            event.sent,
            event.received,
        )
        if link.once:
            link.machine.close(Bye.DONE)
            link.wake.set()
        self._learn_addresses(link)

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
        if link.machine is None or link.peer is None:
            return
        now = self.config.clock()
        via = link.peer.device.hex()
        changed = False
        for host, port in link.machine.peer_addresses:
            if host == "":
                changed |= self._book.add(link.host, port, "peer", now)
            else:
                changed |= self._book.add(host, port, "gossip", now, via=via)
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
        try:
            await self._dial(link)
        except OSError as exc:
            raise RemoteError(
                _("connection to {host}:{port} failed: {reason}").format(
                    host=host, port=port, reason=_describe(exc)
                )
            ) from exc
        if link.synced is None:
            # A bye reason the peer sent is a protocol code: shown as it came.
            reason = link.closed_by_peer or _("connection closed before the sync finished")
            if reason == Bye.DUPLICATE:
                reason = _("the peer is already connected to this device (a running node syncs)")
            raise RemoteError(
                _("sync with {host}:{port} did not finish: {reason}").format(
                    host=host, port=port, reason=reason
                )
            )
        assert link.machine is not None
        c = link.machine.counters
        return SyncSummary(c.sent, c.received, c.applied, c.rejected, link.bytes_out, link.bytes_in)


def _oldest_of_busiest(pool: list[_Link]) -> _Link:
    """The oldest connection of the address holding the most slots of ``pool`` (oldest
    first): a member with one connection is pushed out only by as many addresses as slots."""
    per_host: dict[str, int] = {}
    for link in pool:
        per_host[link.host] = per_host.get(link.host, 0) + 1
    most = max(per_host.values())
    return next(link for link in pool if per_host[link.host] == most)


def _plain_host(host: str) -> str:
    """An IPv4-mapped IPv6 address as IPv4 (one host, one key in the limits)."""
    return host[7:] if host.startswith("::ffff:") and "." in host else host


def _show_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _log_epochs(name: str, done: HandshakeDone, mine: int) -> None:
    """Say when one side of a connection is behind the other's epoch of the secret."""
    if done.peer_epoch > mine:
        log.info(
            "%s is at epoch %d of the assembly secret, this node at %d: catching up from it",
            name, done.peer_epoch, mine,
        )  # fmt: skip
    elif done.peer_epoch < mine:
        log.info(
            "%s holds epoch %d of the assembly secret, this node %d: told it to upgrade",
            name, done.peer_epoch, mine,
        )  # fmt: skip


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AssemblyMeshError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


async def sync_once(config: NodeConfig, peer_addr: tuple[str, int], timeout: float) -> SyncSummary:
    """Sync once with ``peer_addr`` (``assemblymesh sync --peer HOST:PORT``).

    Does not listen and dials nothing else. Raises ``HandshakeError`` if the peer refuses
    us (or we it), ``RemoteError`` on connection failure, reset or timeout: never ``OSError``.
    """
    solo = dataclasses.replace(config, listen=None, peers=[], dial_known=False)
    node = Node(solo)
    await node.start()
    try:
        return await asyncio.wait_for(node.sync_with(*peer_addr), timeout)
    except TimeoutError as exc:
        raise RemoteError(
            _("sync with {host}:{port} timed out").format(host=peer_addr[0], port=peer_addr[1])
        ) from exc
    except OSError as exc:
        raise RemoteError(
            _("sync with {host}:{port} failed: {reason}").format(
                host=peer_addr[0], port=peer_addr[1], reason=_describe(exc)
            )
        ) from exc
    finally:
        await node.stop()
