"""Keys under a passphrase: sealed key files and member-key backups.

A passphrase becomes a key by Argon2id (PyNaCl's ``pwhash``) with a random salt; that key
seals the secret with XSalsa20-Poly1305 (``SecretBox``). A wrong passphrase fails the box's
authentication: it is refused, and nothing is written.

*Sealed key file* (the member key at rest, text, mode 0600)::

    am-sealed-key-v1 <opslimit> <memlimit> <salt hex> <box hex>

*Backup* (the member key with what a new device needs to rejoin its assembly), one line
that fits a QR code::

    "am-backup-1:" base32(cost (2) | salt (16) | box | check (5))     lowercase, no padding
    cost   = opslimit (1 byte), log2 memlimit (1 byte)
    box    = SecretBox(msgpack [assembly (16), member seed (32), assembly secret (32), name])
    check  = BLAKE2b-40 of "am-backup-1:" and what precedes it: a damaged copy is told
             apart from a wrong passphrase
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
from dataclasses import dataclass
from pathlib import Path

import msgpack
import nacl.exceptions
import nacl.pwhash
import nacl.secret

from assemblymesh.crdt.identity import (
    SigningKey,
    key_from_text,
    read_private_text,
    write_private_text,
)
from assemblymesh.errors import KeyFileError, KeyLocked, WrongPassphrase
from assemblymesh.i18n import _

__all__ = [
    "BACKUP_COST",
    "BACKUP_PREFIX",
    "FILE_COST",
    "SEALED_PREFIX",
    "Backup",
    "KdfCost",
    "MemberKey",
    "is_sealed_file",
    "is_sealed_text",
    "open_sealed",
    "paper_form",
    "read_seed",
    "seal",
]

SEALED_PREFIX = "am-sealed-key-v1"
BACKUP_PREFIX = "am-backup-1:"
_SALT = nacl.pwhash.argon2id.SALTBYTES
_CHECK = 5
_ARGON = nacl.pwhash.argon2id


@dataclass(frozen=True, slots=True)
class KdfCost:
    """Argon2id's work: passes and memory (a power of two, in bytes)."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if not (_ARGON.OPSLIMIT_MIN <= self.opslimit <= min(255, _ARGON.OPSLIMIT_MAX)):
            raise KeyFileError("the passphrase cost is out of range")
        if not _ARGON.MEMLIMIT_MIN <= self.memlimit <= 2**40 or self.memlimit & (self.memlimit - 1):
            raise KeyFileError("the passphrase memory cost is out of range")


# A key file is opened on every pairing or revocation; a backup is opened once, on a new
# device, and may lie in a drawer for years: it costs more to guess.
FILE_COST = KdfCost(_ARGON.OPSLIMIT_INTERACTIVE, _ARGON.MEMLIMIT_INTERACTIVE)
BACKUP_COST = KdfCost(_ARGON.OPSLIMIT_MODERATE, _ARGON.MEMLIMIT_MODERATE)


def _box(passphrase: str, salt: bytes, cost: KdfCost) -> nacl.secret.SecretBox:
    if not passphrase:
        raise KeyFileError(_("the passphrase is empty"))
    key = _ARGON.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=cost.opslimit,
        memlimit=cost.memlimit,
    )
    return nacl.secret.SecretBox(key)


def seal(secret: bytes, passphrase: str, cost: KdfCost = FILE_COST) -> str:
    """The text of a sealed key file holding ``secret``."""
    salt = os.urandom(_SALT)
    box = bytes(_box(passphrase, salt, cost).encrypt(secret))
    return f"{SEALED_PREFIX} {cost.opslimit} {cost.memlimit} {salt.hex()} {box.hex()}\n"


def is_sealed_text(text: str) -> bool:
    return text.startswith(SEALED_PREFIX + " ")


def open_sealed(text: str, passphrase: str, where: str | None = None) -> bytes:
    """The secret in a sealed key file; ``WrongPassphrase`` if the passphrase is not its."""
    where = where or _("the key file")
    try:
        prefix, ops, mem, salt_hex, box_hex = text.split()
        cost = KdfCost(int(ops), int(mem))
        salt, box = bytes.fromhex(salt_hex), bytes.fromhex(box_hex)
    except (ValueError, KeyFileError) as exc:
        raise KeyFileError(_("{where} is malformed").format(where=where)) from exc
    if prefix != SEALED_PREFIX or len(salt) != _SALT:
        raise KeyFileError(_("{where} is malformed").format(where=where))
    try:
        return bytes(_box(passphrase, salt, cost).decrypt(box))
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase(_("wrong passphrase for {where}").format(where=where)) from exc


def is_sealed_file(path: Path) -> bool:
    """Whether the key file at ``path`` is sealed under a passphrase."""
    return is_sealed_text(read_private_text(path))


def read_seed(path: Path, passphrase: str | None, what: str) -> bytes:
    """The 32-byte seed of a key file, plain or sealed (opened with ``passphrase``):
    ``KeyLocked`` if it is sealed and no passphrase was given, ``WrongPassphrase`` if the
    passphrase is not its. Nothing is written either way."""
    text = read_private_text(path)
    if not is_sealed_text(text):
        return key_from_text(text, path).seed
    if passphrase is None:
        raise KeyLocked(_("{what} is sealed: give its passphrase").format(what=what))
    seed = open_sealed(text, passphrase, what)
    if len(seed) != 32:
        raise KeyFileError(_("{what} ({path}) is malformed").format(what=what, path=path))
    return seed


def _check(data: bytes) -> bytes:
    return hashlib.blake2b(
        BACKUP_PREFIX.encode() + data, digest_size=_CHECK, person=b"am-backup"
    ).digest()


