"""Bundles: changes and version vectors carried on a USB stick (docs/protocol.md §7).

A bundle file is one libsodium *secretstream* (XChaCha20-Poly1305) under a key derived from
the assembly secret, so whoever finds the stick learns its size and nothing else. The
plaintext is cut into chunks of a fixed size; the stream's own nonce counter and its final
tag make a reordered, repeated, altered or missing chunk (truncation at a chunk boundary
included) fail to open. Inside, the plaintext is a sequence of records::

    header (who signed, for which assembly, how many changes)
    batch* (the zlib batch encoding of §5.3, one direction of one "connection")
    end    (the change count again and the device's signature over the header and a
            running hash of every plaintext byte before it)

A vector file has the same container with one ``vector`` record instead of batches: what
the courier should bring back.

Bounded memory both ways. ``write_bundle`` reads each chain a few hundred changes at a time
and merges the chains by timestamp, like the network sender, so it never holds more than
one batch. ``import_bundle`` first reads and verifies the whole file (decryption, framing,
every batch's structure, the signature), copying the verified batches to a temporary spool
file; only a bundle that passed everything is then ingested, batch by batch, from the
spool. A bundle that fails any check raises ``BundleError`` and changes nothing.

The module does no I/O of its own beyond the file objects it is handed (and the spool), and
reads the record through ``BundleSource`` (``Replica`` satisfies it).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import os
import struct
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import msgpack
import nacl.bindings as sodium
import nacl.exceptions

from assemblymesh.crdt.change import HASH_SIZE, MAX_SEQ, Change
from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    KEY_SIZE,
    SIGNATURE_SIZE,
    DeviceCertificate,
    InvalidSignature,
    Invite,
    SigningKey,
    verify,
    verify_invite_proof,
)
from assemblymesh.errors import BundleError, ProtocolError, RejectReason, UsageError
from assemblymesh.i18n import _
from assemblymesh.net.batch import (
    MAX_BATCH_CHANGES,
    MAX_BATCH_RAW_SIZE,
    SIGNATURE_STRIDE,
    TARGET_BATCH_BYTES,
    BatchDecoder,
    BatchEncoder,
)

FORMAT_VERSION = 1
KEY_CONTEXT = b"assemblymesh/bundle-key/v1\x00"
CHUNK_AD = b"assemblymesh/bundle-chunk/v1\x00"
HASH_CONTEXT = b"assemblymesh/bundle-hash/v1\x00"
SIGNATURE_CONTEXT = b"assemblymesh/bundle/v1\x00"

CHUNK_SIZE = 65_536  # plaintext bytes per chunk (the last one holds 1 ..= CHUNK_SIZE)
STREAM_HEADER_SIZE = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
# The key block: the file key wrapped (secretbox) for each root that may read the file.
MAX_READERS = 255
WRAPPED_FOR_ROOT = 0x01
SEALED_FOR_DEVICE = 0x02
WRAP_NONCE_SIZE = 24
WRAPPED_SIZE = WRAP_NONCE_SIZE + 32 + 16  # nonce, file key, Poly1305 tag
SEALED_SIZE = 32 + 32 + 16  # ephemeral X25519 key, file key, Poly1305 tag
CHUNK_OVERHEAD = sodium.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL

KIND_BUNDLE = "bundle"
KIND_VECTOR = "vector"
RECORD_HEADER = b"H"
RECORD_BATCH = b"B"
RECORD_VECTOR = b"V"
RECORD_END = b"E"
_RECORD_PREFIX = struct.Struct(">cI")  # type, u32be(length of the body)

MAX_HEADER_SIZE = 16_384
# A compressed batch inflates to at most 8 MiB; zlib adds at most a few bytes per 16 KiB.
MAX_BATCH_RECORD_SIZE = MAX_BATCH_RAW_SIZE + 65_536
MAX_VECTOR_DEVICES = 200_000
MAX_VECTOR_RECORD_SIZE = 16 * 1024 * 1024
MAX_END_SIZE = 256
# The exporter reads each chain this many changes at a time (memory: devices x this).
READ_AHEAD = 256
_CHANGE_OVERHEAD = 48  # rough per-change bytes on top of the update, to stop filling a batch

VersionVector = Mapping[bytes, tuple[int, bytes]]
Progress = Callable[[int], None]  # told how many more units (changes or bytes) are done
Authorize = Callable[["Signer"], str | None]


def bundle_key(secret: bytes) -> bytes:
    """The secretstream key: keyed BLAKE2b-256 of the bundle context under the secret."""
    if len(secret) != KEY_SIZE:
        raise UsageError("the assembly secret must be 32 bytes")
    return hashlib.blake2b(KEY_CONTEXT, key=secret, digest_size=32).digest()


class BundleSource(Protocol):
    """What export reads (``Replica`` satisfies it)."""

    def vector(self) -> Mapping[bytes, tuple[int, bytes]]: ...

    def missing_for(self, theirs: VersionVector) -> Iterator[Change]: ...


class BundleSink(Protocol):
    """What import writes to (``Replica`` satisfies it): encoded changes in, a report out."""

    def ingest(self, items: Iterable[bytes]) -> Any: ...


@dataclass(frozen=True)
class Identity:
    """The exporting device: the assembly, its secret, the device's key and certificate,
    and (while this member awaits admission) the invite and proof it joined with."""

    assembly: bytes
    secret: bytes
    device_key: SigningKey
    certificate: DeviceCertificate
    invite: tuple[Invite, bytes] | None = None
    # Other roots that may read what this device writes: join keys of joiners who await
    # their secret, so a joiner reached only by a courier can read its inviter's bundle.
    readers: tuple[bytes, ...] = ()
    # Devices the file key is also sealed to: devices that may not hold the current root
    # yet (a joiner whose secret was just sealed to it, every device after a rotation).
    devices: tuple[bytes, ...] = ()

    def keys(self) -> list[bytes]:
        roots = dict.fromkeys((self.secret, *self.readers))
        return [bundle_key(root) for root in list(roots)[:MAX_READERS]]

    def sealed_to(self) -> list[bytes]:
        return list(dict.fromkeys(self.devices))[: MAX_READERS - len(self.keys())]


@dataclass(frozen=True)
class Signer:
    """Who signed a bundle or vector file, as its header proves."""

    certificate: DeviceCertificate
    invite: Invite | None
    created_ms: int

    @property
    def device(self) -> bytes:
        return self.certificate.device

    @property
    def member(self) -> bytes:
        return self.certificate.member


# --- the encrypted container ------------------------------------------------------------


def _key_block(keys: Sequence[bytes], devices: Sequence[bytes], file_key: bytes) -> bytes:
    """``u8(count) || count × entry``: the file key wrapped for each root that may read the
    file (``0x01 || nonce || secretbox``) and sealed to each device that may (``0x02 ||
    sealed box`` for the device's Ed25519 key converted to X25519)."""
    count = len(keys) + len(devices)
    if not keys or count > MAX_READERS:
        raise UsageError(f"a bundle is sealed for 1 to {MAX_READERS} readers, a root first")
    block = bytearray([count])
    for key in keys:
        nonce = os.urandom(WRAP_NONCE_SIZE)
        block += bytes([WRAPPED_FOR_ROOT]) + nonce + sodium.crypto_secretbox(file_key, nonce, key)
    for device in devices:
        curve = sodium.crypto_sign_ed25519_pk_to_curve25519(device)
        block += bytes([SEALED_FOR_DEVICE]) + sodium.crypto_box_seal(file_key, curve)
    return bytes(block)


def _read_key_block(source: IO[bytes]) -> tuple[bytes, list[bytes]]:
    count = source.read(1)
    if not count or not 1 <= count[0] <= MAX_READERS:
        raise BundleError(_("not a bundle: the file is too short or does not start as one"))
    block, entries = bytearray(count), []
    for _entry in range(count[0]):
        kind = source.read(1)
        size = {WRAPPED_FOR_ROOT: WRAPPED_SIZE, SEALED_FOR_DEVICE: SEALED_SIZE}.get(
            kind[0] if kind else -1
        )
        if size is None:
            raise BundleError(_("not a bundle: the file is too short or its key block is damaged"))
        entry = source.read(size)
        if len(entry) < size:
            raise BundleError(_("not a bundle: the file is too short"))
        block += kind + entry
        entries.append(kind + entry)
    return bytes(block), entries


def _unwrap(
    entries: list[bytes], keys: Sequence[bytes], devices: Sequence[SigningKey]
) -> bytes | None:
    """The file key, if one of ``keys`` or ``devices`` opens one of the entries."""
    pairs = []
    for device in devices:
        private = sodium.crypto_sign_ed25519_sk_to_curve25519(device.seed + device.public)
        pairs.append((sodium.crypto_scalarmult_base(private), private))
    for entry in entries:
        kind, body = entry[0], entry[1:]
        try:
            if kind == WRAPPED_FOR_ROOT:
                for key in keys:
                    with contextlib.suppress(nacl.exceptions.CryptoError):
                        opened: bytes = sodium.crypto_secretbox_open(
                            body[WRAP_NONCE_SIZE:], body[:WRAP_NONCE_SIZE], key
                        )
                        return opened
            for public, private in pairs if kind == SEALED_FOR_DEVICE else ():
                with contextlib.suppress(nacl.exceptions.CryptoError):
                    opened = sodium.crypto_box_seal_open(body, public, private)
                    return opened
        except (ValueError, TypeError):
            continue
    return None


class _SealedWriter:
    """Plaintext in, secretstream chunks out. A chunk is written only once more plaintext
    follows it, so the last chunk (tagged final) always holds 1 ..= CHUNK_SIZE bytes.
    ``keys`` are the bundle keys of the roots that may read the file: a fresh file key is
    wrapped for each, in the key block before the stream header."""

    def __init__(
        self, out: IO[bytes], keys: Sequence[bytes], devices: Sequence[bytes] = ()
    ) -> None:
        self._out = out
        file_key = os.urandom(KEY_SIZE)
        block = _key_block(keys, devices, file_key)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        # The signed prefix: the key block, then the stream header.
        self.stream_header: bytes = block + sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, file_key
        )
        out.write(self.stream_header)
        self._buffer = bytearray()
        self.size = len(self.stream_header)

    def write(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if len(buffer) > CHUNK_SIZE:
            whole = (len(buffer) - 1) // CHUNK_SIZE * CHUNK_SIZE
            for at in range(0, whole, CHUNK_SIZE):
                self._push(bytes(buffer[at : at + CHUNK_SIZE]), _TAG_MESSAGE)
            del buffer[:whole]

    def _push(self, chunk: bytes, tag: int) -> None:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, chunk, CHUNK_AD, tag
        )
        self._out.write(sealed)
        self.size += len(sealed)

    def close(self) -> None:
        if not self._buffer:
            raise UsageError("a bundle holds at least one record")
        self._push(bytes(self._buffer), _TAG_FINAL)
        self._buffer.clear()


