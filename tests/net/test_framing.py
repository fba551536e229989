"""Frames on a byte stream, and application messages inside Noise transport messages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.errors import ProtocolError, UsageError
from assemblymesh.net.framing import (
    MAX_CHUNK_SIZE,
    FrameDecoder,
    MessageAssembler,
    Session,
    chunk_message,
    encode_frame,
)
from assemblymesh.net.noise import CipherState

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def _pair(max_message_size: int = 8 * 1024 * 1024) -> tuple[Session, Session]:
    a = Session(CipherState(KEY_A), CipherState(KEY_B), b"h", max_message_size=max_message_size)
    b = Session(CipherState(KEY_B), CipherState(KEY_A), b"h", max_message_size=max_message_size)
    return a, b


def _payload(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


@pytest.mark.parametrize("size", [0, 1, 65515, 65516, 65519, 65520, 2 * 65519, 1024 * 1024])
def test_round_trip(size: int) -> None:
    a, b = _pair()
    payload = _payload(size)
    wire = a.encrypt_message(payload)
    assert b.feed(wire) == [payload]
    b.eof()


def test_chunk_boundaries_are_canonical() -> None:
    # Header plus payload fills exactly one chunk at 65515 bytes of payload.
    assert [len(c) for c in chunk_message(b"x" * 65515)] == [MAX_CHUNK_SIZE]
    assert [len(c) for c in chunk_message(b"x" * 65516)] == [MAX_CHUNK_SIZE, 1]
    assert [len(c) for c in chunk_message(b"")] == [4]


def test_several_messages_in_one_feed_and_both_directions() -> None:
    a, b = _pair()
    messages = [b"one", b"", _payload(70_000), b"four"]
    wire = b"".join(a.encrypt_message(m) for m in messages)
    assert b.feed(wire) == messages
    assert a.feed(b.encrypt_message(b"reply")) == [b"reply"]


def test_byte_at_a_time() -> None:
    a, b = _pair()
    messages = [b"first", _payload(66_000), b""]
    wire = b"".join(a.encrypt_message(m) for m in messages)
    received: list[bytes] = []
    for i in range(len(wire)):
        received += b.feed(wire[i : i + 1])
    assert received == messages


def test_frame_decoder_byte_at_a_time() -> None:
    frames = [b"a" * 16, b"b" * 300, b"c" * 65535]
    wire = b"".join(encode_frame(f) for f in frames)
    decoder = FrameDecoder()
    out: list[bytes] = []
    for i in range(len(wire)):
        out += decoder.feed(wire[i : i + 1])
    assert out == frames
    assert decoder.buffered == 0


def test_oversize_message_header_refused_before_payload() -> None:
    a, b = _pair(max_message_size=1000)
    big = Session(CipherState(KEY_A), CipherState(KEY_B), b"h").encrypt_message(b"x" * 1001)
    # Only the first frame is needed to refuse: the header alone says too much.
    first_frame = big[: 2 + int.from_bytes(big[:2], "big")]
    with pytest.raises(ProtocolError, match="exceeds"):
        b.feed(first_frame)
    with pytest.raises(ProtocolError, match="already failed"):
        b.feed(b"")
    with pytest.raises(UsageError):
        a.encrypt_message(b"x" * 1001)


def test_huge_length_prefix_refused_without_allocation() -> None:
    assembler = MessageAssembler(max_message_size=8 * 1024 * 1024)
    with pytest.raises(ProtocolError, match="exceeds"):
        assembler.add_chunk(b"\xff\xff\xff\xff")


def test_short_frame_refused() -> None:
    with pytest.raises(ProtocolError, match="shorter"):
        FrameDecoder().feed(b"\x00\x00")
    with pytest.raises(ProtocolError, match="shorter"):
        FrameDecoder().feed(b"\x00\x0f" + b"x" * 15)


@pytest.mark.parametrize("cut", [1, 2, 3, 32])
def test_truncation_at_eof_refused(cut: int) -> None:
    a, b = _pair()
    wire = a.encrypt_message(b"hello world")
    b.feed(wire[:cut])
    with pytest.raises(ProtocolError, match="closed inside"):
        b.eof()


def test_eof_inside_a_multi_chunk_message_refused() -> None:
    a, b = _pair()
    wire = a.encrypt_message(_payload(100_000))
    first_frame = wire[: 2 + int.from_bytes(wire[:2], "big")]
    assert b.feed(first_frame) == []
    with pytest.raises(ProtocolError, match="inside a message"):
        b.eof()


def test_clean_eof_between_messages() -> None:
    a, b = _pair()
    assert b.feed(a.encrypt_message(b"x")) == [b"x"]
    b.eof()


@pytest.mark.parametrize("position", [0, 1, 2, 10, -1])
def test_bit_flip_refused(position: int) -> None:
    a, b = _pair()
    wire = bytearray(a.encrypt_message(b"some application message"))
    wire[position] ^= 0x04
    with pytest.raises(ProtocolError):
        b.feed(bytes(wire))
        b.eof()


def test_reordered_frames_refused() -> None:
    a, b = _pair()
    first = a.encrypt_message(b"first")
    second = a.encrypt_message(b"second")
    with pytest.raises(ProtocolError, match="authentication"):
        b.feed(second + first)


def _encrypt_chunks(cipher: CipherState, chunks: list[bytes]) -> bytes:
    return b"".join(encode_frame(cipher.encrypt_with_ad(b"", c)) for c in chunks)


def test_non_canonical_chunking_refused() -> None:
    _, b = _pair()
    stream = (5).to_bytes(4, "big") + b"hello"
    # A conforming sender puts the whole of this small message in one chunk.
    with pytest.raises(ProtocolError, match="were due"):
        b.feed(_encrypt_chunks(CipherState(KEY_A), [stream[:6], stream[6:]]))


def test_two_messages_in_one_chunk_refused() -> None:
    _, b = _pair()
    stream = (1).to_bytes(4, "big") + b"a" + (1).to_bytes(4, "big") + b"b"
    with pytest.raises(ProtocolError):
        b.feed(_encrypt_chunks(CipherState(KEY_A), [stream]))


def test_session_needs_keys() -> None:
    with pytest.raises(UsageError):
        Session(CipherState(), CipherState(KEY_A), b"h")


def test_encode_frame_refuses_oversize() -> None:
    with pytest.raises(UsageError):
        encode_frame(b"x" * 65536)


_MESSAGES = [b"", b"a", _payload(65_516), _payload(3_000), _payload(140_000), b"end"]
_SENDER, _ = _pair()
_WIRE = b"".join(_SENDER.encrypt_message(m) for m in _MESSAGES)


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(_WIRE)), max_size=30))
def test_random_split_points_give_same_messages(cuts: list[int]) -> None:
    _, receiver = _pair()
    points = [0, *sorted(cuts), len(_WIRE)]
    received: list[bytes] = []
    for start, end in itertools.pairwise(points):
        received += receiver.feed(_WIRE[start:end])
    receiver.eof()
    assert received == _MESSAGES
