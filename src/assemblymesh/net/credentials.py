"""Who this node is, and how governance answers "may this peer sync?" (typed).

``Credentials`` is built once by the caller (the composition root) and handed down as one
value to ``NodeConfig``, ``Handshake`` and ``DiscoveryConfig.for_credentials``, instead of
copying its fields at each level.

``Authorize`` is the injected governance question. It returns an ``Authorization``:
``Admitted()`` or ``Refused(reason)``. Anything else, and any exception it raises, counts
as a refusal with a one-line reason: a broken callable never crashes the node.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    DeviceCertificate,
    Invite,
    SigningKey,
)
from assemblymesh.errors import UsageError

__all__ = [
    "ASSEMBLY_SECRET_SIZE",
    "Admitted",
    "Authorization",
    "Authorize",
    "Credentials",
    "PeerIdentity",
    "Refused",
    "decide",
]

log = logging.getLogger("assemblymesh.net")

ASSEMBLY_SECRET_SIZE = 32


@dataclass(frozen=True, slots=True)
class Credentials:
    """This device's standing in one assembly.

    ``invite`` is ``(invite, invite_proof)`` while the member joins with an invite; the proof
    is ``sign_invite_proof(invite_secret, invite, member_key.public)``.
    """

    assembly_id: bytes
    assembly_secret: bytes
    device_key: SigningKey
    certificate: DeviceCertificate
    invite: tuple[Invite, bytes] | None = None

    def __post_init__(self) -> None:
        if len(self.assembly_id) != ASSEMBLY_ID_SIZE:
            raise UsageError("an assembly id must be 16 bytes")
        if len(self.assembly_secret) != ASSEMBLY_SECRET_SIZE:
            raise UsageError("an assembly secret must be 32 bytes")
        cert = self.certificate
        if cert.device != self.device_key.public or cert.assembly != self.assembly_id:
            raise UsageError("the certificate is not for this device and assembly")
        if self.invite is not None and self.invite[0].assembly != self.assembly_id:
            raise UsageError("the invite is for another assembly")

    @property
    def device(self) -> bytes:
        """This device's public key."""
        return self.device_key.public


@dataclass(frozen=True, slots=True)
class PeerIdentity:
    """Who is on the other end, as proven by the handshake."""

    member: bytes
    device: bytes
    certificate: DeviceCertificate
    invite: Invite | None


@dataclass(frozen=True, slots=True)
class Admitted:
    """The proven peer may sync."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The proven peer may not sync; ``reason`` is one line for logs (never sent)."""

    reason: str


Authorization = Admitted | Refused
Authorize = Callable[[PeerIdentity], Authorization]


def decide(authorize: Authorize, peer: PeerIdentity) -> Authorization:
    """Ask ``authorize``; a crash or an answer of the wrong type is a refusal, never a crash."""
    try:
        answer = authorize(peer)
    except Exception as exc:
        log.warning("authorize failed for device %s: %r", peer.device.hex()[:8], exc)
        return Refused(f"authorization failed: {type(exc).__name__}")
    if isinstance(answer, Admitted | Refused):
        return answer
    return Refused(f"authorization returned {type(answer).__name__}, not an Authorization")
