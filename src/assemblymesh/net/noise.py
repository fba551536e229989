"""A small implementation of the Noise Protocol Framework (revision 34).

Only one cipher suite is supported: DH ``25519``, cipher ``ChaChaPoly``, hash ``BLAKE2b``. The
handshake patterns are the twelve fundamental interactive ones (NN NK NX XN XK XX KN KK KX IN
IK IX), with any combination of ``psk0`` .. ``psk3`` modifiers; one-way, deferred and fallback
patterns are not needed by AssemblyMesh and are refused.

We keep our own implementation, built on PyNaCl and the standard library, rather than use the
``noiseprotocol`` package: that package has been unmaintained since 2020, pulls in
``cryptography`` as a second crypto library, and clears the remote static key once the
handshake is done. A few hundred lines, checked against the cacophony test vectors, are less
to trust than a dormant dependency.

Errors: a message that fails authentication or is malformed during the handshake raises
``HandshakeError``; during transport, ``ProtocolError``. Asking for something that cannot be
done locally (writing out of turn, an oversized message, an exhausted nonce) raises
``UsageError``. PyNaCl exceptions never escape this module.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re as regex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions

from assemblymesh.errors import HandshakeError, ProtocolError, UsageError
from assemblymesh.i18n import _

__all__ = [
    "DHLEN",
    "HASHLEN",
    "KEYLEN",
    "MAX_MESSAGE_LEN",
    "MAX_NONCE",
    "PSKLEN",
    "SUITE",
    "TAGLEN",
    "CipherState",
    "HandshakeState",
    "KeyPair",
    "Pattern",
    "Rng",
    "SymmetricState",
    "dh",
    "hkdf",
    "parse_protocol_name",
]

DHLEN = 32
HASHLEN = 64
KEYLEN = 32
TAGLEN = 16
PSKLEN = 32
MAX_MESSAGE_LEN = 65535
# The spec reserves 2**64 - 1: a CipherState refuses to use it, so a session must end first.
MAX_NONCE = 2**64 - 1

SUITE = "25519_ChaChaPoly_BLAKE2b"

Rng = Callable[[int], bytes]

# Token lists per message; "->" messages are the initiator's, "<-" the responder's, alternating
# from the initiator. Pre-messages are (initiator's, responder's), as in the spec's section 7.
_PATTERNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "NN": ((), (), (("e",), ("e", "ee"))),
    "NK": ((), ("s",), (("e", "es"), ("e", "ee"))),
    "NX": ((), (), (("e",), ("e", "ee", "s", "es"))),
    "XN": ((), (), (("e",), ("e", "ee"), ("s", "se"))),
    "XK": ((), ("s",), (("e", "es"), ("e", "ee"), ("s", "se"))),
    "XX": ((), (), (("e",), ("e", "ee", "s", "es"), ("s", "se"))),
    "KN": (("s",), (), (("e",), ("e", "ee", "se"))),
    "KK": (("s",), ("s",), (("e", "es", "ss"), ("e", "ee", "se"))),
    "KX": (("s",), (), (("e",), ("e", "ee", "se", "s", "es"))),
    "IN": ((), (), (("e", "s"), ("e", "ee", "se"))),
    "IK": ((), ("s",), (("e", "es", "s", "ss"), ("e", "ee", "se"))),
    "IX": ((), (), (("e", "s"), ("e", "ee", "se", "s", "es"))),
}

_NAME_RE = regex.compile(r"^Noise_([A-Z]{2})((?:psk[0-9])(?:\+psk[0-9])*)?_(.+)$")


@dataclass(frozen=True, slots=True)
class Pattern:
    """A handshake pattern after modifiers: pre-message tokens and per-message tokens."""

    name: str
    initiator_pre: tuple[str, ...]
    responder_pre: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]
    psk_count: int


def parse_protocol_name(protocol_name: str) -> Pattern:
    """Parse ``Noise_<pattern>_25519_ChaChaPoly_BLAKE2b``; raise ``UsageError`` if unsupported."""
    m = _NAME_RE.match(protocol_name)
    if m is None or m.group(3) != SUITE or m.group(1) not in _PATTERNS:
        raise UsageError(f"unsupported Noise protocol: {protocol_name}")
    base, modifiers = m.group(1), m.group(2)
    ipre, rpre, msgs = _PATTERNS[base]
    messages = [list(tokens) for tokens in msgs]
    psk_count = 0
    if modifiers:
        for modifier in modifiers.split("+"):
            index = int(modifier[3:])
            if index > len(messages):
                raise UsageError(f"unsupported Noise protocol: {protocol_name}")
            # psk0 goes at the start of the first message, pskN at the end of message N.
            if index == 0:
                messages[0].insert(0, "psk")
            else:
                messages[index - 1].append("psk")
            psk_count += 1
    return Pattern(
        name=base + (modifiers or ""),
        initiator_pre=ipre,
        responder_pre=rpre,
        messages=tuple(tuple(tokens) for tokens in messages),
        psk_count=psk_count,
    )


# --- primitives -----------------------------------------------------------------------------


def _hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=HASHLEN).digest()


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.blake2b).digest()


def hkdf(chaining_key: bytes, ikm: bytes, outputs: int) -> tuple[bytes, ...]:
    """HKDF as defined by the Noise spec (section 4.3), with HMAC-BLAKE2b; 2 or 3 outputs."""
    temp = _hmac(chaining_key, ikm)
    out1 = _hmac(temp, b"\x01")
    out2 = _hmac(temp, out1 + b"\x02")
    if outputs == 2:
        return out1, out2
    return out1, out2, _hmac(temp, out2 + b"\x03")


def dh(private: bytes, public: bytes) -> bytes:
    """X25519. A peer key that yields the all-zero secret (a low-order point) is refused."""
    if len(public) != DHLEN:
        raise HandshakeError(_("peer public key has the wrong length"))
    try:
        return nacl.bindings.crypto_scalarmult(private, public)
    except nacl.exceptions.CryptoError as exc:
        # libsodium refuses low-order points; with them the "shared" secret is public.
        raise HandshakeError(_("peer sent an invalid public key")) from exc


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An X25519 key pair."""

    private: bytes
    public: bytes

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        if len(private) != DHLEN:
            raise UsageError("an X25519 private key must be 32 bytes")
        return cls(private, nacl.bindings.crypto_scalarmult_base(private))

    @classmethod
    def generate(cls, rng: Rng = os.urandom) -> KeyPair:
        return cls.from_private(rng(DHLEN))

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public.hex()[:16]}...)"


