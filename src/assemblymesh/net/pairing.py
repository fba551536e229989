"""Pairing: a member's certified device hands a new device of theirs its certificate.

The certified device (the *pairer*) listens once and shows a short *pairing code*; the new
device (the *joiner*) dials it with the code and gets, inside one Noise session, what it
needs to be that member's device: its certificate, the assembly secret, the member key as
the pairer holds it sealed (or nothing, if the pairer's is unsealed: it then stays off the
new device), and the record as a bundle. ``docs/protocol.md`` (pairing) is the spec.

```
code    = "am-pair-1:" base32(version=1 (1) | secret (10) | hints | check (2))
hint    = IPv4 (4) | port (2)            several, one after the other
check   = BLAKE2b-16("am-pair-1:" || the rest, person "am-pair-code")
psk     = BLAKE2b-256(secret, person "am-pair-psk")
session = Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b, prologue "assemblymesh/pair/v1"
then    joiner -> {device, sig: device key over PAIR_CONTEXT || handshake hash}
        pairer -> {assembly, cert, secret, member (sealed text or nil), name}
        pairer -> record chunks (bytes), then one empty chunk
```

Without the code nobody completes the handshake (the psk); the code is for one device and
the pairer stops listening after it (or after its timeout).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from assemblymesh.crdt.identity import KEY_SIZE, SIGNATURE_SIZE, SigningKey, verify
from assemblymesh.errors import HandshakeError, InvalidSignature, ProtocolError, UsageError
from assemblymesh.i18n import _
from assemblymesh.net.framing import FrameDecoder, Session, encode_frame
from assemblymesh.net.noise import HandshakeState

__all__ = [
    "PAIR_CONTEXT",
    "PAIR_PREFIX",
    "Grant",
    "PairCode",
    "join_pairing",
    "offer_pairing",
]

PAIR_PREFIX = "am-pair-1:"
PAIR_CONTEXT = b"assemblymesh/pair-device/v1\x00"
PROTOCOL = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b"
PROLOGUE = b"assemblymesh/pair/v1"
SECRET_SIZE = 10  # 80 bits: unguessable for the minutes a code is shown
_CHECK = 2
_VERSION = 1
CHUNK = 1 << 20  # record bytes per message
MAX_RECORD = 1 << 32


@dataclass(frozen=True)
class PairCode:
    """The pairing secret and where the pairer listens."""

    secret: bytes
    hints: tuple[tuple[str, int], ...]

    @classmethod
    def fresh(cls, hints: Sequence[tuple[str, int]], entropy: Callable[[int], bytes]) -> PairCode:
        return cls(entropy(SECRET_SIZE), tuple(hints))

    def encode(self) -> str:
        packed = b"".join(
            ipaddress.IPv4Address(host).packed + port.to_bytes(2, "big")
            for host, port in self.hints
        )
        body = bytes([_VERSION]) + self.secret + packed
        text = base64.b32encode(body + _check(body)).decode().rstrip("=").lower()
        return PAIR_PREFIX + text

    @classmethod
    def decode(cls, code: str) -> PairCode:
        text = "".join(code.split()).lower()
        if not text.startswith(PAIR_PREFIX):
            raise UsageError(
                _("not a pairing code (it starts {pair_prefix})").format(pair_prefix=PAIR_PREFIX)
            )
        b32 = text[len(PAIR_PREFIX) :].upper()
        damaged = UsageError(_("the pairing code is damaged (was it copied exactly?)"))
        try:
            raw = base64.b32decode(b32 + "=" * (-len(b32) % 8))
        except ValueError as exc:
            raise damaged from exc
        body, check = raw[:-_CHECK], raw[-_CHECK:]
        if len(body) < 1 + SECRET_SIZE or _check(body) != check or body[0] != _VERSION:
            raise damaged
        rest = body[1 + SECRET_SIZE :]
        if len(rest) % 6:
            raise damaged
        hints = tuple(
            (str(ipaddress.IPv4Address(rest[i : i + 4])), int.from_bytes(rest[i + 4 : i + 6]))
            for i in range(0, len(rest), 6)
        )
        return cls(body[1 : 1 + SECRET_SIZE], hints)

    @property
    def psk(self) -> bytes:
        return hashlib.blake2b(self.secret, digest_size=32, person=b"am-pair-psk").digest()


def _check(body: bytes) -> bytes:
    return hashlib.blake2b(
        PAIR_PREFIX.encode() + body, digest_size=_CHECK, person=b"am-pair-code"
    ).digest()


@dataclass(frozen=True)
class Grant:
    """What the new device receives."""

    assembly: bytes
    certificate: bytes
    secret: bytes
    member: str | None  # the sealed member key file, or None: it stays off the new device
    name: str
    record: bytes = b""


Issue = Callable[[bytes], Grant]  # new device key -> its grant, with the record


class _Channel:
    """One pairing connection: the Noise handshake, then whole messages."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.frames = FrameDecoder()
        self.session: Session | None = None
        self.inbox: list[bytes] = []

    async def _read(self) -> bytes:
        data = await asyncio.wait_for(self.reader.read(1 << 16), self.timeout)
        if not data:
            raise ProtocolError(_("the other device closed the pairing connection"))
        return data

    async def frame(self) -> bytes:
        while True:
            frame = self.frames.next_frame()
            if frame is not None:
                return frame
            self.frames.push(await self._read())

    async def handshake(self, initiator: bool, psk: bytes) -> None:
        hs = HandshakeState(PROTOCOL, initiator=initiator, prologue=PROLOGUE, psks=[psk])
        if initiator:
            self.writer.write(encode_frame(hs.write_message(b"")))
            hs.read_message(await self.frame())
        else:
            hs.read_message(await self.frame())
            self.writer.write(encode_frame(hs.write_message(b"")))
        await self.writer.drain()
        out, back = hs.split()
        send, receive = (out, back) if initiator else (back, out)
        self.session = Session(send, receive, hs.handshake_hash, max_message_size=2 * CHUNK)
        leftover = self.frames.take_buffer()
        if leftover:
            self.inbox.extend(self.session.feed(leftover))

    async def send(self, message: bytes) -> None:
        assert self.session is not None
        self.writer.write(self.session.encrypt_message(message))
        await self.writer.drain()

    async def receive(self) -> bytes:
        assert self.session is not None
        while not self.inbox:
            self.inbox.extend(self.session.feed(await self._read()))
        return self.inbox.pop(0)


