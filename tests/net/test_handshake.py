"""The AssemblyMesh handshake, wired in memory: who gets in, and every way of failing."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest

from assemblymesh.crdt.identity import (
    DeviceCertificate,
    Invite,
    SigningKey,
    assembly_id_for,
    sign_invite_proof,
)
from assemblymesh.errors import HandshakeError, UsageError
from assemblymesh.net.credentials import Admitted, Authorization, Credentials, Refused
from assemblymesh.net.framing import encode_frame
from assemblymesh.net.handshake import (
    HANDSHAKE_TIMEOUT_MS,
    MESSAGE_1_SIZE,
    MESSAGE_2_SIZE,
    MESSAGE_3_SIZE,
    PROOF_CONTEXT,
    PROTOCOL_NAME,
    Handshake,
    HandshakeDone,
    NeedData,
    PeerIdentity,
    Role,
    Status,
    derive_psk,
    prologue_for,
    proof_message,
    static_key_from_device,
)
from assemblymesh.net.noise import HandshakeState, KeyPair

NOW = 1_760_000_000_000
FOUNDER = SigningKey(b"\x01" * 32)
ASSEMBLY = assembly_id_for(FOUNDER.public, b"nonce")
OTHER_ASSEMBLY = assembly_id_for(FOUNDER.public, b"other")
SECRET = hashlib.blake2b(b"assembly secret", digest_size=32).digest()


def _key(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(label.encode(), digest_size=32).digest())


def det_rng(label: str) -> Callable[[int], bytes]:
    """Deterministic randomness: a counter hashed with a label."""
    counter = itertools.count()

    def rng(n: int) -> bytes:
        return hashlib.shake_256(f"{label}/{next(counter)}".encode()).digest(n)

    return rng


@dataclass
class Node:
    member: SigningKey
    device: SigningKey
    cert: DeviceCertificate
    invite: tuple[Invite, bytes] | None = None


def make_node(name: str, assembly: bytes = ASSEMBLY) -> Node:
    member, device = _key(f"{name}/member"), _key(f"{name}/device")
    return Node(member, device, DeviceCertificate.issue(member, assembly, device.public, NOW))


def make_joiner(name: str, inviter: Node, *, expires_ms: int = NOW + 3_600_000) -> Node:
    node = make_node(name)
    invite_secret = _key(f"{name}/invite")
    invite = Invite.issue(inviter.member, ASSEMBLY, invite_secret.public, expires_ms)
    node.invite = (invite, sign_invite_proof(invite_secret, invite, node.member.public))
    return node


@dataclass
class Roster:
    """Stands in for governance: which devices may sync, which are revoked."""

    devices: set[bytes] = field(default_factory=set)
    revoked: set[bytes] = field(default_factory=set)
    accept_invites: bool = True
    seen: list[PeerIdentity] = field(default_factory=list)

    def __call__(self, peer: PeerIdentity) -> Authorization:
        self.seen.append(peer)
        if peer.device in self.revoked:
            return Refused("device revoked")
        if peer.invite is not None and self.accept_invites:
            return Admitted()
        if peer.device not in self.devices:
            return Refused("device not on the roster")
        return Admitted()


ALICE = make_node("alice")
BOB = make_node("bob")


def roster_of(*nodes: Node) -> Roster:
    return Roster(devices={n.device.public for n in nodes})


def handshake(
    role: Role,
    node: Node,
    authorize: Callable[[PeerIdentity], Authorization],
    *,
    secret: bytes = SECRET,
    assembly: bytes = ASSEMBLY,
    label: str | None = None,
    now_ms: int = NOW,
) -> Handshake:
    return Handshake(
        role=role,
        credentials=Credentials(assembly, secret, node.device, node.cert, node.invite),
        authorize=authorize,
        now_ms=now_ms,
        rng=det_rng(label or role),
    )


Tamper = Callable[[int, bytes], bytes]


def run(
    initiator: Handshake,
    responder: Handshake,
    *,
    tamper: Tamper | None = None,
    log: list[bytes] | None = None,
) -> tuple[HandshakeDone, HandshakeDone]:
    """Shuttle bytes until both sides are done; assert that they are."""
    shuttle(initiator, responder, tamper=tamper, log=log)
    done_i, done_r = initiator.next_event(), responder.next_event()
    assert isinstance(done_i, HandshakeDone) and isinstance(done_r, HandshakeDone)
    return done_i, done_r


def shuttle(
    initiator: Handshake,
    responder: Handshake,
    *,
    tamper: Tamper | None = None,
    log: list[bytes] | None = None,
) -> None:
    """Shuttle bytes until both sides are done or neither has more to say.

    Flights are numbered 0 (message 1), 1 (message 2), 2 (message 3 and the initiator's
    proof), 3 (the responder's proof).
    """
    flights = 0
    sides = [(initiator, responder), (responder, initiator)]
    while initiator.status is Status.IN_PROGRESS or responder.status is Status.IN_PROGRESS:
        sender, receiver = sides[flights % 2]
        data = sender.data_to_send()
        if not data:
            break
        if log is not None:
            log.append(data)
        if tamper is not None:
            data = tamper(flights, data)
        receiver.receive_data(data, NOW + 10)
        flights += 1


# --- success ----------------------------------------------------------------------------------


def test_member_to_member() -> None:
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    r = handshake("responder", BOB, roster)
    assert isinstance(i.next_event(), NeedData)
    done_i, done_r = run(i, r)
    assert done_i.peer.device == BOB.device.public and done_i.peer.member == BOB.member.public
    assert done_r.peer.device == ALICE.device.public and done_r.peer.invite is None
    assert done_r.peer.certificate == ALICE.cert
    assert done_i.session.handshake_hash == done_r.session.handshake_hash
    assert done_i.trailing_data == done_r.trailing_data == b""
    s_i, s_r = done_i.session, done_r.session
    assert s_r.feed(s_i.encrypt_message(b"hello bob")) == [b"hello bob"]
    assert s_i.feed(s_r.encrypt_message(b"hello alice")) == [b"hello alice"]
    assert i.status is Status.DONE and r.status is Status.DONE
    with pytest.raises(UsageError):
        i.next_event()


def test_message_sizes_are_fixed() -> None:
    log: list[bytes] = []
    roster = roster_of(ALICE, BOB)
    run(handshake("initiator", ALICE, roster), handshake("responder", BOB, roster), log=log)
    assert log[0] == encode_frame(log[0][2:]) and len(log[0]) == 2 + MESSAGE_1_SIZE
    assert len(log[1]) == 2 + MESSAGE_2_SIZE
    assert log[2][:2] == MESSAGE_3_SIZE.to_bytes(2, "big")
    assert len(log) == 4  # msg1, msg2, msg3 + initiator proof, responder proof


def test_data_sent_right_after_the_responders_proof_reaches_the_session() -> None:
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    r = handshake("responder", BOB, roster)
    r.receive_data(i.data_to_send(), NOW)
    i.receive_data(r.data_to_send(), NOW)
    r.receive_data(i.data_to_send(), NOW)
    done_r = r.next_event()
    assert isinstance(done_r, HandshakeDone)
    # The responder writes its proof and at once a first application message.
    i.receive_data(r.data_to_send() + done_r.session.encrypt_message(b"early"), NOW)
    done_i = i.next_event()
    assert isinstance(done_i, HandshakeDone)
    assert done_i.session.feed(done_i.trailing_data) == [b"early"]


@pytest.mark.parametrize("joiner_role", ["initiator", "responder"])
def test_joiner_with_invite(joiner_role: Role) -> None:
    carol = make_joiner("carol", inviter=ALICE)
    alice_roster = roster_of(ALICE)
    carol_roster = roster_of(ALICE)
    if joiner_role == "initiator":
        done_joiner, done_member = run(
            handshake("initiator", carol, carol_roster),
            handshake("responder", ALICE, alice_roster),
        )
    else:
        done_member, done_joiner = run(
            handshake("initiator", ALICE, alice_roster),
            handshake("responder", carol, carol_roster),
        )
    assert carol.invite is not None
    assert done_member.peer.invite == carol.invite[0]
    assert done_member.peer.member == carol.member.public
    assert done_joiner.peer.device == ALICE.device.public
    assert alice_roster.seen[0].invite == carol.invite[0]


# --- refusals -------------------------------------------------------------------------------


def _no_reply_after_failure(h: Handshake) -> None:
    assert h.status is Status.FAILED
    assert h.data_to_send() == b""
    with pytest.raises(HandshakeError, match="already failed"):
        h.next_event()


def test_wrong_assembly_secret_fails_at_message_1() -> None:
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster, secret=b"\x00" * 32)
    r = handshake("responder", BOB, roster)
    with pytest.raises(HandshakeError, match="message failed authentication"):
        r.receive_data(i.data_to_send(), NOW)
    _no_reply_after_failure(r)
    assert roster.seen == []


def test_wrong_assembly_id_fails_at_message_1() -> None:
    stranger = make_node("stranger", assembly=OTHER_ASSEMBLY)
    roster = roster_of(ALICE, BOB, stranger)
    i = handshake("initiator", stranger, roster, assembly=OTHER_ASSEMBLY)
    r = handshake("responder", BOB, roster)
    with pytest.raises(HandshakeError, match="authentication"):
        r.receive_data(i.data_to_send(), NOW)
    _no_reply_after_failure(r)


def test_responder_with_wrong_secret_refuses_message_1() -> None:
    # psk0: whichever side holds the wrong secret, message 1 already fails its tag.
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    r = handshake("responder", BOB, roster, secret=b"\x07" * 32)
    with pytest.raises(HandshakeError, match="authentication"):
        r.receive_data(i.data_to_send(), NOW)
    _no_reply_after_failure(r)


def test_non_member_device_refused_by_responder_who_reveals_nothing() -> None:
    mallory = make_node("mallory")  # a valid certificate, but not on the roster
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", mallory, roster)
    r = handshake("responder", BOB, roster)
    with pytest.raises(HandshakeError, match="peer refused: device not on the roster"):
        shuttle(i, r)
    _no_reply_after_failure(r)
    # The initiator is left waiting for a proof that never comes.
    assert isinstance(i.next_event(), NeedData)
    with pytest.raises(HandshakeError, match="closed the connection"):
        i.connection_closed()


def test_non_member_responder_refused_by_initiator() -> None:
    mallory = make_node("mallory")
    with pytest.raises(HandshakeError, match="not on the roster"):
        run(
            handshake("initiator", ALICE, roster_of(ALICE, BOB)),
            handshake("responder", mallory, roster_of(ALICE, BOB)),
        )


def test_revoked_device_refused() -> None:
    roster = roster_of(ALICE, BOB)
    roster.revoked.add(ALICE.device.public)
    with pytest.raises(HandshakeError, match="revoked"):
        run(handshake("initiator", ALICE, roster), handshake("responder", BOB, roster))


def test_forged_certificate_refused() -> None:
    # Mallory claims Alice's member key certified her device; she signs it herself.
    mallory = make_node("mallory")
    forged = DeviceCertificate(
        ASSEMBLY, ALICE.member.public, mallory.device.public, NOW, mallory.cert.signature
    )
    impostor = Node(mallory.member, mallory.device, forged)
    roster = roster_of(ALICE, BOB, mallory)
    with pytest.raises(HandshakeError, match="certificate is forged"):
        run(handshake("initiator", impostor, roster), handshake("responder", BOB, roster))
    assert roster.seen == []


def test_expired_invite_refused() -> None:
    carol = make_joiner("carol", inviter=ALICE, expires_ms=NOW)
    with pytest.raises(HandshakeError, match="expired"):
        run(
            handshake("initiator", carol, roster_of(ALICE)),
            handshake("responder", ALICE, roster_of(ALICE)),
        )


def test_forged_invite_proof_refused() -> None:
    carol = make_joiner("carol", inviter=ALICE)
    assert carol.invite is not None
    invite = carol.invite[0]
    # Signed by some key other than the invite key.
    bad_proof = sign_invite_proof(_key("not the invite key"), invite, carol.member.public)
    forger = Node(carol.member, carol.device, carol.cert, (invite, bad_proof))
    with pytest.raises(HandshakeError, match="invite proof is forged"):
        run(
            handshake("initiator", forger, roster_of(ALICE)),
            handshake("responder", ALICE, roster_of(ALICE)),
        )


def test_invite_proof_for_another_member_refused() -> None:
    carol = make_joiner("carol", inviter=ALICE)
    dave = make_node("dave")
    assert carol.invite is not None
    # Dave replays Carol's invite and proof: they admit Carol's member key, not Dave's.
    thief = Node(dave.member, dave.device, dave.cert, carol.invite)
    with pytest.raises(HandshakeError, match="forged"):
        run(
            handshake("initiator", thief, roster_of(ALICE)),
            handshake("responder", ALICE, roster_of(ALICE)),
        )


def test_connecting_to_oneself_refused() -> None:
    roster = roster_of(ALICE)
    with pytest.raises(HandshakeError, match="own device key"):
        run(
            handshake("initiator", ALICE, roster, label="a"),
            handshake("responder", ALICE, roster, label="b"),
        )


# --- a hand-made initiator, to send proofs the real one never would -------------------------


class ManualInitiator:
    """An initiator written from docs/protocol.md, with a pluggable identity proof."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.noise = HandshakeState(
            PROTOCOL_NAME,
            initiator=True,
            prologue=prologue_for(ASSEMBLY),
            s=KeyPair.from_private(static_key_from_device(node.device)),
            psks=[derive_psk(SECRET)],
            rng=det_rng("manual"),
        )

    def message_1(self) -> bytes:
        return encode_frame(self.noise.write_message(b""))

    def message_3(self, wire_2: bytes, proof: Callable[[bytes], bytes]) -> bytes:
        self.noise.read_message(wire_2[2:])
        message_3 = self.noise.write_message(b"")
        send, _ = self.noise.split()
        plaintext = proof(self.noise.handshake_hash)
        return encode_frame(message_3) + encode_frame(send.encrypt_with_ad(b"", plaintext))

    def fields(self, handshake_hash: bytes, role: Role = "initiator") -> dict[str, Any]:
        return {
            "cert": self.node.cert.encode(),
            "sig": self.node.device.sign(PROOF_CONTEXT, proof_message(role, handshake_hash)),
        }


