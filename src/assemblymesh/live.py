"""The UI with the network: one event loop runs the node, LAN discovery and the app.

``assemblymesh`` (and ``assemblymesh tui``) start here. The UI never touches sockets or
keys: it gets a ``PeerStatusSource`` (``NodePeers``, fed by the node) and the replica's
change notifications. If another process already serves this home (``assemblymesh serve``
holds the port), this node only dials out; the two share the store, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from assemblymesh.errors import AssemblyMeshError, RemoteError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.i18n import N_, _, ngettext
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.discovery import Discovery
from assemblymesh.net.lifecycle import Lifecycle
from assemblymesh.net.node import ALL_ADDRESSES, DEFAULT_PORT, Node, PeerStatus, SyncSummary
from assemblymesh.net.service import NodeService
from assemblymesh.servelock import served
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.peers import (
    CONNECTED,
    LAN,
    OFFLINE,
    REFUSED,
    STATIC,
    SYNCING,
    PeerInfo,
    PeerListener,
    SyncProgress,
)

log = logging.getLogger("assemblymesh.net")
POLL_S = 1.0
SYNC_NOW_TIMEOUT_S = 20.0  # one "sync now" with one address, connecting included

# What the node records when it refuses a connection, as a person would say it.
_REFUSAL_WORDS = {
    "handshake message failed authentication": N_(
        "wrong assembly secret: it is not in this assembly, or holds another secret"
    ),
    "peer closed the connection during the handshake": N_(
        "it hung up during the handshake (it may have refused this node)"
    ),
    "handshake timed out": N_("the handshake took too long"),
    "too many connections": N_("this node had no room for another connection"),
}


def refusal_words(reason: str) -> str:
    """The node's refusal reason in words: ``handshake failed: peer refused: invite was
    already used`` -> ``invite was already used``."""
    text = reason.removeprefix("handshake failed: ").removeprefix("peer refused: ")
    # model.queries words its admission refusals as their own messages (marked there).
    return _(_REFUSAL_WORDS.get(text, text)) if text else text


def show_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _dialled(link: PeerStatus) -> tuple[str, int] | None:
    """The address this node dialled for ``link`` (a peer that dialled in has none)."""
    if link.role != "initiator":
        return None
    host, _colon, port = link.name.partition("@")[2].rpartition(":")
    return (host, int(port)) if port.isdigit() else None


class NodePeers:
    """The node's connections as the UI's peer list and sync progress, once a second."""

    # A first sync this large shows a progress bar; smaller ones finish before it would.
    PROGRESS_FROM = 500

    def __init__(self, node: StatusSource, clock: Callable[[], int]) -> None:
        self._node = node
        self._clock = clock
        self._listeners: list[PeerListener] = []
        self._last: list[PeerInfo] = []
        self._synced_at: dict[str, int] = {}
        self._showing: set[str] = set()  # links whose progress is on screen

    def peers(self) -> list[PeerInfo]:
        return self._peers(self._node.peer_status())

    def _peers(self, links: list[PeerStatus]) -> list[PeerInfo]:
        now = self._clock()
        result: list[PeerInfo] = []
        devices: dict[str, int] = {}  # short device id -> its row in ``result``
        for link in links:
            if link.synced:
                self._synced_at.setdefault(link.name, now)
            row = PeerInfo(
                name=link.name,
                transport=STATIC,
                state=CONNECTED if link.synced else SYNCING,
                last_sync_ms=self._synced_at.get(link.name),
                changes_in=link.received,
                changes_out=link.sent,
                address=_dialled(link),
            )
            device = link.name.partition("@")[0]
            at = devices.get(device)
            if at is None:  # one row per device: a second connection to it is the same peer
                devices[device] = len(result)
                result.append(row)
            elif row.address is not None and result[at].address is None:
                result[at] = row  # the one we dialled can be synced with again
        refusals = dict(self._node.refusals)
        result.extend(self._unconnected(result, devices, refusals))
        # Addresses whose connections this node refused (wrong secret, not a member, ...).
        for host, (count, reason) in sorted(refusals.items()):
            words = refusal_words(reason)
            result.append(PeerInfo(host, STATIC, REFUSED, None, refusals=count, reason=words))
        return result

    def _unconnected(
        self,
        connected: list[PeerInfo],
        devices: dict[str, int],
        refusals: dict[str, tuple[int, str]],
    ) -> list[PeerInfo]:
        """Address-book entries with no live connection, one row per peer: an address at
        which a device already listed answered before is that device's, not another peer
        (found on the LAN and configured, or reachable at two addresses). A refused host's
        reason goes on its entry (and is taken out of ``refusals``)."""
        live = {peer.address for peer in connected}
        known = self._node.device_at
        listed = set(devices)
        rows = []
        for entry in self._node.address_book.entries():
            address = (entry.host, entry.port)
            device = known.get(address)
            short = device.hex()[:8] if device is not None else None
            if address in live or (short is not None and short in listed):
                continue
            if short is not None:
                listed.add(short)
            transport = LAN if entry.source == "discovery" else STATIC
            count, reason = refusals.pop(entry.host, (0, ""))
            state = REFUSED if count else OFFLINE
            rows.append(
                PeerInfo(
                    show_address(*address),
                    transport,
                    state,
                    self._synced_at.get(show_address(*address)),
                    refusals=count,
                    reason=refusal_words(reason) if reason else "",
                    address=address,
                )
            )
        return rows

    async def add_peer(self, host: str, port: int) -> str:
        """Save ``host:port`` in the address book; the node dials it until it stops."""
        self._node.add_peer(host, port)
        self.poll()
        return _("{address} saved; the node dials it and keeps reconnecting").format(
            address=show_address(host, port)
        )

    async def sync_now(self, address: tuple[str, int] | None) -> list[str]:
        """One sync with ``address`` (None: every address in the book), one line each."""
        targets = [address] if address is not None else self._known()
        if not targets:
            return [_("no peer addresses known yet: add one (a)")]
        lines = [await self._sync_one(host, port) for host, port in targets]
        self.poll()
        return lines

    def _known(self) -> list[tuple[str, int]]:
        book = [(e.host, e.port) for e in self._node.address_book.entries()]
        return book + sorted(set(self._node.dialling) - set(book))

    async def _sync_one(self, host: str, port: int) -> str:
        where = show_address(host, port)
        if any(link.synced and _dialled(link) == (host, port) for link in self._node.peer_status()):
            return _("{address}: connected, changes already flow both ways").format(address=where)
        try:
            done = await asyncio.wait_for(self._node.sync_with(host, port), SYNC_NOW_TIMEOUT_S)
        except TimeoutError:
            return _("{address}: no answer within {seconds} s").format(
                address=where, seconds=f"{SYNC_NOW_TIMEOUT_S:g}"
            )
        except (RemoteError, OSError) as exc:
            said = str(exc).removeprefix(f"sync with {host}:{port} ")
            return f"{where}: {refusal_words(said)}"
        received = ngettext(
            "{address}: received {received} change ({applied} new), sent {sent}",
            "{address}: received {received} changes ({applied} new), sent {sent}",
            done.received,
        )
        return received.format(
            address=where, received=done.received, applied=done.applied, sent=done.sent
        )

    def subscribe(self, listener: PeerListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def poll(self) -> None:
        """Tell listeners what changed since the last poll."""
        links = self._node.peer_status()
        current = self._peers(links)
        if current != self._last:
            self._last = current
            for listener in list(self._listeners):
                listener.peers_changed(current)
        for link in links:
            big = link.expected >= self.PROGRESS_FROM
            if big and (not link.synced or link.name in self._showing):
                total = link.expected
                done = total if link.synced else min(link.received, total)
                label = _("syncing with {peer}").format(peer=link.name)
                progress = SyncProgress(label, done, total)
                for listener in list(self._listeners):
                    listener.sync_progress(progress)
                if link.synced:
                    self._showing.discard(link.name)
                else:
                    self._showing.add(link.name)

    async def watch(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(POLL_S)


class StatusSource(Protocol):
    """What ``NodePeers`` needs of the node (``Node`` is one)."""

    refusals: dict[str, tuple[int, str]]
    device_at: dict[tuple[str, int], bytes]  # who answered at each address dialled

    def peer_status(self) -> list[PeerStatus]: ...

    def add_peer(self, host: str, port: int, source: str = "static") -> None: ...

    async def sync_with(self, host: str, port: int) -> SyncSummary: ...

    @property
    def address_book(self) -> AddressBook: ...

    @property
    def dialling(self) -> set[tuple[str, int]]: ...


LOG_MAX_BYTES = 1024 * 1024  # the UI's log file, then one older copy: 2 MiB on disk at most
LOG_BACKUPS = 1


def _log_to_file(path: Path) -> logging.Handler:
    """The terminal belongs to the UI: network logs go to a size-capped file in the home."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    root = logging.getLogger("assemblymesh")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


