"""Epochs of the assembly secret end to end: real homes, real handshakes, real bundles.

A removal starts a new epoch; a node that missed it catches up through a member who has it;
the removed member's node can neither connect nor read a new bundle; an invite code admits
its one join and nothing else, and stops working once used, expired or rotated past.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest

from assemblymesh.errors import BundleError, HandshakeError, RefusedPeer
from assemblymesh.home import Home, InviteCode, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.state import Rules
from assemblymesh.net.discovery import announcement_for, open_blob, open_blob_with, seal_blob
from assemblymesh.net.handshake import Handshake, HandshakeDone, Status
from tests.helpers import Clock, act_ids, exchange

HOUR = 3600 * 1000
DAY = 24 * HOUR


def connect(initiator: LocalAssembly, responder: LocalAssembly) -> tuple[HandshakeDone, ...]:
    """Run the handshake between two nodes in memory; ``HandshakeError`` if either fails."""
    now = initiator.clock()
    sides = [
        Handshake(role=role, credentials=node.credentials(), authorize=node.authorize, now_ms=now)
        for role, node in (("initiator", initiator), ("responder", responder))
    ]
    for _ in range(4):
        for me, other in ((sides[0], sides[1]), (sides[1], sides[0])):
            out = me.data_to_send()
            if out:
                other.receive_data(out, now)
    assert all(side.status is Status.DONE for side in sides)
    done = [side.next_event() for side in sides]
    assert all(isinstance(d, HandshakeDone) for d in done)
    return tuple(d for d in done if isinstance(d, HandshakeDone))


def sync(*nodes: LocalAssembly) -> None:
    """What running nodes do: exchange what the others lack, then write the boxes they owe."""
    for _ in range(2):
        exchange(*nodes)
        for node in nodes:
            node.keep_keys()
    exchange(*nodes)


def bundle_from(src: LocalAssembly) -> bytes:
    out = io.BytesIO()
    src.write_bundle(out, {}, lambda _n: None)
    return out.getvalue()


def read_bundle(dst: LocalAssembly, data: bytes) -> None:
    with tempfile.TemporaryFile() as spool:
        dst.import_bundle(
            dst.verify_bundle(io.BytesIO(data), spool, lambda _n: None), lambda _n: None
        )


@pytest.fixture
def four(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Amara (founder, facilitator), Ben, Carol and Dan, all in sync and holding epoch 0."""
    clock = Clock()
    amara = Home(tmp_path / "amara", clock).create(
        "Riverside", "Amara", rules=Rules(HOUR, 1, 90 * DAY), new_id=act_ids("a")
    )
    nodes = [amara]
    for name in ("Ben", "Carol", "Dan"):
        code = amara.issue_invite().encode()
        node = Home(tmp_path / name.lower(), clock).join(
            code, name, new_id=act_ids(name[0].lower())
        )
        nodes.append(node)
        sync(amara, node)
    sync(*nodes)
    yield clock, nodes
    for node in nodes:
        node.close()


def remove(facilitator: LocalAssembly, voter: LocalAssembly, member: LocalAssembly) -> None:
    """Run a decision removing ``member`` to its close (it takes effect an hour later)."""
    effect = A.RemoveMemberEffect(member=member.member_id)
    pid = facilitator.act(commands.propose, "Remove", "", (effect,)).ref
    rid = facilitator.act(commands.open_round, pid).ref
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.advance_round, rid)
    exchange(facilitator, voter)
    voter.act(commands.position, rid, process.CONSENT, "")
    exchange(facilitator, voter)
    facilitator.act(commands.close_round, rid)


def test_every_node_holds_epoch_0_sealed_to_its_device(four) -> None:  # type: ignore[no-untyped-def]
    _, nodes = four
    views = [node.epoch_view() for node in nodes]
    assert all(v.current == 0 and v.held == 0 for v in views)
    assert len({v.known[0] for v in views}) == 1
    # Only the founder keeps a secret file; the others hold what the record sealed to them.
    assert [(n.directory / "secret.key").exists() for n in nodes] == [True, False, False, False]
    connect(nodes[1], nodes[2])


