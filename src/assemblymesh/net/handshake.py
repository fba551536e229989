"""The AssemblyMesh handshake: Noise XXpsk0, then device identity proofs (sans-I/O).

The normative description is ``docs/protocol.md`` §3. In short:

1. ``Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b`` with a psk derived from a *root* (§3.9): the
   initiator's dial root (the assembly secret of the newest epoch it holds, or a joiner's
   join key), and at the responder the first of its accepted roots (the current epoch,
   earlier ones within their grace period, join keys of outstanding invites) that opens
   message 1. The prologue names the protocol version and the assembly. The psk is mixed
   before the first payload, so a peer without an accepted root fails on message 1 and
   learns nothing. Each proof names the sender's epoch, so a node behind is told to upgrade.
2. Each side's first transport message is an identity proof: its device certificate and an
   Ed25519 signature, by the device key, over the Noise handshake hash. A joiner adds its
   invite and invite proof. The responder checks the initiator's proof before revealing its
   own, so an unauthorised device learns no more than that the responder knows the secret.
3. Whether a proven device may sync (on the roster, not revoked, invite still unused) is
   decided by the injected ``authorize`` callable: ``net/`` never interprets governance.

Noise static keys carry no identity here (the signature over the handshake hash does), so
by default the static key is derived from the device key with libsodium's Ed25519-to-X25519
conversion; a caller may inject any other X25519 key.

The machine is fed bytes with ``receive_data`` and yields bytes with ``data_to_send``; it never
reads a clock (``now_ms`` is passed in) and draws its ephemeral key from the injected ``rng``.
"""

from __future__ import annotations

import enum
import hashlib
import os
from dataclasses import dataclass
from typing import Literal

import msgpack
import nacl.bindings

from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    DeviceCertificate,
    Invite,
    SigningKey,
    verify,
    verify_invite_proof,
)
from assemblymesh.errors import (
    HandshakeError,
    InviteRefused,
    ProtocolError,
    RefusedPeer,
    RemoteError,
    UsageError,
)
from assemblymesh.i18n import _
from assemblymesh.net.credentials import (
    ASSEMBLY_SECRET_SIZE,
    REFUSAL_CODES,
    REFUSAL_TEXT,
    Admitted,
    Authorization,
    Authorize,
    Credentials,
    Keyring,
    PeerIdentity,
    Refused,
    Root,
    decide,
)
from assemblymesh.net.events import NeedData, PeerRefused
from assemblymesh.net.framing import (
    DEFAULT_MAX_MESSAGE_SIZE,
    FrameDecoder,
    Session,
    encode_frame,
)
from assemblymesh.net.noise import DHLEN, TAGLEN, CipherState, HandshakeState, KeyPair, Rng

__all__ = [
    "ASSEMBLY_SECRET_SIZE",
    "HANDSHAKE_TIMEOUT_MS",
    "MAX_PROOF_SIZE",
    "MAX_REFUSAL_SIZE",
    "MESSAGE_1_SIZE",
    "MESSAGE_2_SIZE",
    "MESSAGE_3_SIZE",
    "PROLOGUE_PREFIX",
    "PROOF_CONTEXT",
    "PROTOCOL_NAME",
    "PSK_CONTEXT",
    "Admitted",
    "Authorization",
    "Authorize",
    "Credentials",
    "Event",
    "Handshake",
    "HandshakeDone",
    "NeedData",
    "PeerIdentity",
    "PeerRefused",
    "Refused",
    "Role",
    "Status",
    "derive_psk",
    "prologue_for",
    "proof_message",
    "static_key_from_device",
]

PROTOCOL_NAME = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
PROLOGUE_PREFIX = b"assemblymesh/1\x00"
PSK_CONTEXT = b"assemblymesh/noise-psk/v1\x00"
PROOF_CONTEXT = b"assemblymesh/handshake-proof/v1\x00"
HANDSHAKE_TIMEOUT_MS = 10_000
# A proof holds a certificate (~150 bytes), a signature and perhaps an invite: 4 KiB is ample.
MAX_PROOF_SIZE = 4096
# A refusal's plaintext: a msgpack map of one short string (``{"refused": code}``).
MAX_REFUSAL_SIZE = 64

# Exact sizes of the three Noise messages (their payloads are empty in version 1).
MESSAGE_1_SIZE = DHLEN + TAGLEN  # psk, e
MESSAGE_2_SIZE = DHLEN + (DHLEN + TAGLEN) + TAGLEN  # e, ee, s, es
MESSAGE_3_SIZE = (DHLEN + TAGLEN) + TAGLEN  # s, se

