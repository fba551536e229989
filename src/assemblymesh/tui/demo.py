"""``assemblymesh demo``: a disposable assembly in the middle of a realistic meeting.

Every member is a real ``Home`` in the demo directory, admitted through a real invite, and
their changes travel between replicas in memory (``missing_for`` / ``ingest``), so what the
app shows was folded from signed changes exactly as on a real node. Simulated peers report
their status and now and then deliver a member's new position or a draft edit.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from assemblymesh.clock import wall_clock_ms
from assemblymesh.home import Home, LocalAssembly, Recorded, random_act_id
from assemblymesh.i18n import _
from assemblymesh.live import refusal_words
from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.model.acts import Act
from assemblymesh.model.state import Rules
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.draft import draft_key
from assemblymesh.tui.peers import (
    CONNECTED,
    IDLE,
    LAN,
    MESH,
    OFFLINE,
    OFFLINE_NOTE,
    REFUSED,
    STATIC,
    SYNCING,
    PeerInfo,
    PeerListener,
    SyncProgress,
)

DAY = R.DAY_MS
HOUR = 3_600_000
YOU = "Rosa"
ASSEMBLY = "Riverside Housing Co-op"
CHARTER = (
    "We run our six buildings together: upkeep, shared spaces, rents and the garden. "
    "Decisions are made by consent at the monthly assembly."
)
MEMBERS = ("Kofi", "Amara", "Jonas", "Lena", "Noor", "Mateo", "Ines")
RULES = Rules(cooling_off_ms=3 * DAY, quorum=4, review_period_ms=30 * DAY)
STORY_DAYS = 40


class DemoClock:
    """Scripted time while the story is written, then the wall clock.

    Every reading while scripted is one millisecond later than the last, so acts never
    share a timestamp and the fold's order is the story's order.
    """

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms
        self.live = False

    def __call__(self) -> int:
        if self.live:
            self.now = max(self.now + 1, wall_clock_ms())
        else:
            self.now += 1
        return self.now

    def at(self, ms: int) -> None:
        self.now = max(self.now, ms)


class Cast:
    """The demo's people: the local facilitator's assembly (the hub) and the members'."""

    def __init__(
        self,
        root: Path,
        clock: DemoClock,
        ids: Callable[[str], Callable[[], str]] | None = None,
        scripted: bool = False,
    ) -> None:
        self.root = root
        self.clock = clock
        # Act ids and keys per member: random by default; a scripted demo (tests) fixes
        # both, so its screens are the same on every run.
        self.ids = ids or (lambda _name: random_act_id)
        self.scripted = scripted
        self.you = Home(root / "home", clock, self.entropy(YOU))
        self.hub: LocalAssembly | None = None
        self.members: dict[str, LocalAssembly] = {}

    def entropy(self, name: str) -> Callable[[int], bytes]:
        if not self.scripted:
            return os.urandom
        return random.Random(f"demo/{name}").randbytes

    def found(self) -> LocalAssembly:
        self.hub = self.you.create(ASSEMBLY, YOU, CHARTER, RULES, new_id=self.ids(YOU))
        self.members[YOU] = self.hub
        return self.hub

    def admit(self, name: str) -> LocalAssembly:
        assert self.hub is not None
        code = self.hub.issue_invite(("192.168.1.20:7700",)).encode()
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        home = Home(self.root / "peers" / slug, self.clock, self.entropy(name))
        local = home.join(code, name, self.ids(name))
        self.members[name] = local
        self.exchange(name)
        return local

    def exchange(self, name: str) -> int:
        """Sync one member with the hub both ways; returns changes the hub received."""
        assert self.hub is not None
        local = self.members[name]
        if local is self.hub:
            return 0
        received = local.exchange_with(self.hub)
        self.hub.exchange_with(local)
        return received

    def act(self, name: str, command: Callable[..., Act], *args: Any) -> Recorded[Act]:
        self.exchange(name)
        act = self.members[name].act(command, *args)
        self.exchange(name)
        return act

    def draft(self, name: str, key: str, text: str) -> None:
        """Append ``text`` to a shared draft as member ``name``."""
        self.exchange(name)
        self.members[name].append_to_draft(key, text)
        self.exchange(name)

    def member_id(self, name: str) -> str:
        assert self.hub is not None
        return self.hub.state().find_member(name).id

    def close(self) -> None:
        for local in self.members.values():
            local.close()
        self.members.clear()


