"""A random meeting over a partitioned network, for field testers (``assemblymesh simulate``).

Members on their own nodes propose, state positions and close rounds while the network is
cut into random partitions and healed again. Each member picks among the moves the model says
are legal on what that member's node sees (``model.queries.legal_moves``): another partition
may already have moved on, which is what the fold then sorts out. At the end every link works;
the report shows, per node, the digest of its record and the outcome of every proposal, which
must agree.
"""

from __future__ import annotations

import functools
import itertools
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assemblymesh.errors import IllegalMoveError, NotFoundError, UsageError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.i18n import _
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.queries import Move, legal_moves, tally
from assemblymesh.model.state import Rules
from assemblymesh.sim.network import Simulator, VirtualClock

NAMES = ["Amara", "Ben", "Chidi", "Dana", "Eun", "Farid", "Gloria", "Hiro", "Ines", "Jonas"]
HOUR = 3600 * 1000
TOPOLOGIES = ("line", "ring", "mesh")
# How often each legal move is picked, when it is legal: rounds move on, ideas keep coming.
WEIGHTS = {
    Move.POSITION: 9,
    Move.CLOSE: 3,
    Move.ADVANCE: 3,
    Move.OPEN_ROUND: 2,
    Move.AMEND: 1,
}


@dataclass
class Report:
    nodes: dict[str, bytes]  # node -> digest
    outcomes: dict[str, dict[str, str]]  # node -> proposal title -> state
    acts: int  # acts written
    refused: int  # moves refused locally (illegal in the state that node saw)
    ignored: int  # acts every node ignores once all is known (e.g. the later of two closes)
    events: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return (
            len(set(self.nodes.values())) == 1
            and len({tuple(sorted(o.items())) for o in self.outcomes.values()}) == 1
        )


def _counter(prefix: int) -> Callable[[], str]:
    numbers = itertools.count()
    return lambda: f"{prefix:02x}{next(numbers):08x}"


def run_scenario(
    nodes: int = 5,
    steps: int = 60,
    seed: int = 1,
    topology: str = "line",
    root: Path | None = None,
) -> Report:
    if not 2 <= nodes <= len(NAMES):
        raise UsageError(_("nodes must be 2..{most}").format(most=len(NAMES)))
    if topology not in TOPOLOGIES:
        raise UsageError(
            _("topology must be one of {topologies}").format(topologies=", ".join(TOPOLOGIES))
        )
    with tempfile.TemporaryDirectory() as tmp:
        meeting = _Meeting(nodes, seed, root or Path(tmp))
        try:
            meeting.connect(topology)
            meeting.play(steps)
            return meeting.report()
        finally:
            meeting.close()


