"""A member's devices end to end: pairing over loopback, revocation and removal across three
nodes with a partition between them, key backup and restore, and what a thief holding a
device's key files can and cannot do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assemblymesh.crdt.identity import (
    DeviceCertificate,
    SigningKey,
    read_key_file,
    yjs_client_id,
)
from assemblymesh.crdt.keyfiles import Backup, KdfCost, MemberKey
from assemblymesh.devices import join, offer
from assemblymesh.errors import HandshakeError, KeyFileError, KeyLocked, UsageError, WrongPassphrase
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.model import commands
from assemblymesh.model import rules as process
from assemblymesh.model.state import Rules
from assemblymesh.net.credentials import PeerIdentity, Refused
from assemblymesh.net.node import Node
from tests.helpers import Clock, act_ids, exchange

HOUR = 3600 * 1000
FAST = KdfCost(1, 8192)  # the cheapest Argon2id: tests check the format, not the cost


def send(src: LocalAssembly, dst: LocalAssembly) -> tuple[int, int]:
    """What ``src`` has that ``dst`` lacks, ingested by ``dst``: (applied, refused)."""
    missing = [c.data for c in src.replica.missing_for(dst.replica.vector())]
    result = dst.replica.ingest(missing)
    return len(result.applied), len(result.rejected)


def pair(pairer: LocalAssembly, home: Home) -> tuple[LocalAssembly, str]:
    """Pair a new device in ``home`` with ``pairer`` over loopback TCP."""

    async def both() -> tuple[LocalAssembly, str]:
        codes: asyncio.Queue[str] = asyncio.Queue()
        offered = asyncio.create_task(
            offer(pairer, ("127.0.0.1", 0), ["127.0.0.1"], codes.put_nowait, timeout=30)
        )
        shown = asyncio.create_task(codes.get())
        await asyncio.wait({offered, shown}, return_when=asyncio.FIRST_COMPLETED)
        if offered.done():  # refused before showing a code
            shown.cancel()
            await offered
        new = await join(home, shown.result(), timeout=30)
        return new, await offered

    return asyncio.run(both())


@pytest.fixture
def assembly(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Amara (founder) and Ben in sync; a cooling-off of one hour."""
    clock = Clock()
    amara = Home(tmp_path / "amara", clock).create(
        "Riverside", "Amara", rules=Rules(HOUR, 1, 90 * 24 * HOUR), new_id=act_ids("a")
    )
    ben = Home(tmp_path / "ben", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )
    exchange(amara, ben)
    amara.admit_joins()
    exchange(amara, ben)
    yield clock, amara, ben
    amara.close()
    ben.close()