@dataclass(frozen=True)
class Openers:
    """What a reader tries on the key block: bundle keys of the roots it accepts, and its
    device key (for the file key sealed to the device)."""

    roots: tuple[bytes, ...]
    devices: tuple[SigningKey, ...] = ()


Secrets = bytes | Sequence[bytes | SigningKey]


def bundle_keys(secrets: Secrets) -> Openers:
    """The openers of a reader: one bundle key per root secret it accepts (the current
    epoch's first, then earlier epochs' within their grace period, join keys), and the
    device keys among ``secrets``."""
    if isinstance(secrets, bytes):
        secrets = (secrets,)
    roots = tuple(bundle_key(s) for s in secrets if isinstance(s, bytes))
    devices = tuple(s for s in secrets if isinstance(s, SigningKey))
    if not roots and not devices:
        raise UsageError("a reader needs at least one secret")
    return Openers(roots, devices)


class _SealedReader:
    """Secretstream chunks in, plaintext out; every defect is a ``BundleError``. The file
    key is unwrapped from the key block with the first of ``keys`` that opens a copy."""

    def __init__(self, source: IO[bytes], keys: Openers, progress: Progress | None = None) -> None:
        self._in = source
        self._progress = progress
        block, entries = _read_key_block(source)
        header = source.read(STREAM_HEADER_SIZE)
        if len(header) < STREAM_HEADER_SIZE:
            raise BundleError(_("not a bundle: the file is too short"))
        self.stream_header = block + header
        self._tick(len(self.stream_header))
        file_key = _unwrap(entries, keys.roots, keys.devices)
        if file_key is None or len(file_key) != KEY_SIZE:
            raise BundleError(
                _(
                    "bundle does not open: made for another assembly or an "
                    "earlier epoch of its secret, or altered at its start"
                )
            )
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, file_key)
        self._buffer = b""
        self._pos = 0
        self._chunks = 0
        self._final = False

    def _tick(self, n: int) -> None:
        if self._progress is not None:
            self._progress(n)

    def _next_chunk(self) -> None:
        if self._final:
            raise BundleError(_("bundle is malformed: a record runs past the final chunk"))
        sealed = self._in.read(CHUNK_SIZE + CHUNK_OVERHEAD)
        self._tick(len(sealed))
        if not sealed:
            raise BundleError(
                _(
                    "bundle is truncated: it ends after chunk {chunks} without its final chunk"
                ).format(chunks=self._chunks)
            )
        try:
            chunk, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, sealed, CHUNK_AD
            )
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            if self._chunks == 0:
                raise BundleError(
                    _(
                        "bundle does not open: made for another assembly, or altered "
                        "or cut in its first chunk"
                    )
                ) from exc
            raise BundleError(
                _(
                    "bundle is damaged: chunk {chunks} does not authenticate "
                    "(altered, cut, reordered or repeated)"
                ).format(chunks=self._chunks)
            ) from exc
        self._chunks += 1
        if tag == _TAG_FINAL:
            self._final = True
            if self._in.read(1):
                raise BundleError(_("bundle is damaged: bytes follow its final chunk"))
        elif tag != _TAG_MESSAGE or len(sealed) != CHUNK_SIZE + CHUNK_OVERHEAD:
            raise BundleError(
                _("bundle is damaged: chunk {chunk} is malformed").format(chunk=self._chunks - 1)
            )
        self._buffer = chunk
        self._pos = 0

    def read(self, n: int) -> bytes:
        """Exactly ``n`` plaintext bytes (across chunks)."""
        parts: list[bytes] = []
        while n:
            if self._pos == len(self._buffer):
                self._next_chunk()
            take = self._buffer[self._pos : self._pos + n]
            self._pos += len(take)
            n -= len(take)
            parts.append(take)
        return b"".join(parts)

    def at_end(self) -> bool:
        """Whether the plaintext ended exactly here (the final chunk is consumed)."""
        if self._pos < len(self._buffer):
            return False
        if not self._final:
            self._next_chunk()
            return self.at_end()
        return True


