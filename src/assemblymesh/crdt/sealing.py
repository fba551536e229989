"""The assembly secret of each epoch, sealed to devices inside the record.

A secret is sealed to one device with a libsodium sealed box (X25519, XSalsa20-Poly1305)
for the device's Ed25519 key converted to X25519, so only that device opens it. Every epoch
has a public *check*, a keyed hash of its secret, so a device that opens a box can tell the
secret it found is the epoch's (and not another one a hostile writer sealed to it).
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
import nacl.public

from assemblymesh.crdt.identity import ASSEMBLY_ID_SIZE, KEY_SIZE, SigningKey
from assemblymesh.errors import InvalidSignature, UsageError
from assemblymesh.i18n import _

__all__ = [
    "BOX_SIZE",
    "CHECK_CONTEXT",
    "SECRET_SIZE",
    "epoch_check",
    "open_secret",
    "seal_secret",
]

SECRET_SIZE = 32
BOX_SIZE = SECRET_SIZE + 48  # ephemeral key (32) + Poly1305 tag (16)
CHECK_CONTEXT = b"assemblymesh/epoch-check/v1\x00"


def epoch_check(secret: bytes, assembly: bytes, epoch: int) -> bytes:
    """The epoch's public check: keyed BLAKE2b-256 (key = secret) of the context, the
    assembly id and ``u32be(epoch)``."""
    if len(secret) != SECRET_SIZE or len(assembly) != ASSEMBLY_ID_SIZE:
        raise UsageError("a secret is 32 bytes and an assembly id 16")
    if not 0 <= epoch < 2**32:
        raise UsageError("an epoch is in 0 .. 2**32 - 1")
    data = CHECK_CONTEXT + assembly + epoch.to_bytes(4, "big")
    return hashlib.blake2b(data, key=secret, digest_size=32).digest()


def seal_secret(device: bytes, secret: bytes) -> bytes:
    """``secret`` sealed to the Ed25519 public key ``device`` (an 80-byte box)."""
    if len(device) != KEY_SIZE or len(secret) != SECRET_SIZE:
        raise UsageError("a device key and a secret are 32 bytes")
    try:
        curve = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(device)
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise UsageError("not a device key that a box can be sealed to") from exc
    return bytes(nacl.public.SealedBox(nacl.public.PublicKey(curve)).encrypt(secret))


def open_secret(
    device_key: SigningKey, box: bytes, check: bytes, assembly: bytes, epoch: int
) -> bytes:
    """The secret in ``box``, sealed to this device; ``InvalidSignature`` if it does not open
    or is not the secret of ``epoch`` (its check differs)."""
    if len(box) != BOX_SIZE:
        raise InvalidSignature(_("a sealed secret has the wrong size"))
    private = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
        device_key.seed + device_key.public
    )
    try:
        secret = bytes(nacl.public.SealedBox(nacl.public.PrivateKey(private)).decrypt(box))
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise InvalidSignature(_("the sealed secret does not open with this device's key")) from exc
    if len(secret) != SECRET_SIZE or epoch_check(secret, assembly, epoch) != check:
        raise InvalidSignature(_("the sealed secret is not the secret of its epoch"))
    return secret