# --- CipherState ----------------------------------------------------------------------------


class CipherState:
    """A key and a 64-bit message counter; encrypts with ChaCha20-Poly1305 (IETF)."""

    __slots__ = ("_key", "_nonce")

    def __init__(self, key: bytes | None = None) -> None:
        self._key: bytes | None = None
        self._nonce = 0
        if key is not None:
            self.initialize_key(key)

    def initialize_key(self, key: bytes) -> None:
        if len(key) != KEYLEN:
            raise UsageError("a cipher key must be 32 bytes")
        self._key = key
        self._nonce = 0

    def has_key(self) -> bool:
        return self._key is not None

    @property
    def nonce(self) -> int:
        return self._nonce

    def set_nonce(self, nonce: int) -> None:
        if not 0 <= nonce <= MAX_NONCE:
            raise UsageError("a nonce must fit in 64 bits")
        self._nonce = nonce

    @staticmethod
    def _nonce_bytes(n: int) -> bytes:
        # ChaChaPoly in Noise: 32 bits of zeros, then the counter little-endian.
        return b"\x00\x00\x00\x00" + n.to_bytes(8, "little")

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        if self._key is None:
            return plaintext
        if self._nonce >= MAX_NONCE:
            raise UsageError("cipher nonce exhausted; the session must be closed")
        ct = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, ad, self._nonce_bytes(self._nonce), self._key
        )
        self._nonce += 1
        return ct

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        """Decrypt and authenticate; on failure raise ``ProtocolError``, nonce unchanged."""
        if self._key is None:
            return ciphertext
        if self._nonce >= MAX_NONCE:
            raise ProtocolError("cipher nonce exhausted; the session must be closed")
        if len(ciphertext) < TAGLEN:
            raise ProtocolError(_("encrypted message is shorter than its authentication tag"))
        try:
            pt = nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                ciphertext, ad, self._nonce_bytes(self._nonce), self._key
            )
        except nacl.exceptions.CryptoError as exc:
            raise ProtocolError(_("encrypted message failed authentication")) from exc
        self._nonce += 1
        return pt

    def rekey(self) -> None:
        """Replace the key by ``ENCRYPT(k, maxnonce, zerolen, zeros)[:32]`` (spec section 4.2)."""
        if self._key is None:
            raise UsageError("cannot rekey a cipher without a key")
        ct = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            b"\x00" * KEYLEN, b"", self._nonce_bytes(MAX_NONCE), self._key
        )
        self._key = ct[:KEYLEN]