# --- records --------------------------------------------------------------------------


class _RecordWriter:
    def __init__(self, sealed: _SealedWriter) -> None:
        self._sealed = sealed
        self._hash = hashlib.blake2b(HASH_CONTEXT, digest_size=64)
        self.plaintext = 0

    def record(self, kind: bytes, body: bytes) -> None:
        data = _RECORD_PREFIX.pack(kind, len(body)) + body
        self._hash.update(data)
        self._sealed.write(data)
        self.plaintext += len(data)

    def end(self, key: SigningKey, changes: int) -> None:
        signature = key.sign(SIGNATURE_CONTEXT, _signed(self._sealed.stream_header, self._hash))
        body: bytes = msgpack.packb([changes, signature])
        self._sealed.write(_RECORD_PREFIX.pack(RECORD_END, len(body)) + body)
        self._sealed.close()


def _signed(stream_header: bytes, running: Any) -> bytes:
    """What the device signs: the stream header (this very file) and the running hash of
    every record before the end record (the header record first)."""
    digest: bytes = running.copy().digest()
    return stream_header + digest


_LIMITS = {
    RECORD_HEADER: MAX_HEADER_SIZE,
    RECORD_BATCH: MAX_BATCH_RECORD_SIZE,
    RECORD_VECTOR: MAX_VECTOR_RECORD_SIZE,
    RECORD_END: MAX_END_SIZE,
}


