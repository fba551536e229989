"""The sync screen's peer actions: add an address, sync now, see why a peer was refused.
The peer source is a fake that records what the screen asked of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.widgets import DataTable, Input, Static

from assemblymesh.tui.dialogs import AddressDialog
from assemblymesh.tui.peers import (
    OFFLINE_NOTE,
    REFUSED,
    STATIC,
    ManualPeers,
    PeerInfo,
    PeerListener,
)
from tests.tui.conftest import START, Trio, settle


class RecordingPeers:
    """A peer source that records ``add_peer`` and ``sync_now`` and answers in one line."""

    def __init__(self, peers: Sequence[PeerInfo]) -> None:
        self._peers = list(peers)
        self.added: list[tuple[str, int]] = []
        self.synced: list[tuple[str, int] | None] = []

    def peers(self) -> list[PeerInfo]:
        return list(self._peers)

    def subscribe(self, listener: PeerListener) -> Callable[[], None]:
        return lambda: None

    async def add_peer(self, host: str, port: int) -> str:
        self.added.append((host, port))
        return f"{host}:{port} saved"

    async def sync_now(self, address: tuple[str, int] | None) -> list[str]:
        self.synced.append(address)
        return ["synced"]


KOFI = PeerInfo("ab12@10.0.0.2:7361", STATIC, "connected", START, 5, 3, address=("10.0.0.2", 7361))
REFUSED_HOST = PeerInfo(
    "192.0.2.7", STATIC, REFUSED, None, refusals=3, reason="not a member of this assembly"
)


def toasts(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_adding_a_peer_parses_the_address_and_hands_it_to_the_source(trio: Trio) -> None:
    peers = RecordingPeers([KOFI])
    app = trio.app(peers=peers)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "a")
        await pilot.pause()
        assert isinstance(app.screen, AddressDialog)
        for bad in ("", "host:0", "[fd00::5]:99999", "host:port"):
            app.screen.query_one(Input).value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, AddressDialog)
            error = str(app.screen.query_one("#error", Static).content)
            assert error.endswith("Nothing was saved.") and "\n" not in error
        assert peers.added == []
        app.screen.query_one(Input).value = "[fd00::5]:7400"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert peers.added == [("fd00::5", 7400)]
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one(Input).value = "garden.example"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert peers.added[-1] == ("garden.example", 7361)
        assert "garden.example:7361 saved" in toasts(app)
        await pilot.press("a", "escape")
        await pilot.pause()
        assert len(peers.added) == 2


async def test_sync_now_with_the_chosen_peer_or_all(trio: Trio) -> None:
    peers = RecordingPeers([KOFI, REFUSED_HOST])
    app = trio.app(peers=peers)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "s")
        await app.workers.wait_for_complete()
        await pilot.press("S")
        await app.workers.wait_for_complete()
        assert peers.synced == [("10.0.0.2", 7361), None]
        await pilot.press("down", "s")  # the refused host has no address to dial
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert peers.synced == [("10.0.0.2", 7361), None]
        assert any("no address to sync with" in t for t in toasts(app))


async def test_a_refused_peer_shows_why_in_words(trio: Trio) -> None:
    app = trio.app(peers=RecordingPeers([KOFI, REFUSED_HOST]))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one("#peer-table", DataTable)
        assert [str(cell) for cell in table.get_row_at(1)[2:]] == [
            "refused",
            "never",
            "0",
            "0",
            "3",
            "not a member of this assembly",
        ]
        detail = app.screen.query_one("#peer-detail", Static)
        assert not detail.display  # the connected peer has no refusal to explain
        await pilot.press("down")
        await pilot.pause()
        assert detail.display
        assert str(detail.content) == (
            "192.0.2.7 was refused 3 times, the last because: not a member of this assembly"
        )


async def test_without_a_network_node_the_screen_says_so_in_one_line(trio: Trio) -> None:
    app = trio.app(peers=ManualPeers([KOFI]))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "S")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert OFFLINE_NOTE in toasts(app)
