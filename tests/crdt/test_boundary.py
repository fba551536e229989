"""The trust boundary: hostile but validly signed input leaves the node working and stores
nothing wrong (structure, admission, pending quotas, stripped signatures, engine failures)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pycrdt
import pytest

from assemblymesh.crdt import engine as engine_module
from assemblymesh.crdt import replica as replica_module
from assemblymesh.crdt.change import SHARED_DOC, decode_change
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.replica import PendingBudget, Replica, Verdict
from assemblymesh.crdt.yupdate import check_member_update, check_shared_update
from assemblymesh.errors import RejectedChange, RejectReason
from tests.crdt.helpers import (
    ASSEMBLY,
    FakeClock,
    all_changes,
    device,
    documents_of,
    key,
    replica,
)
from tests.crdt.hostile import (
    any_float,
    any_item,
    any_str,
    any_varint,
    chain,
    client_of,
    item_under_id,
    nested,
    obj,
    real_updates,
    update,
    vstr,
    xml_element,
)

ALICE, BOB, CAROL, MALLORY = key("alice"), key("bob"), key("carol"), key("mallory")


def fingerprint(r: Replica) -> tuple[object, ...]:
    return (r.digest(), r.change_count(), documents_of(r), r.pending_count(), r.member_logs())


def reasons(result: object) -> set[RejectReason]:
    return {rej.reason for rej in result.rejected}  # type: ignore[attr-defined]


@pytest.fixture
def node(tmp_path: Path) -> Replica:
    return replica(tmp_path / "node.sqlite", device(BOB, "b1"))


# --- 1. the structural check ------------------------------------------------------------


def hostile_member_updates(client: int) -> dict[str, bytes]:
    acts = any_item(obj(type=any_str("x")))
    return {
        "deep 20k": update(client, [any_item(nested(20_000))]),
        "deep 9": update(client, [any_item(nested(8))]),
        "xml element": update(client, [xml_element()]),
        "parent is an item": update(client, [acts, item_under_id(client, 0)]),
        "map entry": update(client, [b"\x28" + b"\x01" + vstr("acts") + vstr("k") + b"\x01\x7e"]),
        "other root": update(client, [any_item(obj(), parent=b"\x01" + vstr("props"))]),
        "deletion": update(
            client, [acts], deletes=b"\x01" + bytes([client & 0x7F]) + b"\x01\x00\x01"
        ),
        "seventeen acts": update(client, [any_item(*[obj()] * 17)]),
        "not a mapping": update(client, [any_item(any_str("x"))]),
        "string content": update(client, [b"\x04" + b"\x01" + vstr("acts") + vstr("x")]),
        "gc struct": update(client, [b"\x00\x01"]),
        "trailing bytes": update(client, [acts]) + b"\x00",
        "truncated": update(client, [acts])[:-3],
        "another client": update(client + 1, [acts]),
        # Numbers no 64-bit integer holds (the act log stores acts as msgpack).
        "float past 2**63": update(client, [any_item(obj(n=any_float(2.0**65)))]),
        "float below -2**63": update(client, [any_item(obj(n=any_float(-(2.0**63))))]),
        "nested float past 2**63": update(
            client, [any_item(obj(a=b"\x75\x01" + any_float(1e300)))]
        ),
        "varint of 2**63": update(client, [any_item(obj(n=any_varint(2**63)))]),
        "varint below -2**63": update(client, [any_item(obj(n=any_varint(-(2**63))))]),
    }


def test_each_hostile_member_update_is_refused_before_the_engine(node: Replica) -> None:
    mallory = device(MALLORY, "m1")
    client = client_of(mallory)
    for label, upd in hostile_member_updates(client).items():
        with pytest.raises(RejectedChange) as caught:
            check_member_update(upd, client)
        assert caught.value.reason == RejectReason.BAD_UPDATE, label
    before = fingerprint(node)
    for label, upd in hostile_member_updates(client).items():
        result = node.ingest([chain(mallory, [upd])[0].data])
        assert reasons(result) == {RejectReason.BAD_UPDATE}, label
    assert fingerprint(node) == before
    # The node still takes an honest change from the same device.
    honest = chain(mallory, real_updates(client, "acts", 1))
    assert len(node.ingest([honest[0].data]).applied) == 1
    assert node.member_logs()[MALLORY.public.hex()][0].value == {"type": "note", "n": 0, "x": 1.5}


def test_the_largest_numbers_a_value_may_carry_pass_as_integers(node: Replica) -> None:
    mallory = device(MALLORY, "m1")
    client = client_of(mallory)
    big, small = float(2**62), 2**63 - 1
    fields = {"f": any_float(big), "v": any_varint(small), "w": any_varint(-small)}
    upd = update(client, [any_item(obj(**fields))])
    assert check_member_update(upd, client).values == [{"f": 2**62, "v": small, "w": -small}]
    refused = update(client, [any_item(obj(n=any_float(2.0**63)))])
    with pytest.raises(RejectedChange, match="a number is out of range"):
        check_member_update(refused, client)
    result = node.ingest([chain(mallory, [upd])[0].data])
    assert len(result.applied) == 1
    assert node.member_logs()[MALLORY.public.hex()][0].value["v"] == small


def test_hostile_shared_updates_are_refused(node: Replica) -> None:
    mallory = device(MALLORY, "m1")
    client = client_of(mallory)
    root = b"\x01" + vstr("draft/x")
    cases = {
        "any content": update(client, [any_item(obj(), parent=root)]),
        "xml in a text root": update(client, [xml_element(parent=root)]),
        "root not a draft": update(client, [b"\x04\x01" + vstr("t0") + vstr("x")]),
        "root name too long": update(
            client, [b"\x04\x01" + vstr("draft/" + "x" * 100) + vstr("x")]
        ),
        "non-ascii root": update(client, [b"\x04\x01" + vstr("draft/é") + vstr("x")]),
        "format": update(client, [b"\x06" + root + vstr("bold") + vstr("true")]),
        "embed": update(client, [b"\x05" + root + vstr("{}")]),
        "binary": update(client, [b"\x03" + root + b"\x01\x00"]),
        "json": update(client, [b"\x02" + root + b"\x01" + vstr("1")]),
        "doc": update(client, [b"\x09" + root + vstr("guid") + b"\x7e"]),
        "parent is an item": update(client, [item_under_id(client, 0)]),
    }
    before = fingerprint(node)
    for label, upd in cases.items():
        with pytest.raises(RejectedChange):
            check_shared_update(upd, client)
        result = node.ingest([chain(mallory, [upd], doc=SHARED_DOC)[0].data])
        assert reasons(result) == {RejectReason.BAD_UPDATE}, label
    assert fingerprint(node) == before


def test_what_the_document_layer_writes_passes_the_check(tmp_path: Path) -> None:
    a = replica(tmp_path / "a.sqlite", device(ALICE, "a1"))
    with a.transact() as doc:
        doc.array("acts").append({"type": "x", "n": 3, "big": 2**53, "neg": -7, "l": [{"a": None}]})
        for i in range(15):  # 16 acts in one change: the most one change may append
            doc.array("acts").append({"i": i})
    with a.transact(SHARED) as doc:
        doc.text("draft/p1").insert(0, "héllo 世界 🎉")
        doc.text("minutes/m").insert(0, "x")
    with a.transact(SHARED) as doc:
        doc.text("draft/p1").delete(1, 3)
    b = replica(tmp_path / "b.sqlite", device(BOB, "b1"))
    result = b.ingest(all_changes(a))
    assert not result.rejected and len(result.applied) == 3
    log = b.member_logs()[ALICE.public.hex()]
    assert log[0].value == {"type": "x", "n": 3, "big": 2**53, "neg": -7, "l": [{"a": None}]}
    assert type(log[0].value["n"]) is int  # type: ignore[index]
    assert len(log) == 16 and str(b.document(SHARED).text("draft/p1")) == "ho 世界 🎉"


# --- 2. reading -------------------------------------------------------------------------


def test_reading_an_array_is_one_engine_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a = replica(tmp_path / "a.sqlite", device(ALICE, "a1"))
    with a.transact() as doc:
        for i in range(5):
            doc.array("acts").append({"i": i})

    def per_index(self: object, index: object) -> object:
        raise AssertionError("read element by element")

    monkeypatch.setattr(pycrdt.Array, "__getitem__", per_index)
    assert a.document(a.member_id).array("acts").to_py() == [{"i": i} for i in range(5)]


def test_a_document_that_cannot_be_read_contributes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a = replica(tmp_path / "a.sqlite", device(ALICE, "a1"))
    with a.transact() as doc:
        doc.array("acts").append({"i": 1})

    class Panic(BaseException):
        pass

    def broken(self: object) -> str:
        raise Panic("engine panic")

    monkeypatch.setattr(pycrdt.Array, "__str__", broken)
    monkeypatch.setattr(pycrdt.Text, "__str__", broken)
    assert a.document(a.member_id).array("acts").to_py() == []
    assert str(a.document(SHARED).text("draft/x")) == ""


# --- 3. memory never runs ahead of the store --------------------------------------------


def failing_engine(monkeypatch: pytest.MonkeyPatch, bad: set[bytes], error: BaseException) -> None:
    """Make the engine raise ``error`` when it is given one of the updates in ``bad``."""
    original = engine_module.EngineBatch._open

    def _open(self: engine_module.EngineBatch, doc: bytes) -> object:
        manager, (apply, txn, doc_id), count = original(self, doc)

        def guarded(engine_txn: object, upd: bytes) -> None:
            if upd in bad:
                raise error
            apply(engine_txn, upd)

        return manager, (guarded, txn, doc_id), count

    monkeypatch.setattr(engine_module.EngineBatch, "_open", _open)


class FakePanic(BaseException):
    """Like pyo3's PanicException: a BaseException."""


