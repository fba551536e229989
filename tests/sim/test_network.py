"""The simulator drives the real sync machine over partitioned, lossy-in-time networks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from assemblymesh.crdt.document import SHARED
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.state import Rules
from assemblymesh.sim import Simulator, VirtualClock
from tests.helpers import act_ids

HOUR = 3600 * 1000


@pytest.fixture
def assembly(tmp_path: Path) -> Iterator[tuple[Simulator, list[LocalAssembly]]]:
    """Five members, A..E, each on a node of their own; A founded, everyone joined."""
    clock = VirtualClock()
    sim = Simulator(seed=11, clock=clock)
    a = Home(tmp_path / "a", clock).create(
        "Riverside", "A", rules=Rules(24 * HOUR, 1, 90 * 24 * HOUR), new_id=act_ids("a")
    )
    nodes = [a]
    sim.add_node("A", a.replica)
    for name in "BCDE":
        clock.now_ms += 1000  # acts made one after another carry later times
        code = a.issue_invite().encode()
        clock.now_ms += 1000
        local = Home(tmp_path / name.lower(), clock).join(code, name, new_id=act_ids(name.lower()))
        sim.add_node(name, local.replica)
        nodes.append(local)
    yield sim, nodes
    for node in nodes:
        node.close()


def test_a_line_of_five_converges_through_gossip(assembly) -> None:  # type: ignore[no-untyped-def]
    sim, nodes = assembly
    sim.line("ABCDE", latency_ms=(10, 40))
    sim.run()
    assert sim.converged()
    # A change at one end crosses three intermediate nodes to the other end.
    a, e = nodes[0], nodes[-1]
    sim.after(5, lambda: a.act(commands.propose, "Seed swap", "March"))
    sim.run()
    assert sim.converged()
    assert [p.title for p in e.state().proposals.values()] == ["Seed swap"]
    assert all(n.state().is_member(n.member_id) for n in nodes)


def test_partitions_heal_to_one_record_and_one_outcome(assembly) -> None:  # type: ignore[no-untyped-def]
    sim, (a, b, c, d, e) = assembly
    for x, y in itertools.combinations("ABCDE", 2):
        sim.link(x, y)
    sim.run()
    sim.clock.now_ms += 1000
    a.act(commands.grant_role, b.member_id, process.FACILITATOR, sim.now_ms + 100 * 24 * HOUR)
    pid = a.act(commands.propose, "Rent strike", "From May").ref
    rid = a.act(commands.open_round, pid).ref
    a.act(commands.advance_round, rid)
    a.act(commands.advance_round, rid)
    sim.run()
    assert sim.converged()
    sim.partition("AD", "BCE")
    sim.after(100, lambda: a.act(commands.position, rid, process.CONSENT, ""))
    sim.after(200, lambda: c.act(commands.position, rid, process.OBJECT, "not before we ask"))
    sim.after(300, lambda: a.act(commands.close_round, rid))
    sim.after(400, lambda: b.act(commands.close_round, rid))
    sim.run()
    assert not sim.converged()
    outcomes = {n.state().rounds[rid].outcome for n in (a, b)}
    assert outcomes == {process.OUTCOME_ADOPTED, process.OUTCOME_OBJECTIONS}
    sim.after(1000, sim.heal)
    sim.run()
    assert sim.converged()
    states = [n.state(sim.now_ms) for n in (a, b, c, d, e)]
    assert len({(s.rounds[rid].outcome, s.rounds[rid].closed_by) for s in states}) == 1
    assert len({s.proposals[pid].state for s in states}) == 1


def test_runs_are_repeatable(tmp_path: Path) -> None:
    def scenario(root: Path) -> tuple[list[str], bytes]:
        clock = VirtualClock()
        sim = Simulator(seed=5, clock=clock)
        a = Home(root / "a", clock).create("R", "A", new_id=act_ids("a"))
        sim.add_node("A", a.replica)
        others = []
        for name in "BC":
            clock.now_ms += 1000
            code = a.issue_invite().encode()
            clock.now_ms += 1000
            local = Home(root / name, clock).join(code, name, act_ids(name.lower()))
            sim.add_node(name, local.replica)
            others.append(local)
        sim.line("ABC")
        sim.run()
        for i in range(5):
            sim.after(7 * i, lambda i=i: others[i % 2].act(commands.propose, f"p{i}", "x"))
        sim.after(3, lambda: sim.partition("A", "BC"))
        sim.after(40, sim.heal)
        sim.run()
        assert sim.converged()
        digest = a.replica.digest()
        for local in (a, *others):
            local.close()
        return [line.split(" ", 1)[1] for line in sim.log], digest

    first, second = scenario(tmp_path / "one"), scenario(tmp_path / "two")
    # Keys differ between the two runs, so digests differ; the course of events does not.
    assert first[0] == second[0]


def test_random_partitions_always_heal_to_convergence(assembly) -> None:  # type: ignore[no-untyped-def]
    sim, nodes = assembly
    names = "ABCDE"
    for x, y in itertools.combinations(names, 2):
        sim.link(x, y, latency_ms=(1, 80))
    sim.run()
    rng = sim.rng
    t = sim.now_ms
    for step in range(30):
        t += rng.randint(5, 60)
        node = nodes[rng.randrange(5)]
        if step % 7 == 3:
            cut = rng.randint(1, 4)
            order = rng.sample(names, 5)
            sim.at(t, lambda o=order, k=cut: sim.partition(o[:k], o[k:]))
        elif step % 7 == 6:
            sim.at(t, sim.heal)
        elif rng.random() < 0.5:
            sim.at(t, lambda n=node, s=step: n.act(commands.propose, f"idea {s}", "..."))
        else:

            def edit(n: LocalAssembly = node, s: int = step) -> None:
                with n.replica.transact(SHARED) as doc:
                    doc.text("minutes/main").insert(0, f"[{s}] ")

            sim.at(t, edit)
    sim.at(t + 100, sim.heal)
    sim.run()
    assert sim.converged()
    texts = {str(n.replica.document(SHARED).text("minutes/main")) for n in nodes}
    assert len(texts) == 1
    states = {tuple(sorted(p.title for p in n.state().proposals.values())) for n in nodes}
    assert len(states) == 1