class _Meeting:
    """The members, their nodes on one simulated network, and what they did."""

    def __init__(self, nodes: int, seed: int, root: Path) -> None:
        self.clock = VirtualClock()
        self.sim = Simulator(seed=seed, clock=self.clock)
        self.rng = random.Random(seed)
        self.names = NAMES[:nodes]
        self.counts = {"acts": 0, "refused": 0}
        self.events: list[str] = []
        # Keys from the seed too: the same seed tells the same story, to the byte.
        founder = self._home(root, 0).create(
            "Simulated assembly", self.names[0], rules=Rules(HOUR, 2, 30 * 24 * HOUR),
            new_id=_counter(0),
        )  # fmt: skip
        self.members: list[LocalAssembly] = [founder]
        self.sim.add_node(self.names[0], founder.replica)
        for i, name in enumerate(self.names[1:], start=1):
            self.clock.now_ms += 1000
            code = founder.issue_invite().encode()
            self.clock.now_ms += 1000
            local = self._home(root, i).join(code, name, new_id=_counter(i))
            self.members.append(local)
            self.sim.add_node(name, local.replica)

    def _home(self, root: Path, i: int) -> Home:
        entropy = random.Random(f"{self.rng.random()}/{i}").randbytes
        return Home(root / self.names[i], self.clock, entropy)

    def connect(self, topology: str) -> None:
        names = self.names
        if topology == "mesh":
            for a, b in itertools.combinations(names, 2):
                self.sim.link(a, b)
        else:
            self.sim.line(names)
            if topology == "ring":
                self.sim.link(names[-1], names[0])
        self.sim.run()
        self.clock.now_ms += 1000
        # The founder appoints a second facilitator, so two partitions can each close a round.
        founder, second = self.members[0], self.members[1]
        founder.act(
            commands.grant_role, second.member_id, process.FACILITATOR,
            self.clock.now_ms + 90 * 24 * HOUR,
        )  # fmt: skip
        self.sim.run()

    def attempt(self, member: LocalAssembly, command: Callable[..., Any], *args: object) -> None:
        try:
            member.act(command, *args)
            self.counts["acts"] += 1
        except (IllegalMoveError, NotFoundError):
            self.counts["refused"] += 1  # a move that node's view does not allow: as in life

    def random_move(self) -> None:
        """A legal move for a random member, judged on what that member's node sees."""
        member = self.rng.choice(self.members)
        state = member.state()
        options = [
            (p.id, move)
            for p in state.proposals.values()
            for move in sorted(legal_moves(state, member.member_id, member.device_id, p.id))
            if move in WEIGHTS
        ]
        if not options or (len(options) < 3 and self.rng.random() < 0.3):
            author = self.names[self.members.index(member)]
            title = f"Idea {len(state.proposals) + 1} of {author}"
            self.attempt(member, commands.propose, title, "...")
            return
        pid, move = self.rng.choices(options, weights=[WEIGHTS[m] for _pid, m in options])[0]
        self._make(member, pid, move)

    def _make(self, member: LocalAssembly, pid: str, move: Move) -> None:
        state = member.state()
        r = state.open_round_of(pid)
        if move is Move.POSITION and r is not None:
            kind = self.rng.choices(process.POSITION_KINDS, weights=[6, 2, 1, 2])[0]
            reason = "it needs another look" if kind == process.OBJECT else ""
            self.attempt(member, commands.position, r.id, kind, reason, None)
        elif move is Move.CLOSE and r is not None:
            # A facilitator closes once the round would reach an outcome, not before.
            if tally(state, r.id).outcome != process.OUTCOME_NO_QUORUM:
                self.attempt(member, commands.close_round, r.id)
        elif move is Move.ADVANCE and r is not None:
            self.attempt(member, commands.advance_round, r.id)
        elif move is Move.OPEN_ROUND:
            self.attempt(member, commands.open_round, pid)
        elif move is Move.AMEND:
            body = state.proposals[pid].latest.body + " (amended)"
            self.attempt(member, commands.amend, pid, body, "integrated")

    def play(self, steps: int) -> None:
        t = self.clock.now_ms
        for step in range(steps):
            t += self.rng.randint(10, 400)
            if step % 12 == 5:
                order = self.rng.sample(self.names, len(self.names))
                cut = self.rng.randint(1, len(self.names) - 1)
                groups = (order[:cut], order[cut:])
                # The events are what the report shows a person: in the chosen language.
                sides = "|".join("".join(n[0] for n in g) for g in groups)
                self.events.append(_("partition {sides}").format(sides=sides))
                self.sim.at(t, functools.partial(self.sim.partition, *groups))
            elif step % 12 == 11:
                self.events.append(_("heal"))
                self.sim.at(t, self.sim.heal)
            else:
                self.sim.at(t, self.random_move)
        self.sim.at(t + 1000, self.sim.heal)
        self.sim.run()

    def report(self) -> Report:
        now = self.clock.now_ms + 2 * HOUR  # past the cooling-off period
        outcomes = {}
        ignored = 0
        for name, member in zip(self.names, self.members, strict=True):
            state = member.state(now)
            outcomes[name] = {p.title: p.state for p in state.proposals.values()}
            ignored = sum(1 for entry in state.audit if not entry.accepted)
        return Report(
            self.sim.digests(), outcomes, self.counts["acts"], self.counts["refused"], ignored,
            self.events,
        )  # fmt: skip

    def close(self) -> None:
        for member in self.members:
            member.close()
