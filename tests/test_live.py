"""The UI with a real network node beside it, over loopback sockets: peers appear in the
peer list, and a change made on another node shows up without any key press."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from textual.app import App

from assemblymesh.errors import RefusedPeer
from assemblymesh.home import Home
from assemblymesh.live import LiveApp, Network, NodePeers, refusal_words
from assemblymesh.model import commands
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.node import PeerStatus, SyncSummary
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.peers import OFFLINE, REFUSED, PeerInfo, SyncProgress
from tests.tui.conftest import make_trio


async def wait_until(app: App[object], pilot: object, condition: object, rounds: int = 400) -> None:
    """Let the app run (each pause yields to the loop the node shares) until ``condition``."""
    for _ in range(rounds):
        if condition():  # type: ignore[operator]
            return
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError("condition not reached")


async def test_peers_and_remote_changes_reach_the_ui(tmp_path: Path) -> None:
    trio = make_trio(tmp_path)
    rosa, kofi = trio.locals["Rosa"], trio.locals["Kofi"]
    try:
        async with Network(rosa, listen=("127.0.0.1", 0), mdns=False, peers=[]) as net:
            assert net.node is not None and net.node.listen_address is not None
            port = net.node.listen_address[1]
            app = AssemblyApp(trio.homes["Rosa"], peers=net.peers, local=rosa, refold_every=None)
            async with (
                app.run_test(size=(120, 40)) as pilot,
                Network(kofi, listen=("127.0.0.1", 0), mdns=False, peers=[("127.0.0.1", port)]),
            ):
                # The connection first; the book may also list the peer's listening address.
                await wait_until(app, pilot, lambda: any(p.state == "connected" for p in app.peers))
                assert app.peers[0].state == "connected"
                pid = kofi.act(commands.propose, "Rain barrels", "Two by the shed").ref
                await wait_until(
                    app,
                    pilot,
                    lambda: app.digest is not None and pid in app.digest.state.proposals,
                )
                assert rosa.state().proposals[pid].title == "Rain barrels"
    finally:
        trio.close()


class Links:
    """A stand-in for the node's status: what ``peer_status()`` would report."""

    def __init__(self) -> None:
        self.links: list[PeerStatus] = []
        self.refusals: dict[str, tuple[int, str]] = {}
        self.device_at: dict[tuple[str, int], bytes] = {}
        self.address_book = AddressBook(None)
        self.dialling: set[tuple[str, int]] = set()

    def peer_status(self) -> list[PeerStatus]:
        return list(self.links)

    def add_peer(self, host: str, port: int, source: str = "static") -> None:
        self.address_book.add(host, port, source, 1_000)

    async def sync_with(self, host: str, port: int) -> SyncSummary:
        raise RefusedPeer("invite was already used")  # what a refusing peer's node raises


class Heard:
    def __init__(self) -> None:
        self.peers: list[list[PeerInfo]] = []
        self.progress: list[SyncProgress] = []

    def peers_changed(self, peers: Sequence[PeerInfo]) -> None:
        self.peers.append(list(peers))

    def sync_progress(self, progress: SyncProgress) -> None:
        self.progress.append(progress)


def test_a_large_first_sync_shows_progress_until_done() -> None:
    links, heard = Links(), Heard()
    peers = NodePeers(links, lambda: 1_000)
    peers.subscribe(heard)
    link = PeerStatus("ab12@10.0.0.2:7361", "initiator", False, 0, 0, 5000, 100, 100)
    links.links = [link]
    peers.poll()
    assert heard.peers[-1][0].state == "syncing"
    links.links = [replace(link, received=2500)]
    peers.poll()
    links.links = [replace(link, received=5000, synced=True)]
    peers.poll()
    peers.poll()  # nothing more once done
    assert [(p.done, p.total) for p in heard.progress] == [(0, 5000), (2500, 5000), (5000, 5000)]
    assert heard.progress[-1].finished
    assert heard.peers[-1][0].state == "connected" and heard.peers[-1][0].changes_in == 5000


def test_a_small_sync_shows_no_progress_bar() -> None:
    links, heard = Links(), Heard()
    peers = NodePeers(links, lambda: 1_000)
    peers.subscribe(heard)
    links.links = [PeerStatus("cd34@10.0.0.3:7361", "responder", False, 3, 0, 10, 10, 10)]
    peers.poll()
    assert heard.progress == [] and len(heard.peers) == 1


