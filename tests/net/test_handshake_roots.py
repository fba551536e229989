"""The handshake with several roots: a responder opens message 1 with each accepted root in
turn, a join key admits only its own invite's join, and each side learns the other's epoch."""

from __future__ import annotations

import hashlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.errors import HandshakeError
from assemblymesh.net.credentials import Credentials, Keyring, Root
from assemblymesh.net.handshake import Handshake, HandshakeDone
from tests.net.test_handshake import (
    ALICE,
    ASSEMBLY,
    BOB,
    NOW,
    Node,
    det_rng,
    make_joiner,
    roster_of,
    shuttle,
)


def secret(n: int) -> bytes:
    return hashlib.blake2b(f"epoch {n}".encode(), digest_size=32).digest()


def ring(epoch: int, dial: Root, *accept: Root) -> Keyring:
    return Keyring(epoch, dial, accept or (dial,), dial if dial.kind == "epoch" else None)


def side(role: str, node: Node, keyring: Keyring, roster: object) -> Handshake:
    creds = Credentials(ASSEMBLY, keyring.dial.secret, node.device, node.cert, node.invite)
    return Handshake(
        role=role,  # type: ignore[arg-type]
        credentials=creds,
        authorize=roster,  # type: ignore[arg-type]
        now_ms=NOW,
        rng=det_rng(f"{role}/{keyring.epoch}"),
        keyring=keyring,
    )


@settings(max_examples=40, deadline=None)
@given(dial=st.integers(0, 5), accepted=st.sets(st.integers(0, 5), min_size=1, max_size=4))
def test_a_handshake_completes_exactly_when_the_dial_root_is_accepted(
    dial: int, accepted: set[int]
) -> None:
    roster = roster_of(ALICE, BOB)
    i = side("initiator", ALICE, ring(dial, Root("epoch", dial, secret(dial))), roster)
    roots = tuple(Root("epoch", n, secret(n)) for n in sorted(accepted, reverse=True))
    r = side("responder", BOB, ring(max(accepted), roots[0], *roots), roster)
    if dial in accepted:
        shuttle(i, r)
        done_i, done_r = i.next_event(), r.next_event()
        assert isinstance(done_i, HandshakeDone) and isinstance(done_r, HandshakeDone)
        assert done_r.root is not None and done_r.root.epoch == dial
        # Each side learns the other's epoch: the one behind is told to upgrade.
        assert done_i.peer_epoch == max(accepted) and done_r.peer_epoch == dial
    else:
        with pytest.raises(HandshakeError, match="message failed authentication"):
            shuttle(i, r)
        assert roster.seen == []  # nothing reached the proof step


def test_a_join_key_admits_its_own_invite_only() -> None:
    joiner = make_joiner("carol", ALICE)
    other = make_joiner("dave", ALICE)
    assert joiner.invite is not None and other.invite is not None
    key = joiner.invite[0].invite_key
    join = Root("join", 0, secret(99), key)
    members = Root("epoch", 0, secret(0))
    roster = roster_of(ALICE)
    responder_ring = ring(0, members, members, join)
    shuttle(
        side("initiator", joiner, ring(0, join), roster),
        r := side("responder", ALICE, responder_ring, roster),
    )
    assert isinstance(r.next_event(), HandshakeDone)
    # Dave holds Carol's join key (he saw her code) but shows his own invite: refused.
    i = side("initiator", other, ring(0, join), roster)
    r = side("responder", ALICE, responder_ring, roster)
    with pytest.raises(HandshakeError, match="join key without the invite"):
        shuttle(i, r)
    # A member's proof through a join key is refused the same way.
    i = side("initiator", BOB, ring(0, join), roster_of(ALICE, BOB))
    r = side("responder", ALICE, responder_ring, roster_of(ALICE, BOB))
    with pytest.raises(HandshakeError, match="join key without the invite"):
        shuttle(i, r)


def test_an_epoch_out_of_range_in_a_proof_is_refused() -> None:
    from assemblymesh.net.handshake import _decode_proof

    base = {"cert": b"c", "sig": b"s"}
    assert _decode_proof(msgpack.packb({**base, "epoch": 3}))[1] == 3
    assert _decode_proof(msgpack.packb(base))[1] == 0
    for bad in (0, -1, 2**32, True, b"\x01"):
        with pytest.raises(HandshakeError):
            _decode_proof(msgpack.packb({**base, "epoch": bad}))
