"""The batch codec: exact round trips, and refusal of anything malformed."""

from __future__ import annotations

import contextlib
import zlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.change import Change, decode_change
from assemblymesh.crdt.identity import SigningKey, yjs_client_id
from assemblymesh.crdt.yupdate import encode_varuint
from assemblymesh.errors import ProtocolError, UsageError
from assemblymesh.net.batch import (
    MAX_BATCH_CHANGES,
    BatchDecoder,
    BatchEncoder,
    decode_batch,
    decompress_batch,
    encode_batch,
)
from tests.net.test_sync import ASSEMBLY, key, member

KEYS = [key(f"batch/{i}") for i in range(3)]
CERTS = [member(f"batch/{i}").cert.encode() for i in range(3)]


def chain(
    device: SigningKey, updates: list[bytes], docs: list[bytes], ts: list[int], start: int = 1
) -> list[Change]:
    out: list[Change] = []
    prev = b"" if start == 1 else bytes(32)
    for i, (update, doc, t) in enumerate(zip(updates, docs, ts, strict=False)):
        seq = start + i
        cert = CERTS[0] if seq == 1 else None
        change = Change.create(device, ASSEMBLY, doc, seq, prev, t, update, cert)
        out.append(change)
        prev = change.hash
    return out


def yjs_like(device: SigningKey, count: int, clock: int, rest: bytes) -> bytes:
    return (
        b"\x01"
        + encode_varuint(count)
        + encode_varuint(yjs_client_id(device.public))
        + encode_varuint(clock)
        + rest
    )


updates = st.one_of(
    st.binary(max_size=40),
    st.builds(
        yjs_like,
        st.sampled_from(KEYS),
        st.integers(1, 300),
        st.integers(0, 2**40),
        st.binary(max_size=30),
    ),
)


@st.composite
def batches(draw: st.DrawFn) -> list[Change]:
    out: list[Change] = []
    for device in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True)):
        n = draw(st.integers(1, 12))
        ups = draw(st.lists(updates, min_size=n, max_size=n))
        docs = draw(
            st.lists(st.sampled_from([b"", b"\x07" * 32, b"\x08" * 32]), min_size=n, max_size=n)
        )
        ts = draw(st.lists(st.integers(0, 2**45), min_size=n, max_size=n))
        start = draw(st.sampled_from([1, 5, 1000]))
        run = chain(device, ups, docs, ts, start)
        # Relayed changes may lack signatures inside a run.
        keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        out += [
            c if k or i == n - 1 else c.without_signature()
            for i, (c, k) in enumerate(zip(run, keep, strict=True))
        ]
    return out


@settings(max_examples=150, deadline=None)
@given(batches(), st.sampled_from([1, 2, 512]))
def test_round_trip_rebuilds_exact_bodies(changes: list[Change], stride: int) -> None:
    decoded = decode_batch(encode_batch(changes, stride=stride), ASSEMBLY)
    assert len(decoded) == len(changes)
    for original, rebuilt in zip(changes, decoded, strict=True):
        assert rebuilt.body == original.body and rebuilt.hash == original.hash
        if rebuilt.signature:
            assert rebuilt.data == original.data
            assert decode_change(rebuilt.data) == rebuilt
        else:
            assert decode_change(rebuilt.data) == original.without_signature()


def test_signatures_kept_only_at_run_ends_and_stride() -> None:
    run = chain(KEYS[0], [b"u"] * 10, [b""] * 10, list(range(10)))
    decoded = decode_batch(encode_batch(run, stride=4), ASSEMBLY)
    assert [c.seq for c in decoded if c.signature] == [4, 8, 10]


def test_relayed_unsigned_end_is_sent_without_signature() -> None:
    run = [c.without_signature() for c in chain(KEYS[1], [b"u"] * 3, [b""] * 3, [1, 2, 3])]
    assert not any(c.signature for c in decode_batch(encode_batch(run), ASSEMBLY))


def test_empty_or_oversize_batch_is_misuse() -> None:
    with pytest.raises(UsageError):
        encode_batch([])
    with pytest.raises(UsageError):
        encode_batch(
            chain(
                KEYS[0],
                [b""] * (MAX_BATCH_CHANGES + 1),
                [b""] * (MAX_BATCH_CHANGES + 1),
                [0] * (MAX_BATCH_CHANGES + 1),
            )
        )


