"""Discovery: the blob (sans-I/O), the labels, what a passer-by sees, and real mDNS on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import msgpack
import nacl.bindings
import pytest
from zeroconf import ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from assemblymesh.crdt.identity import SigningKey, assembly_id_for
from assemblymesh.errors import RemoteError, UsageError
from assemblymesh.net.discovery import (
    BLOB_AD,
    DISCOVERY_KEY_CONTEXT,
    LABEL_ALPHABET,
    LABEL_LENGTH,
    MAX_BLOB_AGE_MS,
    MAX_BLOB_FUTURE_MS,
    NONCE_SIZE,
    SERVICE_TYPE,
    Announcement,
    Discovery,
    DiscoveryConfig,
    DiscoveryError,
    InvalidAnnouncement,
    PeerAddress,
    announcement_for,
    build_service_info,
    device_tag,
    discovery_key,
    new_labels,
    open_blob,
    random_label,
    seal_blob,
)

NOW = 1_750_000_000_000
SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
ASSEMBLY = bytes.fromhex("00112233445566778899aabbccddeeff")
DEVICE = bytes(range(100, 132))
TAG = device_tag(SECRET, DEVICE, NOW)


def announcement(**changes: Any) -> Announcement:
    return replace(Announcement(ASSEMBLY, TAG, 7420, NOW), **changes)


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


# --- the blob ------------------------------------------------------------------------------


def test_round_trip() -> None:
    blob = seal_blob(SECRET, announcement())
    assert open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW) == announcement()
    # The TXT layer hands over bytes: both forms open.
    assert open_blob(SECRET, blob.encode(), assembly_id=ASSEMBLY, now_ms=NOW) == announcement()


def test_blob_layout_matches_the_spec() -> None:
    nonce = bytes(range(24))
    blob = seal_blob(SECRET, announcement(), rng=lambda n: nonce[:n])
    assert re.fullmatch(r"[A-Za-z0-9_-]+", blob)  # unpadded base64url
    raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    assert raw[:NONCE_SIZE] == nonce
    key = nacl.bindings.crypto_generichash_blake2b_salt_personal(
        DISCOVERY_KEY_CONTEXT, digest_size=32, key=SECRET
    )
    assert key == discovery_key(SECRET)
    plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        raw[NONCE_SIZE:], BLOB_AD, nonce, key
    )
    assert msgpack.unpackb(plain) == {
        "assembly": ASSEMBLY,
        "tag": TAG,
        "port": 7420,
        "issued_ms": NOW,
    }
    assert len(blob) == 156  # fits in one TXT string with room to spare


def test_each_seal_is_different() -> None:
    # A fresh nonce per seal: re-sealed blobs cannot be linked by comparing them.
    assert seal_blob(SECRET, announcement()) != seal_blob(SECRET, announcement())


def test_wrong_secret_fails() -> None:
    blob = seal_blob(OTHER_SECRET, announcement())
    with pytest.raises(InvalidAnnouncement, match="does not open"):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


def test_other_assembly_id_fails() -> None:
    blob = seal_blob(SECRET, announcement(assembly_id=bytes(16)))
    with pytest.raises(InvalidAnnouncement, match="another assembly"):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


@pytest.mark.parametrize("position", [0, 23, 24, 60, -1])
def test_tampered_blob_fails(position: int) -> None:
    raw = bytearray(base64.urlsafe_b64decode(seal_blob(SECRET, announcement()) + "=="))
    raw[position] ^= 0x01
    blob = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=")
    with pytest.raises(InvalidAnnouncement, match="does not open"):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


def test_other_associated_data_fails() -> None:
    # A blob of version 1 (which named the device key) does not open as version 2.
    nonce = os.urandom(24)
    plain = msgpack.packb({"assembly": ASSEMBLY, "device": DEVICE, "port": 1, "issued_ms": NOW})
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plain, b"assemblymesh/discovery-blob/v1\x00", nonce, discovery_key(SECRET)
    )
    blob = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=")
    with pytest.raises(InvalidAnnouncement, match="does not open"):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


def test_freshness_window() -> None:
    def opens(issued_ms: int) -> bool:
        blob = seal_blob(SECRET, announcement(issued_ms=issued_ms))
        try:
            open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)
        except InvalidAnnouncement:
            return False
        return True

    assert opens(NOW - MAX_BLOB_AGE_MS)
    assert not opens(NOW - MAX_BLOB_AGE_MS - 1)
    assert opens(NOW + MAX_BLOB_FUTURE_MS)
    assert not opens(NOW + MAX_BLOB_FUTURE_MS + 1)
    with pytest.raises(InvalidAnnouncement, match="stale"):
        blob = seal_blob(SECRET, announcement(issued_ms=NOW - 2 * MAX_BLOB_AGE_MS))
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)
    with pytest.raises(InvalidAnnouncement, match="future"):
        blob = seal_blob(SECRET, announcement(issued_ms=NOW + 2 * MAX_BLOB_FUTURE_MS))
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


def _seal_payload(payload: Any) -> str:
    nonce = os.urandom(24)
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        msgpack.packb(payload), BLOB_AD, nonce, discovery_key(SECRET)
    )
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


GOOD_PAYLOAD = {"assembly": ASSEMBLY, "tag": TAG, "port": 7420, "issued_ms": NOW}


@pytest.mark.parametrize(
    "blob",
    [
        "",
        "A",
        "AAAA",
        "not base64 at all!",
        "AAAA====",
        base64.urlsafe_b64encode(os.urandom(120)).decode(),  # padded form is refused too
        base64.urlsafe_b64encode(os.urandom(39)).decode(),  # one byte short of nonce + tag
        base64.urlsafe_b64encode(os.urandom(150)).decode(),
        "A" * 400,
        "é" * 20,
    ],
)
def test_garbage_is_refused(blob: str) -> None:
    with pytest.raises(InvalidAnnouncement):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        [ASSEMBLY, TAG, 7420, NOW],
        {**GOOD_PAYLOAD, "tag": TAG + b"x"},
        {k: v for k, v in GOOD_PAYLOAD.items() if k != "tag"} | {"device": DEVICE},
        {**GOOD_PAYLOAD, "extra": 1},
        {k: v for k, v in GOOD_PAYLOAD.items() if k != "port"},
        {**GOOD_PAYLOAD, "assembly": ASSEMBLY[:15]},
        {**GOOD_PAYLOAD, "tag": "x" * 16},
        {**GOOD_PAYLOAD, "port": 0},
        {**GOOD_PAYLOAD, "port": 65536},
        {**GOOD_PAYLOAD, "port": True},
        {**GOOD_PAYLOAD, "issued_ms": -1},
        {**GOOD_PAYLOAD, "issued_ms": float(NOW)},
    ],
)
def test_malformed_payload_is_refused(payload: Any) -> None:
    assert open_blob(SECRET, _seal_payload(GOOD_PAYLOAD), assembly_id=ASSEMBLY, now_ms=NOW)
    with pytest.raises(InvalidAnnouncement, match="payload"):
        open_blob(SECRET, _seal_payload(payload), assembly_id=ASSEMBLY, now_ms=NOW)


def test_trailing_bytes_in_payload_are_refused() -> None:
    nonce = os.urandom(24)
    plain = msgpack.packb(GOOD_PAYLOAD) + b"\x00"
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plain, BLOB_AD, nonce, discovery_key(SECRET)
    )
    blob = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=")
    with pytest.raises(InvalidAnnouncement, match="payload"):
        open_blob(SECRET, blob, assembly_id=ASSEMBLY, now_ms=NOW)


def test_invalid_announcement_is_a_remote_error() -> None:
    assert issubclass(InvalidAnnouncement, RemoteError)


def test_sealing_refuses_bad_input() -> None:
    with pytest.raises(UsageError):
        seal_blob(SECRET[:31], announcement())
    with pytest.raises(UsageError):
        seal_blob(SECRET, announcement(port=0))
    with pytest.raises(UsageError):
        seal_blob(SECRET, announcement(tag=TAG[:15]))
    with pytest.raises(UsageError):
        seal_blob(SECRET, announcement(), rng=lambda n: b"\x00" * (n - 1))


# --- labels --------------------------------------------------------------------------------


def test_label_format() -> None:
    for _ in range(50):
        label = random_label()
        assert len(label) == LABEL_LENGTH
        assert set(label) <= set(LABEL_ALPHABET)


def test_labels_are_deterministic_with_a_seeded_rng() -> None:
    assert new_labels(seeded(7)) == new_labels(seeded(7))
    assert new_labels(seeded(7)) != new_labels(seeded(8))
    rng_a, rng_b = seeded(42), seeded(42)
    assert [new_labels(rng_a) for _ in range(20)] == [new_labels(rng_b) for _ in range(20)]


def test_labels_differ_across_rotations() -> None:
    rng = seeded(1)
    periods = [new_labels(rng) for _ in range(200)]
    names = [p.instance for p in periods] + [p.host for p in periods]
    assert len(set(names)) == len(names)
    for p in periods:
        assert p.service_name == f"{p.instance}.{SERVICE_TYPE}"
        assert p.server == f"{p.host}.local."


def test_labels_use_every_character() -> None:
    # Each byte is taken modulo 32: with 256 bytes every character must turn up.
    label_chars = "".join(random_label(seeded(i)) for i in range(200))
    assert set(label_chars) == set(LABEL_ALPHABET)


# --- what a passer-by sees -------------------------------------------------------------------


def _encodings(value: bytes) -> list[bytes]:
    """The ways a value could leak into a text field: raw, hex, and base64 at any alignment."""
    forms = [value, value.hex().encode(), value.hex().upper().encode()]
    for shift in range(3):
        padded = b"\x00" * shift + value
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(padded).rstrip(b"=")
            # Drop the characters that also depend on the neighbouring bytes.
            start = (shift * 8 + 5) // 6 + 1
            forms.append(text[start:-2])
    return forms


def test_advertisement_reveals_nothing_about_the_assembly() -> None:
    name = "Riverside Tenants"
    founder = SigningKey(bytes(range(32, 64)))  # the member key
    device = SigningKey(bytes(range(64, 96)))
    assembly = assembly_id_for(founder.public, b"riverside-nonce!")
    secret = bytes(range(96, 128))
    rng = seeded(3)
    labels = new_labels(rng)
    blob = seal_blob(secret, announcement_for(secret, assembly, device.public, 7420, NOW), rng=rng)
    info = build_service_info(labels, 7420, blob, ["127.0.0.1"])

    props = info.properties
    assert set(props) == {b"v", b"b"}
    assert props[b"v"] == b"2"
    fields: list[bytes] = [
        info.name.encode(),
        info.type.encode(),
        (info.server or "").encode(),
        info.text,
        *props.keys(),
        *(v or b"" for v in props.values()),
    ]
    # Blob bytes decoded, in case a secret sits in the clear inside the base64.
    fields.append(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    secrets = {
        "assembly name": name.encode(),
        "assembly name (lower)": name.lower().encode(),
        "assembly id": assembly,
        "device key": device.public,
        "member key": founder.public,
        "assembly secret": secret,
        "discovery key": discovery_key(secret),
    }
    for what, value in secrets.items():
        for form in _encodings(value):
            for f in fields:
                assert form.lower() not in f.lower(), f"{what} leaks into {f!r}"
    # The names are the random labels and the service type, nothing else.
    assert info.name == f"{labels.instance}.{SERVICE_TYPE}"
    assert info.server == f"{labels.host}.local."


def test_encodings_helper_finds_a_leak() -> None:
    # The privacy test is only as good as its detector: plant a key and find it.
    key = DEVICE
    for prefix in (b"", b"x", b"xy"):
        planted = base64.urlsafe_b64encode(prefix + key)
        assert any(form in planted for form in _encodings(key))
    assert any(form in key.hex().encode() for form in _encodings(key))


# --- configuration -------------------------------------------------------------------------


def _config(**changes: Any) -> DiscoveryConfig:
    base = DiscoveryConfig(
        assembly_id=ASSEMBLY,
        assembly_secret=SECRET,
        device=DEVICE,
        port=7420,
        on_peer=lambda peer: None,
        interfaces=["127.0.0.1"],
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"assembly_id": b"short"},
        {"assembly_secret": b"short"},
        {"device": b"short"},
        {"port": 0},
        {"rotate_every_s": 0},
        {"rotate_every_s": MAX_BLOB_AGE_MS / 1000},
        {"rescan_every_s": 0},
        {"interfaces": []},
        {"interfaces": ["eth0"]},
    ],
)
def test_config_refuses_bad_values(changes: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        _config(**changes)


async def test_rotate_and_rescan_need_a_running_discovery() -> None:
    d = Discovery(_config())
    with pytest.raises(UsageError):
        await d.rotate()
    with pytest.raises(UsageError):
        await d.rescan_interfaces()
    await d.stop()  # stopping what never started is harmless
    assert d.labels is None


async def test_start_on_a_missing_address_is_a_discovery_error() -> None:
    # 198.51.100.0/24 is TEST-NET-2, assigned to no machine, so no socket can bind to it.
    d = Discovery(_config(interfaces=["198.51.100.254"]))
    with pytest.raises(DiscoveryError):
        await d.start()
    await d.stop()


# --- real mDNS over loopback -----------------------------------------------------------------

TIMEOUT = 30.0  # a failure guard only: on loopback discovery takes about a second


def _loopback_multicast_works() -> bool:
    """Whether an IPv4 multicast datagram sent via 127.0.0.1 comes back on 127.0.0.1."""
    group = "224.0.0.251"
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        recv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        recv.bind(("0.0.0.0", 0))
        port = recv.getsockname()[1]
        mreq = socket.inet_aton(group) + socket.inet_aton("127.0.0.1")
        recv.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        send.sendto(b"probe", (group, port))
        recv.settimeout(5.0)  # failure guard
        return recv.recv(16) == b"probe"
    except OSError:
        return False
    finally:
        recv.close()
        send.close()


requires_loopback_multicast = pytest.mark.skipif(
    not _loopback_multicast_works(),
    reason="IPv4 multicast sent with IP_MULTICAST_IF=127.0.0.1 is not delivered back on this"
    " host; run inside `unshare -rn` after `ip link set lo up` and"
    " `ip link set lo multicast on`",
)

CHILD = r"""
import asyncio, json, sys
from assemblymesh.net.discovery import Discovery, DiscoveryConfig

