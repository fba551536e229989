from __future__ import annotations

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.change import (
    CHANGE_CONTEXT,
    MAX_CHANGE_SIZE,
    Change,
    change_hash,
    decode_change,
    decode_stored,
    encode_body,
)
from assemblymesh.crdt.identity import verify
from assemblymesh.errors import RejectedChange, RejectReason
from tests.crdt.helpers import ASSEMBLY, key

DEVICE = key("device")


def make(seq: int = 1, update: bytes = b"\x00\x00", cert: bytes | None = b"cert") -> Change:
    prev = b"" if seq == 1 else bytes(32)
    return Change.create(DEVICE, ASSEMBLY, b"", seq, prev, 5, update, cert if seq == 1 else None)


def test_round_trip() -> None:
    change = make()
    decoded = decode_change(change.data)
    assert decoded == change
    assert decoded.hash == change_hash(decoded.body)
    verify(DEVICE.public, CHANGE_CONTEXT, decoded.body, decoded.signature)


def test_a_change_without_its_signature_keeps_its_hash() -> None:
    change = make(seq=2)
    bare = decode_change(change.without_signature().data)
    assert bare.hash == change.hash
    assert bare.body == change.body
    assert bare.signature == b"" and not bare.signed


def reject_reason(data: object) -> RejectReason:
    with pytest.raises(RejectedChange) as info:
        decode_change(data)  # type: ignore[arg-type]
    return info.value.reason


def body_with(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "v": 1, "assembly": ASSEMBLY, "doc": b"", "device": DEVICE.public, "seq": 1,
        "prev": b"", "ts": 5, "update": b"\x00\x00", "cert": None,
    }  # fmt: skip
    fields.update(overrides)
    return msgpack.packb(list(fields.values()))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (body_with(v=2), RejectReason.WRONG_VERSION),
        (body_with(v="1"), RejectReason.WRONG_VERSION),
        (body_with(assembly=b"short"), RejectReason.MALFORMED),
        (body_with(doc=b"x" * 31), RejectReason.MALFORMED),
        (body_with(device=b"x" * 33), RejectReason.MALFORMED),
        (body_with(seq=0), RejectReason.MALFORMED),
        (body_with(seq=-1), RejectReason.MALFORMED),
        (body_with(seq=True), RejectReason.MALFORMED),
        (body_with(seq=2, prev=b""), RejectReason.MALFORMED),
        (body_with(prev=bytes(32)), RejectReason.MALFORMED),
        (body_with(ts=-5), RejectReason.MALFORMED),
        (body_with(update="text"), RejectReason.MALFORMED),
        (body_with(seq=2, prev=bytes(32), cert=b"c"), RejectReason.MALFORMED),
        (msgpack.packb({"v": 1}), RejectReason.MALFORMED),
        (msgpack.packb([1, 2, 3]), RejectReason.MALFORMED),
    ],
)
def test_malformed_bodies_are_refused(body: bytes, reason: RejectReason) -> None:
    assert reject_reason(msgpack.packb([body, bytes(64)])) == reason


def test_non_canonical_encodings_are_refused() -> None:
    change = make()
    # seq encoded as uint64 instead of a positive fixint: same value, other bytes.
    fields = msgpack.unpackb(change.body)
    long_seq = (
        b"\x99\x01" + msgpack.packb(fields[1]) + msgpack.packb(fields[2]) + msgpack.packb(fields[3])
        + b"\xcf" + (1).to_bytes(8, "big") + b"".join(msgpack.packb(f) for f in fields[5:])
    )  # fmt: skip
    assert msgpack.unpackb(long_seq) == fields and long_seq != change.body
    assert reject_reason(msgpack.packb([long_seq, change.signature])) == RejectReason.MALFORMED
    # the outer pair with a 16-bit bin header for a short body
    padded = b"\x92\xc5" + len(change.body).to_bytes(2, "big") + change.body
    padded += msgpack.packb(change.signature)
    assert reject_reason(padded) == RejectReason.MALFORMED


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc1", b"\x92", b"\x92\xc4\x01", msgpack.packb([b"x"]), msgpack.packb("str"), 7],
)
def test_garbage_is_refused(data: object) -> None:
    assert reject_reason(data) == RejectReason.MALFORMED


def test_oversized_changes_are_refused_before_parsing() -> None:
    assert reject_reason(b"\x00" * (MAX_CHANGE_SIZE + 1)) == RejectReason.TOO_LARGE


def test_truncated_changes_are_refused() -> None:
    data = make().data
    for cut in range(len(data)):
        assert reject_reason(data[:cut]) == RejectReason.MALFORMED


@settings(max_examples=300, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.binary(max_size=400))
def test_random_bytes_never_decode_into_something_unexpected(data: bytes) -> None:
    try:
        change = decode_change(data)
    except RejectedChange:
        return
    # Anything that decodes is canonical: re-encoding reproduces the bytes.
    assert encode_body(*change[:8]) == change.body


def test_decode_stored_parses_what_decode_change_checked() -> None:
    for change in (make(), make(seq=3), make(seq=2).without_signature()):
        assert decode_stored(change.data, change.hash) == decode_change(change.data) == change