@pytest.mark.parametrize("error", [RuntimeError("engine"), FakePanic("panic"), ValueError("x")])
def test_an_engine_failure_mid_batch_leaves_memory_equal_to_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: BaseException
) -> None:
    alice = replica(tmp_path / "a.sqlite", device(ALICE, "a1"))
    for i in range(4):
        with alice.transact() as doc:
            doc.array("acts").append({"i": i})
    changes = all_changes(alice)
    dev = device(BOB, "b1")
    node = replica(tmp_path / "n.sqlite", dev)
    failing_engine(monkeypatch, {decode_change(changes[2]).update}, error)
    result = node.ingest(changes)
    assert [c.seq for c in result.applied] == [1, 2]
    assert [(r.seq, r.reason) for r in result.rejected] == [
        (3, RejectReason.BAD_UPDATE),
        (4, RejectReason.BAD_CHAIN),
    ]
    in_memory = fingerprint(node)
    node.close()
    monkeypatch.undo()
    node = replica(tmp_path / "n.sqlite", dev)
    assert fingerprint(node) == in_memory  # what memory holds is what the store holds
    # The honest chain then applies, and its device is not taken for an equivocator.
    result = node.ingest(changes)
    assert [c.seq for c in result.applied] == [3, 4] and not node.equivocating_devices()