async def main() -> None:
    args = json.loads(sys.argv[1])
    def on_peer(peer):
        print("peer", peer.host, peer.port, flush=True)
    config = DiscoveryConfig(
        assembly_id=bytes.fromhex(args["assembly"]),
        assembly_secret=bytes.fromhex(args["secret"]),
        device=bytes.fromhex(args["device"]),
        port=args["port"],
        on_peer=on_peer,
        interfaces=["127.0.0.1"],
    )
    async with Discovery(config) as d:
        print("ready", d.service_name, flush=True)
        # Run until the parent closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print("stopped", flush=True)

asyncio.run(main())
"""


@dataclass
class Child:
    proc: asyncio.subprocess.Process
    service_name: str
    lines: list[str] = field(default_factory=list)

    async def expect(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
            if not raw:
                err = b""
                if self.proc.stderr is not None:
                    err = await self.proc.stderr.read()
                raise AssertionError(f"child ended before {prefix!r}: {err.decode()[-2000:]}")
            line = raw.decode().strip()
            self.lines.append(line)
            if line.startswith(prefix):
                return line


@dataclass
class Node:
    assembly: bytes
    secret: bytes
    device: bytes
    port: int


def make_node(assembly: bytes, secret: bytes, port: int) -> Node:
    return Node(assembly, secret, SigningKey.generate().public, port)


async def spawn(node: Node) -> Child:
    args = json.dumps(
        {
            "assembly": node.assembly.hex(),
            "secret": node.secret.hex(),
            "device": node.device.hex(),
            "port": node.port,
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    child = Child(proc, "")
    try:
        line = await child.expect("ready")
    except BaseException:
        proc.kill()
        await proc.communicate()
        raise
    child.service_name = line.split()[1]
    return child


async def finish(child: Child) -> None:
    """Close the child's stdin so it stops (sending goodbyes), and wait for it to exit."""
    assert child.proc.stdin is not None
    child.proc.stdin.close()
    try:
        out, err = await asyncio.wait_for(child.proc.communicate(), TIMEOUT)
    except TimeoutError:
        child.proc.kill()
        await child.proc.communicate()
        raise
    child.lines.extend(out.decode().split("\n"))
    assert child.proc.returncode == 0, err.decode()[-2000:]
    assert "stopped" in child.lines