def _against_responder(proof: Callable[[ManualInitiator, bytes], bytes]) -> Handshake:
    manual = ManualInitiator(ALICE)
    r = handshake("responder", BOB, roster_of(ALICE, BOB))
    r.receive_data(manual.message_1(), NOW)
    wire_3 = manual.message_3(r.data_to_send(), lambda h: proof(manual, h))
    r.receive_data(wire_3, NOW)
    return r


def test_manual_initiator_conforms() -> None:
    r = _against_responder(lambda m, h: _pack(m.fields(h)))
    done = r.next_event()
    assert isinstance(done, HandshakeDone) and done.peer.device == ALICE.device.public


def _pack(value: object) -> bytes:
    packed: bytes = msgpack.packb(value)
    return packed


def _other_hash(m: ManualInitiator, h: bytes) -> bytes:
    return _pack(m.fields(hashlib.blake2b(b"another session").digest()))


def _reflected_role(m: ManualInitiator, h: bytes) -> bytes:
    return _pack(m.fields(h, role="responder"))


def _wrong_device(m: ManualInitiator, h: bytes) -> bytes:
    fields = m.fields(h)
    fields["sig"] = BOB.device.sign(PROOF_CONTEXT, proof_message("initiator", h))
    return _pack(fields)


def _cert_for_other_assembly(m: ManualInitiator, h: bytes) -> bytes:
    fields = m.fields(h)
    fields["cert"] = DeviceCertificate.issue(
        ALICE.member, OTHER_ASSEMBLY, ALICE.device.public, NOW
    ).encode()
    return _pack(fields)