class Network(Lifecycle):
    """The node, LAN discovery and the UI's peer list for one assembly, started and
    stopped together (``async with Network(local) as net: ...``). The node and discovery
    are one ``NodeService``, the same composition ``assemblymesh serve`` runs."""

    def __init__(
        self,
        local: LocalAssembly,
        listen: tuple[str, int] = (ALL_ADDRESSES, DEFAULT_PORT),
        mdns: bool = True,
        peers: list[tuple[str, int]] | None = None,
    ) -> None:
        self.local = local
        self.listen = listen
        self.mdns = mdns
        # The node dials the address book's candidates itself; these are static on top.
        self.static = [] if peers is None else peers
        self.service: NodeService | None = None
        self.peers: NodePeers | None = None
        self._watcher: asyncio.Future[None] | None = None
        self.note = ""  # why this node does not listen, when it does not

    @property
    def node(self) -> Node | None:
        return self.service.node if self.service is not None else None

    @property
    def discovery(self) -> Discovery | None:
        return self.service.discovery if self.service is not None else None

    async def start(self) -> None:
        listen: tuple[str, int] | None = self.listen
        if served(self.local.directory):
            # `assemblymesh serve` runs for this assembly: it accepts peers; we share its store.
            self.note = _("'{command}' runs for this assembly: this window only dials out").format(
                command="assemblymesh serve"
            )
            listen = None
        service = NodeService(self.local.node_config(listen, self.static), mdns=self.mdns)
        await service.start()
        if listen is not None and not service.listening:
            host, port = self.listen
            self.note = _("not listening on {address}: this window only dials out").format(
                address=f"{host}:{port}"
            )
            log.info("%s", self.note)
        self.service = service
        self.peers = NodePeers(service.node, self.local.clock)
        self._watcher = asyncio.ensure_future(self.peers.watch())
        # The app folds after each change and hands each fold to the root (AssemblyApp._fold),
        # so the handshake answers from it without a second fold.
        self.local.refolded_elsewhere = True

    async def stop(self) -> None:
        self.local.refolded_elsewhere = False
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self.service is not None:
            await self.service.stop()


