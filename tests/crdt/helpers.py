"""Builders for crdt tests: deterministic keys, members, devices and replicas."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, assembly_id_for
from assemblymesh.crdt.replica import Replica, Verdict


class AdmitEveryone:
    """An admission policy for tests that do not care: every member is admitted."""

    def admit(
        self, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
    ) -> tuple[Verdict, str]:
        return Verdict.ADMIT, "tests admit everyone"


ADMIT_EVERYONE = AdmitEveryone()


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(label.encode(), digest_size=32).digest())


class FakeClock:
    """A clock the test moves: every read advances it by one millisecond."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


ASSEMBLY = assembly_id_for(key("founder").public, b"nonce")


@dataclass
class Device:
    member: SigningKey
    key: SigningKey
    cert: DeviceCertificate

    @property
    def member_id(self) -> str:
        return self.member.public.hex()


_counter = itertools.count()


def device(member: SigningKey, label: str | None = None, assembly: bytes = ASSEMBLY) -> Device:
    label = label or f"device-{next(_counter)}"
    dev = key(f"{member.public.hex()}/{label}")
    return Device(member, dev, DeviceCertificate.issue(member, assembly, dev.public, 0))


def replica(path: Path, dev: Device, clock: FakeClock | None = None) -> Replica:
    return Replica.open(
        path, dev.cert.assembly, dev.key, dev.cert, clock or FakeClock(), admission=ADMIT_EVERYONE
    )


def all_changes(r: Replica) -> list[bytes]:
    return [c.data for c in r.missing_for({})]


def documents_of(r: Replica, names: list[str] | None = None) -> dict[str, object]:
    """Documents' content as plain data, for comparing replicas; empty ones left out."""
    out: dict[str, object] = {}
    for name in r.document_names() if names is None else names:
        doc = r.document(name)
        if doc.state_vector() == b"\x00":
            continue
        out[name] = {
            "acts": doc.array("acts").to_py(),
            "texts": {f"t{i}": str(doc.text(f"draft/t{i}")) for i in range(3)},
        }
    return out