def _extra_field(m: ManualInitiator, h: bytes) -> bytes:
    return _pack({**m.fields(h), "note": b"hi"})


def _missing_sig(m: ManualInitiator, h: bytes) -> bytes:
    return _pack({"cert": m.node.cert.encode()})


def _text_instead_of_bytes(m: ManualInitiator, h: bytes) -> bytes:
    return _pack({**m.fields(h), "sig": "not bytes"})


def _malformed_cert(m: ManualInitiator, h: bytes) -> bytes:
    return _pack({**m.fields(h), "cert": b"\x93\x01\x02\x03"})


def _not_msgpack(m: ManualInitiator, h: bytes) -> bytes:
    return b"\xc1\xc1\xc1"


def _trailing_bytes(m: ManualInitiator, h: bytes) -> bytes:
    return _pack(m.fields(h)) + b"\x00"


def _a_list(m: ManualInitiator, h: bytes) -> bytes:
    return _pack([m.node.cert.encode()])


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        (_other_hash, "signature over the handshake does not verify"),
        (_reflected_role, "signature over the handshake does not verify"),
        (_wrong_device, "signature over the handshake does not verify"),
        (_cert_for_other_assembly, "another assembly"),
        (_extra_field, "unexpected fields"),
        (_missing_sig, "unexpected fields"),
        (_text_instead_of_bytes, "binary"),
        (_malformed_cert, "malformed device certificate"),
        (_not_msgpack, "not valid msgpack"),
        (_trailing_bytes, "not valid msgpack"),
        (_a_list, "not valid msgpack|unexpected fields"),
    ],
)
def test_bad_identity_proof_refused(
    proof: Callable[[ManualInitiator, bytes], bytes], reason: str
) -> None:
    with pytest.raises(HandshakeError, match=reason):
        _against_responder(proof)