async def test_the_app_runs_the_network_for_an_assembly_made_on_first_run(tmp_path: Path) -> None:
    """The first-run screen creates (or joins) an assembly: its node starts right away."""
    trio = make_trio(tmp_path)
    kofi = trio.locals["Kofi"]
    empty = Home(tmp_path / "new", trio.clock)
    app = LiveApp(empty, mdns=False, listen=("127.0.0.1", 0))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.network is None  # nothing to serve yet: the setup screen shows
            rosa = trio.locals.pop("Rosa")  # as if made on the setup screen
            app.attach(rosa)
            await wait_until(app, pilot, lambda: app.network is not None)
            assert app.network is not None and app.network.node is not None
            address = app.network.node.listen_address
            assert address is not None
            async with Network(kofi, listen=("127.0.0.1", 0), mdns=False, peers=[address]):
                await wait_until(app, pilot, lambda: any(p.state == "connected" for p in app.peers))
    finally:
        await app.shut_down()
        trio.close()


def test_a_peer_is_one_row_whatever_addresses_and_connections_lead_to_it() -> None:
    links, heard = Links(), Heard()
    peers = NodePeers(links, lambda: 1_000)
    peers.subscribe(heard)
    kofi, lena = bytes.fromhex("ab12cd34" * 8), bytes.fromhex("ef56ab78" * 8)
    # Kofi is in the book twice (found on the LAN, and configured by his IPv6 address) and
    # has dialled in; both addresses answered as his device before. Lena is only in the book.
    links.address_book.add("192.168.1.20", 7361, "discovery", 900)
    links.address_book.add("fd00::20", 7361, "static", 800)
    links.address_book.add("192.168.1.30", 7361, "discovery", 700)
    links.device_at = {("192.168.1.20", 7361): kofi, ("fd00::20", 7361): kofi,
                       ("192.168.1.30", 7361): lena}  # fmt: skip
    links.links = [PeerStatus("ab12cd34@192.168.1.20:50123", "responder", True, 4, 2, 0, 9, 9)]
    peers.poll()
    rows = heard.peers[-1]
    assert [(r.name, r.state) for r in rows] == [
        ("ab12cd34@192.168.1.20:50123", "connected"),
        ("192.168.1.30:7361", OFFLINE),
    ]
    # Offline, Kofi's two addresses are still one peer; a second connection is too.
    links.links = []
    peers.poll()
    assert [r.name for r in heard.peers[-1]] == ["192.168.1.20:7361", "192.168.1.30:7361"]
    dialled = PeerStatus("ab12cd34@fd00::20:7361", "initiator", True, 1, 1, 0, 9, 9)
    responder = replace(dialled, name="ab12cd34@192.168.1.20:50999", role="responder")
    links.links = [responder, dialled]
    peers.poll()
    names = [r.name for r in heard.peers[-1]]
    assert names == ["ab12cd34@fd00::20:7361", "192.168.1.30:7361"]
    assert heard.peers[-1][0].address == ("fd00::20", 7361)


def test_refused_addresses_are_listed_with_their_count() -> None:
    links, heard = Links(), Heard()
    peers = NodePeers(links, lambda: 1_000)
    peers.subscribe(heard)
    links.refusals = {"192.0.2.7": (3, "handshake failed: wrong assembly secret")}
    peers.poll()
    (row,) = heard.peers[-1]
    assert (row.name, row.state, row.refusals) == ("192.0.2.7", "refused", 3)
    assert row.reason == "wrong assembly secret"


def test_refusal_reasons_read_as_words() -> None:
    said = {
        "handshake failed: peer refused: not a member of this assembly": (
            "not a member of this assembly"
        ),
        "handshake failed: peer refused: supporter's standing has ended": (
            "supporter's standing has ended"
        ),
        "handshake failed: peer refused: invite was already used": "invite was already used",
        "handshake failed: handshake message failed authentication": (
            "wrong assembly secret: it is not in this assembly, or holds another secret"
        ),
    }
    for reason, words in said.items():
        assert refusal_words(reason) == words


async def test_added_addresses_are_listed_until_connected_with_a_refusal_on_them() -> None:
    links, heard = Links(), Heard()
    peers = NodePeers(links, lambda: 1_000)
    peers.subscribe(heard)
    line = await peers.add_peer("fd00::5", 7400)
    assert line.startswith("[fd00::5]:7400 saved")
    links.refusals = {"fd00::5": (1, "handshake failed: peer refused: invite was already used")}
    peers.poll()
    (row,) = heard.peers[-1]
    assert (row.name, row.state, row.address) == ("[fd00::5]:7400", REFUSED, ("fd00::5", 7400))
    assert row.reason == "invite was already used"
    links.refusals = {}
    peers.poll()
    assert heard.peers[-1][0].state == OFFLINE
    (outcome,) = await peers.sync_now(None)
    assert outcome == "[fd00::5]:7400: invite was already used"


