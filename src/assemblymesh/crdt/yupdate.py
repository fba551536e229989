"""lib0 varuints and the parts of Yjs v1 encodings this package reads (update headers,
state vectors). One place for them: ingest, checkpoints and the sync codec all use these.

Hot loops in ``replica`` and ``net.batch`` inline a varuint read where a call per change
would show in the benchmarks; they fall back to these functions for anything unusual.
"""

from __future__ import annotations

import pycrdt

ONE_BYTE_VARUINTS = [bytes((i,)) for i in range(0x80)]


def encode_varuint(value: int) -> bytes:
    """lib0 unsigned varint, shortest form."""
    if value < 0x80:
        return ONE_BYTE_VARUINTS[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varuint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, end) of the varuint at ``pos``. IndexError if truncated."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varuint too long")


def read_varuint_shortest(data: bytes, pos: int) -> tuple[int, int]:
    """``read_varuint``, refusing (ValueError) any but the shortest form: a codec that
    rebuilds bytes from values must see every value one way only."""
    value, end = read_varuint(data, pos)
    if end - pos > 1 and data[end - 1] == 0:
        raise ValueError("varuint not in its shortest form")
    return value, end


def update_header(update: bytes) -> tuple[int, int] | None:
    """(client, first clock) of the items a Yjs v1 update creates; None if it only deletes.

    A device's transaction creates items under its own client id only, so an update with
    items of two clients is refused (``ValueError``), like a malformed one. Only the header
    is read: ``[#client groups: 0 | 1] [#structs] [client] [clock] ...`` (lib0 varuints).
    """
    try:
        groups, pos = read_varuint(update, 0)
        if groups == 0:
            return None
        if groups != 1:
            raise ValueError("update creates items of several clients")
        _, pos = read_varuint(update, pos)  # the number of structs
        client, pos = read_varuint(update, pos)
        clock, _ = read_varuint(update, pos)
    except IndexError as exc:
        raise ValueError("truncated update") from exc
    return client, clock


def decode_state_vector(state: bytes) -> dict[int, int]:
    """A Yjs v1 state vector: client -> next clock."""
    count, pos = read_varuint(state, 0)
    result: dict[int, int] = {}
    for _ in range(count):
        client, pos = read_varuint(state, pos)
        clock, pos = read_varuint(state, pos)
        result[client] = clock
    return result


def update_end_clock(update: bytes) -> int | None:
    """The clock after the last item a one-client update creates; None if it creates none.

    The engine computes the length: the header's clock is set to 0 and the engine's own
    state-vector-of-an-update (which only counts clients starting at clock 0) gives the
    items' total length in its units, whatever their content (text, maps, embeds...).
    """
    try:
        groups, pos = read_varuint(update, 0)
        if groups != 1:
            return None
        _, pos = read_varuint(update, pos)
        client, pos = read_varuint(update, pos)
        clock, end = read_varuint(update, pos)
    except (IndexError, ValueError):
        return None
    try:
        lengths = decode_state_vector(pycrdt.get_state(update[:pos] + b"\x00" + update[end:]))
    except (ValueError, IndexError):
        return None
    length = lengths.get(client)
    return None if length is None else clock + length
