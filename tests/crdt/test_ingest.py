"""Ingest refuses every kind of bad input with the right reason and changes nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pycrdt
import pytest

from assemblymesh.crdt.change import SHARED_DOC, Change, decode_change
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.identity import DeviceCertificate, yjs_client_id
from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import RejectReason
from tests.crdt.helpers import (
    ADMIT_EVERYONE,
    ASSEMBLY,
    Device,
    all_changes,
    device,
    documents_of,
    key,
    replica,
)

ALICE, BOB = key("alice"), key("bob")


@pytest.fixture
def alice(tmp_path: Path) -> Iterator[Replica]:
    r = replica(tmp_path / "alice.sqlite", device(ALICE, "a1"))
    for i in range(5):
        with r.transact() as doc:
            doc.array("acts").append({f"k{i}": f"v{i}"})
        with r.transact(SHARED) as doc:
            doc.text("draft/t0").insert(0, f"[{i}]")
    yield r
    r.close()


@pytest.fixture
def bob(tmp_path: Path) -> Iterator[Replica]:
    r = replica(tmp_path / "bob.sqlite", device(BOB, "b1"))
    with r.transact() as doc:
        doc.array("acts").append({"mine": "bob"})
    yield r
    r.close()


def fingerprint(r: Replica) -> tuple[object, ...]:
    return (r.digest(), r.change_count(), documents_of(r), r.pending_count())


def reasons(result: object) -> set[RejectReason]:
    return {rej.reason for rej in result.rejected}  # type: ignore[attr-defined]


def test_clean_ingest_converges(alice: Replica, bob: Replica) -> None:
    result = bob.ingest(all_changes(alice))
    assert not result.rejected and len(result.applied) == 10
    alice.ingest(all_changes(bob))
    assert alice.digest() == bob.digest()
    assert documents_of(alice) == documents_of(bob)


def test_duplicates_and_replays_are_no_ops(alice: Replica, bob: Replica) -> None:
    changes = all_changes(alice)
    bob.ingest(changes)
    before = fingerprint(bob)
    result = bob.ingest(changes + changes[:3])
    assert result.duplicates == 13 and not result.applied and not result.rejected
    assert fingerprint(bob) == before


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_bit_flips_in_a_history_are_rejected(alice: Replica, tmp_path: Path) -> None:
    rng = random.Random(7)
    changes = all_changes(alice)
    for trial in range(40):
        index = rng.randrange(len(changes))
        data = flip(changes[index], rng.randrange(len(changes[index]) * 8))
        node = replica(tmp_path / f"t{trial}.sqlite", device(BOB, f"t{trial}"))
        # Delivered with its true predecessors: they apply, the flipped change never does.
        result = node.ingest([*changes[:index], data])
        assert [c.data for c in result.applied] == changes[:index]
        assert len(result.rejected) == 1 and result.rejected[0].reason != RejectReason.EQUIVOCATION
        assert node.pending_count() == 0 and not node.equivocating_devices()
        node.close()


def test_a_single_flipped_change_never_applies(alice: Replica, tmp_path: Path) -> None:
    first = all_changes(alice)[0]
    node = replica(tmp_path / "n.sqlite", device(BOB, "n"))
    before = fingerprint(node)
    for bit in range(len(first) * 8):
        result = node.ingest([flip(first, bit)])
        assert not result.applied
        assert result.rejected or result.buffered == 0
        assert fingerprint(node) == before
    node.close()


def test_writing_another_members_document_is_refused(alice: Replica, bob: Replica) -> None:
    bob_dev = device(BOB, "b2")
    forged = Change.create(
        bob_dev.key, ASSEMBLY, ALICE.public, 1, b"", 1, update_by(bob_dev), bob_dev.cert.encode()
    )
    before = fingerprint(alice)
    result = alice.ingest([forged.data])
    assert reasons(result) == {RejectReason.NOT_AUTHORISED}
    assert fingerprint(alice) == before


def update_by(dev: Device, doc_kind: str = "map") -> bytes:
    """A real Yjs update made by ``dev``'s client id."""
    doc: pycrdt.Doc[object] = pycrdt.Doc(client_id=yjs_client_id(dev.key.public))
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    with doc.transaction():
        if doc_kind == "map":
            doc.get("props", type=pycrdt.Map)["x"] = "forged"
        else:
            doc.get("t0", type=pycrdt.Text).insert(0, "forged")
    return updates[0]