Role = Literal["initiator", "responder"]
_ROLE_BYTE: dict[Role, bytes] = {"initiator": b"I", "responder": b"R"}


def derive_psk(assembly_secret: bytes) -> bytes:
    """The Noise psk: keyed BLAKE2b-256 (key = assembly secret) of ``PSK_CONTEXT``."""
    if len(assembly_secret) != ASSEMBLY_SECRET_SIZE:
        raise UsageError("an assembly secret must be 32 bytes")
    return hashlib.blake2b(PSK_CONTEXT, key=assembly_secret, digest_size=32).digest()


def prologue_for(assembly_id: bytes) -> bytes:
    if len(assembly_id) != ASSEMBLY_ID_SIZE:
        raise UsageError("an assembly id must be 16 bytes")
    return PROLOGUE_PREFIX + assembly_id


def static_key_from_device(device_key: SigningKey) -> bytes:
    """The default Noise static private key: the device key converted to X25519."""
    return nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(device_key.seed + device_key.public)


def proof_message(role: Role, handshake_hash: bytes) -> bytes:
    """What a side signs (after ``PROOF_CONTEXT``): its role byte, then the handshake hash."""
    return _ROLE_BYTE[role] + handshake_hash


@dataclass(frozen=True, slots=True)
class HandshakeDone:
    """The peer is proven and authorised.

    ``trailing_data`` are bytes received after the handshake: feed them to ``session``.
    ``root`` is what the Noise psk came from (the initiator's dial root, or the one a
    responder's first message opened with); ``peer_epoch`` the epoch the peer's proof names
    (0 if none): a peer at a later epoch than this node's tells it to upgrade.
    """

    peer: PeerIdentity
    session: Session
    trailing_data: bytes
    root: Root | None = None
    peer_epoch: int = 0


Event = NeedData | HandshakeDone | PeerRefused


class Status(enum.Enum):
    IN_PROGRESS = "in-progress"
    DONE = "done"
    FAILED = "failed"


class _Step(enum.Enum):
    # What the machine expects next from the peer.
    NOISE_1 = 1  # responder: Noise message 1
    NOISE_2 = 2  # initiator: Noise message 2
    NOISE_3 = 3  # responder: Noise message 3
    PROOF = 4  # both: the peer's identity proof
    FINISHED = 5


