"""Replicas converge whatever the delivery: any order, duplicates, batches, withheld changes,
restarts in between (which exercise checkpoints taken while items wait for dependencies)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.crdt import checkpoints as checkpoints_module
from assemblymesh.crdt.change import decode_change
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.replica import Replica
from tests.crdt.helpers import Device, FakeClock, all_changes, device, documents_of, key, replica

WORDS = ["consent", "objection", "會議", "🎉", "niño", "ok", "Ωmega", "🏳️‍🌈", "x"]

# (actor, action, argument) — actors are replicas, actions are edits or deliveries.
step = st.tuples(
    st.integers(0, 3),
    st.sampled_from(["map", "array", "text", "delete", "deliver", "deliver", "restart"]),
    st.integers(0, 10_000),
)


def certified_first(changes: list[bytes]) -> list[bytes]:
    """The same shuffled changes, devices' first changes (with their certificates) first: a
    node buffers changes only of devices whose certificate it has seen, so every delivery
    carries the first change of each device it carries anything of."""
    return sorted(changes, key=lambda c: decode_change(c).cert is None)


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        members = [key("m0"), key("m1"), key("m2")]
        # Four devices: member 0 has two of them, writing the same member document.
        self.devices: list[Device] = [
            device(members[0], "d0"),
            device(members[0], "d1"),
            device(members[1], "d2"),
            device(members[2], "d3"),
        ]
        self.clock = FakeClock()
        self.replicas: list[Replica] = [self.open(i) for i in range(4)]

    def open(self, i: int) -> Replica:
        return replica(self.root / f"r{i}.sqlite", self.devices[i], self.clock)

    def edit(self, i: int, action: str, arg: int) -> None:
        r = self.replicas[i]
        word = WORDS[arg % len(WORDS)]
        if action == "map":
            with r.transact() as doc:
                doc.array("acts").append({"p": arg % 3, f"f{arg % 2}": word})
        elif action == "array":
            with r.transact() as doc:
                doc.array("acts").append({"id": f"{i}-{arg}", "word": word, "n": arg})
        elif action == "text":
            with r.transact(SHARED) as doc:
                text = doc.text(f"draft/t{arg % 3}")
                text.insert(arg % (len(text) + 1), word)
        elif action == "delete":
            with r.transact(SHARED) as doc:
                text = doc.text(f"draft/t{arg % 3}")
                if len(text):
                    start = arg % len(text)
                    text.delete(start, min(len(text) - start, 1 + arg % 3))

    def deliver(self, i: int, arg: int) -> None:
        """Some of another replica's changes, shuffled, duplicated, in batches."""
        rng = random.Random(arg)
        source = self.replicas[(i + 1 + arg % 3) % 4]
        changes = all_changes(source)
        chosen = [c for c in changes if rng.random() < 0.6]
        chosen += rng.sample(chosen, k=len(chosen) // 3)
        rng.shuffle(chosen)
        chosen = certified_first(chosen + [c for c in changes if decode_change(c).cert])
        target = self.replicas[i]
        while chosen:
            size = rng.randint(1, 5)
            batch, chosen = chosen[:size], chosen[size:]
            result = target.ingest(batch)
            assert not result.rejected, result.rejected

    def restart(self, i: int) -> None:
        self.replicas[i].close()
        self.replicas[i] = self.open(i)

    def deliver_everything(self, seed: int) -> None:
        rng = random.Random(seed)
        everything = [c for r in self.replicas for c in all_changes(r)]
        for target in self.replicas:
            batch = everything[:]
            rng.shuffle(batch)
            batch = certified_first(batch)
            for start in range(0, len(batch), 7):
                assert not target.ingest(batch[start : start + 7]).rejected

    def close(self) -> None:
        for r in self.replicas:
            r.close()


@pytest.fixture(autouse=True)
def frequent_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints_module, "CHECKPOINT_EVERY", 3)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=5, max_size=40), seed=st.integers(0, 1000))
def test_replicas_converge_whatever_the_delivery(
    steps: list[tuple[int, str, int]], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(Path(tmp))
        try:
            for actor, action, arg in steps:
                if action == "deliver":
                    cluster.deliver(actor, arg)
                elif action == "restart":
                    cluster.restart(actor)
                else:
                    cluster.edit(actor, action, arg)
            cluster.deliver_everything(seed)
            digests = {r.digest() for r in cluster.replicas}
            assert len(digests) == 1
            contents = [documents_of(r) for r in cluster.replicas]
            assert all(c == contents[0] for c in contents)
            # ... and a restarted replica reads back the same documents.
            cluster.restart(0)
            assert documents_of(cluster.replicas[0]) == contents[0]
            assert all(r.pending_count() == 0 for r in cluster.replicas)
        finally:
            cluster.close()


def test_checkpoint_taken_while_an_item_waits_for_its_dependency(tmp_path: Path) -> None:
    """The engine leaves waiting items out of its full state; reopening must not lose them."""
    a = replica(tmp_path / "a.sqlite", device(key("a"), "a"))
    b = replica(tmp_path / "b.sqlite", device(key("b"), "b"))
    c_dev = device(key("c"), "c")
    c = replica(tmp_path / "c.sqlite", c_dev)
    with a.transact(SHARED) as doc:
        doc.text("draft/t").insert(0, "hello")
    b.ingest(all_changes(a))
    with b.transact(SHARED) as doc:
        doc.text("draft/t").insert(5, " world")
    b_only = [ch.data for ch in b.changes_of(b.device_key.public)]
    # C receives B's insert, which depends on A's item it does not have yet.
    c.ingest(b_only)
    assert str(c.document(SHARED).text("draft/t")) == ""
    c.checkpoint()
    c.close()
    c = replica(tmp_path / "c.sqlite", c_dev)
    c.ingest(all_changes(a))
    assert str(c.document(SHARED).text("draft/t")) == "hello world"
    for r in (a, b, c):
        r.close()