def test_the_ui_log_file_is_capped(tmp_path: Path) -> None:
    import logging
    import logging.handlers

    from assemblymesh.live import LOG_BACKUPS, LOG_MAX_BYTES, _log_to_file

    path = tmp_path / "assemblymesh.log"
    handler = _log_to_file(path)
    try:
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        log = logging.getLogger("assemblymesh.net")
        for i in range(3 * LOG_MAX_BYTES // 100):
            log.warning("refused 10.0.0.%d: handshake failed: %s", i % 250, "x" * 60)
        files = sorted(tmp_path.glob("assemblymesh.log*"))
        assert len(files) == 1 + LOG_BACKUPS
        assert all(f.stat().st_size <= LOG_MAX_BYTES for f in files)
    finally:
        logging.getLogger("assemblymesh").removeHandler(handler)
        handler.close()


async def test_network_and_serve_share_one_node_service(tmp_path: Path) -> None:
    from assemblymesh.net.service import NodeService

    trio = make_trio(tmp_path)
    rosa, kofi = trio.locals["Rosa"], trio.locals["Kofi"]
    try:
        async with Network(rosa, listen=("127.0.0.1", 0), mdns=False, peers=[]) as net:
            assert isinstance(net.service, NodeService) and net.service.listening
            assert net.node is not None and net.node.listen_address is not None
            taken = net.node.listen_address
            # The port is taken (as by `assemblymesh serve` on this home): dial out only.
            async with Network(kofi, listen=taken, mdns=False, peers=[taken]) as other:
                assert other.service is not None and not other.service.listening
                assert other.node is not None and other.node.listen_address is None
                assert other.node.dialling == {taken}
    finally:
        trio.close()


async def test_node_service_dials_each_discovered_address_once(tmp_path: Path) -> None:
    from assemblymesh.net.discovery import PeerAddress
    from assemblymesh.net.service import NodeService

    trio = make_trio(tmp_path)
    rosa = trio.locals["Rosa"]
    try:
        async with NodeService(rosa.node_config(("127.0.0.1", 0)), mdns=False) as service:
            peer = PeerAddress(b"\x01" * 32, "127.0.0.1", 9)
            service._found(peer)
            service._found(peer)  # the advertisement repeats (label rotation)
            assert service.node.dialling == {("127.0.0.1", 9)}
    finally:
        trio.close()


async def test_a_peer_added_from_the_ui_is_saved_dialled_and_synced_now(tmp_path: Path) -> None:
    """Over loopback: ``NodePeers.add_peer`` saves the address and the running node dials
    it; ``sync_now`` syncs once with a peer it is not connected to, and says a connected
    one needs nothing."""
    trio = make_trio(tmp_path)
    rosa, kofi, amara = (trio.locals[n] for n in ("Rosa", "Kofi", "Amara"))
    try:
        async with (
            Network(rosa, listen=("127.0.0.1", 0), mdns=False, peers=[]) as serving,
            Network(kofi, listen=("127.0.0.1", 0), mdns=False, peers=[]) as dialling,
        ):
            assert serving.node is not None and serving.node.listen_address is not None
            assert dialling.node is not None and dialling.peers is not None
            port = serving.node.listen_address[1]
            node = dialling.node
            line = await dialling.peers.add_peer("127.0.0.1", port)
            assert line == f"127.0.0.1:{port} saved; the node dials it and keeps reconnecting"
            assert ("127.0.0.1", port) in [
                (e.host, e.port) for e in AddressBook(kofi.address_book_path).entries()
            ]
            await asyncio.wait_for(node.wait_for(lambda: any(c[2] for c in node.connections())), 10)
            (said,) = await dialling.peers.sync_now(("127.0.0.1", port))
            assert said == f"127.0.0.1:{port}: connected, changes already flow both ways"

            pid = rosa.act(commands.propose, "Rain barrels", "Two by the shed").ref
            async with Network(amara, listen=("127.0.0.1", 0), mdns=False, peers=[]) as once:
                assert once.peers is not None
                (said,) = await once.peers.sync_now(("127.0.0.1", port))
                assert said.startswith(f"127.0.0.1:{port}: received ")
            assert pid in amara.state().proposals
    finally:
        trio.close()


def test_every_admission_refusal_is_shown_in_the_chosen_language() -> None:
    """What model.queries refuses a peer with reaches the peers table in words of the
    chosen language: a refusal added there without words here fails this test."""
    import inspect
    import re

    from assemblymesh import i18n
    from assemblymesh.live import refusal_words
    from assemblymesh.model import queries

    source = inspect.getsource(queries)
    reasons = re.findall(r'Verdict\(\s*Admission\.REFUSE,\s*N_\("([^"]+)"', source)
    assert len(reasons) >= 7
    try:
        i18n.set_language("es")
        for reason in reasons:
            shown = refusal_words(f"handshake failed: peer refused: {reason}")
            assert shown != reason, reason
    finally:
        i18n.set_language("en")
    assert refusal_words("handshake failed: not a member of this assembly") == (
        "not a member of this assembly"
    )