def test_a_forged_device_certificate_is_refused(alice: Replica, bob: Replica) -> None:
    mallory_dev = device(key("mallory"), "m1")
    # Claims to be a device of Alice, but Mallory signed the certificate.
    cert = DeviceCertificate(
        ASSEMBLY, ALICE.public, mallory_dev.key.public, 0, mallory_dev.cert.signature
    )
    forged = Change.create(
        mallory_dev.key, ASSEMBLY, ALICE.public, 1, b"", 1, update_by(mallory_dev), cert.encode()
    )
    before = fingerprint(bob)
    result = bob.ingest([forged.data])
    assert reasons(result) == {RejectReason.BAD_CERTIFICATE}
    assert fingerprint(bob) == before


def test_a_first_change_without_certificate_is_refused(bob: Replica) -> None:
    dev = device(key("carol"), "c1")
    change = Change.create(dev.key, ASSEMBLY, SHARED_DOC, 1, b"", 1, update_by(dev, "text"))
    result = bob.ingest([change.data])
    assert reasons(result) == {RejectReason.BAD_CERTIFICATE}


def test_an_update_with_another_devices_items_is_refused(alice: Replica, bob: Replica) -> None:
    carol = device(key("carol"), "c1")
    someone = device(key("dave"), "d1")
    change = Change.create(
        carol.key, ASSEMBLY, SHARED_DOC, 1, b"", 1, update_by(someone, "text"), carol.cert.encode()
    )
    before = fingerprint(bob)
    result = bob.ingest([change.data])
    assert reasons(result) == {RejectReason.BAD_UPDATE}
    assert fingerprint(bob) == before


def test_a_change_for_another_assembly_is_refused(alice: Replica, tmp_path: Path) -> None:
    other = bytes(16)
    dev = device(BOB, "x", assembly=other)
    node = Replica.open(
        tmp_path / "other.sqlite", other, dev.key, dev.cert, admission=ADMIT_EVERYONE
    )
    before = fingerprint(node)
    result = node.ingest(all_changes(alice))
    assert reasons(result) == {RejectReason.WRONG_ASSEMBLY}
    assert fingerprint(node) == before
    node.close()


def test_a_gap_is_buffered_then_filled(alice: Replica, bob: Replica) -> None:
    changes = all_changes(alice)
    result = bob.ingest(changes[:3] + changes[5:])
    assert len(result.applied) == 3 and result.buffered == 5 and not result.rejected
    assert bob.pending_count() == 5
    result = bob.ingest(changes[3:5])
    assert len(result.applied) == 7 and bob.pending_count() == 0
    assert documents_of(bob)[alice.member_id] == documents_of(alice)[alice.member_id]


def test_pending_changes_survive_a_restart(alice: Replica, tmp_path: Path) -> None:
    changes = all_changes(alice)
    dev = device(BOB, "b9")
    node = replica(tmp_path / "n.sqlite", dev)
    # Only changes of a device whose certificate was seen are buffered: its first change
    # (which carries the certificate) comes first, then the gap.
    node.ingest(changes[:1])
    node.ingest(changes[4:])
    node.close()
    node = replica(tmp_path / "n.sqlite", dev)
    assert node.pending_count() == 6
    result = node.ingest(changes[:4])
    assert len(result.applied) == 9 and result.duplicates == 1
    assert documents_of(node) == documents_of(alice)
    node.close()


def test_unsigned_changes_inside_a_run_are_vouched_for_by_the_last(
    alice: Replica, bob: Replica
) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    run = [c.without_signature().data for c in changes[:-1]] + [changes[-1].data]
    result = bob.ingest(run)
    assert len(result.applied) == 10 and not result.rejected
    a1 = changes[0].device
    assert bob.vector()[a1] == alice.vector()[a1]
    assert documents_of(bob)[alice.member_id] == documents_of(alice)[alice.member_id]


def test_unsigned_changes_wait_for_a_signature(alice: Replica, bob: Replica) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    result = bob.ingest([c.without_signature().data for c in changes[:4]])
    assert not result.applied and result.buffered == 4
    result = bob.ingest([changes[4].data])
    assert len(result.applied) == 5


def test_a_forged_run_end_rejects_what_it_vouches_for(alice: Replica, bob: Replica) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    bad_sig = changes[3]._replace(signature=bytes(64))
    import msgpack

    forged = msgpack.packb([bad_sig.body, bad_sig.signature])
    run = [c.without_signature().data for c in changes[:3]] + [forged]
    before = fingerprint(bob)
    result = bob.ingest(run)
    assert not result.applied
    assert RejectReason.BAD_SIGNATURE in reasons(result)
    assert fingerprint(bob) == before


