"""lib0 varuints, Yjs v1 state vectors, and the structural check of every Yjs v1 update
before the engine sees it (docs/protocol.md §2.2.1, the document schema). One place for
them: ingest, checkpoints and the sync codec all use these.

The check is a complete, iterative parser of the v1 update format (struct groups per
client; GC, Skip and Item structs with every content type; lib0 ``Any`` values; the delete
set). It never recurses on its input, bounds ``Any`` nesting, and refuses with
``RejectedChange(BAD_UPDATE)`` whatever the schema of the target document does not allow:
the engine recurses without limit (a value nested 100,000 levels deep crashes the process)
and raises on structures its readers do not expect.

Hot loops in ``replica`` and ``net.batch`` inline a varuint read where a call per change
would show in the benchmarks; they fall back to these functions for anything unusual.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import pycrdt

from assemblymesh.errors import RejectedChange, RejectReason

__all__ = [
    "MAX_ANY_DEPTH",
    "MAX_VALUES_PER_CHANGE",
    "MEMBER_ROOT",
    "SHARED_ROOT_PREFIXES",
    "Checked",
    "check_member_update",
    "check_shared_update",
    "decode_state_vector",
    "encode_varuint",
    "read_varuint",
    "read_varuint_shortest",
    "shared_root_allowed",
    "update_end_clock",
    "update_header",
]

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


# --- the structural check ---------------------------------------------------------------

MEMBER_ROOT = "acts"  # the one root of a member document: an array of act mappings
SHARED_ROOT_PREFIXES = ("draft/", "minutes/")  # the shared document's root texts
MAX_ROOT_NAME = 100
MAX_VALUES_PER_CHANGE = 16  # acts one change may append to a member document
MAX_ANY_DEPTH = 8  # nesting of lib0 Any values (an act mapping is level 1)
_MAX_CLOCK = 2**32 - 1  # the engine's clocks are 32-bit

# Struct kinds (the low 5 bits of the info byte) and content types.
_GC, _SKIP = 0, 10
_DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC = 1, 2, 3, 4, 5, 6, 7, 8, 9
_CONTENT_NAMES = {
    _DELETED: "ContentDeleted", _JSON: "ContentJSON", _BINARY: "ContentBinary",
    _STRING: "ContentString", _EMBED: "ContentEmbed", _FORMAT: "ContentFormat",
    _TYPE: "ContentType", _ANY: "ContentAny", _DOC: "ContentDoc",
}  # fmt: skip
_HAS_ORIGIN, _HAS_RIGHT_ORIGIN, _HAS_PARENT_SUB = 0x80, 0x40, 0x20
# lib0 Any tags.
_UNDEFINED, _NULL, _VARINT, _FLOAT32, _FLOAT64, _BIGINT = 127, 126, 125, 124, 123, 122
_FALSE, _TRUE, _STR, _OBJECT, _ARRAY, _BYTES = 121, 120, 119, 118, 117, 116
_F32, _F64, _I64 = struct.Struct(">f"), struct.Struct(">d"), struct.Struct(">q")
# An integer a value may carry: what a 64-bit signed integer holds (lib0's BigInt64, and what
# the act log's msgpack and every reader of an act can store). Larger ones are refused.
_INT_LIMIT = 2**63


class Checked(NamedTuple):
    """What the check learnt: the first clock of the items the update creates (None if it
    creates none) and, for a member document, the values it appends (Python values)."""

    start: int | None
    values: list[object]


class _Refused(Exception):
    """Internal: the update breaks the schema (turned into ``RejectedChange``)."""


def _refuse(detail: str) -> RejectedChange:
    return RejectedChange(RejectReason.BAD_UPDATE, detail)


def shared_root_allowed(name: str) -> bool:
    """Whether ``name`` may be a root of the shared document."""
    return (
        len(name) <= MAX_ROOT_NAME
        and name.isascii()
        and any(name.startswith(p) and len(name) > len(p) for p in SHARED_ROOT_PREFIXES)
    )


class _Reader:
    """A cursor over hostile bytes. Every read consumes at least one byte or fails."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self, limit: int = _MAX_CLOCK) -> int:
        data, pos = self.data, self.pos
        value = data[pos]
        pos += 1
        if value >= 0x80:  # read inline: this runs for nearly every field
            value &= 0x7F
            shift = 7
            while True:
                byte = data[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                shift += 7
                if shift > 63:
                    raise _Refused("varuint too long")
        self.pos = pos
        if value > limit:
            raise _Refused("a number is out of range")
        return value

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise _Refused("truncated update")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def string(self) -> str:
        data, pos = self.data, self.pos
        size = data[pos]
        if size < 0x80:
            pos += 1
        else:
            size, pos = read_varuint(data, pos)
        end = pos + size
        if end > len(data):
            raise _Refused("truncated update")
        self.pos = end
        try:
            return data[pos:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Refused("a string is not UTF-8") from exc

    def varint(self) -> int:
        """lib0 signed varint: sign in bit 6 of the first byte, 6 then 7 bits a byte."""
        byte = self.data[self.pos]
        self.pos += 1
        value, negative, shift = byte & 0x3F, byte & 0x40, 6
        while byte & 0x80:
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise _Refused("varint too long")
        if value >= _INT_LIMIT:
            raise _Refused("a number is out of range")
        return -value if negative else value


def _scalar(reader: _Reader, tag: int) -> object:
    if tag in (_UNDEFINED, _NULL):
        return None
    if tag == _VARINT:
        return reader.varint()
    if tag == _FLOAT32:
        return _integral(_F32.unpack(reader.take(4))[0])
    if tag == _FLOAT64:
        return _integral(_F64.unpack(reader.take(8))[0])
    if tag == _BIGINT:
        return _I64.unpack(reader.take(8))[0]
    if tag in (_FALSE, _TRUE):
        return tag == _TRUE
    if tag == _STR:
        return reader.string()
    if tag == _BYTES:
        return reader.take(reader.uint())
    raise _Refused(f"unknown Any tag {tag}")


def _integral(value: float) -> object:
    """An integral float as an int (Yjs writes whole numbers as floats); one too large for
    a 64-bit integer is refused, as such an integer is."""
    if not value.is_integer():
        return value
    if abs(value) >= _INT_LIMIT:
        raise _Refused("a number is out of range")
    return int(value)


def _attach(stack: list[list[Any]], reader: _Reader, value: object) -> tuple[bool, object]:
    """Put a finished value into its container; (done, value) when the top level ended."""
    while stack:
        top = stack[-1]
        container = top[0]
        if type(container) is dict:
            container[top[2]] = value
        else:
            container.append(value)
        top[1] -= 1
        if top[1]:
            if type(container) is dict:
                top[2] = reader.string()
            return False, None
        stack.pop()
        value = container
    return True, value


def _flat_object(reader: _Reader) -> dict[str, object] | None:
    """``_flat_at`` for the general path (position unchanged when it returns None)."""
    found = _flat_at(reader.data, reader.pos)
    if found is None:
        return None
    reader.pos = found[1]
    return found[0]


def _flat_at(data: bytes, pos: int) -> tuple[dict[str, object], int] | None:
    """The usual act at ``pos``: an object of strings, numbers, booleans and nulls with
    short keys, read in one loop over local variables (ingest runs it for nearly every
    change). None for anything else: ``_any`` then reads it the general way."""
    if data[pos] != _OBJECT or data[pos + 1] >= 0x80:
        return None
    count = data[pos + 1]
    pos += 2
    out: dict[str, object] = {}
    for _ in range(count):
        end = pos + 1 + data[pos]
        if data[pos] >= 0x80 or end >= len(data):
            return None
        name = data[pos + 1 : end].decode("utf-8")
        tag = data[end]
        pos = end + 1
        if tag == _STR:
            size = data[pos]
            if size < 0x80:
                pos += 1
            else:
                size, pos = read_varuint(data, pos)
            end = pos + size
            if end > len(data):
                return None
            out[name] = data[pos:end].decode("utf-8")
            pos = end
        elif tag in _FIXED:
            width, unpack = _FIXED[tag]
            out[name] = _integral(unpack(data, pos)[0])
            pos += width
        elif tag in _SIMPLE:
            out[name] = _SIMPLE[tag]
        else:
            return None
    return out, pos


_FIXED = {_FLOAT64: (8, _F64.unpack_from), _FLOAT32: (4, _F32.unpack_from)}
_SIMPLE: dict[int, object] = {_UNDEFINED: None, _NULL: None, _TRUE: True, _FALSE: False}


def _any(reader: _Reader, max_depth: int) -> object:
    """One lib0 Any value, iteratively, refusing nesting deeper than ``max_depth``."""
    flat = _flat_object(reader)
    if flat is not None:
        return flat
    stack: list[list[Any]] = []  # [container, values still to read, key being read]
    while True:
        tag = reader.data[reader.pos]
        reader.pos += 1
        value: object
        if tag in (_OBJECT, _ARRAY):
            if len(stack) >= max_depth:
                raise _Refused(f"values nested deeper than {max_depth} levels")
            count = reader.uint(len(reader.data))
            value = {} if tag == _OBJECT else []
            if count:
                stack.append([value, count, reader.string() if tag == _OBJECT else None])
                continue
        else:
            value = _scalar(reader, tag)
        done, value = _attach(stack, reader, value)
        if done:
            return value


def _skip_content(reader: _Reader, kind: int) -> None:
    """Read past a content the schema will refuse anyway (so errors name the content)."""
    if kind in (_STRING, _EMBED, _BINARY):
        reader.take(reader.uint())
    elif kind == _DELETED:
        reader.uint()
    elif kind in (_JSON, _ANY):
        for _ in range(reader.uint(len(reader.data))):
            if kind == _JSON:
                reader.string()
            else:
                _any(reader, MAX_ANY_DEPTH)
    elif kind == _FORMAT:
        reader.string()
        reader.string()
    elif kind == _TYPE:
        if reader.uint() in (3, 5):  # XmlElement, XmlHook: a name follows
            reader.string()
    elif kind == _DOC:
        reader.string()
        _any(reader, MAX_ANY_DEPTH)
    else:
        raise _Refused(f"unknown content type {kind}")


class _Schema:
    """What one document allows. ``member`` selects the member-document rules."""

    __slots__ = ("member", "values")

    def __init__(self, member: bool) -> None:
        self.member = member
        self.values: list[object] = []

    def root(self, name: str) -> None:
        if self.member:
            if name != MEMBER_ROOT:
                raise _Refused(f"a member document has only the root {MEMBER_ROOT!r}")
        elif not shared_root_allowed(name):
            raise _Refused("shared roots are texts named draft/... or minutes/...")

    def struct(self, reader: _Reader, info: int) -> None:
        kind = info & 0x1F
        if kind in (_GC, _SKIP):
            if self.member:
                raise _Refused("a member document has no GC or Skip structs")
            reader.uint()
            return
        self._item_header(reader, info)
        if self.member and kind == _ANY:
            self._values(reader)
        elif not self.member and kind == _STRING:
            reader.string()  # text content must be UTF-8, as the engine decodes it
        elif not self.member and kind == _DELETED:
            reader.uint()
        else:
            _skip_content(reader, kind)  # to refuse a known content by its name
            where = "member" if self.member else "shared"
            raise _Refused(f"{_CONTENT_NAMES.get(kind, kind)} in the {where} document")

    def _item_header(self, reader: _Reader, info: int) -> None:
        if info & _HAS_PARENT_SUB:
            raise _Refused("items with a parentSub (map entries) are not allowed")
        if info & _HAS_ORIGIN:
            reader.uint(2**64)
            reader.uint()
        if info & _HAS_RIGHT_ORIGIN:
            reader.uint(2**64)
            reader.uint()
        if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
            if reader.uint() != 1:
                raise _Refused("a parent given by ID (nested types are not allowed)")
            self.root(reader.string())

    def _values(self, reader: _Reader) -> None:
        count = reader.uint()
        if count + len(self.values) > MAX_VALUES_PER_CHANGE:
            raise _Refused(f"more than {MAX_VALUES_PER_CHANGE} acts in one change")
        for _ in range(count):
            if reader.data[reader.pos] != _OBJECT:
                raise _Refused("every value of a member document is an act mapping")
            self.values.append(_any(reader, MAX_ANY_DEPTH))

    def delete_set(self, reader: _Reader) -> None:
        clients = reader.uint(2**64)
        if clients and self.member:
            raise _Refused("a member document is append-only: no deletions")
        for _ in range(clients):
            reader.uint(2**64)
            for _ in range(reader.uint(len(reader.data))):
                reader.uint()
                reader.uint()


def _check(update: bytes, client: int, schema: _Schema) -> Checked:
    reader = _Reader(update)
    start: int | None = None
    try:
        groups = reader.uint()
        if groups > 1:
            raise _Refused("update creates items of several clients")
        if groups:
            count = reader.uint(len(update))
            if not count:
                raise _Refused("an empty struct group")
            if reader.uint(2**64) != client:
                raise _Refused("update is not this device's transaction")
            start = reader.uint()
            for _ in range(count):
                info = reader.data[reader.pos]
                reader.pos += 1
                schema.struct(reader, info)
        schema.delete_set(reader)
        if reader.pos != len(update):
            raise _Refused("bytes after the delete set")
    except _Refused as exc:
        raise _refuse(str(exc)) from None
    except (IndexError, ValueError, struct.error):
        raise _refuse("malformed or truncated update") from None
    return Checked(start, schema.values)


def check_member_update(update: bytes, client: int) -> Checked:
    """Check an update to a member document written by Yjs client ``client``: only
    act mappings appended to the root array ``acts`` (at most 16, nested at most 8 levels),
    no deletions, no other content. Returns its first clock and the values it appends."""
    return _fast(update, client, True) or _check(update, client, _Schema(member=True))


def check_shared_update(update: bytes, client: int) -> Checked:
    """Check an update to the shared document: root-level texts named ``draft/...`` or
    ``minutes/...`` only (string and deleted content), deletions allowed."""
    return _fast(update, client, False) or _check(update, client, _Schema(member=False))


_CLIENTS: dict[int, bytes] = {}


def _encoded_client(client: int) -> bytes:
    encoded = _CLIENTS.get(client)
    if encoded is None:
        if len(_CLIENTS) > 4096:
            _CLIENTS.clear()
        encoded = _CLIENTS[client] = encode_varuint(client)
    return encoded


_ACTS_PARENT = b"\x01" + encode_varuint(len(MEMBER_ROOT)) + MEMBER_ROOT.encode()


def _fast(update: bytes, client: int, member: bool) -> Checked | None:
    """The shapes this package writes, read without the general machinery: one item (acts
    appended, or text inserted) and no deletions. Accepts only what ``_check`` accepts, with
    the same result; None sends anything else to ``_check``."""
    try:
        encoded = _encoded_client(client)
        if update[0] != 1 or update[1] != 1 or not update.startswith(encoded, 2):
            return None
        start, pos = read_varuint(update, 2 + len(encoded))
        info = update[pos]
        pos = _fast_parent(update, pos + 1, info, member)
        if pos < 0 or start > _MAX_CLOCK:
            return None
        values: list[object] = []
        pos = _fast_values(update, pos, values) if member else _fast_string(update, pos)
        if pos < 0 or pos + 1 != len(update) or update[pos]:
            return None
    except (IndexError, ValueError, struct.error, _Refused):
        return None  # the general check refuses it, with its reason
    return Checked(start, values)


def _fast_id(data: bytes, pos: int) -> int:
    client, pos = read_varuint(data, pos)
    clock, pos = read_varuint(data, pos)
    return -1 if client > 2**64 or clock > _MAX_CLOCK else pos


def _fast_parent(data: bytes, pos: int, info: int, member: bool) -> int:
    """The position after an item's origins or explicit root parent; -1 if unusual."""
    if info & 0x1F != (_ANY if member else _STRING) or info & _HAS_PARENT_SUB:
        return -1
    if info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
        if info & _HAS_ORIGIN:
            pos = _fast_id(data, pos)
        if info & _HAS_RIGHT_ORIGIN and pos >= 0:
            pos = _fast_id(data, pos)
        return pos
    if member:
        return pos + len(_ACTS_PARENT) if data.startswith(_ACTS_PARENT, pos) else -1
    if data[pos] != 1:
        return -1
    end = _fast_string(data, pos + 1)
    name = data[end - data[pos + 1] : end] if end > 0 and data[pos + 1] < 0x80 else b""
    return end if name and shared_root_allowed(name.decode("utf-8")) else -1


def _fast_string(data: bytes, pos: int) -> int:
    """The position after a UTF-8 string (checked); -1 if it is not one."""
    size, pos = read_varuint(data, pos)
    end = pos + size
    if end > len(data) or size > _MAX_CLOCK:
        return -1
    data[pos:end].decode("utf-8")  # UnicodeDecodeError is a ValueError: caught by _fast
    return end


def _fast_values(data: bytes, pos: int, values: list[object]) -> int:
    count = data[pos]
    if not 0 < count <= MAX_VALUES_PER_CHANGE:
        return -1
    pos += 1
    for _ in range(count):
        found = _flat_at(data, pos)
        if found is None:
            return -1
        values.append(found[0])
        pos = found[1]
    return pos
