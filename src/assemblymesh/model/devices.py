"""A member's devices: which are revoked, and up to which change each revoked one counts.

A revocation is a ``revoke_device`` act in the member's own document carrying the member
key's signature over ``(assembly, device, keep)``. It is read before the fold (like invite
contests): its force does not depend on where causal time places it, so every node that
holds it reaches the same verdict on every change of the revoked device, whatever arrived
first.

The rule (``docs/protocol.md``, revocation): a revoked device's acts in changes up to
``keep`` (the last of its changes the revoking node held) stay valid; acts in later changes
are ignored, whether written after the revocation or concurrently with it, and whatever
clock they show. Two revocations of one device keep the smaller ``keep``.
"""

from __future__ import annotations

from collections.abc import Mapping

from assemblymesh.crdt.identity import DeviceCertificate, InvalidSignature, verify_revocation
from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model.snapshot import AssemblySnapshot

# (member id, device id) -> the last change of the device that still counts
Revocations = Mapping[tuple[str, str], int]


def genuine_revocation(assembly_id: bytes, member: str, act: A.RevokeDevice) -> bool:
    """Whether ``member``'s member key signed this revocation for this assembly."""
    try:
        verify_revocation(
            bytes.fromhex(member),
            assembly_id,
            bytes.fromhex(act.revoked),
            act.keep,
            bytes.fromhex(act.signature),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


MAX_CERTIFICATE_HEX = 1024


def certifies(assembly_id: bytes, member: str, act: A.AddDevice) -> bool:
    """Whether ``act`` carries ``member``'s genuine certificate for its device."""
    if len(act.certificate) > MAX_CERTIFICATE_HEX:
        return False
    try:
        cert = DeviceCertificate.decode(bytes.fromhex(act.certificate))
        cert.verify()
    except (InvalidSignature, ValueError):
        return False
    return (
        cert.assembly == assembly_id
        and cert.member.hex() == member
        and cert.device.hex() == act.device
    )


def revocations(snapshot: AssemblySnapshot) -> dict[tuple[str, str], int]:
    """Every genuine revocation in the record: (member, device) -> changes kept."""
    found: dict[tuple[str, str], int] = {}
    for member, entries in snapshot.acts.items():
        for entry in entries:
            if not isinstance(entry.value, Mapping) or entry.value.get("type") != "revoke_device":
                continue
            try:
                act = A.Act.from_doc(entry.value)
            except IllegalMoveError:
                continue
            if not isinstance(act, A.RevokeDevice):
                continue
            if not genuine_revocation(snapshot.assembly_id, member, act):
                continue
            key = (member, act.revoked)
            found[key] = min(act.keep, found.get(key, act.keep))
    return dict(sorted(found.items()))  # the same order whatever order the documents came in


def counts(revoked: Revocations, member: str, device: str, seq: int) -> bool:
    """Whether an act in change ``seq`` of ``device`` still counts for ``member``."""
    keep = revoked.get((member, device))
    return keep is None or seq <= keep


__all__ = ["Revocations", "certifies", "counts", "genuine_revocation", "revocations"]
