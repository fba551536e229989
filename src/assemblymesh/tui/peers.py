"""Peer status as the UI sees it: a small protocol the network node implements.

The UI never opens sockets. Whatever runs the network (the node, the demo's simulation, a
test) hands the app a ``PeerStatusSource``; the app subscribes a listener and turns each
call into a Textual message, so a source may call from any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from assemblymesh.i18n import N_, _, label

LAN: Final = "lan"
MESH: Final = "mesh"
STATIC: Final = "static"
TRANSPORTS: Final = (LAN, MESH, STATIC)

CONNECTED: Final = "connected"
SYNCING: Final = "syncing"
IDLE: Final = "idle"
OFFLINE: Final = "offline"
REFUSED: Final = "refused"


@dataclass(frozen=True)
class PeerInfo:
    """One peer this node knows of, and how fresh its data is."""

    name: str
    transport: str  # one of TRANSPORTS
    state: str  # connected, syncing, idle, offline, refused
    last_sync_ms: int | None
    changes_in: int = 0
    changes_out: int = 0
    refusals: int = 0
    reason: str = ""  # why the last connection was refused, in words ("" if none was)
    address: tuple[str, int] | None = None  # where to dial it, when that is known


@dataclass(frozen=True)
class SyncProgress:
    """Progress of one long transfer (a first sync, a bundle import)."""

    label: str
    done: int
    total: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


class PeerListener(Protocol):
    """What a source calls when something changes. Safe to call from any thread."""

    def peers_changed(self, peers: Sequence[PeerInfo]) -> None: ...

    def sync_progress(self, progress: SyncProgress) -> None: ...


class PeerStatusSource(Protocol):
    def peers(self) -> list[PeerInfo]: ...

    def subscribe(self, listener: PeerListener) -> Callable[[], None]:
        """Start telling ``listener`` about changes; returns the unsubscribe function."""
        ...

    async def add_peer(self, host: str, port: int) -> str:
        """Remember ``host:port`` and dial it; returns what happened, in one line."""
        ...

    async def sync_now(self, address: tuple[str, int] | None) -> list[str]:
        """Sync with ``address`` now (None: every known address); one line per address."""
        ...


OFFLINE_NOTE: Final = N_("offline: no network node beside this window")
# A peer's state in words (the states themselves are identifiers).
STATE_LABELS: Final = {
    CONNECTED: N_("connected"),
    SYNCING: N_("syncing"),
    IDLE: N_("idle"),
    OFFLINE: N_("offline"),
    REFUSED: N_("refused"),
}
# How a peer was found, in words (the transports themselves are identifiers).
TRANSPORT_LABELS: Final = {
    # TRANSLATORS: a peer found on the local network (mDNS), shown as "Kofi [lan]".
    LAN: N_("lan"),
    # TRANSLATORS: a peer other peers told of (gossip), shown as "Kofi [mesh]".
    MESH: N_("mesh"),
    # TRANSLATORS: a peer given by hand (--peer HOST:PORT), shown as "Kofi [static]".
    STATIC: N_("static"),
}


def peer_state_label(state: str) -> str:
    """A peer's state in the chosen language (one this version does not know, as it is)."""
    return label(STATE_LABELS, state)


def peer_transport_label(transport: str) -> str:
    """How a peer was found, in the chosen language (an unknown transport as it is)."""
    return label(TRANSPORT_LABELS, transport)


class ManualPeers:
    """A source whose peers are set by hand: the default when no node runs, and for tests."""

    def __init__(self, peers: Sequence[PeerInfo] = ()) -> None:
        self._peers = list(peers)
        self._listeners: list[PeerListener] = []

    def peers(self) -> list[PeerInfo]:
        return list(self._peers)

    def subscribe(self, listener: PeerListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def add_peer(self, host: str, port: int) -> str:
        return _(OFFLINE_NOTE)

    async def sync_now(self, address: tuple[str, int] | None) -> list[str]:
        return [_(OFFLINE_NOTE)]

    def set_peers(self, peers: Sequence[PeerInfo]) -> None:
        self._peers = list(peers)
        for listener in list(self._listeners):
            listener.peers_changed(self.peers())

    def progress(self, progress: SyncProgress) -> None:
        for listener in list(self._listeners):
            listener.sync_progress(progress)