class Handshake:
    """One side of the AssemblyMesh handshake.

    ``credentials`` says who this device is (and carries a pending invite, if any).
    ``static_private`` is the Noise static X25519 key (by default derived from the device key).
    ``authorize`` answers ``Admitted()`` or ``Refused(reason)`` for a proven peer.
    ``ephemeral_private`` fixes the Noise ephemeral key (tests only; otherwise from ``rng``).
    ``keyring`` gives the roots of the psk (default: ``credentials.keys()``): an initiator
    uses its ``dial`` root, a responder opens the first message with each ``accept`` root in
    turn and goes on with the one it opened with.
    """

    def __init__(
        self,
        *,
        role: Role,
        credentials: Credentials,
        authorize: Authorize,
        now_ms: int,
        static_private: bytes | None = None,
        rng: Rng = os.urandom,
        ephemeral_private: bytes | None = None,
        timeout_ms: int = HANDSHAKE_TIMEOUT_MS,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        keyring: Keyring | None = None,
    ) -> None:
        if role not in _ROLE_BYTE:
            raise UsageError(f"unknown handshake role {role!r}")
        self.role: Role = role
        self.credentials = credentials
        self.assembly_id = credentials.assembly_id
        self.started_ms = now_ms
        self.timeout_ms = timeout_ms
        self._authorize = authorize
        self._max_message_size = max_message_size
        self.keyring = credentials.keys() if keyring is None else keyring
        static = KeyPair.from_private(
            static_private
            if static_private is not None
            else static_key_from_device(credentials.device_key)
        )
        ephemeral = (
            KeyPair.from_private(ephemeral_private) if ephemeral_private is not None else None
        )

        def noise_for(root: Root) -> HandshakeState:
            return _noise_state(role, credentials, static, ephemeral, rng, root)

        self._noise_for = noise_for
        self.root: Root | None = self.keyring.dial if role == "initiator" else None
        self._noise = noise_for(self.keyring.dial)
        self._peer_epoch = 0
        # No handshake frame is longer than a proof, so a stranger cannot make us buffer more.
        self._decoder = FrameDecoder(max_frame_size=MAX_PROOF_SIZE + TAGLEN)
        self._outgoing = bytearray()
        self._send: CipherState | None = None
        self._recv: CipherState | None = None
        self._peer: PeerIdentity | None = None
        self._done: HandshakeDone | None = None
        self._delivered = False
        self._error: HandshakeError | None = None
        # What a responder sends instead of its proof when it refuses a proven joiner.
        self._farewell = b""
        self._first_message = role == "initiator"  # the responder waits for message 1
        if role == "initiator":
            self._outgoing += encode_frame(self._noise.write_message(b""))
            self._step = _Step.NOISE_2
        else:
            self._step = _Step.NOISE_1

    # --- public state ---

    @property
    def status(self) -> Status:
        if self._error is not None:
            return Status.FAILED
        return Status.DONE if self._done is not None else Status.IN_PROGRESS

    @property
    def first_message_received(self) -> bool:
        """True once the responder holds a complete, valid Noise message 1 (always, initiator)."""
        return self._first_message

    def expired(self, now_ms: int) -> bool:
        """True once the handshake has run ``timeout_ms`` without finishing."""
        return self._done is None and now_ms - self.started_ms >= self.timeout_ms

    # --- h11-style interface ---

    def data_to_send(self) -> bytes:
        """Bytes to write to the peer now (possibly empty). Flush after every call that fed."""
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out

    def receive_data(self, data: bytes, now_ms: int) -> None:
        """Feed bytes received from the peer; raise ``HandshakeError`` if the peer failed."""
        self._check_usable()
        if self._done is not None:
            raise UsageError("the handshake is finished; feed further bytes to the session")
        try:
            if self.expired(now_ms):
                raise HandshakeError(_("handshake timed out"))
            self._decoder.push(data)
            while self._step is not _Step.FINISHED:
                try:
                    frame = self._decoder.next_frame()
                except ProtocolError as exc:
                    raise HandshakeError(_("bad handshake frame: {exc}").format(exc=exc)) from exc
                if frame is None:
                    return
                self._handle(frame, now_ms)
            # Bytes after the peer's proof belong to the session.
            self._finish(self._decoder.take_buffer())
        except HandshakeError as exc:
            self._fail(exc)
            raise

    def connection_closed(self) -> None:
        """The peer closed the stream before the handshake finished: that is a failure."""
        if self._done is None and self._error is None:
            self._fail(HandshakeError(_("peer closed the connection during the handshake")))
        self._check_usable()

    def next_event(self) -> Event:
        """``NeedData`` until the peer is proven, then ``HandshakeDone`` (once); an initiator
        whose invite the peer refused gets ``PeerRefused`` (once) instead."""
        if isinstance(self._error, InviteRefused) and not self._delivered:
            self._delivered = True
            return PeerRefused(self._error.code)
        self._check_usable()
        if self._done is None:
            return NeedData()
        if self._delivered:
            raise UsageError("the handshake result was already taken")
        self._delivered = True
        return self._done

    # --- internals ---

    def _check_usable(self) -> None:
        if self._error is not None:
            raise HandshakeError(_("handshake already failed: {error}").format(error=self._error))

    def _fail(self, error: HandshakeError) -> None:
        self._error = error
        self._outgoing.clear()  # a refused peer gets nothing more, not even our proof
        self._outgoing += self._farewell  # ... but a proven joiner learns why (§3.6)

    def _handle(self, frame: bytes, now_ms: int) -> None:
        step = self._step
        if step is _Step.NOISE_1:
            self._open_first(frame)
            self._first_message = True
            self._outgoing += encode_frame(self._noise.write_message(b""))
            self._step = _Step.NOISE_3
        elif step is _Step.NOISE_2:
            self._read_noise(frame, MESSAGE_2_SIZE, 2)
            self._outgoing += encode_frame(self._noise.write_message(b""))
            self._split()
            # The initiator proves itself first; the responder answers once satisfied.
            self._outgoing += encode_frame(self._make_proof())
            self._step = _Step.PROOF
        elif step is _Step.NOISE_3:
            self._read_noise(frame, MESSAGE_3_SIZE, 3)
            self._split()
            self._step = _Step.PROOF
        elif step is _Step.PROOF:
            peer = self._check_proof(frame, now_ms)
            if self.role == "responder":
                self._outgoing += encode_frame(self._make_proof())
            self._peer = peer
            self._step = _Step.FINISHED
        else:  # pragma: no cover - receive_data stops at FINISHED
            raise UsageError("handshake step out of order")

    def _read_noise(self, frame: bytes, size: int, number: int) -> None:
        if len(frame) != size:
            raise HandshakeError(
                _("handshake message {number} has {length} bytes, not {size}").format(
                    number=number, length=len(frame), size=size
                )
            )
        # A wrong assembly secret or assembly id shows up here, as a failed tag.
        if self._noise.read_message(frame) != b"":
            raise HandshakeError(
                _("handshake message {number} carries an unexpected payload").format(number=number)
            )

    def _open_first(self, frame: bytes) -> None:
        """Open message 1 with each accepted root in turn; go on with the one that opens it."""
        if len(frame) != MESSAGE_1_SIZE:
            raise HandshakeError(
                _("handshake message 1 has {length} bytes, not {size}").format(
                    length=len(frame), size=MESSAGE_1_SIZE
                )
            )
        failure = HandshakeError(_("handshake message failed authentication"))
        for root in self.keyring.accept:
            noise = self._noise_for(root)
            try:
                payload = noise.read_message(frame)
            except HandshakeError as exc:
                # A wrong secret or assembly id, a passed epoch, a used invite: a failed tag.
                failure = exc
                continue
            if payload != b"":
                raise HandshakeError(_("handshake message 1 carries an unexpected payload"))
            self._noise, self.root = noise, root
            return
        raise failure

    def _split(self) -> None:
        c1, c2 = self._noise.split()
        self._send, self._recv = (c1, c2) if self.role == "initiator" else (c2, c1)

    def _make_proof(self) -> bytes:
        assert self._send is not None
        creds = self.credentials
        fields: dict[str, bytes | int] = {
            "cert": creds.certificate.encode(),
            "sig": creds.device_key.sign(
                PROOF_CONTEXT, proof_message(self.role, self._noise.handshake_hash)
            ),
        }
        if creds.invite is not None:
            invite, invite_proof = creds.invite
            fields["invite"] = invite.encode()
            fields["invite_proof"] = invite_proof
        if self.keyring.epoch > 0:
            fields["epoch"] = self.keyring.epoch
        plaintext: bytes = msgpack.packb(fields)
        return self._send.encrypt_with_ad(b"", plaintext)

    def _check_proof(self, frame: bytes, now_ms: int) -> PeerIdentity:
        assert self._recv is not None
        try:
            plaintext = self._recv.decrypt_with_ad(b"", frame)
        except ProtocolError as exc:
            raise HandshakeError(_("identity proof failed authentication")) from exc
        if self.role == "initiator":
            self._check_refusal(plaintext)
        fields, peer_epoch = _decode_proof(plaintext)
        cert = self._check_cert(fields)
        invite = self._check_invite(fields, cert, now_ms)
        root = self.root
        # A responder that opened message 1 with a join key admits only that invite's join.
        if (
            self.role == "responder"
            and root is not None
            and root.kind == "join"
            and (invite is None or invite.invite_key != root.invite_key)
        ):
            raise HandshakeError(_("peer used a join key without the invite it belongs to"))
        if invite is not None and now_ms >= invite.expires_ms:
            self._tell_joiner(invite, "invite-expired")
            raise HandshakeError(_("peer's invite has expired"))
        self._peer_epoch = peer_epoch
        peer = PeerIdentity(member=cert.member, device=cert.device, certificate=cert, invite=invite)
        answer = decide(self._authorize, peer)
        if isinstance(answer, Refused):
            self._tell_joiner(invite, answer.code)
            raise RefusedPeer(answer.reason)
        return peer

    def _tell_joiner(self, invite: Invite | None, code: str) -> None:
        """Send the refusal ``code`` in place of our proof, to a joiner only: one whose
        message 1 opened with the join key of the invite it has just proven (§3.6)."""
        root = self.root
        if (
            self.role != "responder"
            or invite is None
            or root is None
            or root.kind != "join"
            or root.invite_key != invite.invite_key
        ):
            return
        assert self._send is not None
        said = code if code in REFUSAL_CODES else "refused"
        plaintext: bytes = msgpack.packb({"refused": said})
        self._farewell = encode_frame(self._send.encrypt_with_ad(b"", plaintext))

    def _check_refusal(self, plaintext: bytes) -> None:
        """Raise ``InviteRefused`` if the responder's answer is a refusal (§3.6), and
        ``HandshakeError`` if it is a malformed one; return if it is not one."""
        code = _decode_refusal(plaintext)
        if code is None:
            return
        root = self.root
        if root is None or root.kind != "join":
            raise HandshakeError(_("peer sent a refusal, which only a joiner may receive"))
        raise InviteRefused(code, _(REFUSAL_TEXT[code]))

    def _check_cert(self, fields: dict[str, bytes]) -> DeviceCertificate:
        """Steps 3 to 7 of §3.5: the certificate and the signature over the handshake."""
        try:
            cert = DeviceCertificate.decode(fields["cert"])
        except RemoteError as exc:
            raise HandshakeError(_("peer sent a malformed device certificate")) from exc
        if cert.assembly != self.assembly_id:
            raise HandshakeError(_("peer's device certificate is for another assembly"))
        try:
            cert.verify()
        except RemoteError as exc:
            raise HandshakeError(_("peer's device certificate is forged")) from exc
        peer_role: Role = "responder" if self.role == "initiator" else "initiator"
        try:
            verify(
                cert.device,
                PROOF_CONTEXT,
                proof_message(peer_role, self._noise.handshake_hash),
                fields["sig"],
            )
        except RemoteError as exc:
            raise HandshakeError(_("peer's signature over the handshake does not verify")) from exc
        if cert.device == self.credentials.device:
            raise HandshakeError(_("peer presents this node's own device key"))
        return cert

    def _check_invite(
        self, fields: dict[str, bytes], cert: DeviceCertificate, now_ms: int
    ) -> Invite | None:
        if "invite" not in fields:
            return None
        try:
            invite = Invite.decode(fields["invite"])
        except RemoteError as exc:
            raise HandshakeError(_("peer sent a malformed invite")) from exc
        if invite.assembly != self.assembly_id:
            raise HandshakeError(_("peer's invite is for another assembly"))
        try:
            verify_invite_proof(invite, cert.member, fields["invite_proof"])
        except RemoteError as exc:
            raise HandshakeError(_("peer's invite or invite proof is forged")) from exc
        return invite

    def _finish(self, trailing: bytes) -> None:
        assert self._send is not None and self._recv is not None and self._peer is not None
        session = Session(
            self._send,
            self._recv,
            self._noise.handshake_hash,
            max_message_size=self._max_message_size,
        )
        self._done = HandshakeDone(
            peer=self._peer,
            session=session,
            trailing_data=trailing,
            root=self.root,
            peer_epoch=self._peer_epoch,
        )