def _fields(message: bytes, keys: frozenset[str]) -> dict[str, Any]:
    try:
        fields = msgpack.unpackb(message, raw=False)
    except Exception as exc:  # msgpack raises several unrelated types on bad input
        raise ProtocolError(_("malformed pairing message")) from exc
    if not isinstance(fields, dict) or set(fields) != keys:
        raise ProtocolError(_("malformed pairing message"))
    return fields


_REQUEST = frozenset({"device", "sig"})
_GRANT = frozenset({"assembly", "cert", "secret", "member", "name"})


async def _serve_one(channel: _Channel, code: PairCode, issue: Issue) -> bytes:
    await channel.handshake(False, code.psk)
    assert channel.session is not None
    request = _fields(await channel.receive(), _REQUEST)
    device, sig = request["device"], request["sig"]
    if not (isinstance(device, bytes) and len(device) == KEY_SIZE):
        raise ProtocolError(_("malformed device key"))
    if not (isinstance(sig, bytes) and len(sig) == SIGNATURE_SIZE):
        raise ProtocolError(_("malformed device proof"))
    try:
        verify(device, PAIR_CONTEXT, channel.session.handshake_hash, sig)
    except InvalidSignature as exc:
        raise HandshakeError(_("the new device did not prove its key")) from exc
    grant = issue(device)
    await channel.send(
        msgpack.packb(
            {
                "assembly": grant.assembly,
                "cert": grant.certificate,
                "secret": grant.secret,
                "member": grant.member,
                "name": grant.name,
            }
        )
    )
    for at in range(0, len(grant.record), CHUNK):
        await channel.send(grant.record[at : at + CHUNK])
    await channel.send(b"")
    return device


async def offer_pairing(
    listen: tuple[str, int],
    code_for: Callable[[int], PairCode],
    issue: Issue,
    timeout: float,
    shown: Callable[[PairCode], None] = lambda code: None,
) -> bytes:
    """Listen on ``listen`` until one device pairs with the code (``code_for(port)``, told
    to ``shown``) or ``timeout`` seconds pass; returns the new device's key. A connection
    that fails (a wrong code) is dropped and the pairer goes on waiting."""
    done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    code: PairCode | None = None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert code is not None
        try:
            if not done.done():
                device = await _serve_one(_Channel(reader, writer, timeout), code, issue)
                if not done.done():
                    done.set_result(device)
        except (HandshakeError, ProtocolError, OSError, TimeoutError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, listen[0], listen[1])
    try:
        port = server.sockets[0].getsockname()[1]
        code = code_for(port)
        shown(code)
        return await asyncio.wait_for(done, timeout)
    except TimeoutError as exc:
        raise UsageError(_("no device paired before the code expired")) from exc
    finally:
        server.close()
        await server.wait_closed()


async def _join_one(
    host: str, port: int, code: PairCode, device_key: SigningKey, timeout: float
) -> Grant:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        channel = _Channel(reader, writer, timeout)
        await channel.handshake(True, code.psk)
        assert channel.session is not None
        sig = device_key.sign(PAIR_CONTEXT, channel.session.handshake_hash)
        await channel.send(msgpack.packb({"device": device_key.public, "sig": sig}))
        g = _fields(await channel.receive(), _GRANT)
        record = bytearray()
        while chunk := await channel.receive():
            record += chunk
            if len(record) > MAX_RECORD:
                raise ProtocolError(_("the record sent while pairing is too large"))
        if not all(isinstance(g[k], bytes) for k in ("assembly", "cert", "secret")):
            raise ProtocolError(_("malformed pairing grant"))
        if not (g["member"] is None or isinstance(g["member"], str)) or not isinstance(
            g["name"], str
        ):
            raise ProtocolError(_("malformed pairing grant"))
        return Grant(g["assembly"], g["cert"], g["secret"], g["member"], g["name"], bytes(record))
    finally:
        writer.close()


async def join_pairing(code: PairCode, device_key: SigningKey, timeout: float) -> Grant:
    """Dial the pairer at each of the code's addresses in turn; the first that pairs wins."""
    problems: list[str] = []
    for host, port in code.hints:
        try:
            return await _join_one(host, port, code, device_key, timeout)
        except HandshakeError:
            problems.append(f"{host}:{port}: the code does not match (mistyped, or expired?)")
        except (ProtocolError, OSError, TimeoutError) as exc:
            problems.append(f"{host}:{port}: {exc or type(exc).__name__}")
    raise UsageError("could not pair: " + ("; ".join(problems) or "the code has no address"))


def random_entropy(n: int) -> bytes:
    return os.urandom(n)