def test_decompression_bomb_stops_at_the_cap() -> None:
    bomb = zlib.compress(b"\x00" * (9 * 1024 * 1024), 9)
    assert len(bomb) < 20_000
    with pytest.raises(ProtocolError, match="inflates beyond"):
        decompress_batch(bomb)
    with pytest.raises(ProtocolError, match="inflates beyond"):
        decompress_batch(zlib.compress(b"\x00" * 2000), max_size=1000)


def _raw(value: object) -> bytes:
    return zlib.compress(msgpack.packb(value))


GOOD = chain(KEYS[2], [b"a", b"b"], [b"", b""], [5, 6])


def _good() -> list[object]:
    return msgpack.unpackb(zlib.decompress(encode_batch(GOOD)))  # type: ignore[no-any-return]


def _with(index: int, value: object) -> bytes:
    """The good batch with column ``index`` replaced."""
    batch = _good()
    batch[index] = value
    return _raw(batch)


def _with_run(index: int, value: object) -> bytes:
    """The good batch with field ``index`` of its run header replaced."""
    batch = _good()
    batch[1][0][index] = value  # type: ignore[index]
    return _raw(batch)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not zlib",
        zlib.compress(b"\xc1"),
        zlib.compress(msgpack.packb(_good())) + b"trailing",
        zlib.compress(msgpack.packb(_good()))[:-2],
        _raw({"docs": 1}),
        _raw(_good()[:7]),
        _with(0, [b"bad-doc"]),
        _with(1, []),  # no runs
        _with(1, [[1, 2, 3]]),
        _with_run(0, b"short"),
        _with_run(0, 0),  # no device is known yet on this connection
        _with_run(1, 0),
        _with_run(1, -1),
        _with_run(2, b"x" * 32),  # seq 1 has no prev
        _with_run(1, 2),  # seq 2 needs a 32-byte prev ...
        _with_run(2, None),  # ... or a previous batch of this device
        _with_run(4, 3),  # run longer than the columns
        _with_run(4, 1),  # runs shorter than the columns
        _with_run(4, 0),
        _with(2, [0]),  # doc column too short
        _with(2, [0, 7]),  # doc index out of range
        _with(3, [1, "x"]),
        _with(3, [-10, 0]),  # timestamp below zero
        _with(4, [-1, 0]),
        _with(4, [1, 0]),  # a folded form needs a clock
        _with(6, [b"a", 7]),
        _with(6, [b"a"]),
        _with(7, [0]),
        _with(7, [1, b"short-sig"]),
        _with(7, [1, b"s" * 64, 0, b"s" * 64]),  # indexes must increase
        _with(7, [5, b"s" * 64]),
    ],
)
def test_malformed_batches_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_batch(data, ASSEMBLY)


def test_connection_tables_carry_over_between_batches() -> None:
    """Later batches name known devices and documents by index and leave out ``prev``."""
    first = chain(KEYS[0], [b"a", b"b", b"c"], [b"", b"\x07" * 32, b""], [1, 2, 3])
    second = [Change.create(KEYS[0], ASSEMBLY, b"\x07" * 32, 4, first[-1].hash, 4, b"d")]
    encoder, decoder = BatchEncoder(), BatchDecoder(ASSEMBLY)
    assert [c.hash for c in decoder.decode(encoder.encode(first))] == [c.hash for c in first]
    data = encoder.encode(second)
    docs, runs, *_ = msgpack.unpackb(zlib.decompress(data))
    assert docs == [] and runs == [[0, 4, None, None, 1]]
    assert decoder.decode(data) == second
    # A decoder that missed the first batch cannot rebuild the second.
    with pytest.raises(ProtocolError):
        BatchDecoder(ASSEMBLY).decode(data)


def test_refused_batch_leaves_the_encoder_unchanged() -> None:
    encoder = BatchEncoder()
    too_many = chain(
        KEYS[1], [b""] * (MAX_BATCH_CHANGES + 1), [b""] * (MAX_BATCH_CHANGES + 1),
        [0] * (MAX_BATCH_CHANGES + 1),
    )  # fmt: skip
    with pytest.raises(UsageError):
        encoder.encode(too_many)
    decoded = BatchDecoder(ASSEMBLY).decode(encoder.encode(GOOD))
    assert [c.hash for c in decoded] == [c.hash for c in GOOD]


def test_change_count_cap() -> None:
    data = encode_batch(chain(KEYS[0], [b"x"] * 20, [b""] * 20, [0] * 20))
    with pytest.raises(ProtocolError, match="more than 10"):
        decode_batch(data, ASSEMBLY, max_changes=10)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_escape_as_other_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_batch(zlib.compress(data), ASSEMBLY)
