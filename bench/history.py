"""Signed change histories of the shared workload, generated once and cached in bench/out/.

Each of the 100 writers is a real device (its own Ed25519 key, certified by its member's key,
its own Yjs client id); each change is one local transaction of that device, on a replica that
has seen every earlier change of the document it writes (a linear history, as in the peers'
benchmarks). Keys are derived from fixed seeds, so every run produces the same history.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrdt

sys.path.insert(0, str(Path(__file__).parent))

from assemblymesh.crdt.change import SHARED_DOC, Change
from assemblymesh.crdt.identity import (
    DeviceCertificate,
    SigningKey,
    assembly_id_for,
    yjs_client_id,
)
from workload import NWRITERS, workload

OUT = Path(__file__).parent / "out"


def seeded_key(label: str, n: int) -> SigningKey:
    return SigningKey(hashlib.blake2b(f"bench/{label}/{n}".encode(), digest_size=32).digest())


@dataclass(frozen=True)
class Cast:
    """The members and devices that write the workload."""

    assembly: bytes
    members: list[SigningKey]
    devices: list[SigningKey]
    certificates: list[DeviceCertificate]

    @classmethod
    def make(cls, nwriters: int = NWRITERS) -> Cast:
        members = [seeded_key("member", m) for m in range(nwriters // 2)]
        assembly = assembly_id_for(members[0].public, b"bench-nonce")
        devices = [seeded_key("device", w) for w in range(nwriters)]
        certs = [
            DeviceCertificate.issue(members[w // 2], assembly, devices[w].public, 0)
            for w in range(nwriters)
        ]
        return cls(assembly, members, devices, certs)

    def reader(self, label: str = "reader") -> tuple[SigningKey, DeviceCertificate]:
        """A further device (of a member outside the workload) that only reads."""
        member = seeded_key(label + "-member", 0)
        device = seeded_key(label + "-device", 0)
        return device, DeviceCertificate.issue(member, self.assembly, device.public, 0)


def generate(n: int, cast: Cast) -> list[bytes]:
    masters: dict[bytes, pycrdt.Doc[Any]] = {}
    locals_: dict[tuple[int, bytes], pycrdt.Doc[Any]] = {}
    heads: list[tuple[int, bytes]] = [(0, b"")] * len(cast.devices)
    out: list[bytes] = []
    for op in workload(n):
        w = op.writer
        doc_key = cast.members[w // 2].public if op.kind == "map" else SHARED_DOC
        master = masters.setdefault(doc_key, pycrdt.Doc())
        local = locals_.get((w, doc_key))
        if local is None:
            local = pycrdt.Doc(client_id=yjs_client_id(cast.devices[w].public))
            locals_[(w, doc_key)] = local
        local.apply_update(master.get_update(local.get_state()))
        captured: list[bytes] = []
        sub = local.observe(lambda event, c=captured: c.append(bytes(event.update)))
        with local.transaction():
            if op.kind == "map":
                acts = local.get("acts", type=pycrdt.Array)
                acts.append({"entity": op.target, "field": op.field, "value": op.value})
            else:
                # The shared document holds texts named draft/... or minutes/... only.
                text = local.get("draft/" + op.target, type=pycrdt.Text)
                text.insert(op.pos, op.value)  # ASCII only: code points == UTF-8 offsets
        local.unobserve(sub)
        (update,) = captured
        master.apply_update(update)
        seq, prev = heads[w]
        change = Change.create(
            cast.devices[w],
            cast.assembly,
            doc_key,
            seq + 1,
            prev,
            op.i,
            update,
            cast.certificates[w].encode() if seq == 0 else None,
        )
        heads[w] = (seq + 1, change.hash)
        out.append(change.data)
    return out


def write_blobs(path: Path, blobs: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for blob in blobs:
            f.write(struct.pack("<I", len(blob)))
            f.write(blob)
    tmp.replace(path)


def read_blobs(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        (length,) = struct.unpack_from("<I", data, pos)
        pos += 4
        yield data[pos : pos + length]
        pos += length


def history(n: int) -> tuple[Cast, list[bytes]]:
    """The cast and ``n`` encoded changes, from the cache when present."""
    cast = Cast.make()
    path = OUT / f"history_v2_{n}.bin"  # v2: acts arrays and draft/ texts
    if path.exists():
        return cast, list(read_blobs(path))
    changes = generate(n, cast)
    write_blobs(path, changes)
    return cast, changes


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    _, blobs = history(count)
    print(f"{len(blobs)} changes, {sum(map(len, blobs))} bytes")
