"""docs/protocol.md read as an independent peer would: its formulas against the code."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import msgpack
import nacl.bindings
import nacl.public

from assemblymesh.crdt.identity import Invite, SigningKey
from assemblymesh.crdt.sealing import epoch_check, open_secret, seal_secret
from assemblymesh.epochkeys import join_key
from assemblymesh.home import InviteCode
from assemblymesh.model.acts import act_ref
from assemblymesh.net.discovery import device_tag, discovery_key


def test_an_act_ref_is_the_hash_the_spec_gives() -> None:
    member = bytes(range(32))
    spec = hashlib.blake2b(
        b"assemblymesh/act-ref/v1\x00" + member + b"00000000000000aa", digest_size=8
    ).hexdigest()
    assert act_ref(member.hex(), "00000000000000aa") == spec


def test_an_invite_code_reads_as_the_spec_says(tmp_path: Path) -> None:
    inviter, seed = SigningKey(bytes(range(32))), SigningKey(bytes(range(1, 33)))
    assembly, secret = bytes(16), bytes(range(2, 34))
    invite = Invite.issue(inviter, assembly, seed.public, 1_800_000_000_000)
    join = hashlib.blake2b(
        b"assemblymesh/join-key/v1\x00" + seed.public, key=secret, digest_size=32
    ).digest()
    assert join == join_key(secret, seed.public)
    code = InviteCode(assembly, 7, join, invite, seed.seed, ("10.0.0.7:7361",), "Garden").encode()
    assert code.startswith("am1:") and code == code.lower()
    body = code[4:].upper()
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    payload, check = raw[:-5], raw[-5:]
    person = b"am-invite-code"
    expected = hashlib.blake2b(b"am1:" + payload, digest_size=5, person=person).digest()
    assert check == expected
    assert payload[0] == 3
    assert payload[1:17] == assembly and int.from_bytes(payload[17:21], "big") == 7
    assert payload[21:53] == join and secret not in payload  # the code holds no secret
    assert payload[53:85] == inviter.public
    assert int.from_bytes(payload[85:91], "big") == 1_800_000_000_000
    assert payload[91:155] == invite.signature and payload[155:187] == seed.seed
    hints, name = msgpack.unpackb(payload[187:])
    assert hints == [bytes([10, 0, 0, 7]) + (7361).to_bytes(2, "big")] and name == "Garden"
    # Readers ignore case and whitespace.
    spaced = "\n".join(code[i : i + 40] for i in range(0, len(code), 40)).upper()
    assert InviteCode.decode(spaced).invite == invite


def test_an_epoch_check_and_box_are_what_the_spec_gives() -> None:
    secret, assembly = bytes(range(32)), bytes(range(16))
    spec = hashlib.blake2b(
        b"assemblymesh/epoch-check/v1\x00" + assembly + (3).to_bytes(4, "big"),
        key=secret,
        digest_size=32,
    ).digest()
    assert epoch_check(secret, assembly, 3) == spec
    device = SigningKey(bytes(range(5, 37)))
    box = seal_secret(device.public, secret)
    assert len(box) == 80
    # An independent opening: libsodium's sealed box for the device key converted to X25519.
    private = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(device.seed + device.public)
    assert nacl.public.SealedBox(nacl.public.PrivateKey(private)).decrypt(box) == secret
    assert open_secret(device, box, spec, assembly, 3) == secret


def test_a_discovery_tag_is_what_the_spec_gives() -> None:
    secret, device = bytes(range(32)), bytes(range(40, 72))
    key = discovery_key(secret)
    spec = hashlib.blake2b(
        b"assemblymesh/discovery-tag/v1\x00" + device + (1_800_000_000_000).to_bytes(8, "big"),
        key=key,
        digest_size=16,
    ).digest()
    assert device_tag(secret, device, 1_800_000_000_000) == spec
