"""Builders of hostile Yjs updates and of changes carrying them, for the boundary tests."""

from __future__ import annotations

import struct

import pycrdt

from assemblymesh.crdt.change import SHARED_DOC, Change
from assemblymesh.crdt.identity import yjs_client_id
from assemblymesh.crdt.yupdate import encode_varuint
from tests.crdt.helpers import ASSEMBLY, Device

V = encode_varuint


def vstr(text: str) -> bytes:
    data = text.encode()
    return V(len(data)) + data


ROOT_ACTS = b"\x01" + vstr("acts")  # parent info: a root, by name


def update(client: int, structs: list[bytes], clock: int = 0, deletes: bytes = b"\x00") -> bytes:
    """A Yjs v1 update with one struct group of ``client`` (none if ``structs`` is empty)."""
    if not structs:
        return b"\x00" + deletes
    return b"\x01" + V(len(structs)) + V(client) + V(clock) + b"".join(structs) + deletes


def any_item(*values: bytes, parent: bytes = ROOT_ACTS) -> bytes:
    """An Item with ContentAny (info 8) holding lib0-encoded ``values``."""
    return b"\x08" + parent + V(len(values)) + b"".join(values)


def obj(**fields: bytes) -> bytes:
    """A lib0 Any object whose values are already encoded."""
    return b"\x76" + V(len(fields)) + b"".join(vstr(k) + v for k, v in fields.items())


def any_varint(value: int) -> bytes:
    """A lib0 Any signed varint: sign in bit 6 of the first byte, 6 then 7 bits a byte."""
    magnitude = abs(value)
    out = bytearray([(magnitude & 0x3F) | (0x40 if value < 0 else 0)])
    magnitude >>= 6
    while magnitude:
        out[-1] |= 0x80
        out.append(magnitude & 0x7F)
        magnitude >>= 7
    return b"\x7d" + bytes(out)


def any_float(value: float) -> bytes:
    return b"\x7b" + struct.pack(">d", value)


def any_str(text: str) -> bytes:
    return b"\x77" + vstr(text)


def nested(depth: int) -> bytes:
    """An act mapping whose one field is an array nested ``depth`` levels deep."""
    return b"\x76\x01" + vstr("a") + b"\x75\x01" * depth + b"\x7e"


def xml_element(parent: bytes = ROOT_ACTS) -> bytes:
    """An Item with ContentType XmlElement named "p"."""
    return b"\x07" + parent + b"\x03" + vstr("p")


def item_under_id(client: int, clock: int) -> bytes:
    """An Item whose parent is given as an ID (an ordinary item here)."""
    return b"\x08" + b"\x00" + V(client) + V(clock) + b"\x01" + obj(type=any_str("x"))


def real_updates(client: int, kind: str, n: int = 3) -> list[bytes]:
    """Updates the document layer writes: acts appended or text inserted and deleted."""
    doc: pycrdt.Doc[object] = pycrdt.Doc(client_id=client)
    out: list[bytes] = []
    doc.observe(lambda e: out.append(bytes(e.update)))
    for i in range(n):
        with doc.transaction():
            if kind == "acts":
                doc.get("acts", type=pycrdt.Array).append({"type": "note", "n": i, "x": 1.5})
            else:
                text = doc.get("draft/x", type=pycrdt.Text)
                text.insert(0, f"w{i}")
                if i:
                    del text[0:1]
    return out


def chain(
    dev: Device, updates: list[bytes], doc: bytes | None = None, start: int = 1
) -> list[Change]:
    """Signed changes of ``dev`` carrying ``updates`` (seq ``start``.. with fake prevs if
    ``start`` > 1)."""
    target = dev.member.public if doc is None else doc
    out: list[Change] = []
    prev = b"" if start == 1 else bytes(32)
    for i, upd in enumerate(updates):
        seq = start + i
        cert = dev.cert.encode() if seq == 1 else None
        change = Change.create(dev.key, ASSEMBLY, target, seq, prev, 1_000 + seq, upd, cert)
        out.append(change)
        prev = change.hash
    return out


def client_of(dev: Device) -> int:
    return yjs_client_id(dev.key.public)


__all__ = [
    "ROOT_ACTS",
    "SHARED_DOC",
    "any_item",
    "any_str",
    "chain",
    "client_of",
    "item_under_id",
    "nested",
    "obj",
    "real_updates",
    "update",
    "vstr",
    "xml_element",
]
