"""The one exception tree of AssemblyMesh.

```
AssemblyMeshError
├── UsageError            local misuse: the caller asked for something that cannot be done
│   ├── NotFoundError     no such assembly, proposal, round, member, ...
│   ├── IllegalMoveError  a process rule forbids the move (``.rule`` names the rule)
│   ├── KeyFileError      a key file is missing, unreadable or readable by others
│   │   ├── WrongPassphrase  a passphrase does not open a sealed key file or backup
│   │   └── KeyLocked        the member key is sealed (give its passphrase) or not here
│   └── DiscoveryError    LAN discovery cannot run here (no mDNS socket, cannot register)
├── StoreError            the local store cannot be opened or written
│   └── StoreFormatError  the store was written by a newer format version
└── RemoteError           something that came from elsewhere is bad (peer, file, invite)
    ├── RejectedChange    a change failed ingest (``.reason`` is one of ``RejectReason``)
    ├── InvalidSignature  a signature does not verify (also re-exported by ``crdt.identity``)
    ├── InviteError       an invite code is malformed, forged or expired
    ├── BundleError       a sneakernet bundle is corrupt, forged or for another assembly
    ├── PublicationError  a publication is malformed, altered, unverifiable or our own
    ├── HandshakeError    a peer failed the Noise handshake or identity proof
    │   ├── RefusedPeer   the peer proved who it is, and governance refused it (``.reason``)
    │   └── InviteRefused the peer refused this joiner's invite and said why (``.code``)
    ├── ProtocolError     a peer sent a malformed, oversized or unexpected message
    └── InvalidAnnouncement  a discovery blob does not open, is malformed or stale
```

Library exceptions (PyNaCl, OSError, sqlite3, zeroconf, pycrdt panics) are translated at the
boundary where they occur; callers only ever catch this tree. ``str(error)`` is always a
single line fit to show a user.
"""

from __future__ import annotations

import enum

from assemblymesh.i18n import _


class AssemblyMeshError(Exception):
    """Root of every error AssemblyMesh raises on purpose."""


class UsageError(AssemblyMeshError):
    """Local misuse: bad arguments, or an action the current state does not allow."""


class NotFoundError(UsageError):
    """A named thing (assembly, proposal, round, member) does not exist here."""


class IllegalMoveError(UsageError):
    """A process rule forbids this move; ``rule`` names the rule."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(_("{detail} (rule: {rule})").format(detail=detail, rule=rule))
        self.rule = rule
        self.detail = detail


class KeyFileError(UsageError):
    """A key file is missing, malformed or has unsafe permissions."""


class WrongPassphrase(KeyFileError):
    """The passphrase does not open this sealed key file or backup."""


class KeyLocked(KeyFileError):
    """The member key is sealed under a passphrase, or does not lie on this device."""


class StoreError(AssemblyMeshError):
    """The local store cannot be opened, read or written."""


class StoreFormatError(StoreError):
    """The store was written by a newer (or unknown) format version."""


class RemoteError(AssemblyMeshError):
    """Input that came from outside this node (a peer, a file, an invite) is bad."""


class RejectReason(enum.StrEnum):
    """Why ingest refused a change. Stable strings: they appear in logs and in the protocol."""

    MALFORMED = "malformed"
    TOO_LARGE = "too-large"
    WRONG_VERSION = "wrong-version"
    WRONG_ASSEMBLY = "wrong-assembly"
    BAD_SIGNATURE = "bad-signature"
    BAD_CHAIN = "bad-chain"
    BAD_CERTIFICATE = "bad-certificate"
    NOT_AUTHORISED = "not-authorised"
    EQUIVOCATION = "equivocation"
    BAD_UPDATE = "bad-update"


class RejectedChange(RemoteError):
    """A change (or a whole batch) failed ingest. Nothing it carried was applied."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(
            _("change rejected ({reason}): {detail}").format(reason=reason, detail=detail)
        )
        self.reason = reason
        self.detail = detail


class InvalidSignature(RemoteError):
    """A signature does not verify for the given key and message."""


class InviteError(RemoteError):
    """An invite code is malformed, forged, expired or for another assembly."""


class BundleError(RemoteError):
    """A bundle file is corrupt, forged, truncated or for another assembly."""


class PublicationError(RemoteError):
    """A publication file is malformed, altered, unverifiable or from this very assembly.

    ``detail`` is why, in English (what the fold records of a refused import); ``str()`` says
    it in the chosen language."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        from assemblymesh.model.publication import in_words

        return in_words(self.detail)


class HandshakeError(RemoteError):
    """A peer failed the handshake: wrong secret, unknown device, bad proof, timeout."""


class ProtocolError(RemoteError):
    """A peer sent a malformed, oversized, out-of-order or unknown message."""


class RefusedPeer(HandshakeError):
    """A proven peer that governance (``authorize``) refused; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(_("peer refused: {reason}").format(reason=reason))
        self.reason = reason


class InviteRefused(HandshakeError):
    """The peer refused this node's invite and said why (``code``, ``docs/protocol.md``
    §3.6); ``text`` is the line a joiner reads."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(_("{text}: ask for a new code, or leave").format(text=text))
        self.code = code
        self.text = text


class InvalidAnnouncement(RemoteError):
    """A discovery blob does not open, is malformed, stale, or names another assembly."""


class DiscoveryError(UsageError):
    """Discovery cannot run here: no mDNS socket, or the service cannot be registered."""
