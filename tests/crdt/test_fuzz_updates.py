"""Hostile Yjs updates in validly signed changes: the node survives, reads, and goes on.

Each generated update travels in a change signed by a certified device of an admitted
member, so only the structural check stands between it and the engine.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.change import SHARED_DOC
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.replica import Replica
from assemblymesh.errors import RejectReason
from tests.crdt.helpers import device, documents_of, key, replica
from tests.crdt.hostile import (
    ROOT_ACTS,
    any_item,
    chain,
    client_of,
    nested,
    obj,
    real_updates,
    update,
    vstr,
)

MALLORY = key("mallory")
DEV = device(MALLORY, "m1")
CLIENT = client_of(DEV)
REAL = real_updates(CLIENT, "acts", 3) + real_updates(CLIENT, "text", 3)

random_bytes = st.binary(max_size=300)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = bytes([draw(st.integers(0, 255))])
        elif data:
            del data[pos]
    return bytes(data)


@st.composite
def any_content(draw: st.DrawFn) -> bytes:
    """One item of any struct kind and content type, with any flags and a plausible or
    random payload, under the acts root or a text root."""
    kind = draw(st.integers(0, 31))
    flags = draw(st.sampled_from([0, 0x20, 0x40, 0x80, 0xC0]))
    parent = draw(st.sampled_from([ROOT_ACTS, b"\x01" + vstr("draft/x"), b"\x00\x05\x00"]))
    payload = draw(
        st.sampled_from(
            [b"\x01" + obj(), vstr("hello"), b"\x03" + vstr("p"), b"\x01\x7e", b"\x05", b""]
        )
    )
    origin = b"\x05\x00" if flags & 0x80 else b""
    right = b"\x05\x01" if flags & 0x40 else b""
    head = parent if not flags & 0xC0 else b""
    sub = vstr("k") if flags & 0x20 else b""
    return bytes([kind | flags]) + origin + right + head + sub + payload


@st.composite
def structured(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(any_content(), min_size=1, max_size=3))
    deletes = draw(st.sampled_from([b"\x00", b"\x01" + bytes([CLIENT & 0x7F]) + b"\x01\x00\x01"]))
    return update(CLIENT, items, deletes=deletes)


deep = st.integers(1, 2_000).map(lambda depth: update(CLIENT, [any_item(nested(depth))]))
hostile = st.one_of(random_bytes, mutated(), structured(), deep)


def read_everything(node: Replica) -> None:
    documents_of(node)
    node.member_logs()
    for name in node.document_names():
        node.document(name).array("acts").to_py()
        str(node.document(SHARED).text("draft/x"))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(updates=st.lists(hostile, min_size=1, max_size=4), shared=st.booleans())
def test_hostile_updates_never_crash_nor_wedge_the_node(updates: list[bytes], shared: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node = replica(Path(tmp) / "n.sqlite", device(key("bob"), "b1"))
        changes = chain(DEV, updates, doc=SHARED_DOC if shared else None)
        result = node.ingest([c.data for c in changes])
        for rejection in result.rejected:
            assert rejection.reason in (RejectReason.BAD_UPDATE, RejectReason.BAD_CHAIN)
        read_everything(node)
        # An honest change still ingests afterwards.
        honest_dev = device(key("carol"), "c1")
        honest = chain(honest_dev, real_updates(client_of(honest_dev), "acts", 1))
        assert len(node.ingest([honest[0].data]).applied) == 1
        read_everything(node)
        assert node.member_logs()[honest_dev.member_id][0].value["n"] == 0  # type: ignore[index]
        node.close()


DEEP_SCRIPT = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    from tests.crdt.helpers import device, documents_of, key, replica
    from tests.crdt.hostile import any_item, chain, client_of, nested, real_updates, update

    depth = int(sys.argv[1])
    dev = device(key("mallory"), "m1")
    hostile = update(client_of(dev), [any_item(nested(depth))])
    with tempfile.TemporaryDirectory() as tmp:
        node = replica(Path(tmp) / "n.sqlite", device(key("bob"), "b1"))
        result = node.ingest([chain(dev, [hostile])[0].data])
        reasons = sorted({r.reason.value for r in result.rejected})
        documents_of(node)
        node.member_logs()
        honest = chain(dev, real_updates(client_of(dev), "acts", 1))
        applied = len(node.ingest([honest[0].data]).applied)
        documents_of(node)
        print("OK", len(hostile), reasons, applied)
    """
)


def test_a_value_nested_100k_deep_is_refused_in_a_child_process() -> None:
    """Run where a segfault fails the test instead of killing pytest."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", DEEP_SCRIPT, "100000"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "OK" in out.stdout and "['bad-update'] 1" in out.stdout, out.stdout