def test_pairing_gives_a_new_device_its_own_key_certificate_and_the_record(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    phone, paired = pair(amara, Home(tmp_path / "amara-phone", clock))
    try:
        assert paired == phone.device_id != amara.device_id
        assert yjs_client_id(phone.device_key.public) != yjs_client_id(amara.device_key.public)
        assert phone.member_id == amara.member_id
        phone.certificate.verify()
        assert phone.certificate.member == amara.member_keys.public
        # The record came with it: the phone folds the same members as the laptop.
        assert set(phone.state().members) == set(amara.state().members)
        # The member key was unsealed on the laptop, so it stays off the phone.
        assert not phone.member_keys.here
        assert not (phone.directory / "member.key").exists()
        # The laptop recorded the phone before it wrote anything: it can revoke it.
        assert paired in amara.state().members[amara.member_id].devices
        # The phone's first act names itself; Ben accepts the phone's changes.
        exchange(phone, amara, ben)
        assert ben.state().device_allowed(amara.member_id, phone.device_id)
        phone.act(commands.propose, "From the phone", "")
        exchange(phone, ben)
        assert "From the phone" in [p.title for p in ben.state().proposals.values()]
    finally:
        phone.close()


def test_a_sealed_member_key_travels_sealed_to_the_paired_device(assembly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, amara, _ = assembly
    amara.protect_member_key("open sesame", FAST)
    amara.member_keys.lock()
    with pytest.raises(KeyLocked):
        pair(amara, Home(tmp_path / "refused", clock))
    amara.unlock("open sesame")
    phone, _ = pair(amara, Home(tmp_path / "phone", clock))
    try:
        assert phone.member_keys.sealed
        with pytest.raises(WrongPassphrase):
            phone.unlock("guess")
        assert phone.unlock("open sesame").public == amara.member_keys.public
    finally:
        phone.close()


def test_a_wrong_pairing_code_is_refused_and_the_code_still_pairs_after(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, amara, _ = assembly

    async def run() -> tuple[str, LocalAssembly]:
        codes: asyncio.Queue[str] = asyncio.Queue()
        offered = asyncio.create_task(
            offer(amara, ("127.0.0.1", 0), ["127.0.0.1"], codes.put_nowait, timeout=30)
        )
        code = await codes.get()
        from assemblymesh.net.pairing import PairCode

        parsed = PairCode.decode(code)
        wrong = PairCode(bytes(10), parsed.hints).encode()
        with pytest.raises(UsageError, match="could not pair"):
            await join(Home(tmp_path / "eve", clock), wrong, timeout=10)
        new = await join(Home(tmp_path / "phone", clock), code, timeout=30)
        return await offered, new

    paired, phone = asyncio.run(run())
    try:
        assert paired == phone.device_id
        assert not (tmp_path / "eve" / "assemblies").exists()
    finally:
        phone.close()


def test_revocation_across_three_nodes_with_a_partition(assembly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    phone, _ = pair(amara, Home(tmp_path / "phone", clock))
    try:
        before = phone.act(commands.propose, "Written before the loss", "").ref
        exchange(phone, amara, ben)
        # Partition: {Amara's laptop} | {phone, Ben}. The phone is stolen; the thief writes
        # on it while the laptop revokes it, neither having seen the other.
        concurrent = phone.act(commands.propose, "Written by the thief", "").ref
        send(phone, ben)
        amara.revoke_device(phone.device_id[:8])
        after = phone.act(commands.propose, "Written later still", "").ref
        send(phone, ben)
        # Ben has not heard of the revocation yet: he still counts the thief's proposals.
        assert concurrent in ben.state().proposals
        # The partition heals: the laptop reaches Ben, and the phone's changes reach the laptop.
        send(amara, ben)
        send(ben, amara)
        send(phone, amara)
        for node in (amara, ben):
            state = node.state()
            assert before in state.proposals
            assert concurrent not in state.proposals and after not in state.proposals
            assert state.is_revoked(amara.member_id, phone.device_id)
            # Every node that has seen the revocation refuses the device.
            peer = PeerIdentity(
                phone.certificate.member, phone.device_key.public, phone.certificate, None
            )
            verdict = node.authorize(peer)
            assert isinstance(verdict, Refused) and "revoked" in verdict.reason
        # Both nodes fold the same record: the same proposals count on each.
        assert amara.state().proposals.keys() == ben.state().proposals.keys()
    finally:
        phone.close()


def test_a_revoked_device_handshake_is_refused(assembly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    phone, _ = pair(amara, Home(tmp_path / "phone", clock))
    try:
        exchange(phone, amara, ben)
        amara.revoke_device(phone.device_id)
        exchange(amara, ben)

        async def dial() -> None:
            node = Node(ben.node_config(("127.0.0.1", 0)))
            await node.start()
            try:
                assert node.listen_address is not None
                port = node.listen_address[1]
                with pytest.raises(HandshakeError):
                    await asyncio.to_thread(phone.sync_once, "127.0.0.1", port, 10)
                # Amara's laptop, not revoked, still syncs with Ben.
                summary = await asyncio.to_thread(amara.sync_once, "127.0.0.1", port, 10)
                assert summary is not None
            finally:
                await node.stop()

        asyncio.run(dial())
    finally:
        phone.close()


def test_a_revoked_devices_later_changes_are_not_stored(assembly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    phone, _ = pair(amara, Home(tmp_path / "phone", clock))
    try:
        exchange(phone, amara)
        amara.revoke_device(phone.device_id)
        kept = amara.replica.vector()[phone.device_key.public][0]
        phone.act(commands.propose, "After", "")
        send(amara, ben)  # Ben learns of the revocation (and the kept changes) first
        applied, refused = send(phone, ben)
        assert (applied, refused) == (0, 1)
        assert ben.replica.vector()[phone.device_key.public][0] == kept
    finally:
        phone.close()


def removal_decision(facilitator: LocalAssembly, who: str, clock: Clock) -> None:
    pid = facilitator.act(
        commands.propose, "Remove", "", effects=(A.RemoveMemberEffect(member=who),)
    ).ref
    rid = facilitator.act(commands.open_round, pid).ref
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.advance_round, rid)
    facilitator.act(commands.position, rid, process.CONSENT, "")
    facilitator.act(commands.close_round, rid)


def test_a_removed_members_later_changes_are_ignored_on_every_node(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    carol = Home(tmp_path / "carol", clock).join(
        amara.issue_invite().encode(), "Carol", new_id=act_ids("c")
    )
    try:
        exchange(amara, carol)
        amara.admit_joins()
        exchange(amara, ben, carol)
        past = ben.act(commands.propose, "Ben's past proposal", "").ref
        exchange(amara, ben, carol)
        removal_decision(amara, ben.member_id, clock)
        exchange(amara, carol)  # Ben is out of range
        clock.now += 2 * HOUR  # the decision takes effect
        later = ben.act(commands.propose, "Written after the removal", "").ref
        # Ben pairs a new laptop after his removal; it writes too.
        laptop, _ = pair(ben, Home(tmp_path / "ben-laptop", clock))
        laptop_act = laptop.act(commands.propose, "From the new laptop", "").ref
        send(ben, laptop)
        send(laptop, ben)
        # Healing: Ben's node reaches Carol, Carol reaches Amara.
        send(ben, carol)
        _, refused = send(laptop, carol)
        assert refused >= 1  # certified after the removal: the store refuses the device
        send(carol, amara)
        send(amara, ben)
        for node in (amara, carol, ben):
            state = node.state(clock.now)
            assert state.members[ben.member_id].is_removed(clock.now)
            assert past in state.proposals
            assert later not in state.proposals and laptop_act not in state.proposals
        peer = PeerIdentity(
            laptop.certificate.member, laptop.device_key.public, laptop.certificate, None
        )
        assert isinstance(carol.authorize(peer), Refused)
        laptop.close()
    finally:
        carol.close()


def test_backup_round_trip_certifies_a_new_device(assembly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    code = amara.backup("long passphrase", FAST)
    new_home = Home(tmp_path / "new-laptop", clock)
    with pytest.raises(WrongPassphrase):
        new_home.restore(code, "wrong passphrase", FAST)
    assert not (tmp_path / "new-laptop").exists()  # nothing written
    restored = new_home.restore(code, "long passphrase", FAST)
    try:
        assert restored.member_id == amara.member_id
        assert restored.device_id != amara.device_id
        restored.certificate.verify()
        assert restored.member_keys.sealed
        assert restored.unlock("long passphrase").public == amara.member_keys.public
        # Its first act names itself; after a sync it has the record, and others take it.
        exchange(restored, amara, ben)
        assert restored.device_id in ben.state().members[amara.member_id].devices
        assert restored.state().assembly is not None
    finally:
        restored.close()


def test_a_damaged_backup_is_told_apart_from_a_wrong_passphrase(assembly) -> None:  # type: ignore[no-untyped-def]
    _, amara, _ = assembly
    code = amara.backup("pass", FAST)
    damaged = code[:-3] + ("a" if code[-3] != "a" else "b") + code[-2:]
    with pytest.raises(KeyFileError, match="damaged"):
        Backup.decode(damaged, "pass")
    opened = Backup.decode(code.upper(), "pass")  # case and spacing do not matter
    assert opened.member_seed == amara.member_key.seed and opened.name == "Riverside"


def test_a_stolen_devices_key_files_cannot_mint_a_device_certificate(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, amara, ben = assembly
    amara.protect_member_key("only amara knows", FAST)
    files = amara.directory
    # The thief copies every file of the device.
    assert "only amara knows" not in (files / "member.key").read_text()
    with pytest.raises(KeyFileError):
        read_key_file(files / "member.key")
    stolen = MemberKey(files / "member.key", amara.member_keys.public)
    with pytest.raises(KeyLocked):
        stolen.unlock(None)
    with pytest.raises(WrongPassphrase):
        stolen.unlock("guess")
    # What the thief can sign is with the device key: a certificate it signs names the
    # device key as the member, which no node takes for Amara.
    device_key = read_key_file(files / "device.key")
    thief = SigningKey.generate()
    forged = DeviceCertificate.issue(device_key, amara.assembly_id, thief.public, clock())
    verdict = ben.authorize(PeerIdentity(forged.member, thief.public, forged, None))
    assert isinstance(verdict, Refused)


def test_a_device_without_the_member_key_cannot_pair_revoke_or_invite(
    assembly, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clock, amara, _ = assembly
    phone, _ = pair(amara, Home(tmp_path / "phone", clock))
    try:
        exchange(phone, amara)
        with pytest.raises(KeyLocked):
            phone.revoke_device(amara.device_id)
        with pytest.raises(KeyLocked):
            phone.issue_invite()
        with pytest.raises(KeyLocked):
            pair(phone, Home(tmp_path / "tablet", clock))
        with pytest.raises(UsageError, match="itself"):
            amara.revoke_device(amara.device_id)
    finally:
        phone.close()
