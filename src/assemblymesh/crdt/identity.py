"""Identities: member keys, device keys, device certificates, invites, and key files.

A member holds one long-term Ed25519 *member key* per assembly; its public half is the
member's id and names the member's document. Each device has its own Ed25519 *device key*,
certified by the member key (``DeviceCertificate``). Devices sign changes; the certificate
ties the device to the member whose document it may write.

Every signature is made over ``context || message`` with a distinct context per kind of
signed data, so a signature of one kind can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import msgpack
import nacl.bindings
import nacl.exceptions
import nacl.signing

from assemblymesh.errors import InvalidSignature, KeyFileError
from assemblymesh.i18n import _

__all__ = [
    "ASSEMBLY_ID_CONTEXT",
    "ASSEMBLY_ID_SIZE",
    "CERT_CONTEXT",
    "CLIENT_ID_CONTEXT",
    "INVITE_CONTEXT",
    "INVITE_PROOF_CONTEXT",
    "KEY_SIZE",
    "REVOKE_CONTEXT",
    "SIGNATURE_SIZE",
    "DeviceCertificate",
    "InvalidSignature",  # defined in assemblymesh.errors; re-exported for callers
    "Invite",
    "SigningKey",
    "assembly_id_for",
    "invite_proof_message",
    "is_bytes_of",
    "key_from_text",
    "read_key_file",
    "read_private_text",
    "revocation_message",
    "sign_invite_proof",
    "sign_revocation",
    "verify",
    "verify_invite_proof",
    "verify_revocation",
    "write_key_file",
    "write_private_text",
    "yjs_client_id",
]

KEY_SIZE = 32
SIGNATURE_SIZE = 64
ASSEMBLY_ID_SIZE = 16

CERT_CONTEXT = b"assemblymesh/device-cert/v1\x00"
INVITE_CONTEXT = b"assemblymesh/invite/v1\x00"
INVITE_PROOF_CONTEXT = b"assemblymesh/invite-proof/v1\x00"
ASSEMBLY_ID_CONTEXT = b"assemblymesh/assembly-id/v1\x00"
CLIENT_ID_CONTEXT = b"assemblymesh/yjs-client-id/v1\x00"
REVOKE_CONTEXT = b"assemblymesh/device-revocation/v1\x00"

# Yjs accepts client ids in 0 .. 2**53 - 1 (see docs/pycrdt notes); 0 is avoided.
_MAX_CLIENT_ID = 2**53 - 1


def verify(public_key: bytes, context: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature made with ``context``; raise ``InvalidSignature`` if bad."""
    if len(public_key) != KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        raise InvalidSignature(_("key or signature has the wrong length"))
    try:
        nacl.bindings.crypto_sign_open(signature + context + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError) as exc:
        raise InvalidSignature(_("signature does not verify")) from exc


class SigningKey:
    """An Ed25519 key pair held in memory. Never serialised except to a 0600 key file."""

    __slots__ = ("_key", "public")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != KEY_SIZE:
            raise KeyFileError("a key seed must be 32 bytes")
        self._key = nacl.signing.SigningKey(seed)
        self.public: bytes = bytes(self._key.verify_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(KEY_SIZE))

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    def sign(self, context: bytes, message: bytes) -> bytes:
        return bytes(self._key.sign(context + message).signature)

    def __repr__(self) -> str:
        return f"SigningKey(public={self.public.hex()[:16]}...)"


def assembly_id_for(founder: bytes, nonce: bytes) -> bytes:
    """The id of an assembly: a hash of its founder's member key and a random nonce.

    Self-certifying: anyone holding the genesis act can check who founded the assembly.
    """
    h = hashlib.blake2b(ASSEMBLY_ID_CONTEXT + founder + nonce, digest_size=ASSEMBLY_ID_SIZE)
    return h.digest()


def yjs_client_id(device: bytes) -> int:
    """The Yjs client id of a device, derived from its public key (never chosen at random).

    Two replicas sharing a client id corrupt each other silently, so the id is a function of
    the device key, and a device key is only ever used by one replica.
    """
    digest = hashlib.blake2b(CLIENT_ID_CONTEXT + device, digest_size=8).digest()
    return (int.from_bytes(digest, "big") % _MAX_CLIENT_ID) + 1


def is_bytes_of(value: object, size: int) -> bool:
    return isinstance(value, bytes) and len(value) == size


def _decode_signed_record(data: bytes, what: str) -> tuple[bytes, bytes, bytes, int, bytes]:
    """``[assembly, key, key, time_ms, signature]``: the shape of certificates and invites."""
    try:
        assembly, signer, subject, when, sig = msgpack.unpackb(data, raw=False)
    except Exception as exc:  # msgpack raises several unrelated types on bad input
        raise InvalidSignature(_("malformed {what}").format(what=what)) from exc
    if not (
        is_bytes_of(assembly, ASSEMBLY_ID_SIZE)
        and is_bytes_of(signer, KEY_SIZE)
        and is_bytes_of(subject, KEY_SIZE)
        and type(when) is int
        and is_bytes_of(sig, SIGNATURE_SIZE)
    ):
        raise InvalidSignature(_("malformed {what}").format(what=what))
    return assembly, signer, subject, when, sig


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    """``member`` says that ``device`` writes for it in ``assembly``."""

    assembly: bytes
    member: bytes
    device: bytes
    issued_ms: int
    signature: bytes

    @staticmethod
    def _message(assembly: bytes, member: bytes, device: bytes, issued_ms: int) -> bytes:
        packed: bytes = msgpack.packb([assembly, member, device, issued_ms])
        return packed

    @classmethod
    def issue(
        cls, member_key: SigningKey, assembly: bytes, device: bytes, issued_ms: int
    ) -> DeviceCertificate:
        msg = cls._message(assembly, member_key.public, device, issued_ms)
        return cls(
            assembly, member_key.public, device, issued_ms, member_key.sign(CERT_CONTEXT, msg)
        )

    def verify(self) -> None:
        """Raise ``InvalidSignature`` unless the member key signed this certificate."""
        msg = self._message(self.assembly, self.member, self.device, self.issued_ms)
        verify(self.member, CERT_CONTEXT, msg, self.signature)

    def encode(self) -> bytes:
        packed: bytes = msgpack.packb(
            [self.assembly, self.member, self.device, self.issued_ms, self.signature]
        )
        return packed

    @classmethod
    def decode(cls, data: bytes) -> DeviceCertificate:
        """Parse (not verify) a certificate; raise ``InvalidSignature`` on malformed input."""
        return cls(*_decode_signed_record(data, _("device certificate")))


