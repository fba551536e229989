"""The document layer hides the engine's traps: floats, UTF-8 offsets, panics, roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from assemblymesh.crdt.document import SHARED, check_value
from assemblymesh.crdt.yupdate import MAX_VALUES_PER_CHANGE
from assemblymesh.errors import UsageError
from tests.crdt.helpers import all_changes, device, key, replica


@pytest.fixture
def pair(tmp_path: Path):  # type: ignore[no-untyped-def]
    a = replica(tmp_path / "a.sqlite", device(key("alice")))
    b = replica(tmp_path / "b.sqlite", device(key("bob")))
    yield a, b
    a.close()
    b.close()


def test_integers_come_back_as_integers(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    with a.transact() as doc:
        doc.array("acts").append({"amount": 2**53})
        doc.array("acts").append({"n": 7, "nested": {"xs": [1, 2, 3], "flag": True, "none": None}})
    b.ingest(all_changes(a))
    for r in (a, b):
        m = r.document(a.member_id).array("acts")[1]
        assert m.get("n") == 7 and type(m.get("n")) is int
        assert m.get("nested") == {"xs": [1, 2, 3], "flag": True, "none": None}
        assert r.document(a.member_id).array("acts").to_py()[:1] == [{"amount": 2**53}]


@pytest.mark.parametrize(
    "value", [1.5, 2**53 + 1, b"bytes", {1: "int key"}, object(), [1, 2.0], {"a": {"b": 0.1}}]
)
def test_values_that_cannot_round_trip_are_refused(value: object) -> None:
    with pytest.raises(UsageError):
        check_value(value)


def test_text_offsets_are_code_points(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    with a.transact(SHARED) as doc:
        text = doc.text("draft/t")
        text.insert(0, "héllo 世界 🎉!")
        text.insert(1, "X")  # after 'h', before the two-byte 'é'
        text.insert(8, "Y")  # between the CJK characters
        text.insert(len(text) - 1, "Z")  # before '!', after the four-byte emoji
    with a.transact(SHARED) as doc:
        doc.text("draft/t").delete(2, 1)  # removes 'é' entirely
    b.ingest(all_changes(a))
    for r in (a, b):
        assert str(r.document(SHARED).text("draft/t")) == "hXllo 世Y界 🎉Z!"


@pytest.mark.parametrize(("index", "length"), [(-1, 1), (99, 0), (0, 99), (2, -1)])
def test_text_ranges_outside_the_text_are_refused(pair, index: int, length: int) -> None:  # type: ignore[no-untyped-def]
    a, _ = pair
    with a.transact(SHARED) as doc:
        doc.text("draft/t").insert(0, "abc")
    before = a.change_count()
    with pytest.raises(UsageError), a.transact(SHARED) as doc:
        if length == 0:
            doc.text("draft/t").insert(index, "x")
        else:
            doc.text("draft/t").delete(index, length)
    assert a.change_count() == before
    assert str(a.document(SHARED).text("draft/t")) == "abc"


def test_writing_outside_a_transaction_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    a, _ = pair
    with pytest.raises(UsageError, match="transact"):
        a.document(a.member_id).map("m").set("k", "v")
    assert a.change_count() == 0


def test_a_device_writes_only_its_member_document_and_the_shared_one(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    with pytest.raises(UsageError), a.transact(b.member_id):
        pass
    assert a.change_count() == 0


def test_root_types_arriving_remotely_are_readable(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    with a.transact() as doc:
        doc.array("acts").append({"p1": {"title": "quiet hours"}})
    with a.transact(SHARED) as doc:
        doc.text("draft/body").insert(0, "no drilling")
    b.ingest(all_changes(a))
    props = b.document(a.member_id).array("acts")[0]
    assert props.get("p1") == {"title": "quiet hours"}
    assert str(b.document(SHARED).text("draft/body")) == "no drilling"
    assert sorted(props) == ["p1"]


def test_an_exception_inside_a_transaction_still_records_what_was_written(pair) -> None:  # type: ignore[no-untyped-def]
    """The engine cannot roll back, so the log must hold whatever the document holds."""
    a, b = pair
    with pytest.raises(RuntimeError), a.transact() as doc:
        doc.array("acts").append({"k": "written"})
        raise RuntimeError("boom")
    assert a.change_count() == 1
    b.ingest(all_changes(a))
    assert b.document(a.member_id).array("acts")[0].get("k") == "written"


def test_a_local_write_peers_would_refuse_is_refused_and_leaves_nothing(pair) -> None:  # type: ignore[no-untyped-def]
    # A change outside the schema would make every peer refuse this device's chain from
    # there on, so it must never be signed: the write fails and the record is as before.
    a, b = pair
    with a.transact() as doc:
        doc.array("acts").append({"n": 0})
    before = (a.change_count(), a.document(a.member_id).array("acts").to_py())
    with pytest.raises(UsageError, match="peers would not accept it"), a.transact() as doc:
        for n in range(MAX_VALUES_PER_CHANGE + 1):
            doc.array("acts").append({"n": n + 1})
    assert (a.change_count(), a.document(a.member_id).array("acts").to_py()) == before
    with pytest.raises(UsageError, match="peers would not accept it"), a.transact() as doc:
        doc.map("other").set("k", "v")
    with a.transact() as doc:  # the device's chain goes on, and a peer takes all of it
        doc.array("acts").append({"n": 99})
    b.ingest(all_changes(a))
    assert b.document(a.member_id).array("acts").to_py() == [{"n": 0}, {"n": 99}]
    assert b.change_count() == a.change_count() == 2
