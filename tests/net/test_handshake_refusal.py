"""A joiner refused with a reason: the responder sends one in place of its proof, and only
to a joiner who opened message 1 with the join key of the invite it has just proven; the
initiator reads it as an event; a malformed, oversized or misplaced refusal is a failure."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.identity import Invite
from assemblymesh.errors import HandshakeError, InviteRefused, RefusedPeer
from assemblymesh.net.credentials import (
    REFUSAL_CODES,
    Admitted,
    Authorization,
    PeerIdentity,
    Refused,
    Root,
)
from assemblymesh.net.framing import encode_frame
from assemblymesh.net.handshake import MAX_REFUSAL_SIZE, Handshake, PeerRefused, Status
from tests.net.test_handshake import ALICE, BOB, NOW, make_joiner, shuttle
from tests.net.test_handshake_roots import ring, secret, side

MEMBERS = Root("epoch", 0, secret(0))


def refusing(code: str) -> object:
    def answer(peer: PeerIdentity) -> Authorization:
        if peer.invite is None:
            return Admitted()
        return Refused(f"log line for {code}", code)

    return answer


def join_root(invite: Invite) -> Root:
    return Root("join", 0, secret(99), invite.invite_key)


@pytest.mark.parametrize("code", ["invite-used", "invite-void", "refused", "not-a-code"])
def test_a_proven_joiner_learns_why_its_invite_is_refused(code: str) -> None:
    joiner = make_joiner("carol", ALICE)
    assert joiner.invite is not None
    join = join_root(joiner.invite[0])
    i = side("initiator", joiner, ring(0, join), refusing(code))
    r = side("responder", ALICE, ring(0, MEMBERS, MEMBERS, join), refusing(code))
    with pytest.raises(RefusedPeer):
        shuttle(i, r)
    farewell = r.data_to_send()
    assert farewell, "the responder has its refusal to send"
    with pytest.raises(InviteRefused) as refused:
        i.receive_data(farewell, NOW + 20)
    said = code if code in REFUSAL_CODES else "refused"  # an unknown code is never sent
    assert refused.value.code == said and "\n" not in str(refused.value)
    assert i.status is Status.FAILED
    assert i.next_event() == PeerRefused(said)
    with pytest.raises(HandshakeError):
        i.next_event()  # the event comes once


def test_an_expired_invite_is_told_as_expired() -> None:
    joiner = make_joiner("carol", ALICE, expires_ms=NOW + 5)  # shuttle delivers at NOW + 10
    assert joiner.invite is not None
    join = join_root(joiner.invite[0])
    i = side("initiator", joiner, ring(0, join), refusing("refused"))
    r = side("responder", ALICE, ring(0, MEMBERS, MEMBERS, join), refusing("refused"))
    with pytest.raises(HandshakeError, match="expired"):
        shuttle(i, r)
    with pytest.raises(InviteRefused, match="expired"):
        i.receive_data(r.data_to_send(), NOW + 20)


def test_no_reason_reaches_anyone_but_the_holder_of_that_invites_join_key() -> None:
    # A joiner who dials with the members' root (an old code that held the secret) and a
    # refused member learn nothing: the connection closes, as in version 1.
    joiner = make_joiner("carol", ALICE)
    for node, dial in ((joiner, MEMBERS), (BOB, MEMBERS)):
        i = side("initiator", node, ring(0, dial), refusing("invite-used"))
        r = side("responder", ALICE, ring(0, MEMBERS), lambda p: Refused("no", "invite-used"))
        with pytest.raises(RefusedPeer):
            shuttle(i, r)
        assert r.data_to_send() == b""


class Liar(Handshake):
    """A responder that holds the join key and sends whatever refusal it likes."""

    plaintext = b""

    def _tell_joiner(self, invite: Invite | None, code: str) -> None:
        assert self._send is not None
        self._farewell = encode_frame(self._send.encrypt_with_ad(b"", self.plaintext))


def lying(plaintext: bytes, dial_join: bool = True) -> tuple[Handshake, Liar]:
    joiner = make_joiner("carol", ALICE)
    assert joiner.invite is not None
    join = join_root(joiner.invite[0])
    node, dial = (joiner, join) if dial_join else (BOB, MEMBERS)
    i = side("initiator", node, ring(0, dial), refusing("refused"))
    template = side("responder", ALICE, ring(0, MEMBERS, MEMBERS, join), refusing("refused"))
    r = Liar(
        role="responder",
        credentials=template.credentials,
        authorize=lambda p: Refused("no", "refused"),
        now_ms=NOW,
        keyring=template.keyring,
    )
    r.plaintext = plaintext
    with pytest.raises(RefusedPeer):
        shuttle(i, r)
    return i, r


@pytest.mark.parametrize(
    "fields",
    [
        {"refused": "x" * MAX_REFUSAL_SIZE},  # oversized
        {"refused": "invite-stolen"},  # unknown code
        {"refused": 5},
        {"refused": "invite-used", "why": "\n".join(["a"] * 4)},
    ],
)
def test_a_malformed_or_oversized_refusal_fails_with_one_line(fields: object) -> None:
    i, r = lying(msgpack.packb(fields))
    with pytest.raises(HandshakeError) as failed:
        i.receive_data(r.data_to_send(), NOW + 20)
    assert not isinstance(failed.value, InviteRefused)
    assert str(failed.value) == "peer sent a malformed refusal"
    with pytest.raises(HandshakeError):
        i.next_event()


def test_a_refusal_to_a_member_is_a_failure() -> None:
    i, r = lying(msgpack.packb({"refused": "invite-used"}), dial_join=False)
    with pytest.raises(HandshakeError, match="only a joiner"):
        i.receive_data(r.data_to_send(), NOW + 20)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_any_answer_in_place_of_a_proof_fails_as_a_handshake_error(plaintext: bytes) -> None:
    i, r = lying(plaintext)
    with pytest.raises(HandshakeError) as failed:
        i.receive_data(r.data_to_send(), NOW + 20)
    assert "\n" not in str(failed.value)