class LiveApp(AssemblyApp):
    """The app of ``assemblymesh``: it runs the network for whichever assembly it shows,
    one opened at start or one created or joined on the first-run screen."""

    def __init__(
        self,
        home: Home,
        assembly: str | None = None,
        *,
        network: bool = True,
        mdns: bool = True,
        plain: bool = False,
        listen: tuple[str, int] = (ALL_ADDRESSES, DEFAULT_PORT),
    ) -> None:
        super().__init__(home, assembly, plain=plain)
        # ``run_async`` closes the assembly, after the node has said goodbye through it.
        self.closes_local = False
        self.wants_network = network
        self.mdns = mdns
        self.listen = listen
        self.network: Network | None = None
        self._starting: asyncio.Task[None] | None = None

    @property
    def polls_store(self) -> bool:
        # A running node refreshes the store before every exchange; without one, poll.
        return self.network is None

    def attach(self, local: LocalAssembly) -> None:
        super().attach(local)
        if self.wants_network and self.network is None:
            self._starting = asyncio.ensure_future(self._start_network(local))

    async def stop_network(self) -> None:
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        network, self.network = self.network, None
        if network is not None:
            await network.stop()

    async def _start_network(self, local: LocalAssembly) -> None:
        _log_to_file(self.home.root / "assemblymesh.log")
        network = Network(local, listen=self.listen, mdns=self.mdns)
        try:
            await network.start()
        except AssemblyMeshError as exc:
            self.notify(
                _("working offline: {reason}").format(reason=exc), severity="warning", timeout=10
            )
            return
        self.network = network
        if network.note:
            self.network_note = network.note
            self.notify(network.note, title=_("Network"), severity="warning", timeout=10)
        assert network.peers is not None
        self.peer_source = network.peers
        self._unsubscribe.append(network.peers.subscribe(self))
        self.peers_changed(network.peers.peers())

    async def shut_down(self) -> None:
        """Stop the network, then close the assembly (after the app has exited)."""
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        if self.network is not None:
            await self.network.stop()
        if self.local is not None:
            self.local.close()


async def run_async(
    home: Home,
    assembly: str | None = None,
    *,
    network: bool = True,
    mdns: bool = True,
    plain: bool = False,
    listen: tuple[str, int] = ("0.0.0.0", DEFAULT_PORT),
) -> None:
    app = LiveApp(home, assembly, network=network, mdns=mdns, plain=plain, listen=listen)
    try:
        await app.run_async()
    finally:
        await app.shut_down()
    if app.startup_error is not None:
        raise app.startup_error  # the command line prints it in one line, exit status 1


def run(
    home: Home,
    assembly: str | None = None,
    *,
    network: bool = True,
    mdns: bool = True,
    plain: bool = False,
    listen: tuple[str, int] = ("0.0.0.0", DEFAULT_PORT),
) -> None:
    """Entry point of ``assemblymesh`` and ``assemblymesh tui``."""
    asyncio.run(run_async(home, assembly, network=network, mdns=mdns, plain=plain, listen=listen))
