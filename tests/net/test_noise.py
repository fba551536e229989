"""The Noise implementation against the cacophony vectors, plus failure behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assemblymesh.errors import HandshakeError, ProtocolError, UsageError
from assemblymesh.net.noise import (
    MAX_NONCE,
    CipherState,
    HandshakeState,
    KeyPair,
    parse_protocol_name,
)

# The checkout lives beside the shared directory that holds the published vectors.
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "noise" / "cacophony.txt"
SUITE = "_25519_ChaChaPoly_BLAKE2b"
FUNDAMENTAL = {"NN", "NK", "NX", "XN", "XK", "XX", "KN", "KK", "KX", "IN", "IK", "IX"}


def _supported(name: str) -> bool:
    if not name.endswith(SUITE):
        return False
    try:
        parse_protocol_name(name)
    except UsageError:
        return False
    return True


def _load_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        return []
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [v for v in data["vectors"] if _supported(v["protocol_name"])]


_VECTORS = _load_vectors()


def _b(vector: dict[str, Any], key: str) -> bytes | None:
    value = vector.get(key)
    return bytes.fromhex(value) if value is not None else None


def _kp(vector: dict[str, Any], key: str) -> KeyPair | None:
    private = _b(vector, key)
    return KeyPair.from_private(private) if private is not None else None


def _side(vector: dict[str, Any], prefix: str) -> HandshakeState:
    return HandshakeState(
        vector["protocol_name"],
        initiator=prefix == "init",
        prologue=_b(vector, f"{prefix}_prologue") or b"",
        s=_kp(vector, f"{prefix}_static"),
        e=_kp(vector, f"{prefix}_ephemeral"),
        rs=_b(vector, f"{prefix}_remote_static"),
        psks=[bytes.fromhex(p) for p in vector.get(f"{prefix}_psks", [])],
    )


def test_vectors_present_and_cover_every_fundamental_pattern() -> None:
    if not VECTORS.exists():
        pytest.skip(f"Noise vectors not found at {VECTORS}")
    bases = {parse_protocol_name(v["protocol_name"]).name[:2] for v in _VECTORS}
    assert bases == FUNDAMENTAL
    assert any("psk" in v["protocol_name"] for v in _VECTORS)


@pytest.mark.parametrize("vector", _VECTORS, ids=[v["protocol_name"] for v in _VECTORS])
def test_cacophony_vector(vector: dict[str, Any]) -> None:
    initiator = _side(vector, "init")
    responder = _side(vector, "resp")
    n_handshake = len(initiator.pattern.messages)
    send_i = recv_i = send_r = recv_r = None
    for index, message in enumerate(vector["messages"]):
        payload = bytes.fromhex(message["payload"])
        ciphertext = bytes.fromhex(message["ciphertext"])
        from_initiator = index % 2 == 0
        if index < n_handshake:
            writer, reader = (initiator, responder) if from_initiator else (responder, initiator)
            assert writer.write_message(payload) == ciphertext
            assert reader.read_message(ciphertext) == payload
            if index == n_handshake - 1:
                assert initiator.finished and responder.finished
                expected = _b(vector, "handshake_hash")
                assert initiator.handshake_hash == responder.handshake_hash == expected
                send_i, recv_i = initiator.split()
                recv_r, send_r = responder.split()
        else:
            assert send_i and recv_i and send_r and recv_r
            sender, receiver = (send_i, recv_r) if from_initiator else (send_r, recv_i)
            assert sender.encrypt_with_ad(b"", payload) == ciphertext
            assert receiver.decrypt_with_ad(b"", ciphertext) == payload


# --- unit tests -----------------------------------------------------------------------------

XX = "Noise_XX_25519_ChaChaPoly_BLAKE2b"
KEY = bytes(range(32))


def _keys(seed: int) -> KeyPair:
    return KeyPair.from_private(bytes([seed]) * 32)


def _xx_pair() -> tuple[HandshakeState, HandshakeState]:
    i = HandshakeState(XX, initiator=True, s=_keys(1), e=_keys(2))
    r = HandshakeState(XX, initiator=False, s=_keys(3), e=_keys(4))
    return i, r


def test_xx_learns_remote_static_keys() -> None:
    i, r = _xx_pair()
    r.read_message(i.write_message(b""))
    i.read_message(r.write_message(b"hello"))
    r.read_message(i.write_message(b""))
    assert i.remote_static == _keys(3).public
    assert r.remote_static == _keys(1).public


@pytest.mark.parametrize("position", [0, 31, 32, 50, 95])
def test_tampered_handshake_message_rejected(position: int) -> None:
    i, r = _xx_pair()
    r.read_message(i.write_message(b""))
    message = bytearray(r.write_message(b""))
    message[position] ^= 0x01
    with pytest.raises(HandshakeError):
        i.read_message(bytes(message))
    # A failed state stays failed.
    with pytest.raises(UsageError):
        i.write_message(b"")


def test_truncated_handshake_message_rejected() -> None:
    i, r = _xx_pair()
    r.read_message(i.write_message(b""))
    message = r.write_message(b"")
    with pytest.raises(HandshakeError, match="truncated"):
        i.read_message(message[:40])


def test_low_order_public_key_rejected() -> None:
    i = HandshakeState("Noise_NN_25519_ChaChaPoly_BLAKE2b", initiator=True, e=_keys(2))
    r = HandshakeState("Noise_NN_25519_ChaChaPoly_BLAKE2b", initiator=False, e=_keys(4))
    i.write_message(b"")
    r.read_message(b"\x00" * 32)  # the identity point: any DH with it gives zeros
    with pytest.raises(HandshakeError, match="invalid public key"):
        r.write_message(b"")


def test_tampered_transport_message_rejected_and_nonce_kept() -> None:
    sender, receiver = CipherState(KEY), CipherState(KEY)
    good = sender.encrypt_with_ad(b"", b"payload")
    bad = bytearray(good)
    bad[-1] ^= 0x80
    with pytest.raises(ProtocolError):
        receiver.decrypt_with_ad(b"", bytes(bad))
    assert receiver.nonce == 0
    assert receiver.decrypt_with_ad(b"", good) == b"payload"


def test_short_transport_message_rejected() -> None:
    with pytest.raises(ProtocolError):
        CipherState(KEY).decrypt_with_ad(b"", b"short")


def test_nonce_exhaustion_refused() -> None:
    sender, receiver = CipherState(KEY), CipherState(KEY)
    sender.set_nonce(MAX_NONCE - 1)
    receiver.set_nonce(MAX_NONCE - 1)
    last = sender.encrypt_with_ad(b"", b"last")
    assert receiver.decrypt_with_ad(b"", last) == b"last"
    with pytest.raises(UsageError, match="exhausted"):
        sender.encrypt_with_ad(b"", b"one too many")
    with pytest.raises(ProtocolError, match="exhausted"):
        receiver.decrypt_with_ad(b"", last)


def test_rekey_changes_key_in_step() -> None:
    a, b = CipherState(KEY), CipherState(KEY)
    a.rekey()
    b.rekey()
    message = a.encrypt_with_ad(b"", b"x")
    assert message != CipherState(KEY).encrypt_with_ad(b"", b"x")
    assert b.decrypt_with_ad(b"", message) == b"x"


@pytest.mark.parametrize(
    "name",
    [
        "Noise_N_25519_ChaChaPoly_BLAKE2b",
        "Noise_XX1_25519_ChaChaPoly_BLAKE2b",
        "Noise_XX_25519_AESGCM_BLAKE2b",
        "Noise_XX_448_ChaChaPoly_BLAKE2b",
        "Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b",
        "Noise_QQ_25519_ChaChaPoly_BLAKE2b",
    ],
)
def test_unsupported_protocols_refused(name: str) -> None:
    with pytest.raises(UsageError):
        parse_protocol_name(name)


def test_psk_modifiers_placed_per_spec() -> None:
    assert parse_protocol_name("Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b").messages[0] == (
        "psk",
        "e",
    )
    combo = parse_protocol_name("Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b")
    assert combo.psk_count == 2
    assert combo.messages[2] == ("s", "se", "psk")


def test_psk_count_checked() -> None:
    with pytest.raises(UsageError, match="psk"):
        HandshakeState("Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b", initiator=True)


def test_out_of_turn_refused() -> None:
    i, r = _xx_pair()
    with pytest.raises(UsageError):
        r.write_message(b"")
    with pytest.raises(UsageError):
        i.read_message(b"\x00" * 48)
    with pytest.raises(UsageError):
        i.split()


def test_oversized_handshake_message_refused() -> None:
    i, _ = _xx_pair()
    with pytest.raises(UsageError, match="65535"):
        i.write_message(b"\x00" * 65535)
    _, r = _xx_pair()
    with pytest.raises(HandshakeError, match="65535"):
        r.read_message(b"\x00" * 65536)


def test_ephemeral_drawn_from_injected_rng() -> None:
    calls: list[int] = []

    def rng(n: int) -> bytes:
        calls.append(n)
        return b"\x07" * n

    i = HandshakeState(XX, initiator=True, s=_keys(1), rng=rng)
    first = i.write_message(b"")
    assert calls == [32]
    assert first[:32] == _keys(7).public
