from __future__ import annotations

import os
from pathlib import Path

import pytest

from assemblymesh.crdt.identity import (
    DeviceCertificate,
    InvalidSignature,
    Invite,
    SigningKey,
    assembly_id_for,
    read_key_file,
    sign_invite_proof,
    verify_invite_proof,
    write_key_file,
    yjs_client_id,
)
from assemblymesh.errors import KeyFileError
from tests.crdt.helpers import ASSEMBLY, key


def test_certificate_round_trip_and_verify() -> None:
    member, dev = key("m"), key("d")
    cert = DeviceCertificate.issue(member, ASSEMBLY, dev.public, 123)
    again = DeviceCertificate.decode(cert.encode())
    assert again == cert
    again.verify()


@pytest.mark.parametrize("field", ["member", "device", "assembly", "issued_ms"])
def test_forged_certificate_fields_fail(field: str) -> None:
    member, dev = key("m"), key("d")
    cert = DeviceCertificate.issue(member, ASSEMBLY, dev.public, 123)
    changed = {
        "member": {"member": key("other").public},
        "device": {"device": key("other-device").public},
        "assembly": {"assembly": bytes(16)},
        "issued_ms": {"issued_ms": 124},
    }[field]
    values: dict[str, object] = {
        "assembly": cert.assembly,
        "member": cert.member,
        "device": cert.device,
        "issued_ms": cert.issued_ms,
        "signature": cert.signature,
    }
    values.update(changed)
    forged = DeviceCertificate(**values)  # type: ignore[arg-type]
    with pytest.raises(InvalidSignature):
        forged.verify()


def test_certificate_signed_by_another_member_fails() -> None:
    dev = key("d")
    cert = DeviceCertificate.issue(key("mallory"), ASSEMBLY, dev.public, 1)
    claimed = DeviceCertificate(ASSEMBLY, key("alice").public, dev.public, 1, cert.signature)
    with pytest.raises(InvalidSignature):
        claimed.verify()


@pytest.mark.parametrize("data", [b"", b"\x90", b"\x95\x01\x02\x03\x04\x05", os.urandom(80)])
def test_malformed_certificate_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidSignature):
        DeviceCertificate.decode(data)


def test_invite_proof() -> None:
    inviter, invite_key, joiner = key("inviter"), key("invite"), key("joiner")
    invite = Invite.issue(inviter, ASSEMBLY, invite_key.public, 10_000)
    proof = sign_invite_proof(invite_key, invite, joiner.public)
    verify_invite_proof(Invite.decode(invite.encode()), joiner.public, proof)
    with pytest.raises(InvalidSignature):
        verify_invite_proof(invite, key("someone-else").public, proof)
    with pytest.raises(InvalidSignature):
        verify_invite_proof(
            invite, joiner.public, sign_invite_proof(key("x"), invite, joiner.public)
        )


def test_signature_contexts_are_distinct() -> None:
    """A certificate signature must not verify as an invite (domain separation)."""
    member = key("m")
    cert = DeviceCertificate.issue(member, ASSEMBLY, key("d").public, 5)
    as_invite = Invite(ASSEMBLY, member.public, key("d").public, 5, cert.signature)
    with pytest.raises(InvalidSignature):
        as_invite.verify()


def test_client_id_is_derived_in_range_and_distinct() -> None:
    ids = {yjs_client_id(key(f"d{i}").public) for i in range(2000)}
    assert len(ids) == 2000
    assert all(1 <= i < 2**53 for i in ids)
    assert yjs_client_id(key("d1").public) == yjs_client_id(key("d1").public)


def test_assembly_id_binds_founder_and_nonce() -> None:
    a = assembly_id_for(key("f").public, b"n1")
    assert len(a) == 16
    assert a != assembly_id_for(key("f").public, b"n2")
    assert a != assembly_id_for(key("g").public, b"n1")


def test_key_file_round_trip_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "device.key"
    k = SigningKey.generate()
    write_key_file(path, k)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_key_file(path).public == k.public


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    write_key_file(path, SigningKey.generate())
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)


@pytest.mark.parametrize("content", ["", "zz", "00" * 31, "00" * 33])
def test_malformed_key_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "device.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="malformed"):
        read_key_file(path)


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(tmp_path / "nope.key")
