"""Equivocation evidence and the fork point; quarantine of a store of the previous format."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.replica import Replica, ReplicaEvent
from assemblymesh.errors import RejectedChange, RejectReason
from tests.crdt.helpers import ASSEMBLY, Device, all_changes, device, key, replica
from tests.crdt.hostile import any_item, chain, client_of, obj, real_updates, update

ALICE, BOB, CAROL = key("alice"), key("bob"), key("carol")


def forked(dev: Device) -> tuple[list[Change], list[Change]]:
    """Two branches of one device's chain that share seqs 1..2 and differ from seq 3."""
    updates = real_updates(client_of(dev), "acts", 4)
    trunk = chain(dev, updates[:2])
    branch = []
    for seq, upd in ((3, updates[2]), (4, updates[3])):
        prev = (branch or trunk)[-1].hash
        branch.append(Change.create(dev.key, ASSEMBLY, dev.member.public, seq, prev, 9, upd))
    other = update(client_of(dev), [any_item(obj())], clock=2)
    twin = Change.create(dev.key, ASSEMBLY, dev.member.public, 3, trunk[-1].hash, 9, other)
    return trunk + branch, [*trunk, twin]


def test_two_nodes_on_different_branches_agree_once_both_hold_the_evidence(
    tmp_path: Path,
) -> None:
    a1 = device(ALICE, "a1")
    first, second = forked(a1)
    x = replica(tmp_path / "x.sqlite", device(BOB, "b1"))
    y = replica(tmp_path / "y.sqlite", device(CAROL, "c1"))
    assert len(x.ingest([c.data for c in first]).applied) == 4
    assert len(y.ingest([c.data for c in second]).applied) == 3
    assert x.digest() != y.digest()
    events: list[ReplicaEvent] = []
    y.observe(events.append)
    # y learns of x's branch: its seq 3 differs from y's, both are signed.
    result = y.ingest([c.data for c in x.changes_of(a1.key.public, 2)])
    assert RejectReason.EQUIVOCATION in {r.reason for r in result.rejected}
    assert y.equivocating_devices() == [a1.key.public] and any(e.evidence for e in events)
    (pair,) = y.equivocation_evidence()
    assert x.take_evidence(*pair) is True
    assert x.take_evidence(*pair) is False  # already known
    assert x.digest() == y.digest() and x.change_count() == y.change_count() == 2
    assert x.vector()[a1.key.public][0] == 2
    # Nothing at or past the fork is sent on, nor in the act log.
    assert [c.seq for c in x.missing_for({})] == [1, 2]
    assert [e.seq for e in x.member_logs()[a1.member_id]] == [1, 2]
    assert [e.seq for e in y.member_logs()[a1.member_id]] == [1, 2]


def test_invalid_evidence_is_refused(tmp_path: Path) -> None:
    a1 = device(ALICE, "a1")
    first, second = forked(a1)
    x = replica(tmp_path / "x.sqlite", device(BOB, "b1"))
    x.ingest([c.data for c in first[:2]])
    with pytest.raises(RejectedChange):
        x.take_evidence(first[2].data, first[2].data)  # the same change twice
    with pytest.raises(RejectedChange):
        x.take_evidence(first[2].data, first[3].data)  # two seqs
    with pytest.raises(RejectedChange):
        x.take_evidence(first[2].data, second[2].without_signature().data)
    stranger = device(key("dave"), "d1")
    s1, s2 = forked(stranger)
    with pytest.raises(RejectedChange):
        x.take_evidence(s1[2].data, s2[2].data)  # device unknown here
    assert not x.equivocating_devices()


def test_an_unsigned_conflicting_copy_is_not_taken_for_equivocation(tmp_path: Path) -> None:
    """Equivocation needs two validly signed changes: the stored one must be signed too."""
    a1 = device(ALICE, "a1")
    first, second = forked(a1)
    x = replica(tmp_path / "x.sqlite", device(BOB, "b1"))
    run = [c.without_signature().data for c in first[:3]] + [first[3].data]
    assert len(x.ingest(run).applied) == 4
    result = x.ingest([second[2].data])
    assert not x.equivocating_devices() and not result.applied
    assert {r.reason for r in result.rejected} == {RejectReason.BAD_CHAIN}


# --- a store of the previous format -----------------------------------------------------


def downgrade_to_format_1(path: Path, hostile: list[tuple[int, int, int, bytes, bytes]]) -> None:
    """Turn a format-2 store into what format 1 looked like, holding ``hostile`` rows
    (device_id, seq, doc_id, hash, data) as the old ingest would have stored them."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        DROP INDEX pending_received;
        ALTER TABLE pending DROP COLUMN received_ms;
        ALTER TABLE devices DROP COLUMN fork_seq;
        DROP TABLE act_log;
        DROP TABLE quarantine;
        DELETE FROM meta WHERE key = 'validated';
        PRAGMA user_version = 1;
        """
    )
    db.executemany("INSERT INTO changes VALUES (?,?,?,?,?)", hostile)
    for device_id, seq, _, digest, _ in hostile:
        db.execute(
            "UPDATE devices SET head_seq = ?, head_hash = ? WHERE id = ?", (seq, digest, device_id)
        )
    db.commit()
    db.close()


def test_a_stored_hostile_change_is_quarantined_on_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a1 = device(ALICE, "a1")
    path = tmp_path / "old.sqlite"
    me = device(BOB, "b1")
    node = replica(path, me)
    honest = chain(a1, real_updates(client_of(a1), "acts", 2))
    node.ingest([c.data for c in honest])
    with node.transact() as doc:
        doc.array("acts").append({"mine": 1})
    digest_before = node.digest()
    device_id = node._devices[a1.key.public].id
    doc_id = node._registry.ids[a1.member_id]
    node.close()
    deep = update(client_of(a1), [any_item(b"\x76\x01\x01a" + b"\x75\x01" * 50 + b"\x7e")], 2)
    bad = Change.create(a1.key, ASSEMBLY, ALICE.public, 3, honest[-1].hash, 5, deep)
    after = Change.create(a1.key, ASSEMBLY, ALICE.public, 4, bad.hash, 6, b"\x00\x00")
    downgrade_to_format_1(path, [(device_id, c.seq, doc_id, c.hash, c.data) for c in (bad, after)])
    caplog.set_level(logging.WARNING)
    node = replica(path, me)
    warnings = [r.getMessage() for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(warnings) == 1 and "change 3 of device" in warnings[0]
    assert node.digest() == digest_before and node._store.count_quarantine() == 2
    assert [c.seq for c in node.changes_of(a1.key.public)] == [1, 2]
    assert [e.seq for e in node.member_logs()[a1.member_id]] == [1, 2]
    assert node.document(a1.member_id).array("acts").to_py()[0]["n"] == 0
    node.close()
    caplog.clear()
    reopened = replica(path, me)  # validated once: no second pass
    assert not [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert reopened.digest() == digest_before and len(all_changes(reopened)) == 3
    reopened.close()


def test_replica_open_requires_an_admission_policy(tmp_path: Path) -> None:
    dev = device(BOB, "b1")
    with pytest.raises(TypeError):
        Replica.open(tmp_path / "n.sqlite", ASSEMBLY, dev.key, dev.cert)  # type: ignore[call-arg]