class Recorder:
    """Collects what a Discovery reports, so a test can wait for a condition."""

    def __init__(self) -> None:
        self.peers: list[PeerAddress] = []
        self.ignored: list[tuple[str, str]] = []
        self.changed = asyncio.Condition()

    async def on_peer(self, peer: PeerAddress) -> None:
        async with self.changed:
            self.peers.append(peer)
            self.changed.notify_all()

    def on_ignored(self, name: str, reason: str) -> None:
        self.ignored.append((name, reason))
        asyncio.get_running_loop().create_task(self._poke())

    async def _poke(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), TIMEOUT)


@pytest.fixture
async def children() -> AsyncIterator[list[Child]]:
    spawned: list[Child] = []
    yield spawned
    for child in spawned:
        if child.proc.returncode is None:
            child.proc.kill()
            await child.proc.communicate()


@requires_loopback_multicast
async def test_two_processes_find_each_other_and_ignore_another_assembly(
    children: list[Child],
) -> None:
    assembly, secret = os.urandom(16), os.urandom(32)  # fresh, so no other run interferes
    member = make_node(assembly, secret, 40101)
    stranger = make_node(os.urandom(16), os.urandom(32), 40102)
    me = make_node(assembly, secret, 40100)
    rec = Recorder()
    config = DiscoveryConfig(
        assembly_id=me.assembly,
        assembly_secret=me.secret,
        device=me.device,
        port=me.port,
        on_peer=rec.on_peer,
        on_ignored=rec.on_ignored,
        interfaces=["127.0.0.1"],
    )
    async with Discovery(config) as discovery:
        foreign = await spawn(stranger)
        children.append(foreign)
        friend = await spawn(member)
        children.append(friend)
        # Another advertisement of our own device (as after a restart, before the old one
        # expired) must not be reported as a peer.
        twin = await spawn(replace(me, port=40103))
        children.append(twin)

        # We learn the member's device and port ...
        await rec.until(lambda: any(p.port == member.port for p in rec.peers))
        # ... and the stranger's advertisement was seen, resolved, and refused.
        await rec.until(lambda: any(name == foreign.service_name for name, _ in rec.ignored))
        await rec.until(lambda: (twin.service_name, "own device") in rec.ignored)
        # Our own advertisement is seen and skipped by name.
        own = discovery.service_name
        await rec.until(lambda: (own, "own advertisement") in rec.ignored)
        # The member finds us too.
        line = await friend.expect(f"peer 127.0.0.1 {me.port}")
        assert line.split()[1:] == ["127.0.0.1", str(me.port)]

        # Peers are known by address; their tags change with every advertisement.
        assert {(p.host, p.port) for p in rec.peers} == {("127.0.0.1", member.port)}
        assert all(isinstance(p, PeerAddress) and len(p.tag) == 16 for p in rec.peers)
        reasons = {reason for name, reason in rec.ignored if name == foreign.service_name}
        assert reasons == {"blob does not open with this assembly's key"}
        # Repeated announcements of the same advertisement are reported once.
        assert len(rec.peers) == len(set(rec.peers))
        assert discovery.service_name is not None

        # A rescan with no new interface keeps the advertisement as it is.
        before = discovery.labels
        await discovery.rescan_interfaces()
        assert discovery.labels == before

        for child in (foreign, friend, twin):
            await finish(child)
    # The stranger never learned about us either (it could not open our blob).
    assert not any(line.startswith("peer") for line in foreign.lines)


