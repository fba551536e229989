"""A random meeting over a partitioned network, for field testers (``assemblymesh simulate``).

Members on their own nodes propose, state positions and close rounds while the network is
cut into random partitions and healed again. At the end every link works; the report shows,
per node, the digest of its record and the outcome of every proposal, which must agree.
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

from assemblymesh.errors import IllegalMoveError, NotFoundError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.state import AssemblyState, Rules
from assemblymesh.sim.network import Simulator, VirtualClock

NAMES = ["Amara", "Ben", "Chidi", "Dana", "Eun", "Farid", "Gloria", "Hiro", "Ines", "Jonas"]
HOUR = 3600 * 1000
TOPOLOGIES = ("line", "ring", "mesh")


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


def _facilitates(member: LocalAssembly, state: AssemblyState) -> bool:
    me = state.members.get(member.member_id)
    return me is not None and me.can_facilitate(state.now_ms)


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
        raise ValueError(f"nodes must be 2..{len(NAMES)}")
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}")
    with tempfile.TemporaryDirectory() as tmp:
        return _run(nodes, steps, seed, topology, root or Path(tmp))


def _run(nodes: int, steps: int, seed: int, topology: str, root: Path) -> Report:
    clock = VirtualClock()
    sim = Simulator(seed=seed, clock=clock)
    rng = random.Random(seed)
    names = NAMES[:nodes]
    founder = Home(root / names[0], clock).create(
        "Simulated assembly", names[0], rules=Rules(HOUR, 2, 30 * 24 * HOUR), new_id=_counter(0)
    )
    members: list[LocalAssembly] = [founder]
    sim.add_node(names[0], founder.replica)
    for i, name in enumerate(names[1:], start=1):
        clock.now_ms += 1000
        code = founder.issue_invite().encode()
        clock.now_ms += 1000
        local = Home(root / name, clock).join(code, name, new_id=_counter(i))
        members.append(local)
        sim.add_node(name, local.replica)
    if topology == "mesh":
        for a, b in itertools.combinations(names, 2):
            sim.link(a, b)
    else:
        sim.line(names)
        if topology == "ring":
            sim.link(names[-1], names[0])
    sim.run()
    clock.now_ms += 1000
    # The founder appoints a second facilitator, so two partitions can each close a round.
    founder.act(
        commands.grant_role,
        members[1].member_id,
        process.FACILITATOR,
        clock.now_ms + 90 * 24 * HOUR,
    )
    sim.run()
    counts = {"acts": 0, "refused": 0}

    def attempt(member: LocalAssembly, command: Callable[..., Any], *args: object) -> None:
        try:
            member.act(command, *args)
            counts["acts"] += 1
        except (IllegalMoveError, NotFoundError):
            counts["refused"] += 1  # a move that node's view does not allow: as in life

    def random_move() -> None:
        """A plausible move for a random member, judged on what that member's node sees
        (another partition may already have moved on: then the move is refused)."""
        member = rng.choice(members)
        state = member.state()
        me = state.members.get(member.member_id)
        facilitating = me is not None and me.can_facilitate(state.now_ms)
        rounds = [r for r in state.rounds.values() if r.phase != process.CLOSED]
        deciding = [r for r in rounds if r.phase == process.POSITIONS]
        early = [r for r in rounds if r.phase in (process.QUESTIONS, process.REACTIONS)]
        startable = [p for p in state.proposals.values() if p.state == process.OPEN]
        returned = [p for p in state.proposals.values() if p.state == process.RETURNED]
        roll = rng.random()
        if deciding and roll < 0.45:
            kind = rng.choices(process.POSITION_KINDS, weights=[6, 2, 1, 2])[0]
            reason = "it needs another look" if kind == process.OBJECT else ""
            attempt(member, commands.position, rng.choice(deciding).id, kind, reason, None)
        elif facilitating and deciding and roll < 0.6:
            attempt(member, commands.close_round, rng.choice(deciding).id)
        elif facilitating and early and roll < 0.75:
            attempt(member, commands.advance_round, rng.choice(early).id)
        elif facilitating and startable and roll < 0.85:
            attempt(member, commands.open_round, rng.choice(startable).id)
        elif returned and roll < 0.9:
            p = rng.choice(returned)
            if p.author == member.member_id:
                attempt(member, commands.amend, p.id, p.latest.body + " (amended)", "integrated")
        elif len(startable) + len(rounds) < 3:
            title = f"Idea {len(state.proposals) + 1} of {names[members.index(member)]}"
            attempt(member, commands.propose, title, "...")
        elif startable:
            # Enough on the agenda: someone asks a facilitator to open a round.
            helper = next((m for m in members if _facilitates(m, state)), member)
            attempt(helper, commands.open_round, rng.choice(startable).id)

    t = clock.now_ms
    events: list[str] = []
    for step in range(steps):
        t += rng.randint(10, 400)
        if step % 12 == 5:
            order = rng.sample(names, len(names))
            cut = rng.randint(1, len(names) - 1)
            groups = (order[:cut], order[cut:])
            events.append(f"partition {'|'.join(''.join(n[0] for n in g) for g in groups)}")
            sim.at(t, functools.partial(sim.partition, *groups))
        elif step % 12 == 11:
            events.append("heal")
            sim.at(t, sim.heal)
        else:
            sim.at(t, random_move)
    sim.at(t + 1000, sim.heal)
    sim.run()
    now = clock.now_ms + 2 * HOUR  # past the cooling-off period
    outcomes = {}
    ignored = 0
    for name, member in zip(names, members, strict=True):
        state = member.state(now)
        outcomes[name] = {p.title: p.state for p in state.proposals.values()}
        ignored = sum(1 for entry in state.audit if not entry.accepted)
    report = Report(sim.digests(), outcomes, counts["acts"], counts["refused"], ignored, events)
    for member in members:
        member.close()
    return report
