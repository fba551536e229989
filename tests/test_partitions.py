"""Partitions end to end: real homes, real signed changes, delivered late and in any order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, read_key_file, write_key_file
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from tests.helpers import Clock, act_ids, exchange

HOUR = 3600 * 1000


@pytest.fixture
def assembly(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Amara (founder, facilitator), Ben (made facilitator too), Carol; all in sync."""
    clock = Clock()
    from assemblymesh.model.state import Rules

    amara = Home(tmp_path / "amara", clock).create(
        "Riverside", "Amara", rules=Rules(24 * HOUR, 1, 90 * 24 * HOUR), new_id=act_ids("a")
    )
    nodes = [amara]
    for name in ("Ben", "Carol"):
        code = amara.issue_invite().encode()
        node = Home(tmp_path / name.lower(), clock).join(
            code, name, new_id=act_ids(name[0].lower())
        )
        exchange(amara, node)
        nodes.append(node)
    exchange(*nodes)
    ben = nodes[1]
    amara.act(commands.grant_role, ben.member_id, process.FACILITATOR, clock.now + 100 * 24 * HOUR)
    exchange(*nodes)
    yield clock, nodes
    for node in nodes:
        node.close()


def ready_round(facilitator: LocalAssembly, title: str) -> str:
    pid = facilitator.act(commands.propose, title, "text").ref
    rid = facilitator.act(commands.open_round, pid).ref
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.advance_round, rid)
    return str(rid)


def test_two_facilitators_closing_in_two_partitions_agree_after_healing(assembly) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol) = assembly
    rid = ready_round(amara, "Bike shed")
    exchange(amara, ben, carol)
    # Partition: {Amara} | {Ben, Carol}. Carol objects only on Ben's side.
    amara.act(commands.position, rid, process.CONSENT, "")
    carol.act(commands.position, rid, process.OBJECT, "blocks the fire exit")
    exchange(ben, carol)
    amara.act(commands.close_round, rid)
    ben.act(commands.close_round, rid)
    assert amara.state().rounds[rid].outcome == process.OUTCOME_ADOPTED
    assert ben.state().rounds[rid].outcome == process.OUTCOME_OBJECTIONS
    exchange(amara, ben, carol)
    states = [n.state(clock.now) for n in (amara, ben, carol)]
    assert len({(s.rounds[rid].closed_by, s.rounds[rid].outcome) for s in states}) == 1
    proposal = states[0].proposals[states[0].rounds[rid].proposal]
    assert len({s.proposals[proposal.id].state for s in states}) == 1
    assert len({n.replica.digest() for n in (amara, ben, carol)}) == 1


def test_an_objection_cast_in_cooling_off_returns_the_decision_after_healing(assembly) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol) = assembly
    rid = ready_round(amara, "Rent strike")
    amara.act(commands.position, rid, process.CONSENT, "")
    exchange(amara, ben, carol)
    amara.act(commands.close_round, rid)
    exchange(amara, ben)  # Carol is out of range and has not seen the close
    decided = amara.state().rounds[rid]
    assert decided.outcome == process.OUTCOME_ADOPTED
    # Carol objects while the decision cools off (she saw the round, not the close).
    carol.act(commands.position, rid, process.OBJECT, "we were not all heard")
    clock.now += 2 * 24 * HOUR  # the cooling-off period has passed by the time she is back
    exchange(amara, ben, carol)
    for node in (amara, ben, carol):
        state = node.state(clock.now)
        decision = state.decisions[state.rounds[rid].decision]  # type: ignore[index]
        assert decision.status == process.DECISION_RETURNED
        assert [p.member for p in decision.late_objections] == [carol.member_id]
        assert state.proposals[state.rounds[rid].proposal].state == process.RETURNED


def second_device(node: LocalAssembly, home_root: Path, clock: Clock) -> LocalAssembly:
    """Set up another laptop of the same member: same member key, its own device key."""
    target = home_root / "assemblies" / node.assembly_id.hex()
    shutil.copytree(node.directory, target, ignore=shutil.ignore_patterns("store.sqlite*"))
    member = read_key_file(target / "member.key")
    device = SigningKey.generate()
    cert = DeviceCertificate.issue(member, node.assembly_id, device.public, clock())
    write_key_file(target / "device.key", device)
    (target / "device.cert").write_bytes(cert.encode())
    other = Home(home_root, clock).open(node.assembly_id.hex(), new_id=act_ids("d"))
    exchange(node, other)
    return other


def test_a_position_changed_on_two_devices_offline_resolves_the_same_everywhere(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol) = assembly
    carol_laptop = second_device(carol, tmp_path / "carol-laptop", clock)
    rid = ready_round(amara, "Quiet hours")
    exchange(amara, ben, carol, carol_laptop)
    carol.act(commands.position, rid, process.CONCERN, "noise on weekends")
    carol_laptop.act(commands.position, rid, process.CONSENT, "thought it over")  # later
    # Delivered in both orders to different nodes.
    exchange(carol_laptop, amara)
    exchange(carol, amara)
    exchange(carol, ben)
    exchange(carol_laptop, ben)
    for node in (amara, ben):
        position = node.state().rounds[rid].positions[carol.member_id]
        assert position.kind == process.CONSENT
    carol_laptop.close()
