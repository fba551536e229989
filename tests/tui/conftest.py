"""Fixtures for the UI tests: real homes with deterministic clocks and act ids."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from assemblymesh.home import Home, LocalAssembly, Recorded
from assemblymesh.model import AssemblyState, commands
from assemblymesh.model import meeting_commands as MC
from assemblymesh.model import rules as R
from assemblymesh.model.state import Rules
from assemblymesh.sim.memory import pump
from assemblymesh.tui.app import AssemblyApp

START = 1_700_000_040_000  # a whole minute, so ms ticks never change what is shown
DAY = R.DAY_MS


class TickClock:
    """A clock that moves one millisecond per reading: deterministic, and no equal ts."""

    def __init__(self, start: int = START) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def id_counter(prefix: int) -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix:02x}{next(numbers):014x}"


def ids_by_name() -> Callable[[str], Callable[[], str]]:
    made: dict[str, Callable[[], str]] = {}

    def for_name(name: str) -> Callable[[], str]:
        if name not in made:
            made[name] = id_counter(len(made) + 1)
        return made[name]

    return for_name


@dataclass
class Trio:
    """Rosa (founder, facilitator), Kofi and Amara, each with their own home."""

    root: Path
    clock: TickClock
    homes: dict[str, Home]
    locals: dict[str, LocalAssembly]
    ids: Callable[[str], Callable[[], str]]

    @property
    def rosa(self) -> LocalAssembly:
        return self.locals["Rosa"]

    def sync(self) -> None:
        """Everyone sends everyone what they lack (twice covers the hub-and-spoke case)."""
        for _ in range(2):
            for a in self.locals.values():
                for b in self.locals.values():
                    if a is not b:
                        pump(a.replica, b.replica)

    def act(self, name: str, command: Callable[..., Any], *args: object) -> Recorded[Any]:
        self.sync()
        recorded = self.locals[name].act(command, *args)
        self.sync()
        return recorded

    def member(self, name: str) -> str:
        return self.rosa.state().find_member(name).id

    def app(self, name: str = "Rosa", **kwargs: object) -> AssemblyApp:
        """An app on ``name``'s home. The fixture's handle is closed: the app opens its own."""
        self.locals.pop(name).close()
        return AssemblyApp(
            self.homes[name],
            new_id=self.ids(name + "/app"),
            **{"refold_every": None, "poll_every": None, **kwargs},  # type: ignore[arg-type]
        )

    def reopen(self, name: str = "Rosa") -> AssemblyState:
        """Fold the store as it is on disk now, through a fresh LocalAssembly."""
        local = self.homes[name].open()
        try:
            return local.state()
        finally:
            local.close()

    def close(self) -> None:
        for local in self.locals.values():
            local.close()


def make_trio(root: Path, quorum: int = 2) -> Trio:
    clock = TickClock()
    ids = ids_by_name()
    homes = {n: Home(root / n.lower(), clock) for n in ("Rosa", "Kofi", "Amara")}
    rules = Rules(cooling_off_ms=3 * DAY, quorum=quorum, review_period_ms=30 * DAY)
    rosa = homes["Rosa"].create("Garden co-op", "Rosa", "We tend the garden.", rules, ids("Rosa"))
    trio = Trio(root, clock, homes, {"Rosa": rosa}, ids)
    for name in ("Kofi", "Amara"):
        code = rosa.issue_invite().encode()
        trio.locals[name] = homes[name].join(code, name, ids(name))
        trio.sync()
    return trio


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[Trio]:
    t = make_trio(tmp_path)
    try:
        yield t
    finally:
        t.close()


def proposal_in_positions(trio: Trio, title: str = "Compost bins") -> tuple[str, str]:
    """A proposal by Kofi with a round in the positions phase; returns (proposal, round)."""
    pid = str(trio.act("Kofi", commands.propose, title, "Two bins by the shed.").ref)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    return pid, rid


def sitting(
    trio: Trio,
    title: str = "Autumn",
    topic: str = "Water rota",
    question: str | None = "Who has keys?",
    place: str = "Shed",
    stack: str = R.STACK_MEETING,
) -> str:
    """A meeting Rosa facilitates and Kofi takes notes for, in session: Kofi's topic on the
    agenda, then Amara's question (unless ``question`` is None); returns its id."""
    schedule = partial(
        MC.schedule_meeting, title=title, place=place, facilitator="Rosa",
        note_taker="Kofi", stack=stack,
    )  # fmt: skip
    mid = str(trio.act("Rosa", schedule, START + 3_600_000).ref)
    trio.act("Kofi", MC.add_item, mid, R.ITEM_TOPIC, topic)
    if question is not None:
        trio.act("Amara", MC.add_item, mid, R.ITEM_QUESTION, question)
    trio.act("Rosa", MC.advance_meeting, mid, R.IN_SESSION)
    return mid


async def settle(app: AssemblyApp, pilot: object) -> None:
    """Wait until the fold has landed and the screens drew it (no sleeps: pump messages)."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.digest is not None and not app.busy:
            await pilot.pause()
            return
    raise AssertionError("the app never finished folding")


def text_of(static: Static) -> str:
    """A Static's content as plain text, as drawn, whatever renderable it holds."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text().strip()


def shown(app: AssemblyApp, selector: str) -> str:
    """The content of the Static ``selector`` on the current screen, as plain text."""
    return text_of(app.screen.query_one(selector, Static))