# --- SymmetricState -------------------------------------------------------------------------


class SymmetricState:
    """The chaining key and handshake hash, plus the CipherState they key."""

    __slots__ = ("_ck", "_h", "cipher")

    def __init__(self, protocol_name: str) -> None:
        name = protocol_name.encode("ascii")
        self._h = name.ljust(HASHLEN, b"\x00") if len(name) <= HASHLEN else _hash(name)
        self._ck = self._h
        self.cipher = CipherState()

    @property
    def handshake_hash(self) -> bytes:
        return self._h

    def mix_key(self, ikm: bytes) -> None:
        self._ck, temp_k = hkdf(self._ck, ikm, 2)
        self.cipher.initialize_key(temp_k[:KEYLEN])

    def mix_hash(self, data: bytes) -> None:
        self._h = _hash(self._h + data)

    def mix_key_and_hash(self, ikm: bytes) -> None:
        self._ck, temp_h, temp_k = hkdf(self._ck, ikm, 3)
        self.mix_hash(temp_h)
        self.cipher.initialize_key(temp_k[:KEYLEN])

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self._h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        try:
            plaintext = self.cipher.decrypt_with_ad(self._h, ciphertext)
        except ProtocolError as exc:
            # During the handshake a bad tag means a wrong key (psk, static) or tampering.
            raise HandshakeError(_("handshake message failed authentication")) from exc
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        k1, k2 = hkdf(self._ck, b"", 2)
        return CipherState(k1[:KEYLEN]), CipherState(k2[:KEYLEN])


# --- HandshakeState -------------------------------------------------------------------------