# --- 5. admission -----------------------------------------------------------------------


class StrictPolicy:
    """Admits the members in ``admitted``; ``waiting`` ones wait; others are refused."""

    def __init__(self) -> None:
        self.admitted: set[bytes] = set()
        self.waiting: set[bytes] = set()
        self.asked: list[tuple[bytes, list[object]]] = []

    def admit(
        self, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
    ) -> tuple[Verdict, str]:
        self.asked.append((member, list(values)))
        if member in self.admitted:
            return Verdict.ADMIT, "on the roster"
        if member in self.waiting:
            return Verdict.WAIT, "not yet"
        return Verdict.REFUSE, "not a member"


def strict_node(path: Path, policy: StrictPolicy) -> Replica:
    dev = device(BOB, "b1")
    return Replica.open(path, ASSEMBLY, dev.key, dev.cert, FakeClock(), admission=policy)


def test_a_made_up_member_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    policy = StrictPolicy()
    node = strict_node(tmp_path / "n.sqlite", policy)
    mallory = device(MALLORY, "m1")  # a self-issued certificate of a made-up member
    changes = chain(mallory, real_updates(client_of(mallory), "acts", 3))
    before = fingerprint(node)
    result = node.ingest([c.data for c in changes])
    assert reasons(result) == {RejectReason.NOT_AUTHORISED} and len(result.rejected) == 3
    assert fingerprint(node) == before and MALLORY.public.hex() not in node.document_names()
    assert policy.asked == [(MALLORY.public, [{"type": "note", "n": 0, "x": 1.5}])]