@requires_loopback_multicast
async def test_rotation_sends_goodbyes_and_new_labels() -> None:
    me = make_node(os.urandom(16), os.urandom(32), 40200)
    events: list[tuple[str, ServiceStateChange]] = []
    changed = asyncio.Condition()

    def on_change(**kwargs: Any) -> None:
        events.append((kwargs["name"], kwargs["state_change"]))

        async def poke() -> None:
            async with changed:
                changed.notify_all()

        asyncio.get_running_loop().create_task(poke())

    async def until(predicate: Callable[[], bool]) -> None:
        async with changed:
            await asyncio.wait_for(changed.wait_for(predicate), TIMEOUT)

    config = DiscoveryConfig(
        assembly_id=me.assembly,
        assembly_secret=me.secret,
        device=me.device,
        port=me.port,
        on_peer=lambda peer: None,
        interfaces=["127.0.0.1"],
        rng=seeded(99),
    )
    observer = AsyncZeroconf(interfaces=["127.0.0.1"])
    browser = AsyncServiceBrowser(observer.zeroconf, SERVICE_TYPE, handlers=[on_change])
    try:
        async with Discovery(config) as discovery:
            first = discovery.labels
            assert first is not None
            await until(lambda: (first.service_name, ServiceStateChange.Added) in events)
            await discovery.rotate()
            second = discovery.labels
            assert second is not None
            assert second.instance != first.instance and second.host != first.host
            # Goodbyes went out for the old name, and the new one is announced.
            await until(lambda: (first.service_name, ServiceStateChange.Removed) in events)
            await until(lambda: (second.service_name, ServiceStateChange.Added) in events)
        await until(lambda: (second.service_name, ServiceStateChange.Removed) in events)
    finally:
        await browser.async_cancel()
        await observer.async_close()
    # The rng decides the labels: the same seed gives the same first period.
    rng = seeded(99)
    assert new_labels(rng) == first