def test_a_removal_rotates_the_secret_across_a_partition_and_the_late_node_catches_up(four) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol, dan) = four
    # Partition: Carol is away. Amara and Ben decide to remove Dan.
    remove(amara, ben, dan)
    clock.now += 2 * HOUR  # the decision takes effect; a rotation is due
    assert amara.state().rotation is not None
    assert amara.keep_keys() >= 1  # the facilitator who closed it writes the new epoch
    assert ben.keep_keys() == 0  # not Ben's to write, and not 10 minutes due yet
    sync(amara, ben)
    assert amara.epoch_view().held == ben.epoch_view().held == 1
    assert amara.epoch_view().known[1] == ben.epoch_view().known[1]
    assert carol.epoch_view().held == 0

    # Carol comes back within the grace period: Ben accepts her epoch and tells her his.
    to_ben, from_carol = connect(carol, ben)
    assert to_ben.peer_epoch == 1 and from_carol.root is not None and from_carol.root.epoch == 0
    sync(ben, carol)
    assert carol.epoch_view().held == 1
    assert carol.epoch_view().known[1] == amara.epoch_view().known[1]

    # Dan's node holds epoch 0 only: refused now, unable to open message 1 after the grace.
    with pytest.raises(RefusedPeer, match="removed"):
        connect(dan, amara)
    clock.now += process.EPOCH_GRACE_MS
    with pytest.raises(HandshakeError, match="message failed authentication"):
        connect(dan, amara)
    with pytest.raises(HandshakeError, match="message failed authentication"):
        connect(amara, dan)
    connect(carol, amara)  # the others talk at epoch 1

    # A bundle written after the rotation does not open for Dan; it does for Carol.
    amara.act(commands.propose, "After Dan", "")
    data = bundle_from(amara)
    with pytest.raises(BundleError, match="does not open"):
        read_bundle(dan, data)
    read_bundle(carol, data)
    assert any(p.title == "After Dan" for p in carol.state().proposals.values())


def test_two_rekeys_in_two_partitions_settle_on_one_secret(four) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol, dan) = four
    remove(amara, ben, dan)
    exchange(amara, ben, carol)
    clock.now += 2 * HOUR + 11 * 60 * 1000  # due for more than 10 minutes: anyone writes
    amara.keep_keys()
    carol.keep_keys()  # concurrently, in the other partition
    assert amara.epoch_view().known[1] != carol.epoch_view().known[1]
    sync(amara, ben, carol)
    secrets = {node.epoch_view().known[1] for node in (amara, ben, carol)}
    assert len(secrets) == 1
    assert [e.rule for e in amara.state().ignored()].count(process.ONE_REKEY_PER_EPOCH) == 1
    connect(ben, carol)
    connect(carol, amara)


def test_a_decision_to_rotate_starts_a_new_epoch(four) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, carol, dan) = four
    pid = amara.act(commands.propose, "Rotate", "", (A.RotateSecretEffect(),)).ref
    rid = amara.act(commands.open_round, pid).ref
    amara.act(commands.advance_round, rid)
    amara.act(commands.advance_round, rid)
    amara.act(commands.position, rid, process.CONSENT, "")
    amara.act(commands.close_round, rid)
    clock.now += 2 * HOUR
    sync(amara, ben, carol, dan)
    assert {node.epoch_view().held for node in (amara, ben, carol, dan)} == {1}
    connect(dan, carol)  # Dan was not removed: he holds the new secret too


def test_a_used_invite_code_lets_its_holder_neither_connect_nor_read_a_blob(tmp_path: Path) -> None:
    clock = Clock()
    amara = Home(tmp_path / "amara", clock).create("R", "Amara", new_id=act_ids("a"))
    code = amara.issue_invite().encode()
    ben = Home(tmp_path / "ben", clock).join(code, "Ben", new_id=act_ids("b"))
    # Before admission Ben holds only his join key: it opens this one join.
    assert ben.epoch_view().held is None
    connect(ben, amara)
    sync(amara, ben)
    assert ben.epoch_view().held == 0 and not (ben.directory / "join.key").exists()

    # Someone else who saw the same code: until it expires, the join key admits Ben only.
    eve = Home(tmp_path / "eve", clock).join(code, "Eve", new_id=act_ids("e"))
    for member in (amara, ben):
        with pytest.raises(RefusedPeer, match="invite was already used"):
            connect(eve, member)
    clock.now = parsed_expiry(code) + 1  # once the invite expires, nobody opens message 1
    with pytest.raises(HandshakeError, match="message failed authentication"):
        connect(eve, amara)
    # Nothing in the code opens a discovery blob of the assembly.
    parsed = InviteCode.decode(code)
    blob = seal_blob(
        amara.secret,
        announcement_for(amara.secret, amara.assembly_id, amara.device_key.public, 7420, clock.now),
    )
    for candidate in (parsed.join_key, parsed.invite_seed, eve.secret):
        with pytest.raises(Exception, match="does not open"):
            open_blob(candidate, blob, assembly_id=amara.assembly_id, now_ms=clock.now)
    assert isinstance(open_blob_with(eve.keyring(), blob, amara.assembly_id, clock.now), Exception)
    assert not isinstance(
        open_blob_with(ben.keyring(), blob, amara.assembly_id, clock.now), Exception
    )
    for node in (amara, ben, eve):
        node.close()


