"""Layout at 80x24 and 120x40, on the demo story with a scripted clock and counted ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.demo import build_demo
from tests.tui.conftest import START, ids_by_name, settle


def demo_app(root: Path) -> AssemblyApp:
    demo = build_demo(root, start_ms=START, ids=ids_by_name())
    return AssemblyApp(
        demo.cast.you, peers=demo.peers, local=demo.cast.hub, refold_every=None, plain=False
    )


def before(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        assert isinstance(pilot.app, AssemblyApp)
        await settle(pilot.app, pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot.app, pilot)

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_home(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=size, run_before=before())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_meeting(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=size, run_before=before("2"))


def test_history(snap_compare: Any, tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=before("5"))


def test_setup_join_error_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """A damaged code: the error right under the code field, on screen at 80x24."""
    from textual import events

    from assemblymesh.home import Home

    app = AssemblyApp(Home(tmp_path / "new"), refold_every=None, poll_every=None)

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        assert await pilot.click("#--content-tab-join")
        await pilot.pause()
        app.post_message(events.Paste("am1:" + "a" * 120 + "\n" + "b" * 100))
        await pilot.press("tab", *"Noor", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
