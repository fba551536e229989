"""A deterministic network simulator driving the real sync protocol.

Field testers (and tests) build a topology of nodes, each with its own ``Replica`` and
``Gossip``, connect them by links with latency, cut and heal partitions, schedule local
edits at virtual times, and run until nothing moves. Every link carries the same sans-I/O
``SyncMachine`` the asyncio node runs; only the transport is simulated (no handshake or
encryption: those are tested on their own). Time is virtual and the only randomness is a
seeded ``random.Random``, so a run is repeatable exactly.

Links behave like TCP connections: messages arrive in order, after a latency drawn per
message (but never before an earlier message of the same direction). A partition closes
the connections that cross it; healing opens fresh ones, which sync from version vectors.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import ProtocolError, UsageError
from assemblymesh.net.sync import Gossip, Ingest, NeedData, PeerClosed, Synced, SyncMachine

START_MS = 1_767_225_600_000  # 2026-01-01, a fixed origin for virtual time


class VirtualClock:
    """The simulator's clock; replicas and homes built for a simulation read it."""

    def __init__(self, start_ms: int = START_MS) -> None:
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms


@dataclass
class SimNode:
    name: str
    replica: Replica
    gossip: Gossip


@dataclass
class _Direction:
    """One direction of a connection: the sending machine and when its last message lands."""

    machine: SyncMachine
    last_arrival_ms: int = 0


@dataclass
class Connection:
    a: str
    b: str
    ends: dict[str, _Direction] = field(default_factory=dict)
    open: bool = True
    bytes_moved: int = 0
    synced: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class LinkSpec:
    latency_ms: tuple[int, int] = (5, 50)


class Simulator:
    """Nodes, links, partitions and a virtual clock; ``run()`` moves messages until idle."""

    def __init__(self, seed: int = 0, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        self.rng = random.Random(seed)
        self.nodes: dict[str, SimNode] = {}
        self.links: dict[frozenset[str], LinkSpec] = {}
        self.connections: dict[frozenset[str], Connection] = {}
        self._groups: list[set[str]] | None = None
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.log: list[str] = []

    @property
    def now_ms(self) -> int:
        return self.clock.now_ms

    # --- building ---------------------------------------------------------------------

    def add_node(self, name: str, replica: Replica) -> SimNode:
        if name in self.nodes:
            raise UsageError(f"node {name!r} exists already")
        node = SimNode(name, replica, Gossip(replica))
        self.nodes[name] = node
        return node

    def link(self, a: str, b: str, latency_ms: tuple[int, int] = (5, 50)) -> None:
        """A link between two nodes (a connection is opened now and after every heal)."""
        for name in (a, b):
            if name not in self.nodes:
                raise UsageError(f"no node {name!r}")
        key = frozenset((a, b))
        self.links[key] = LinkSpec(latency_ms)
        if self._reachable(a, b):
            self._open(a, b)

    def line(self, names: Iterable[str], latency_ms: tuple[int, int] = (5, 50)) -> None:
        names = list(names)
        for a, b in itertools.pairwise(names):
            self.link(a, b, latency_ms)

    # --- partitions ---------------------------------------------------------------------

    def partition(self, *groups: Iterable[str]) -> None:
        """Only nodes in the same group can talk; connections across groups close."""
        self._groups = [set(g) for g in groups]
        for key, conn in list(self.connections.items()):
            if conn.open and not self._reachable(conn.a, conn.b):
                self._close(key, "partition")

    def heal(self) -> None:
        """Every link works again; fresh connections sync what each side missed."""
        self._groups = None
        for key in self.links:
            conn = self.connections.get(key)
            if conn is None or not conn.open:
                a, b = sorted(key)
                self._open(a, b)

    def _reachable(self, a: str, b: str) -> bool:
        if self._groups is None:
            return True
        return any(a in g and b in g for g in self._groups)

    # --- scheduling ---------------------------------------------------------------------

    def at(self, when_ms: int, action: Callable[[], None]) -> None:
        """Run ``action`` (e.g. a local edit) at virtual time ``when_ms``."""
        heapq.heappush(self._queue, (when_ms, next(self._order), action))

    def after(self, delay_ms: int, action: Callable[[], None]) -> None:
        self.at(self.now_ms + delay_ms, action)

    def run(self, until_ms: int | None = None, max_events: int = 1_000_000) -> int:
        """Process events in time order until none is left (or ``until_ms``); return how
        many ran. Local edits made by actions reach peers through gossip like any other."""
        ran = 0
        self._pump_all()
        while self._queue and ran < max_events:
            when, _, action = self._queue[0]
            if until_ms is not None and when > until_ms:
                break
            heapq.heappop(self._queue)
            self.clock.now_ms = max(self.clock.now_ms, when)
            action()
            ran += 1
            self._pump_all()
        if until_ms is not None:
            self.clock.now_ms = max(self.clock.now_ms, until_ms)
        return ran

    # --- queries ------------------------------------------------------------------------

    def digests(self) -> dict[str, bytes]:
        return {name: node.replica.digest() for name, node in self.nodes.items()}

    def converged(self) -> bool:
        return len(set(self.digests().values())) == 1

    # --- connections --------------------------------------------------------------------

    def _open(self, a: str, b: str) -> None:
        key = frozenset((a, b))
        conn = Connection(a, b)
        for me, other in ((a, b), (b, a)):
            node = self.nodes[me]
            machine = SyncMachine(node.replica, node.replica.assembly, name=f"{me}->{other}")
            conn.ends[me] = _Direction(machine)
            node.gossip.attach(machine)
            machine.start()
        self.connections[key] = conn
        self.log.append(f"{self.now_ms} open {a}-{b}")

    def _close(self, key: frozenset[str], why: str) -> None:
        conn = self.connections[key]
        conn.open = False
        for name, end in conn.ends.items():
            self.nodes[name].gossip.detach(end.machine)
            end.machine.close()
        self.log.append(f"{self.now_ms} close {conn.a}-{conn.b}: {why}")

    def _pump_all(self) -> None:
        for key, conn in list(self.connections.items()):
            if conn.open:
                self._pump(key, conn)

    def _pump(self, key: frozenset[str], conn: Connection) -> None:
        spec = self.links[key]
        for sender, end in conn.ends.items():
            receiver = conn.b if sender == conn.a else conn.a
            while (payload := end.machine.next_message()) is not None:
                latency = self.rng.randint(*spec.latency_ms)
                arrival = max(self.now_ms + latency, end.last_arrival_ms)
                end.last_arrival_ms = arrival
                conn.bytes_moved += len(payload)
                self.at(arrival, self._deliverer(conn, receiver, payload))

    def _deliverer(self, conn: Connection, receiver: str, payload: bytes) -> Callable[[], None]:
        def deliver() -> None:
            if not conn.open:
                return  # the connection closed while the message was in flight
            machine = conn.ends[receiver].machine
            try:
                machine.receive_message(payload)
            except ProtocolError as exc:
                self.log.append(f"{self.now_ms} {receiver} refused a message: {exc}")
            self._handle_events(conn, receiver)

        return deliver

    def _handle_events(self, conn: Connection, name: str) -> None:
        node = self.nodes[name]
        machine = conn.ends[name].machine
        while not isinstance(event := machine.next_event(), NeedData):
            if isinstance(event, Ingest):
                node.gossip.ingest(machine, event.changes)
            elif isinstance(event, Synced):
                conn.synced.add(name)
            elif isinstance(event, PeerClosed):
                key = frozenset((conn.a, conn.b))
                if conn.open:
                    self._close(key, f"{name}'s peer said bye: {event.reason}")