def _round(cast: Cast, proposal: str, to_phase: str) -> str:
    rid = cast.act(YOU, commands.open_round, proposal, None).ref
    phases = (R.QUESTIONS, R.REACTIONS, R.POSITIONS)
    for _step in range(phases.index(to_phase)):
        cast.act(YOU, commands.advance_round, rid)
    return rid


def _positions(cast: Cast, rid: str, stances: Sequence[tuple[str, str, str]]) -> None:
    for name, kind, reason in stances:
        cast.act(name, commands.position, rid, kind, reason, None)


def write_story(cast: Cast, start: int) -> str:
    """The assembly's forty days; returns the round the meeting is working on."""
    clock = cast.clock

    def day(d: float) -> None:
        clock.at(start + int(d * DAY))

    def propose(d: float, who: str, title: str, body: str) -> str:
        day(d)
        return cast.act(who, commands.propose, title, body).ref

    cast.found()
    for name in MEMBERS:
        cast.admit(name)
    # During the founding period the founder appoints a second facilitator directly.
    cast.act(YOU, commands.grant_role, cast.member_id("Kofi"), R.FACILITATOR, start + 365 * DAY)
    consents = [(n, R.CONSENT, "") for n in ("Kofi", "Jonas", "Noor", "Ines")]

    quiet = propose(
        1,
        "Amara",
        "Quiet hours after 22:00",
        "From 22:00 to 07:00 we keep noise down in the stairwells and the yard.\n"
        "Parties are fine on Fridays and Saturdays until midnight.",
    )
    rid = _round(cast, quiet, R.POSITIONS)
    _positions(cast, rid, [*consents, ("Lena", R.CONCERN, "What about weekend exceptions?")])
    cast.act(YOU, commands.close_round, rid)

    solar = propose(
        8,
        "Kofi",
        "Solar panels on the roof",
        "Panels on the roofs of blocks A and C; the surplus is sold to the grid.",
    )

    bikes = propose(
        10,
        "Jonas",
        "Bike shed in the courtyard",
        "Build a roofed bike shed for 30 bikes along the north wall of the courtyard.",
    )
    rid = _round(cast, bikes, R.POSITIONS)
    objection = "The north wall is the fire exit route; the shed would block it."
    _positions(cast, rid, [*consents[:3], ("Lena", R.OBJECT, objection)])
    cast.act(YOU, commands.close_round, rid)

    workday = propose(
        12,
        "Mateo",
        "Monthly work day (mandatory)",
        "Every member works on the buildings on the first Saturday of the month.",
    )
    rid = _round(cast, workday, R.POSITIONS)
    _positions(cast, rid, [("Ines", R.OBJECT, "Mandatory excludes people with care duties.")])
    cast.act(YOU, commands.close_round, rid)
    cast.act(YOU, commands.reject, workday, "Replaced by a voluntary rota (see Garden rota).")

    minibus = propose(14, "Noor", "Sell the old minibus", "Sell the minibus; it failed its MOT.")
    day(15)
    cast.act("Noor", commands.withdraw, minibus)

    laundry = propose(
        17,
        "Ines",
        "Laundry room booking",
        "A paper sheet on the laundry door; book two-hour slots, two a week.",
    )
    rid = _round(cast, laundry, R.POSITIONS)
    _positions(cast, rid, [*consents, ("Amara", R.STAND_ASIDE, "I use the laundrette.")])
    cast.act(YOU, commands.close_round, rid)

    tools = propose(
        20,
        "Lena",
        "Shared tool library",
        "A shelf of shared tools in the cellar.\nBorrow with a card on the door.",
    )
    day(25)
    cast.act(
        "Lena",
        commands.amend,
        tools,
        "A locked cabinet of shared tools in the cellar.\nBorrow with a card on the door.\n"
        "Keys with the stewards of each building.",
        "Lock it: the drill went missing",
    )

    fund = propose(
        30,
        "Amara",
        "Rent solidarity fund",
        "Each household adds 5 EUR a month to a fund that covers members' rent in hard months.",
    )
    _round(cast, fund, R.QUESTIONS)
    garden = propose(
        31,
        "Noor",
        "Garden rota",
        "Two households a week water and weed the garden, on a shared rota.",
    )
    _round(cast, garden, R.REACTIONS)

    lights = propose(
        32,
        "Mateo",
        "Courtyard lighting",
        "Bright LED floodlights on every corner of the courtyard, on all night.",
    )
    rid = _round(cast, lights, R.POSITIONS)
    _positions(cast, rid, [("Noor", R.OBJECT, "Too bright for the bedrooms facing the yard.")])
    cast.act(YOU, commands.close_round, rid)

    heat = propose(
        33,
        "Kofi",
        "Heat pump for block B",
        "Replace the gas boiler of block B with an air-source heat pump.\n"
        "Budget: 18,000 EUR from the upkeep reserve.\n"
        "Installer: chosen by the stewards.",
    )
    day(34)
    cast.act(
        "Mateo",
        commands.amend,
        lights,
        "Warm, motion-sensing lights at the two entrances and the bike racks, off at midnight.",
        "Integrates Noor's objection",
    )
    day(35)
    cast.act(
        "Kofi",
        commands.amend,
        heat,
        "Replace the gas boiler of block B with an air-source heat pump.\n"
        "Budget: 16,500 EUR from the upkeep reserve, after the energy audit.\n"
        "Outdoor unit on the roof, away from bedroom windows.\n"
        "Installer: chosen by the stewards.",
        "After the energy audit",
    )

    day(38.5)
    rid = _round(cast, solar, R.POSITIONS)
    _positions(cast, rid, [*consents, ("Mateo", R.CONSENT, "")])
    day(39)
    cast.act(YOU, commands.close_round, rid)

    day(39.8)
    meeting = cast.act(YOU, commands.open_round, heat, None).ref
    asked = "How loud is the outdoor unit at night?"
    q = cast.act("Amara", commands.comment, meeting, R.QUESTION, asked).ref
    said = "35 dB at one metre; the roof is 12 m from the nearest window."
    cast.act("Kofi", commands.comment, meeting, R.ANSWER, said, q)
    cast.act(YOU, commands.advance_round, meeting)
    reaction = "Good that the energy audit came first."
    cast.act("Jonas", commands.comment, meeting, R.REACTION, reaction)
    cast.act(YOU, commands.advance_round, meeting)
    noise = "Noise near the bedrooms of block B; check the unit's rating."
    _positions(
        cast,
        meeting,
        [
            ("Kofi", R.CONSENT, ""),
            ("Amara", R.CONCERN, noise),
            ("Jonas", R.STAND_ASIDE, "I moved out of block B."),
        ],
    )
    day(39.85)
    # Mateo is in the room without his phone: the facilitator records for him.
    cast.act(YOU, commands.position, meeting, R.CONSENT, "Said so in the room.", "Mateo")

    day(39.9)
    cast.draft("Lena", draft_key(None), "Pets in the buildings\n\nCats and small dogs welcome.")
    cast.draft("Ines", draft_key(None), "\nNo pets in the laundry room or the shared kitchen.")
    for name in cast.members:
        cast.exchange(name)
    return meeting