class HandshakeState:
    """One side of a Noise handshake.

    ``s`` is the local static key pair, ``e`` an ephemeral key pair fixed in advance (test
    vectors do this; otherwise it is drawn from ``rng`` when the pattern needs it), ``rs`` the
    remote static public key if known beforehand, ``psks`` the pre-shared keys in the order
    the pattern uses them. Messages alternate, the initiator writing first.
    """

    def __init__(
        self,
        protocol_name: str,
        *,
        initiator: bool,
        prologue: bytes = b"",
        s: KeyPair | None = None,
        e: KeyPair | None = None,
        rs: bytes | None = None,
        re: bytes | None = None,
        psks: Sequence[bytes] = (),
        rng: Rng = os.urandom,
    ) -> None:
        self.pattern = parse_protocol_name(protocol_name)
        self.initiator = initiator
        self._s = s
        self._e = e
        self._rs = rs
        self._re = re
        if len(psks) != self.pattern.psk_count or any(len(p) != PSKLEN for p in psks):
            raise UsageError(f"{protocol_name} needs {self.pattern.psk_count} psks of 32 bytes")
        self._psks = list(psks)
        self._rng = rng
        self._has_psk = self.pattern.psk_count > 0
        self._index = 0
        self._symmetric = SymmetricState(protocol_name)
        self._symmetric.mix_hash(prologue)

        local_pre, remote_pre = (
            (self.pattern.initiator_pre, self.pattern.responder_pre)
            if initiator
            else (self.pattern.responder_pre, self.pattern.initiator_pre)
        )
        if "s" in local_pre and s is None:
            raise UsageError(f"{protocol_name} needs the local static key in advance")
        if "s" in remote_pre and rs is None:
            raise UsageError(f"{protocol_name} needs the remote static key in advance")
        local_static = s.public if s is not None else None
        initiator_key, responder_key = (local_static, rs) if initiator else (rs, local_static)
        # The initiator's pre-message is hashed first, whichever side we are.
        if "s" in self.pattern.initiator_pre and initiator_key is not None:
            self._symmetric.mix_hash(initiator_key)
        if "s" in self.pattern.responder_pre and responder_key is not None:
            self._symmetric.mix_hash(responder_key)
        self._failed = False

    # --- state ---

    @property
    def finished(self) -> bool:
        return self._index >= len(self.pattern.messages)

    @property
    def handshake_hash(self) -> bytes:
        return self._symmetric.handshake_hash

    @property
    def remote_static(self) -> bytes | None:
        return self._rs

    @property
    def remote_ephemeral(self) -> bytes | None:
        return self._re

    def is_my_turn(self) -> bool:
        return not self.finished and (self._index % 2 == 0) == self.initiator

    def split(self) -> tuple[CipherState, CipherState]:
        """The (initiator-to-responder, responder-to-initiator) transport ciphers."""
        if not self.finished:
            raise UsageError("the Noise handshake is not finished")
        return self._symmetric.split()

    # --- messages ---

    def _dh(self, token: str) -> bytes:
        # es: initiator's e with responder's s; se: initiator's s with responder's e.
        local_first, remote_first = token[0], token[1]
        if not self.initiator:
            local_first, remote_first = remote_first, local_first
        local = self._e if local_first == "e" else self._s
        remote = self._re if remote_first == "e" else self._rs
        if local is None or remote is None:
            raise UsageError(f"Noise token {token} needs a key that is missing")
        return dh(local.private, remote)

    def write_message(self, payload: bytes) -> bytes:
        if self._failed:
            raise UsageError("this Noise handshake already failed")
        if not self.is_my_turn():
            raise UsageError("it is not this side's turn to write a Noise handshake message")
        try:
            return self._write_message(payload)
        except HandshakeError:
            # A DH with a bad key the peer sent earlier can fail here, while writing.
            self._failed = True
            raise

    def _write_message(self, payload: bytes) -> bytes:
        sym = self._symmetric
        out = bytearray()
        for token in self.pattern.messages[self._index]:
            if token == "e":
                if self._e is None:
                    self._e = KeyPair.generate(self._rng)
                out += self._e.public
                sym.mix_hash(self._e.public)
                if self._has_psk:
                    sym.mix_key(self._e.public)
            elif token == "s":
                if self._s is None:
                    raise UsageError("this Noise pattern needs a local static key")
                out += sym.encrypt_and_hash(self._s.public)
            elif token == "psk":
                sym.mix_key_and_hash(self._psks.pop(0))
            else:
                sym.mix_key(self._dh(token))
        out += sym.encrypt_and_hash(payload)
        if len(out) > MAX_MESSAGE_LEN:
            raise UsageError("Noise handshake message would exceed 65535 bytes")
        self._index += 1
        return bytes(out)

    def read_message(self, message: bytes) -> bytes:
        """Process a peer's handshake message and return its payload.

        On ``HandshakeError`` the state is half-updated and unusable: every later call fails.
        """
        if self._failed:
            raise UsageError("this Noise handshake already failed")
        if self.finished or self.is_my_turn():
            raise UsageError("it is not this side's turn to read a Noise handshake message")
        try:
            return self._read_message(message)
        except HandshakeError:
            self._failed = True
            raise

    def _read_message(self, message: bytes) -> bytes:
        if len(message) > MAX_MESSAGE_LEN:
            raise HandshakeError(_("Noise handshake message exceeds 65535 bytes"))
        sym = self._symmetric
        pos = 0

        def take(n: int) -> bytes:
            nonlocal pos
            if len(message) - pos < n:
                raise HandshakeError(_("Noise handshake message is truncated"))
            chunk = message[pos : pos + n]
            pos += n
            return chunk

        for token in self.pattern.messages[self._index]:
            if token == "e":
                self._re = take(DHLEN)
                sym.mix_hash(self._re)
                if self._has_psk:
                    sym.mix_key(self._re)
            elif token == "s":
                n = DHLEN + TAGLEN if sym.cipher.has_key() else DHLEN
                self._rs = sym.decrypt_and_hash(take(n))
            elif token == "psk":
                sym.mix_key_and_hash(self._psks.pop(0))
            else:
                sym.mix_key(self._dh(token))
        if sym.cipher.has_key() and len(message) - pos < TAGLEN:
            raise HandshakeError(_("Noise handshake message is truncated"))
        payload = sym.decrypt_and_hash(message[pos:])
        self._index += 1
        return payload