# --- damaged, truncated and foreign bytes ---------------------------------------------------


def _honest_flights() -> list[bytes]:
    log: list[bytes] = []
    roster = roster_of(ALICE, BOB)
    run(handshake("initiator", ALICE, roster), handshake("responder", BOB, roster), log=log)
    return log


FLIGHTS = _honest_flights()
BIT_FLIPS = [
    (flight, position)
    for flight, data in enumerate(FLIGHTS)
    for position in range(0, len(data), 1 if flight < 3 else 7)
]


@pytest.mark.parametrize(("flight", "position"), BIT_FLIPS)
def test_bit_flip_in_any_handshake_message_refused(flight: int, position: int) -> None:
    def flip(n: int, data: bytes) -> bytes:
        if n != flight:
            return data
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        return bytes(damaged)

    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    r = handshake("responder", BOB, roster)
    with pytest.raises(HandshakeError):
        shuttle(i, r, tamper=flip)
        # A longer length prefix leaves the receiver waiting; closing the stream ends that.
        (r if flight % 2 == 0 else i).connection_closed()
    assert not (i.status is Status.DONE and r.status is Status.DONE)


@pytest.mark.parametrize("flight", range(4))
@pytest.mark.parametrize("keep", [0, 1, 2, 30, -16, -1])
def test_truncated_flight_then_close_refused(flight: int, keep: int) -> None:
    def cut(n: int, data: bytes) -> bytes:
        return data[:keep] if n == flight else data

    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    r = handshake("responder", BOB, roster)
    with pytest.raises(HandshakeError):
        shuttle(i, r, tamper=cut)
        (r if flight % 2 == 0 else i).connection_closed()


