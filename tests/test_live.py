"""The UI with a real network node beside it, over loopback sockets: peers appear in the
peer list, and a change made on another node shows up without any key press."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from assemblymesh.live import Network
from assemblymesh.model import commands
from assemblymesh.tui.app import AssemblyApp
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
                await wait_until(app, pilot, lambda: len(app.peers) == 1)
                assert app.peers[0].state == "connected"
                pid = kofi.act(commands.propose, "Rain barrels", "Two by the shed")["id"]
                await wait_until(
                    app,
                    pilot,
                    lambda: app.digest is not None and pid in app.digest.state.proposals,
                )
                assert rosa.state().proposals[pid].title == "Rain barrels"
    finally:
        trio.close()