def test_equivocation_is_kept_as_evidence_and_stops_the_device(
    alice: Replica, bob: Replica
) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    bob.ingest([c.data for c in changes[:6]])
    # Alice's device signs a second, different change 5 (a fork of its own chain).
    a1 = device(ALICE, "a1")
    fork = Change.create(
        a1.key, ASSEMBLY, SHARED_DOC, 5, changes[3].hash, 99, changes[4].update[:0] + b"\x00\x00"
    )
    result = bob.ingest([fork.data])
    assert reasons(result) == {RejectReason.EQUIVOCATION}
    assert result.equivocating == [a1.key.public]
    assert bob.equivocating_devices() == [a1.key.public]
    evidence = bob._store.evidence()
    assert {seq for _, seq, _ in evidence} == {5}
    # Nothing past the fork is applied any more, from this device.
    result = bob.ingest([c.data for c in changes[6:]])
    assert not result.applied and reasons(result) == {RejectReason.EQUIVOCATION}


def test_equivocation_within_one_batch(alice: Replica, bob: Replica) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    a1 = device(ALICE, "a1")
    twin = Change.create(a1.key, ASSEMBLY, SHARED_DOC, 2, changes[0].hash, 3, b"\x00\x00")
    result = bob.ingest([changes[0].data, changes[1].data, twin.data])
    assert RejectReason.EQUIVOCATION in reasons(result)
    assert [c.seq for c in result.applied] == [1]


def test_a_forged_duplicate_seq_is_not_mistaken_for_equivocation(
    alice: Replica, bob: Replica
) -> None:
    changes = [decode_change(c) for c in all_changes(alice)]
    bob.ingest([c.data for c in changes])
    mallory = device(key("mallory"), "m")
    fake = Change.create(mallory.key, ASSEMBLY, SHARED_DOC, 2, changes[0].hash, 3, b"\x00\x00")
    disguised = fake._replace(device=changes[0].device)
    import msgpack

    from assemblymesh.crdt.change import encode_body

    body = encode_body(*disguised[:8])
    data = msgpack.packb([body, fake.signature])
    before = fingerprint(bob)
    result = bob.ingest([data])
    assert reasons(result) == {RejectReason.BAD_SIGNATURE}
    assert not bob.equivocating_devices()
    assert fingerprint(bob) == before


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff" * 40, bytes(range(256)), b"\x92\xc4\x00\xc0", b"\x00" * (2 << 20)],
)
def test_garbage_batches_change_nothing(bob: Replica, data: bytes) -> None:
    before = fingerprint(bob)
    result = bob.ingest([data])
    assert len(result.rejected) == 1 and not result.applied
    assert fingerprint(bob) == before


def test_truncated_changes_change_nothing(alice: Replica, bob: Replica) -> None:
    first = all_changes(alice)[0]
    before = fingerprint(bob)
    result = bob.ingest([first[:cut] for cut in range(0, len(first), 7)])
    assert not result.applied and len(result.rejected) == len(range(0, len(first), 7))
    assert fingerprint(bob) == before


def test_a_long_batch_to_one_document_is_applied_in_bounded_engine_transactions(
    alice: Replica, bob: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine's memory for one transaction grows with the square of the updates in it,
    # so a batch's updates to one document are applied a bounded number at a time.
    from assemblymesh.crdt import engine as engine_module

    for i in range(2 * engine_module.UPDATES_PER_TRANSACTION):
        with alice.transact() as doc:
            doc.array("acts").append({"n": i})
    opened: list[bytes] = []
    original = engine_module.EngineBatch._open

    def counting_open(self: engine_module.EngineBatch, doc: bytes) -> object:
        opened.append(doc)
        return original(self, doc)

    monkeypatch.setattr(engine_module.EngineBatch, "_open", counting_open)
    result = bob.ingest(all_changes(alice))
    assert not result.rejected
    member_doc = bytes.fromhex(alice.member_id)
    # 517 updates to alice's document (5 + 512): three transactions of at most 256.
    assert opened.count(member_doc) == 3 and opened.count(SHARED_DOC) == 1
    assert documents_of(bob, [alice.member_id, SHARED]) == documents_of(
        alice, [alice.member_id, SHARED]
    )