def _noise_state(
    role: Role,
    creds: Credentials,
    static: KeyPair,
    ephemeral: KeyPair | None,
    rng: Rng,
    root: Root,
) -> HandshakeState:
    return HandshakeState(
        PROTOCOL_NAME,
        initiator=role == "initiator",
        prologue=prologue_for(creds.assembly_id),
        s=static,
        e=ephemeral,
        psks=[derive_psk(root.secret)],
        rng=rng,
    )


_REQUIRED = frozenset({"cert", "sig"})
_WITH_INVITE = frozenset({"cert", "sig", "invite", "invite_proof"})
_KEY_SETS = (_REQUIRED, _WITH_INVITE, _REQUIRED | {"epoch"}, _WITH_INVITE | {"epoch"})
MAX_EPOCH = 2**32 - 1


def _decode_proof(plaintext: bytes) -> tuple[dict[str, bytes], int]:
    """Parse an identity proof: a msgpack map with exactly the known keys, all binary."""
    try:
        fields = msgpack.unpackb(
            plaintext, raw=False, strict_map_key=True, max_map_len=8, max_array_len=0
        )
    except Exception as exc:
        # msgpack raises a zoo of exception types on bad input; none may escape as itself.
        raise HandshakeError(_("identity proof is not valid msgpack")) from exc
    if not isinstance(fields, dict) or frozenset(fields) not in _KEY_SETS:
        raise HandshakeError(_("identity proof has unexpected fields"))
    epoch = fields.pop("epoch", None)
    if epoch is not None and (type(epoch) is not int or not 1 <= epoch <= MAX_EPOCH):
        raise HandshakeError(_("identity proof names an epoch out of range"))
    if not all(isinstance(v, bytes) for v in fields.values()):
        raise HandshakeError(_("identity proof fields must be binary"))
    return fields, 0 if epoch is None else epoch


def _decode_refusal(plaintext: bytes) -> str | None:
    """The code of a refusal (a msgpack map whose one key is ``refused``), None if the
    plaintext is no refusal; a malformed, oversized or unknown refusal is a failure."""
    try:
        value = msgpack.unpackb(
            plaintext, raw=False, strict_map_key=True, max_map_len=8, max_array_len=0
        )
    except Exception:
        return None  # not a refusal: the proof's own checks say what is wrong with it
    if not isinstance(value, dict) or "refused" not in value:
        return None
    code = value["refused"]
    if len(plaintext) > MAX_REFUSAL_SIZE or len(value) != 1 or code not in REFUSAL_CODES:
        raise HandshakeError(_("peer sent a malformed refusal"))
    assert isinstance(code, str)
    return code
