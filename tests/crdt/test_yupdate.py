"""lib0 varuints and the Yjs update facts ingest and checkpoints rely on."""

from __future__ import annotations

from typing import Any

import pycrdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.yupdate import (
    decode_state_vector,
    encode_varuint,
    read_varuint,
    read_varuint_shortest,
    update_end_clock,
    update_header,
)


@given(st.integers(0, 2**63 - 1))
def test_varuints_round_trip(value: int) -> None:
    data = encode_varuint(value)
    assert read_varuint(data, 0) == (value, len(data))
    assert read_varuint_shortest(data, 0) == (value, len(data))


def test_a_longer_than_shortest_varuint_is_refused_where_it_must_be() -> None:
    padded = b"\x81\x00"  # 1, in two bytes
    assert read_varuint(padded, 0) == (1, 2)
    with pytest.raises(ValueError):
        read_varuint_shortest(padded, 0)


EDITS = st.lists(
    st.sampled_from(["text", "emoji", "map", "nested", "array", "delete"]), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(EDITS)
def test_header_and_end_clock_match_the_engine(edits: list[str]) -> None:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=4242)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    text = doc.get("t", type=pycrdt.Text)
    for edit in edits:
        before = decode_state_vector(doc.get_state()).get(4242, 0)
        with doc.transaction():
            if edit == "text":
                text.insert(0, "héllo 世界")
            elif edit == "emoji":
                text.insert(len(str(text).encode()), "🏳️‍🌈🎉")
            elif edit == "map":
                doc.get("m", type=pycrdt.Map)["k"] = {"a": [1, 2, "x"], "b": None}
            elif edit == "nested":
                doc.get("m", type=pycrdt.Map)["sub"] = pycrdt.Map({"x": "y"})
            elif edit == "array":
                doc.get("a", type=pycrdt.Array).extend([1, "two", {"3": True}])
            elif edit == "delete" and len(text):
                del text[0:1]
        if not updates:
            continue
        update = updates.pop()
        after = decode_state_vector(doc.get_state()).get(4242, 0)
        header = update_header(update)
        if after == before:
            assert header is None and update_end_clock(update) is None
        else:
            assert header == (4242, before)
            assert update_end_clock(update) == after