@dataclass(frozen=True)
class Backup:
    """What a member needs to rejoin their assembly from a new device."""

    assembly: bytes
    member_seed: bytes
    secret: bytes
    name: str

    def encode(self, passphrase: str, cost: KdfCost = BACKUP_COST) -> str:
        salt = os.urandom(_SALT)
        plain: bytes = msgpack.packb([self.assembly, self.member_seed, self.secret, self.name])
        box = bytes(_box(passphrase, salt, cost).encrypt(plain))
        head = bytes([cost.opslimit, cost.memlimit.bit_length() - 1]) + salt + box
        text = base64.b32encode(head + _check(head)).decode().rstrip("=").lower()
        return BACKUP_PREFIX + text

    @classmethod
    def decode(cls, text: str, passphrase: str) -> Backup:
        """Open a backup; ``KeyFileError`` if damaged, ``WrongPassphrase`` if not its."""
        body = "".join(text.split()).lower()
        damaged = KeyFileError(_("the backup is damaged (was it copied completely and exactly?)"))
        if not body.startswith(BACKUP_PREFIX):
            raise KeyFileError(
                _("not an AssemblyMesh key backup (it starts {backup_prefix})").format(
                    backup_prefix=BACKUP_PREFIX
                )
            )
        b32 = body[len(BACKUP_PREFIX) :].upper()
        try:
            raw = base64.b32decode(b32 + "=" * (-len(b32) % 8))
        except ValueError as exc:
            raise damaged from exc
        head, check = raw[:-_CHECK], raw[-_CHECK:]
        if len(head) <= 2 + _SALT or _check(head) != check:
            raise damaged
        try:
            cost = KdfCost(head[0], 1 << head[1])
        except KeyFileError as exc:
            raise damaged from exc
        try:
            plain = _box(passphrase, head[2 : 2 + _SALT], cost).decrypt(head[2 + _SALT :])
        except nacl.exceptions.CryptoError as exc:
            raise WrongPassphrase(_("wrong passphrase for this backup")) from exc
        try:
            assembly, seed, secret, name = msgpack.unpackb(plain, raw=False)
            return cls(bytes(assembly), bytes(seed), bytes(secret), str(name))
        except (ValueError, TypeError) as exc:
            raise damaged from exc

    @staticmethod
    def read(path: Path) -> str:
        try:
            return path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(_("cannot read the backup {path}").format(path=path)) from exc


def paper_form(code: str, assembly_name: str, member_name: str) -> str:
    """A printable page (HTML) with the backup as a QR code and as text in groups of four."""
    import segno

    qr = segno.make(code, error="M").svg_inline(scale=4)
    groups = [code[i : i + 4] for i in range(0, len(code), 4)]
    lines = [" ".join(groups[i : i + 10]) for i in range(0, len(groups), 10)]
    text = "\n".join(lines)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>AssemblyMesh key backup</title></head>
<body style="font-family: sans-serif; max-width: 40em">
<h1>AssemblyMesh key backup</h1>
<p>Assembly: <b>{html.escape(assembly_name)}</b> &middot;
member: <b>{html.escape(member_name)}</b></p>
<p>This sheet, with its passphrase, restores your membership on a new device:
<code>assemblymesh key restore</code> and scan or type the code. Keep it apart from the
passphrase, somewhere safe. Anyone with both can act as you until you are removed.</p>
{qr}
<pre style="font-size: 12pt">{html.escape(text)}</pre>
</body></html>
"""


class MemberKey:
    """The member key as this device holds it: in a plain key file, sealed under a
    passphrase, or not at all (a device paired from one whose member key is plain). Unlocked
    once, it stays in memory for the life of this object only."""

    def __init__(self, path: Path, public: bytes) -> None:
        self.path = path
        self.public = public
        self._key: SigningKey | None = None
        self._text: str | None = None
        if path.exists():
            text = read_private_text(path)
            if is_sealed_text(text):
                self._text = text
            else:
                self._key = key_from_text(text, path)
                self._check(self._key)

    @property
    def here(self) -> bool:
        """Whether this device holds the member key at all (plain or sealed)."""
        return self._key is not None or self._text is not None

    @property
    def sealed(self) -> bool:
        return self._text is not None

    @property
    def unlocked(self) -> bool:
        """Whether the key is open in memory (a plain one always is)."""
        return self._key is not None

    @property
    def sealed_text(self) -> str | None:
        return self._text

    def _check(self, key: SigningKey) -> None:
        if key.public != self.public:
            raise KeyFileError(
                _("key file {path} holds another member's key").format(path=self.path)
            )

    def unlock(self, passphrase: str | None) -> SigningKey:
        """The member key, opened with ``passphrase`` if it is sealed; ``KeyLocked`` if it
        is sealed and no passphrase was given, or not on this device."""
        if self._key is not None:
            return self._key
        if self._text is None:
            raise KeyLocked(
                _(
                    "the member key is not on this device: use the device that "
                    "holds it, or restore it here from a backup ('assemblymesh "
                    "key restore')"
                )
            )
        if passphrase is None:
            raise KeyLocked(_("the member key is sealed: give its passphrase"))
        key = SigningKey(
            open_sealed(self._text, passphrase, _("the member key {path}").format(path=self.path))
        )
        self._check(key)
        self._key = key
        return key

    def protect(self, passphrase: str, cost: KdfCost = FILE_COST) -> None:
        """Seal the member key file under ``passphrase`` (the key must be unlocked)."""
        key = self.unlock(None)
        text = seal(key.seed, passphrase, cost)
        write_private_text(self.path, text)
        self._text = text

    def lock(self) -> None:
        """Forget the unlocked key (a sealed one stays sealed on disk)."""
        if self._text is not None:
            self._key = None