def test_a_waiting_member_is_admitted_when_the_policy_says_so(tmp_path: Path) -> None:
    policy = StrictPolicy()
    node = strict_node(tmp_path / "n.sqlite", policy)
    carol, alice = device(key("carol"), "c1"), device(ALICE, "a1")
    policy.waiting.add(carol.member.public)
    policy.admitted.add(alice.member.public)
    waiting = chain(carol, real_updates(client_of(carol), "acts", 2))
    result = node.ingest([c.data for c in waiting])
    assert not result.applied and result.buffered == 2 and node.pending_count() == 2
    # Alice (admitted) writes; meanwhile the policy learnt that Carol is admitted.
    policy.admitted.add(carol.member.public)
    result = node.ingest([c.data for c in chain(alice, real_updates(client_of(alice), "acts", 1))])
    assert {c.device for c in result.applied} == {alice.key.public, carol.key.public}
    assert node.pending_count() == 0 and len(node.member_logs()[carol.member_id]) == 2
    # A second device of an accepted member is accepted without asking.
    asked = len(policy.asked)
    carol2 = device(key("carol"), "c2")
    node.ingest([c.data for c in chain(carol2, real_updates(client_of(carol2), "acts", 1))])
    assert len(policy.asked) == asked and carol2.key.public in node.vector()


# --- 6. pending quotas ------------------------------------------------------------------


def test_unsigned_changes_of_a_made_up_device_are_not_buffered(node: Replica) -> None:
    mallory = device(MALLORY, "m1")
    later = chain(mallory, real_updates(client_of(mallory), "acts", 4))[1:]
    result = node.ingest([c.without_signature().data for c in later])
    assert result.buffered == 0 and node.pending_count() == 0
    assert reasons(result) == {RejectReason.BAD_CERTIFICATE}


def test_a_source_budget_caps_what_it_leaves_pending(node: Replica) -> None:
    alice = device(ALICE, "a1")
    changes = chain(alice, real_updates(client_of(alice), "acts", 6))
    gap = [changes[0].without_signature(), *changes[2:]]  # seq 2 missing: all wait
    budget = PendingBudget(bytes_left=len(gap[0].data) + len(gap[1].data))
    result = node.ingest([c.data for c in gap], budget=budget)
    assert result.buffered == 2 and node.pending_count() == 2
    assert budget.bytes_left == 0
    assert {r.reason for r in result.rejected} == {RejectReason.TOO_LARGE}


def test_pending_is_capped_per_device_and_in_bytes(
    monkeypatch: pytest.MonkeyPatch, node: Replica
) -> None:
    alice = device(ALICE, "a1")
    changes = chain(alice, real_updates(client_of(alice), "acts", 8))
    monkeypatch.setattr(replica_module, "MAX_PENDING_PER_DEVICE", 3)
    result = node.ingest([changes[0].without_signature().data] + [c.data for c in changes[2:]])
    assert result.buffered == 3 and node.pending_count() == 3
    monkeypatch.setattr(replica_module, "MAX_PENDING_PER_DEVICE", 100)
    monkeypatch.setattr(replica_module, "MAX_PENDING_BYTES", 0)
    bob2 = device(BOB, "b2")
    result = node.ingest([c.without_signature().data for c in chain(bob2, [b"\x00\x00"] * 2)])
    assert result.buffered == 0 and node.pending_count() == 3


