"""A member's devices over the simulated network: a device paired (over loopback TCP), lost
and revoked while the assembly is partitioned, a member removed, and the assembly secret
rotated twice; nodes that missed a rotation catch up through a member who has it."""

from __future__ import annotations

import itertools
from pathlib import Path

from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.state import Rules
from assemblymesh.sim import Simulator, VirtualClock
from tests.helpers import act_ids, exchange
from tests.test_devices import pair

HOUR = 3600 * 1000


def duties(sim: Simulator, nodes: list[LocalAssembly]) -> None:
    """What running nodes do between syncs: admit joins, write the epochs' acts they owe;
    until nothing more is written."""
    for _ in range(6):
        sim.run()
        written = sum(n.admit_joins() + n.keep_keys() for n in nodes)
        if not written:
            return
    raise AssertionError("the nodes never stopped writing")


def regroup(sim: Simulator, *groups: list[str]) -> None:
    """A new partition: links within a group open again, links across groups close."""
    sim.heal()
    sim.partition(*groups)


def titles(node: LocalAssembly) -> set[str]:
    return {p.title for p in node.state().proposals.values()}


def remove(facilitator: LocalAssembly, member: str) -> None:
    effect = A.RemoveMemberEffect(member=member)
    pid = facilitator.act(commands.propose, "Remove", "", (effect,)).ref
    rid = facilitator.act(commands.open_round, pid).ref
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.position, rid, process.CONSENT, "")
    facilitator.act(commands.close_round, rid)


def test_pairing_revocation_removal_and_rotation_across_a_partition(tmp_path: Path) -> None:
    clock = VirtualClock()
    sim = Simulator(seed=7, clock=clock)
    amara = Home(tmp_path / "amara", clock).create(
        "Riverside", "Amara", rules=Rules(HOUR, 1, 90 * 24 * HOUR), new_id=act_ids("a")
    )
    sim.add_node("amara", amara.replica)
    nodes = [amara]
    for name in ("Ben", "Carol"):
        clock.now_ms += 1000
        code = amara.issue_invite().encode()
        node = Home(tmp_path / name.lower(), clock).join(
            code, name, new_id=act_ids(name[0].lower())
        )
        sim.add_node(name.lower(), node.replica)
        nodes.append(node)
        for _ in range(2):  # the joiner meets its inviter first, as an invite's hints make it
            exchange(amara, node)
            amara.admit_joins()
            amara.keep_keys()
            node.keep_keys()
    ben, carol = nodes[1], nodes[2]
    phone, _ = pair(amara, Home(tmp_path / "amara-phone", clock))
    sim.add_node("phone", phone.replica)
    everyone = [amara, ben, carol, phone]
    try:
        for a, b in itertools.combinations(["amara", "ben", "carol", "phone"], 2):
            sim.link(a, b)
        duties(sim, everyone)
        assert sim.converged()
        assert all(n.epoch_view().held == 0 for n in everyone)
        assert phone.device_id in carol.state().members[amara.member_id].devices

        # Partition: Amara's laptop alone; the phone (stolen) with Ben and Carol.
        sim.partition(["amara"], ["phone", "ben", "carol"])
        clock.now_ms += 1000
        phone.act(commands.propose, "Written by the thief", "")
        amara.revoke_device(phone.device_id)  # the laptop writes epoch 1 at once
        duties(sim, everyone)
        assert amara.epoch_view().held == 1
        assert "Written by the thief" in titles(ben)  # Ben has not heard of it yet

        # Amara meets Ben alone: he learns of the revocation and receives epoch 1.
        regroup(sim, ["amara", "ben"], ["phone", "carol"])
        duties(sim, everyone)
        assert ben.epoch_view().held == 1
        assert carol.epoch_view().held == 0  # Carol missed the rotation

        # Carol catches up through Ben, a member who has it; the phone gets no box.
        regroup(sim, ["amara"], ["ben", "carol", "phone"])
        duties(sim, everyone)
        assert carol.epoch_view().held == 1
        assert carol.epoch_view().known[1] == amara.epoch_view().known[1]
        assert phone.epoch_view().current == 1 and phone.epoch_view().held == 0
        for node in (amara, ben, carol):
            state = node.state()
            assert state.is_revoked(amara.member_id, phone.device_id)
            assert "Written by the thief" not in titles(node)

        # Amara removes Carol while Carol is away; Carol writes after it takes effect.
        regroup(sim, ["amara", "ben"], ["carol"], ["phone"])
        remove(amara, carol.member_id)
        duties(sim, everyone)
        clock.now_ms += 2 * HOUR  # the removal takes effect: a rotation is due
        duties(sim, everyone)
        assert amara.epoch_view().held == ben.epoch_view().held == 2
        carol.act(commands.propose, "Written after the removal", "")
        sim.heal()
        duties(sim, everyone)
        for node in (amara, ben, carol):
            state = node.state()
            assert state.members[carol.member_id].is_removed(state.now_ms)
            assert "Written after the removal" not in titles(node)
        # Epoch 2 is sealed neither to the removed member's device nor to the revoked one.
        assert carol.epoch_view().held == 1 and phone.epoch_view().held == 0
        record = next(e for e in amara.state().epochs if e.number == 2)
        assert set(record.seals) == {amara.device_id, ben.device_id}
    finally:
        for node in everyone:
            node.close()
