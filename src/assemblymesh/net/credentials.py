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
from dataclasses import dataclass, field
from typing import Literal

from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    DeviceCertificate,
    Invite,
    SigningKey,
)
from assemblymesh.errors import UsageError
from assemblymesh.i18n import N_

__all__ = [
    "ASSEMBLY_SECRET_SIZE",
    "REFUSAL_CODES",
    "REFUSAL_TEXT",
    "Admitted",
    "Authorization",
    "Authorize",
    "Credentials",
    "Keyring",
    "PeerIdentity",
    "Refused",
    "Root",
    "decide",
]

log = logging.getLogger("assemblymesh.net")

ASSEMBLY_SECRET_SIZE = 32
# Why a joiner is refused, as the handshake tells it (docs/protocol.md §3.6), and the line a
# joiner reads for each (marked for the catalogue; translated where they are shown).
REFUSAL_TEXT: dict[str, str] = {
    "refused": N_("the peer refused this invite"),
    "invite-used": N_("this invite was already used by someone else"),
    "invite-expired": N_("this invite has expired"),
    "invite-void": N_("this invite's inviter is no longer a member"),
}
REFUSAL_CODES = tuple(REFUSAL_TEXT)
# A responder tries at most this many roots on a first handshake message.
MAX_ACCEPTED_ROOTS = 64


@dataclass(frozen=True, slots=True)
class Root:
    """A 32-byte secret that handshake psks, discovery keys and bundle keys derive from: the
    assembly secret of one epoch, or the join key of one invite (``invite_key`` set)."""

    kind: Literal["epoch", "join"]
    epoch: int
    secret: bytes = field(repr=False)
    invite_key: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.secret) != ASSEMBLY_SECRET_SIZE:
            raise UsageError("a root secret must be 32 bytes")
        if (self.kind == "join") != (self.invite_key is not None):
            raise UsageError("a join root, and only a join root, names its invite key")


@dataclass(frozen=True, slots=True)
class Keyring:
    """The roots this node uses now, decided by the composition root from the record.

    ``epoch`` is the assembly's current epoch as this node knows it (told to peers).
    ``dial`` is what an initiator's handshake uses. ``accept`` is what a responder tries on a
    first message, in order (the current epoch, earlier ones within their grace period, join
    keys of outstanding invites). ``seal`` writes discovery blobs and bundles (None: this node
    holds no epoch secret yet, a joiner; it then writes bundles under ``dial``). ``read``
    opens discovery blobs and bundles: the epoch roots of ``accept``.
    """

    epoch: int
    dial: Root
    accept: tuple[Root, ...]
    seal: Root | None = None

    def __post_init__(self) -> None:
        if not self.accept or len(self.accept) > MAX_ACCEPTED_ROOTS:
            raise UsageError(f"a keyring accepts 1 to {MAX_ACCEPTED_ROOTS} roots")

    @classmethod
    def single(cls, secret: bytes, epoch: int = 0) -> Keyring:
        """One epoch secret for everything (a node that knows no other)."""
        root = Root("epoch", epoch, secret)
        return cls(epoch, root, (root,), root)

    @property
    def read(self) -> tuple[Root, ...]:
        return tuple(r for r in self.accept if r.kind == "epoch")

    @property
    def writer(self) -> Root:
        return self.seal if self.seal is not None else self.dial


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
    # The roots in use now, asked afresh for each handshake, blob and bundle (they change
    # when the record starts a new epoch); None: ``assembly_secret`` alone, epoch 0.
    keyring: Callable[[], Keyring] | None = None

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

    def keys(self) -> Keyring:
        """The keyring in use now."""
        if self.keyring is None:
            return Keyring.single(self.assembly_secret)
        return self.keyring()


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
    """The proven peer may not sync; ``reason`` is one line for logs (never sent).

    ``code`` is what the handshake may tell a joiner who proved it holds the join key of
    the invite it shows (``docs/protocol.md`` §3.6): one of ``REFUSAL_CODES``."""

    reason: str
    code: str = "refused"


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