def test_devices_of_one_batch_share_the_overall_pending_quota(
    monkeypatch: pytest.MonkeyPatch, node: Replica
) -> None:
    tails = []
    for member, label in ((ALICE, "a1"), (BOB, "b1"), (CAROL, "c1")):
        dev = device(member, label)
        changes = chain(dev, real_updates(client_of(dev), "acts", 4))
        tails.append([changes[0].without_signature(), *changes[2:]])  # seq 2 missing
    quota = sum(len(c.data) for c in tails[0]) + 1  # one device's tail fits, not two
    monkeypatch.setattr(replica_module, "MAX_PENDING_BYTES", quota)
    result = node.ingest([c.data for tail in tails for c in tail])
    assert result.buffered == 3 and node.pending_count() == 3
    assert node._pending_bytes <= quota
    assert {r.reason for r in result.rejected} == {RejectReason.TOO_LARGE}


def test_pending_expires_after_seven_days(tmp_path: Path) -> None:
    clock = FakeClock()
    dev = device(BOB, "b1")
    node = replica(tmp_path / "n.sqlite", dev, clock)
    alice = device(ALICE, "a1")
    changes = chain(alice, real_updates(client_of(alice), "acts", 3))
    node.ingest([changes[0].without_signature().data, changes[2].data])
    assert node.pending_count() == 2
    node.close()
    clock.now += 7 * 24 * 3600 * 1000 + 10
    node = replica(tmp_path / "n.sqlite", dev, clock)
    assert node.pending_count() == 0


# --- 7. a stripped signature never delays a change --------------------------------------


def test_a_signed_copy_replaces_an_unsigned_pending_one(tmp_path: Path) -> None:
    alice = replica(tmp_path / "a.sqlite", device(ALICE, "a1"))
    for i in range(3):
        with alice.transact() as doc:
            doc.array("acts").append({"type": "object" if i == 2 else "consent"})
    changes = [decode_change(c) for c in all_changes(alice)]
    node = replica(tmp_path / "n.sqlite", device(BOB, "b1"))
    node.ingest([c.data for c in changes[:2]])
    stripped = node.ingest([changes[2].without_signature().data])
    assert stripped.buffered == 1
    result = node.ingest([changes[2].data])
    assert [c.seq for c in result.applied] == [3] and node.pending_count() == 0
    assert node.member_logs()[alice.member_id][-1].value == {"type": "object"}


# --- 8. the attributed act log ----------------------------------------------------------


def test_the_act_log_names_the_signing_device_not_the_act(tmp_path: Path) -> None:
    a1, a2 = device(ALICE, "a1"), device(ALICE, "a2")
    node = replica(tmp_path / "n.sqlite", device(BOB, "b1"))
    forged_field = update(client_of(a2), [any_item(obj(device=any_str(a1.key.public.hex())))])
    node.ingest([c.data for c in chain(a1, real_updates(client_of(a1), "acts", 2))])
    node.ingest([chain(a2, [forged_field])[0].data])
    log = node.member_logs()[ALICE.public.hex()]
    by_device = sorted([a1.key.public, a2.key.public])
    assert [e.device for e in log] == sorted(
        [a1.key.public] * 2 + [a2.key.public], key=by_device.index
    )
    entry = next(e for e in log if e.device == a2.key.public)
    assert entry.value == {"device": a1.key.public.hex()} and (entry.seq, entry.pos) == (1, 0)
    revision = node.log_revision()
    node.close()
    reopened = replica(tmp_path / "n.sqlite", device(BOB, "b1"))
    assert reopened.member_logs()[ALICE.public.hex()] == log
    assert isinstance(revision, int)
