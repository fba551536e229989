"""docs/protocol.md read as an independent peer would: its formulas against the code."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import msgpack

from assemblymesh.crdt.identity import Invite, SigningKey
from assemblymesh.home import InviteCode
from assemblymesh.model.acts import act_ref


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
    code = InviteCode(assembly, secret, invite, seed.seed, ("10.0.0.7:7361",), "Garden").encode()
    assert code.startswith("am1:") and code == code.lower()
    body = code[4:].upper()
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    payload, check = raw[:-5], raw[-5:]
    person = b"am-invite-code"
    expected = hashlib.blake2b(b"am1:" + payload, digest_size=5, person=person).digest()
    assert check == expected
    assert payload[0] == 2
    assert payload[1:17] == assembly and payload[17:49] == secret
    assert payload[49:81] == inviter.public
    assert int.from_bytes(payload[81:87], "big") == 1_800_000_000_000
    assert payload[87:151] == invite.signature and payload[151:183] == seed.seed
    hints, name = msgpack.unpackb(payload[183:])
    assert hints == [bytes([10, 0, 0, 7]) + (7361).to_bytes(2, "big")] and name == "Garden"
    # Readers ignore case and whitespace.
    spaced = "\n".join(code[i : i + 40] for i in range(0, len(code), 40)).upper()
    assert InviteCode.decode(spaced).invite == invite