def parsed_expiry(code: str) -> int:
    return InviteCode.decode(code).invite.expires_ms


def test_a_joiner_comes_back_for_its_secret_with_its_join_key(tmp_path: Path) -> None:
    clock = Clock()
    amara = Home(tmp_path / "amara", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "ben", clock).join(amara.issue_invite().encode(), "Ben", act_ids("b"))
    connect(ben, amara)
    # One sync brings Ben's join to Amara; her node seals the secret to Ben's device after
    # the connection ended. Ben still holds only his join key, and it still opens.
    missing = [c.data for c in ben.replica.missing_for(amara.replica.vector())]
    amara.replica.ingest(missing)
    assert amara.keep_keys() == 1 and ben.epoch_view().held is None
    connect(ben, amara)
    exchange(amara, ben)
    assert ben.epoch_view().held == 0
    amara.close()
    ben.close()


def test_an_expired_invite_code_opens_nothing(tmp_path: Path) -> None:
    clock = Clock()
    amara = Home(tmp_path / "amara", clock).create("R", "Amara", new_id=act_ids("a"))
    code = amara.issue_invite(valid_ms=HOUR).encode()
    ben = Home(tmp_path / "ben", clock).join(code, "Ben", new_id=act_ids("b"))
    clock.now += 2 * HOUR
    with pytest.raises(HandshakeError, match="message failed authentication"):
        connect(ben, amara)
    amara.close()
    ben.close()


def test_an_invite_code_of_an_earlier_epoch_stops_working(four) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, ben, _carol, dan) = four
    code = amara.issue_invite().encode()
    assert InviteCode.decode(code).epoch == 0
    remove(amara, ben, dan)
    clock.now += 2 * HOUR
    amara.keep_keys()
    with tempfile.TemporaryDirectory() as where:
        late = Home(Path(where), clock).join(code, "Late", new_id=act_ids("f"))
        with pytest.raises(HandshakeError, match="message failed authentication"):
            connect(late, amara)
        late.close()
    assert InviteCode.decode(amara.issue_invite().encode()).epoch == 1


def test_discovery_tags_change_with_every_blob_and_name_no_device(four) -> None:  # type: ignore[no-untyped-def]
    clock, (amara, *_rest) = four
    device = amara.device_key.public
    a = announcement_for(amara.secret, amara.assembly_id, device, 7420, clock())
    b = announcement_for(amara.secret, amara.assembly_id, device, 7420, clock())
    assert a.tag != b.tag and device not in a.tag and len(a.tag) == 16


def test_a_secret_handed_over_whole_counts_for_the_epoch_whose_check_it_matches(four) -> None:  # type: ignore[no-untyped-def]
    """A device that was given the current secret itself (as pairing hands it over) holds
    that epoch even before a box is sealed to it; a wrong secret counts for nothing."""
    from assemblymesh import epochkeys
    from assemblymesh.crdt.identity import SigningKey

    clock, (amara, ben, _carol, dan) = four
    remove(amara, ben, dan)
    clock.now += 2 * HOUR
    amara.keep_keys()
    state = amara.state()
    current = amara.epoch_view().known[1]
    new_device = SigningKey(bytes(range(7, 39)))
    assert epochkeys.view(state, new_device, current, None).held == 1
    assert epochkeys.view(state, new_device, bytes(32), None).held is None