@dataclass(frozen=True, slots=True)
class Invite:
    """A one-time invite: ``inviter`` (a member key) admits whoever proves ``invite_key``."""

    assembly: bytes
    inviter: bytes
    invite_key: bytes
    expires_ms: int
    signature: bytes

    @staticmethod
    def _message(assembly: bytes, inviter: bytes, invite_key: bytes, expires_ms: int) -> bytes:
        packed: bytes = msgpack.packb([assembly, inviter, invite_key, expires_ms])
        return packed

    @classmethod
    def issue(
        cls, inviter_key: SigningKey, assembly: bytes, invite_key: bytes, expires_ms: int
    ) -> Invite:
        msg = cls._message(assembly, inviter_key.public, invite_key, expires_ms)
        sig = inviter_key.sign(INVITE_CONTEXT, msg)
        return cls(assembly, inviter_key.public, invite_key, expires_ms, sig)

    def verify(self) -> None:
        msg = self._message(self.assembly, self.inviter, self.invite_key, self.expires_ms)
        verify(self.inviter, INVITE_CONTEXT, msg, self.signature)

    def encode(self) -> bytes:
        packed: bytes = msgpack.packb(
            [self.assembly, self.inviter, self.invite_key, self.expires_ms, self.signature]
        )
        return packed

    @classmethod
    def decode(cls, data: bytes) -> Invite:
        """Parse (not verify) an invite; raise ``InvalidSignature`` on malformed input."""
        return cls(*_decode_signed_record(data, _("invite")))


def invite_proof_message(invite: Invite, joiner: bytes) -> bytes:
    """What the holder of an invite key signs to admit member key ``joiner``."""
    packed: bytes = msgpack.packb([invite.encode(), joiner])
    return packed


def sign_invite_proof(invite_secret: SigningKey, invite: Invite, joiner: bytes) -> bytes:
    return invite_secret.sign(INVITE_PROOF_CONTEXT, invite_proof_message(invite, joiner))


def verify_invite_proof(invite: Invite, joiner: bytes, proof: bytes) -> None:
    """Raise ``InvalidSignature`` unless the invite is genuine and its key admitted ``joiner``."""
    invite.verify()
    verify(invite.invite_key, INVITE_PROOF_CONTEXT, invite_proof_message(invite, joiner), proof)


def revocation_message(assembly: bytes, device: bytes, keep: int) -> bytes:
    """What a member key signs to revoke ``device``: its changes after ``keep`` count no more."""
    packed: bytes = msgpack.packb([assembly, device, keep])
    return packed


def sign_revocation(member_key: SigningKey, assembly: bytes, device: bytes, keep: int) -> bytes:
    return member_key.sign(REVOKE_CONTEXT, revocation_message(assembly, device, keep))


def verify_revocation(
    member: bytes, assembly: bytes, device: bytes, keep: int, signature: bytes
) -> None:
    """Raise ``InvalidSignature`` unless member key ``member`` revoked ``device`` after
    ``keep``."""
    verify(member, REVOKE_CONTEXT, revocation_message(assembly, device, keep), signature)


# --- key files ------------------------------------------------------------------------------


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (never a half-written key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        raise KeyFileError(
            _("cannot write key file {path}: {strerror}").format(path=path, strerror=exc.strerror)
        ) from exc


def read_private_text(path: Path) -> str:
    """Read a key file's text; refuse a file that group or others can read or write."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(_("key file {path} does not exist").format(path=path)) from exc
    except OSError as exc:
        raise KeyFileError(
            _("cannot read key file {path}: {strerror}").format(path=path, strerror=exc.strerror)
        ) from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            _(
                "key file {path} is accessible by other users (mode "
                "{mode:o}); run: chmod 600 {path}"
            ).format(path=path, mode=stat.S_IMODE(st.st_mode))
        )
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(_("key file {path} is malformed").format(path=path)) from exc


def write_key_file(path: Path, key: SigningKey) -> None:
    """Write a key seed to ``path`` with mode 0600, atomically (never a half-written key)."""
    write_private_text(path, key.seed.hex() + "\n")


def read_key_file(path: Path) -> SigningKey:
    """Read a key seed; refuse a file that group or others can read or write."""
    return key_from_text(read_private_text(path), path)


def key_from_text(text: str, path: Path) -> SigningKey:
    """The key of a plain key file's text (64 hex digits)."""
    try:
        seed = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise KeyFileError(_("key file {path} is malformed").format(path=path)) from exc
    if len(seed) != KEY_SIZE:
        raise KeyFileError(_("key file {path} is malformed").format(path=path))
    return SigningKey(seed)