class _RecordReader:
    def __init__(self, sealed: _SealedReader) -> None:
        self._sealed = sealed
        self._hash = hashlib.blake2b(HASH_CONTEXT, digest_size=64)

    def next(self) -> tuple[bytes, bytes]:
        prefix = self._sealed.read(_RECORD_PREFIX.size)
        kind, length = _RECORD_PREFIX.unpack(prefix)
        limit = _LIMITS.get(kind)
        if limit is None:
            raise BundleError(
                _("bundle is malformed: unknown record type {kind!r}").format(kind=kind)
            )
        if length > limit:
            raise BundleError(
                _("bundle is malformed: a {kind} record of {length} bytes").format(
                    kind=kind.decode(), length=length
                )
            )
        body = self._sealed.read(length)
        if kind != RECORD_END:
            self._hash.update(prefix)
            self._hash.update(body)
        return kind, body

    def check_end(self, body: bytes, signer: Signer) -> int:
        """Verify the end record; return the change count it states."""
        try:
            changes, signature = msgpack.unpackb(body, raw=False)
        except Exception as exc:  # msgpack raises many unrelated types
            raise BundleError(_("bundle is malformed: unreadable end record")) from exc
        if type(changes) is not int or not 0 <= changes <= MAX_SEQ:
            raise BundleError(_("bundle is malformed: bad change count in the end record"))
        if type(signature) is not bytes or len(signature) != SIGNATURE_SIZE:
            raise BundleError(_("bundle is malformed: bad signature field"))
        try:
            verify(
                signer.device,
                SIGNATURE_CONTEXT,
                _signed(self._sealed.stream_header, self._hash),
                signature,
            )
        except InvalidSignature as exc:
            raise BundleError(_("bundle signature does not verify: the file was altered")) from exc
        if not self._sealed.at_end():
            raise BundleError(_("bundle is malformed: data after the end record"))
        return changes