@pytest.mark.parametrize("drop", [1, 16])
def test_short_message_with_consistent_length_refused(drop: int) -> None:
    r = handshake("responder", BOB, roster_of(ALICE, BOB))
    body = FLIGHTS[0][2:-drop]
    with pytest.raises(HandshakeError, match=f"has {len(body)} bytes"):
        r.receive_data(encode_frame(body), NOW)


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_refused(seed: int) -> None:
    noise = det_rng(f"garbage/{seed}")(300)
    r = handshake("responder", BOB, roster_of(ALICE, BOB))
    with pytest.raises(HandshakeError):
        r.receive_data(noise, NOW)
        r.connection_closed()
    # The same garbage shaped as a well-formed message 1 still fails its tag.
    r2 = handshake("responder", BOB, roster_of(ALICE, BOB))
    with pytest.raises(HandshakeError, match="authentication"):
        r2.receive_data(encode_frame(noise[:MESSAGE_1_SIZE]), NOW)


def test_random_bytes_to_initiator_refused() -> None:
    i = handshake("initiator", ALICE, roster_of(ALICE, BOB))
    i.data_to_send()
    with pytest.raises(HandshakeError, match="authentication"):
        i.receive_data(encode_frame(det_rng("x")(MESSAGE_2_SIZE)), NOW)


def test_oversized_length_prefix_refused_at_once() -> None:
    r = handshake("responder", BOB, roster_of(ALICE, BOB))
    with pytest.raises(HandshakeError, match="longer than"):
        r.receive_data(b"\xff\xff", NOW)


def test_replayed_initiator_transcript_refused() -> None:
    recorded = _honest_flights()
    fresh = handshake("responder", BOB, roster_of(ALICE, BOB), label="fresh responder")
    fresh.receive_data(recorded[0], NOW)
    assert fresh.data_to_send() != recorded[1]  # a fresh ephemeral key
    with pytest.raises(HandshakeError, match="authentication"):
        fresh.receive_data(recorded[2], NOW)


# --- time -----------------------------------------------------------------------------------


def test_timeout() -> None:
    r = handshake("responder", BOB, roster_of(ALICE, BOB), now_ms=NOW)
    assert r.started_ms == NOW
    assert not r.expired(NOW + HANDSHAKE_TIMEOUT_MS - 1)
    assert r.expired(NOW + HANDSHAKE_TIMEOUT_MS)
    i = handshake("initiator", ALICE, roster_of(ALICE, BOB))
    with pytest.raises(HandshakeError, match="timed out"):
        r.receive_data(i.data_to_send(), NOW + HANDSHAKE_TIMEOUT_MS)


def test_finished_handshake_never_expires() -> None:
    roster = roster_of(ALICE, BOB)
    i = handshake("initiator", ALICE, roster)
    run(i, handshake("responder", BOB, roster))
    assert not i.expired(NOW + 10 * HANDSHAKE_TIMEOUT_MS)


# --- local misuse ---------------------------------------------------------------------------


def test_certificate_must_match_device_and_assembly() -> None:
    with pytest.raises(UsageError):
        Handshake(
            role="initiator",
            credentials=Credentials(ASSEMBLY, SECRET, ALICE.device, BOB.cert),
            authorize=roster_of(),
            now_ms=NOW,
        )


def test_secret_must_be_32_bytes() -> None:
    with pytest.raises(UsageError, match="32 bytes"):
        derive_psk(b"short")