# --- simulated peers -----------------------------------------------------------------------


@dataclass
class Beat:
    """One thing a peer does, later: write (optional) and report."""

    peer: str
    run: Callable[[Cast], None] | None
    state: str = CONNECTED


class SimulatedPeers:
    """A ``PeerStatusSource`` over the demo's members, driven by the app's timer.

    ``step()`` plays the next beat: a member states a position or edits the draft in their
    own replica, the change is delivered to this node's replica by ingest (so the app sees
    a real remote change arrive), and the peer table is updated.
    """

    TRANSPORT: ClassVar[dict[str, str]] = {
        "Kofi": LAN, "Amara": LAN, "Jonas": MESH, "Lena": LAN,
        "Noor": STATIC, "Mateo": MESH, "Ines": LAN,
    }  # fmt: skip

    def __init__(self, cast: Cast, meeting_round: str) -> None:
        self.cast = cast
        now = cast.clock()
        self._peers: dict[str, PeerInfo] = {}
        for i, name in enumerate(MEMBERS):
            state = OFFLINE if name == "Noor" else (IDLE if name == "Jonas" else CONNECTED)
            last = now - (3 * HOUR if state == OFFLINE else (i + 1) * 40_000)
            self._peers[name] = PeerInfo(name, self.TRANSPORT[name], state, last, 12 * (i + 3), 9)
        self._peers["10.0.4.7:7700"] = PeerInfo(
            "10.0.4.7:7700",
            STATIC,
            REFUSED,
            None,
            0,
            0,
            2,
            refusal_words("not a member of this assembly"),
        )
        self._listeners: list[PeerListener] = []
        self._beats = iter(self._script(meeting_round))

    def _script(self, rid: str) -> Iterator[Beat]:
        def stance(name: str, kind: str, reason: str) -> Callable[[Cast], None]:
            def run(cast: Cast) -> None:
                cast.act(name, commands.position, rid, kind, reason, None)

            return run

        def edit(name: str, text: str) -> Callable[[Cast], None]:
            return lambda cast: cast.draft(name, draft_key(None), text)

        yield Beat("Lena", stance("Lena", R.CONSENT, ""))
        yield Beat("Ines", edit("Ines", "\nDogs on a lead in the courtyard."))
        yield Beat("Noor", None, SYNCING)
        yield Beat("Noor", stance("Noor", R.CONCERN, "Who maintains it? Name a steward."))
        yield Beat("Mateo", stance("Mateo", R.CONSENT, "Confirmed from my phone."))
        yield Beat("Lena", edit("Lena", "\nOwners clean up after their pets."))
        while True:
            for name in MEMBERS:
                yield Beat(name, None, OFFLINE if name == "Noor" else CONNECTED)

    def peers(self) -> list[PeerInfo]:
        return list(self._peers.values())

    async def add_peer(self, host: str, port: int) -> str:
        return OFFLINE_NOTE

    async def sync_now(self, address: tuple[str, int] | None) -> list[str]:
        return [OFFLINE_NOTE]

    def subscribe(self, listener: PeerListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def step(self) -> None:
        beat = next(self._beats)
        peer = self._peers[beat.peer]
        received = 0
        if beat.state == SYNCING:
            total = 40
            for done in range(0, total + 1, 10):
                label = _("catching up with {peer}").format(peer=beat.peer)
                self._progress(SyncProgress(label, done, total))
        if beat.run is not None:
            hub = self.cast.hub
            assert hub is not None
            before = hub.record_summary().changes
            beat.run(self.cast)
            received = hub.record_summary().changes - before
        self._peers[beat.peer] = replace(
            peer,
            state=CONNECTED if beat.state == SYNCING else beat.state,
            last_sync_ms=self.cast.clock.now if beat.state != OFFLINE else peer.last_sync_ms,
            changes_in=peer.changes_in + received,
        )
        for listener in list(self._listeners):
            listener.peers_changed(self.peers())

    def _progress(self, progress: SyncProgress) -> None:
        for listener in list(self._listeners):
            listener.sync_progress(progress)


# --- the demo app ----------------------------------------------------------------------------


@dataclass
class Demo:
    root: Path
    cast: Cast
    peers: SimulatedPeers

    def app(self, step_every: float | None = 4.0, plain: bool | None = None) -> AssemblyApp:
        return DemoApp(self, step_every, plain)

    def close(self) -> None:
        self.cast.close()


class DemoApp(AssemblyApp):
    def __init__(self, demo: Demo, step_every: float | None, plain: bool | None = None) -> None:
        # The app shows the hub itself, so the simulated peers' deliveries reach its observer.
        super().__init__(demo.cast.you, peers=demo.peers, local=demo.cast.hub, plain=plain)
        self.demo = demo
        self.step_every = step_every

    def on_mount(self) -> None:
        if self.step_every:
            self.set_interval(self.step_every, self.demo.peers.step)
        self.notify(
            _("A disposable assembly mid-meeting. 2 opens the meeting, ? lists the keys."),
            title=_("Demo"),
        )


def build_demo(
    root: Path,
    start_ms: int | None = None,
    ids: Callable[[str], Callable[[], str]] | None = None,
) -> Demo:
    """Write the story into ``root`` (members' homes under ``root/peers``).

    With ``start_ms`` the clock stays scripted (tests): the story starts then and the app's
    "now" is forty days later; without it the story ends now and time runs on the wall.
    """
    now = wall_clock_ms() if start_ms is None else start_ms + STORY_DAYS * DAY
    clock = DemoClock(now - STORY_DAYS * DAY)
    cast = Cast(root, clock, ids, scripted=start_ms is not None)
    meeting = write_story(cast, clock.now)
    clock.live = start_ms is None
    if not clock.live:
        clock.at(now)
    return Demo(root, cast, SimulatedPeers(cast, meeting))


def run_demo(keep: Path | None = None, plain: bool | None = None) -> None:
    """Entry point of ``assemblymesh demo``."""
    root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="assemblymesh-demo-"))
    if keep is not None and (keep / "home").exists():
        shutil.rmtree(keep / "home")  # a kept demo is rebuilt: its story is told from now
        shutil.rmtree(keep / "peers", ignore_errors=True)
    print(_("Preparing the demo assembly..."), file=sys.stderr)
    demo = build_demo(root)
    try:
        demo.app(plain=plain).run()
    finally:
        demo.close()
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
        else:
            kept = _("The demo assembly is kept in {root} (ASSEMBLYMESH_HOME={home})")
            print(kept.format(root=root, home=root / "home"))