def _header(identity: Identity, kind: str, created_ms: int, changes: int | None) -> bytes:
    fields: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "kind": kind,
        "assembly": identity.assembly,
        "cert": identity.certificate.encode(),
        "created_ms": created_ms,
    }
    if changes is not None:
        fields["changes"] = changes
    if identity.invite is not None:
        fields["invite"] = identity.invite[0].encode()
        fields["invite_proof"] = identity.invite[1]
    packed: bytes = msgpack.packb(fields)
    return packed


def _read_header(
    records: _RecordReader, assembly: bytes, kind: str, authorize: Authorize | None
) -> tuple[Signer, dict[str, Any]]:
    record, body = records.next()
    if record != RECORD_HEADER:
        raise BundleError(_("bundle is malformed: it does not start with a header"))
    fields = _header_fields(body, kind)
    _check_header(fields, assembly, kind)
    cert = _header_certificate(fields["cert"], assembly)
    signer = Signer(cert, _header_invite(fields, cert, assembly), fields["created_ms"])
    if authorize is not None:
        problem = authorize(signer)
        if problem is not None:
            raise BundleError(_("bundle signer is not accepted: {problem}").format(problem=problem))
    return signer, fields


def _header_fields(body: bytes, kind: str) -> dict[str, Any]:
    try:
        fields = msgpack.unpackb(body, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises many unrelated types
        raise BundleError(_("bundle is malformed: unreadable header")) from exc
    if type(fields) is not dict:
        raise BundleError(_("bundle is malformed: the header is not a map"))
    if fields.get("v") != FORMAT_VERSION or type(fields.get("v")) is not int:
        raise BundleError(
            _("bundle format version {version!r} is not supported").format(version=fields.get("v"))
        )
    found = fields.get("kind")
    if found != kind:
        names = {KIND_BUNDLE: _("a bundle of changes"), KIND_VECTOR: _("a version vector file")}
        unknown = _("an unknown kind of file")
        what = names.get(found, unknown) if type(found) is str else unknown
        raise BundleError(
            _("this file is {what}, not {expected}").format(what=what, expected=names[kind])
        )
    return fields


def _check_header(fields: dict[str, Any], assembly: bytes, kind: str) -> None:
    header_assembly, created = fields.get("assembly"), fields.get("created_ms")
    if type(header_assembly) is not bytes or len(header_assembly) != ASSEMBLY_ID_SIZE:
        raise BundleError(_("bundle is malformed: bad assembly id"))
    if header_assembly != assembly:
        raise BundleError(_("bundle is for another assembly"))
    if type(created) is not int or created < 0:
        raise BundleError(_("bundle is malformed: bad creation time"))
    if type(fields.get("cert")) is not bytes:
        raise BundleError(_("bundle is malformed: no device certificate"))
    announced = fields.get("changes")
    if kind == KIND_BUNDLE and (type(announced) is not int or not 0 <= announced <= MAX_SEQ):
        raise BundleError(_("bundle is malformed: bad change count in the header"))


def _header_certificate(cert_bytes: bytes, assembly: bytes) -> DeviceCertificate:
    try:
        cert = DeviceCertificate.decode(cert_bytes)
        cert.verify()
    except InvalidSignature as exc:
        raise BundleError(_("bundle's device certificate is malformed or forged")) from exc
    if cert.assembly != assembly:
        raise BundleError(_("bundle was signed by a device certified for another assembly"))
    return cert


def _header_invite(
    fields: dict[str, Any], cert: DeviceCertificate, assembly: bytes
) -> Invite | None:
    if "invite" not in fields and "invite_proof" not in fields:
        return None
    invite_bytes, proof = fields.get("invite"), fields.get("invite_proof")
    if type(invite_bytes) is not bytes or type(proof) is not bytes:
        raise BundleError(_("bundle is malformed: bad invite fields"))
    try:
        invite = Invite.decode(invite_bytes)
        verify_invite_proof(invite, cert.member, proof)
    except InvalidSignature as exc:
        raise BundleError(_("bundle's invite is malformed or forged")) from exc
    if invite.assembly != assembly:
        raise BundleError(_("bundle's invite is for another assembly"))
    return invite


# --- vectors ----------------------------------------------------------------------------


def write_vector(out: IO[bytes], identity: Identity, vector: VersionVector, now_ms: int) -> int:
    """Write a signed, encrypted version vector file; return its size in bytes."""
    sealed = _SealedWriter(out, identity.keys(), identity.sealed_to())
    records = _RecordWriter(sealed)
    records.record(RECORD_HEADER, _header(identity, KIND_VECTOR, now_ms, None))
    heads = [[device, seq, head] for device, (seq, head) in sorted(vector.items()) if seq > 0]
    records.record(RECORD_VECTOR, msgpack.packb(heads))
    records.end(identity.device_key, 0)
    return sealed.size


def read_vector(
    source: IO[bytes],
    assembly: bytes,
    secret: Secrets,
    authorize: Authorize | None = None,
) -> tuple[Signer, dict[bytes, tuple[int, bytes]]]:
    """Open and verify a vector file; raise ``BundleError`` for anything wrong."""
    records = _RecordReader(_SealedReader(source, bundle_keys(secret)))
    signer, _invite = _read_header(records, assembly, KIND_VECTOR, authorize)
    kind, body = records.next()
    if kind != RECORD_VECTOR:
        raise BundleError(_("vector file is malformed: no vector record"))
    try:
        heads = msgpack.unpackb(body, raw=False, max_array_len=MAX_VECTOR_DEVICES)
    except Exception as exc:  # msgpack raises many unrelated types
        raise BundleError(_("vector file is malformed: unreadable vector")) from exc
    vector = _vector_entries(heads)
    kind, body = records.next()
    if kind != RECORD_END:
        raise BundleError(_("vector file is malformed: no end record"))
    if records.check_end(body, signer) != 0:
        raise BundleError(_("vector file is malformed: its end record counts changes"))
    return signer, vector


def _vector_entries(heads: object) -> dict[bytes, tuple[int, bytes]]:
    if type(heads) is not list:
        raise BundleError(_("vector file is malformed: the vector is not an array"))
    vector: dict[bytes, tuple[int, bytes]] = {}
    for entry in heads:
        if not _vector_entry_ok(entry) or entry[0] in vector:
            raise BundleError(_("vector file is malformed: a bad entry"))
        vector[entry[0]] = (entry[1], entry[2])
    return vector


def _vector_entry_ok(entry: Any) -> bool:
    """``[device: bin32, seq: 1..MAX_SEQ, head hash: bin32]``"""
    return (
        type(entry) is list
        and len(entry) == 3
        and type(entry[0]) is bytes
        and len(entry[0]) == KEY_SIZE
        and type(entry[1]) is int
        and 1 <= entry[1] <= MAX_SEQ
        and type(entry[2]) is bytes
        and len(entry[2]) == HASH_SIZE
    )


# --- export -----------------------------------------------------------------------------


class _OneChain(Mapping[bytes, tuple[int, bytes]]):
    """A vector that holds every chain except ``device``, which it holds up to ``after``:
    ``missing_for`` of it is exactly that device's changes after ``after``."""

    def __init__(self, device: bytes, after: int) -> None:
        self._device = device
        self._after = after

    def __getitem__(self, device: bytes) -> tuple[int, bytes]:
        return (self._after, b"") if device == self._device else (MAX_SEQ, b"")

    def __iter__(self) -> Iterator[bytes]:
        return iter((self._device,))

    def __len__(self) -> int:
        return 1


@dataclass
class _Chain:
    device: bytes
    after: int  # read up to this seq
    head: int  # the snapshot head: never read past it
    buffer: deque[Change] = field(default_factory=deque)
    key: int = 0


def _read_chain(source: BundleSource, chain: _Chain) -> None:
    limit = min(READ_AHEAD, chain.head - chain.after)
    if limit <= 0:
        return
    changes = source.missing_for(_OneChain(chain.device, chain.after))
    try:
        for change in itertools.islice(changes, limit):
            if change.device != chain.device or change.seq != chain.after + 1:
                raise UsageError(_("the record changed its chains while being exported"))
            chain.buffer.append(change)
            chain.after = change.seq
    finally:
        close = getattr(changes, "close", None)
        if close is not None:
            close()


def plan_count(mine: VersionVector, theirs: VersionVector) -> int:
    """How many changes a holder of ``theirs`` lacks from a holder of ``mine``."""
    return sum(max(0, seq - theirs.get(d, (0, b""))[0]) for d, (seq, _) in mine.items())


def _batches(
    source: BundleSource,
    mine: VersionVector,
    theirs: VersionVector,
    max_changes: int = MAX_BATCH_CHANGES,
    target_bytes: int = TARGET_BATCH_BYTES,
) -> Iterator[list[Change]]:
    """What ``theirs`` lacks, as batches in roughly timestamp order across chains (as the
    network sender does: a receiver given one writer's whole history before the others'
    holds most CRDT items pending), each chain in order. A run cut at a batch boundary ends
    on a signature where it can, so the receiver need not buffer it."""
    heap: list[tuple[int, bytes]] = []
    chains: dict[bytes, _Chain] = {}
    for device, (seq, _hash) in sorted(mine.items()):
        after = theirs.get(device, (0, b""))[0]
        if seq > after:
            chain = chains[device] = _Chain(device, after, seq)
            _read_chain(source, chain)
            if chain.buffer:
                chain.key = chain.buffer[0].ts
                heap.append((chain.key, device))
    heapq.heapify(heap)
    while heap:
        picked = _pick(source, chains, heap, max_changes, target_bytes)
        batch: list[Change] = []
        for device, run in picked.items():
            heap = _end_on_signature(chains[device], run, heap)
            batch.extend(run)
        yield batch


def _pick(
    source: BundleSource,
    chains: dict[bytes, _Chain],
    heap: list[tuple[int, bytes]],
    max_changes: int,
    target_bytes: int,
) -> dict[bytes, list[Change]]:
    """The earliest changes across chains, up to a batch's size."""
    picked: dict[bytes, list[Change]] = {}
    count = size = 0
    while heap and count < max_changes and size < target_bytes:
        key, device = heapq.heappop(heap)
        chain = chains[device]
        change = chain.buffer.popleft()
        picked.setdefault(device, []).append(change)
        count += 1
        size += len(change.update) + _CHANGE_OVERHEAD
        if not chain.buffer:
            _read_chain(source, chain)
        if chain.buffer:
            chain.key = max(key, chain.buffer[0].ts)
            heapq.heappush(heap, (chain.key, device))
    return picked


def _end_on_signature(
    chain: _Chain, run: list[Change], heap: list[tuple[int, bytes]]
) -> list[tuple[int, bytes]]:
    """A run that goes on in a later batch ends on a signature where it can: the changes
    after it go back to the chain's buffer. Returns the heap."""
    if not chain.buffer or run[-1].signature:
        return heap
    for k in range(len(run) - 1, -1, -1):
        if run[k].signature:
            chain.buffer.extendleft(reversed(run[k + 1 :]))
            heap = [(key, d) for key, d in heap if d != chain.device]
            chain.key = min(chain.key, run[k + 1].ts)
            heap.append((chain.key, chain.device))
            heapq.heapify(heap)
            del run[k + 1 :]
            break
    return heap


@dataclass(frozen=True)
class ExportSummary:
    changes: int
    batches: int
    batch_bytes: int  # the compressed batches alone, as a network sync would carry them
    size: int  # the whole file


def write_bundle(
    out: IO[bytes],
    identity: Identity,
    source: BundleSource,
    now_ms: int,
    theirs: VersionVector | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write what a holder of ``theirs`` lacks (everything, if None) as a bundle."""
    mine = dict(source.vector())
    theirs = {} if theirs is None else theirs
    total = plan_count(mine, theirs)
    sealed = _SealedWriter(out, identity.keys(), identity.sealed_to())
    records = _RecordWriter(sealed)
    records.record(RECORD_HEADER, _header(identity, KIND_BUNDLE, now_ms, total))
    encoder = BatchEncoder(stride=SIGNATURE_STRIDE)
    written = batches = batch_bytes = 0
    for batch in _batches(source, mine, theirs):
        data = encoder.encode(batch)
        records.record(RECORD_BATCH, data)
        written += len(batch)
        batches += 1
        batch_bytes += len(data)
        if progress is not None:
            progress(len(batch))
    if written != total:
        raise UsageError(_("the record changed while being exported"))
    records.end(identity.device_key, written)
    return ExportSummary(written, batches, batch_bytes, sealed.size)


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle that passed every check, its batches copied to ``spool``."""

    signer: Signer
    changes: int
    batches: int
    spool: IO[bytes]


def verify_bundle(
    source: IO[bytes],
    assembly: bytes,
    secret: Secrets,
    spool: IO[bytes],
    authorize: Authorize | None = None,
    progress: Progress | None = None,
) -> VerifiedBundle:
    """Read and check a whole bundle, copying its batches to ``spool`` (a binary file the
    caller owns). Raises ``BundleError`` at the first defect; memory stays at one batch."""
    records = _RecordReader(_SealedReader(source, bundle_keys(secret), progress))
    signer, fields = _read_header(records, assembly, KIND_BUNDLE, authorize)
    announced = fields["changes"]
    decoder = BatchDecoder(assembly)
    count = batches = 0
    while True:
        kind, body = records.next()
        if kind == RECORD_END:
            break
        if kind != RECORD_BATCH:
            raise BundleError(
                _("bundle is malformed: unexpected {kind} record").format(kind=kind.decode())
            )
        try:
            changes = decoder.decode(body)
        except ProtocolError as exc:
            raise BundleError(
                _("bundle is malformed: batch {batches}: {exc}").format(batches=batches, exc=exc)
            ) from exc
        count += len(changes)
        batches += 1
        # The rebuilt changes, not the batch: ingest then need not decode the batch again.
        spooled: bytes = _spool_pack([c.data for c in changes])
        spool.write(_RECORD_PREFIX.pack(RECORD_BATCH, len(spooled)) + spooled)
        del changes
    stated = records.check_end(body, signer)
    if not stated == announced == count:
        raise BundleError(
            _(
                "bundle is malformed: it announces {announced} changes, "
                "holds {count}, and its end says {stated}"
            ).format(announced=announced, count=count, stated=stated)
        )
    spool.flush()
    spool.seek(0)
    return VerifiedBundle(signer, count, batches, spool)


_spool_pack = msgpack.Packer().pack


def _spooled_batches(spool: IO[bytes]) -> Iterator[list[bytes]]:
    """The encoded changes of each verified batch, from the spool this module wrote."""
    while prefix := spool.read(_RECORD_PREFIX.size):
        _, length = _RECORD_PREFIX.unpack(prefix)
        changes: list[bytes] = msgpack.unpackb(
            spool.read(length), raw=False, max_bin_len=MAX_BATCH_RAW_SIZE
        )
        yield changes


@dataclass
class ImportSummary:
    changes: int = 0  # in the bundle
    applied: int = 0
    duplicates: int = 0
    buffered: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count
    details: list[str] = field(default_factory=list)  # the first few refusals, one line each
    signer: Signer | None = None

    @property
    def refused(self) -> int:
        return sum(self.rejected.values())


MAX_DETAILS = 5


def ingest_verified(
    bundle: VerifiedBundle,
    sink: BundleSink,
    progress: Progress | None = None,
) -> ImportSummary:
    """Ingest a verified bundle's batches, one slice at a time, with the network's rules."""
    summary = ImportSummary(changes=bundle.changes, signer=bundle.signer)
    # One ingest per batch: the exporter cut its runs on signatures, so each batch ingests
    # without buffering, and one store transaction per batch costs less than per slice.
    for piece in _spooled_batches(bundle.spool):
        result = sink.ingest(piece)
        summary.applied += len(result.applied)
        summary.duplicates += result.duplicates
        summary.buffered += result.buffered
        for rejection in result.rejected:
            reason = str(RejectReason(rejection.reason))
            summary.rejected[reason] = summary.rejected.get(reason, 0) + 1
            if len(summary.details) < MAX_DETAILS:
                where = "" if rejection.seq is None else f" (seq {rejection.seq})"
                summary.details.append(f"{reason}: {rejection.detail}{where}")
        if progress is not None:
            progress(len(piece))
    return summary


def import_bundle(
    source: IO[bytes],
    assembly: bytes,
    secret: Secrets,
    sink: BundleSink,
    authorize: Authorize | None = None,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Verify the whole bundle (into a temporary spool), then ingest it. A bundle that fails
    any check raises ``BundleError`` before anything is ingested."""
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        verified = verify_bundle(source, assembly, secret, spool, authorize)
        return ingest_verified(verified, sink, progress)


__all__ = [
    "BundleSink",
    "BundleSource",
    "ExportSummary",
    "Identity",
    "ImportSummary",
    "Signer",
    "VerifiedBundle",
    "bundle_key",
    "import_bundle",
    "ingest_verified",
    "plan_count",
    "read_vector",
    "verify_bundle",
    "write_bundle",
    "write_vector",
]
