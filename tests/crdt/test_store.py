from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assemblymesh.crdt import checkpoints as replica_module
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.store import STORE_FORMAT
from assemblymesh.errors import StoreError, StoreFormatError
from tests.crdt.helpers import ADMIT_EVERYONE, all_changes, device, documents_of, key, replica

ALICE = key("alice")


def write_some(path: Path, n: int = 30) -> list[bytes]:
    r = replica(path, device(ALICE, "a1"))
    for i in range(n):
        with r.transact() as doc:
            doc.array("acts").append({f"k{i % 7}": f"v{i}"})
        with r.transact(SHARED) as doc:
            doc.text("draft/t0").insert(0, f"{i},")
    changes = all_changes(r)
    r.close()
    return changes


def test_a_store_from_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    write_some(path, 1)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {STORE_FORMAT + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreFormatError, match="upgrade AssemblyMesh"):
        replica(path, device(ALICE, "a1"))


def test_a_store_of_another_assembly_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    write_some(path, 1)
    other = device(ALICE, "a1", assembly=bytes(16))
    from assemblymesh.crdt.replica import Replica

    with pytest.raises(StoreError, match="another assembly"):
        Replica.open(path, other.cert.assembly, other.key, other.cert, admission=ADMIT_EVERYONE)


def test_a_corrupt_store_gives_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="corrupt"):
        replica(path, device(ALICE, "a1"))


@pytest.mark.parametrize("every", [5, 10_000])
def test_reopening_gives_the_same_documents(tmp_path: Path, every: int) -> None:
    replica_module.CHECKPOINT_EVERY, saved = every, replica_module.CHECKPOINT_EVERY
    try:
        path = tmp_path / "s.sqlite"
        dev = device(ALICE, "a1")
        r = replica(path, dev)
        for i in range(40):
            with r.transact() as doc:
                doc.array("acts").append({f"k{i % 5}": i})
        expected, digest = documents_of(r), r.digest()
        r.close()
        r = replica(path, dev)
        assert documents_of(r) == expected and r.digest() == digest
        # ... and the device continues its chain where it left off.
        with r.transact() as doc:
            doc.array("acts").append({"after": "restart"})
        assert r.change_count() == 41
        r.close()
    finally:
        replica_module.CHECKPOINT_EVERY = saved


def test_a_full_disk_refuses_the_batch_and_changes_nothing(tmp_path: Path) -> None:
    changes = write_some(tmp_path / "source.sqlite", 200)
    node = replica(tmp_path / "n.sqlite", device(key("bob"), "b1"))
    node.ingest(changes[:10])
    before = (node.digest(), documents_of(node), node.change_count())
    pages = node._store._db.execute("PRAGMA page_count").fetchone()[0]
    node._store._db.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(StoreError, match="disk full"):
        node.ingest(changes[10:])
    assert (node.digest(), documents_of(node), node.change_count()) == before
    with pytest.raises(StoreError, match="disk full"), node.transact() as doc:
        doc.array("acts").append({"big": "x" * 100_000})
    assert (node.digest(), documents_of(node), node.change_count()) == before
    # Space again: everything goes through, nothing was lost or half-written.
    node._store._db.execute("PRAGMA max_page_count = 1073741823")
    assert not node.ingest(changes[10:]).rejected
    assert node.change_count() == len(changes)
    node.close()


def test_two_processes_sharing_a_store_see_each_others_changes(tmp_path: Path) -> None:
    """The CLI writes while the node runs: each picks up the other's changes, and the
    device's chain stays linear (no self-equivocation)."""
    path = tmp_path / "s.sqlite"
    dev = device(ALICE, "a1")
    node = replica(path, dev)
    cli = replica(path, dev)
    with cli.transact() as doc:
        doc.array("acts").append({"from": "cli"})
    fresh = node.refresh()
    assert [c.seq for c in fresh] == [1]
    with node.transact() as doc:  # must build on seq 1, not fork it
        doc.array("acts").append({"from": "node"})
    with cli.transact() as doc:
        doc.array("acts").append({"again": "cli"})
    node.refresh()
    assert node.change_count() == cli.change_count() == 3
    assert documents_of(node) == documents_of(cli)
    assert not node.equivocating_devices()
    node.close()
    cli.close()


def test_observers_hear_local_and_remote_changes_after_they_are_durable(tmp_path: Path) -> None:
    changes = write_some(tmp_path / "source.sqlite", 3)
    node = replica(tmp_path / "n.sqlite", device(key("bob"), "b1"))
    heard: list[tuple[bool, int, int]] = []
    unsubscribe = node.observe(
        lambda e: heard.append((e.local, len(e.changes), node._store.count_changes()))
    )
    node.ingest(changes)
    with node.transact() as doc:
        doc.array("acts").append({"x": 1})
    unsubscribe()
    with node.transact() as doc:
        doc.array("acts").append({"y": 2})
    assert heard == [(False, 6, 6), (True, 1, 7)]
    node.close()
