"""LAN discovery over mDNS that tells members everything and passers-by nothing.

The normative description is ``docs/protocol.md`` §6. In short:

* Each node advertises ``_assemblymesh._tcp.local.`` under a random instance label and a
  random host label, both replaced every ``rotate_every_s`` seconds, so names neither say
  which assembly this is nor link one advertisement period to the next.
* The TXT record holds only ``v=1`` and ``b=<blob>``: an XChaCha20-Poly1305 encryption, under
  a key derived from the assembly secret of the current epoch, of the assembly id, a tag
  (a keyed hash of the device key and the time of sealing, so it changes with every
  advertisement and says nothing to anyone who cannot open the blob), the sync port and the
  time of sealing. Members open it; for anyone else, a holder of an old invite included,
  it is random bytes.
* A browser resolves every advertisement it sees, opens the blob, and reports peers of its
  own assembly (other than itself) to the ``on_peer`` callback. An advertisement whose blob
  does not open is some other assembly's, or noise, and is dropped quietly.

Nothing here is trusted for more than a hint: addresses come from unauthenticated mDNS
records and a blob can be replayed from elsewhere, so a reported peer is only a place to
attempt the handshake (§3), which is what proves membership.

``seal_blob``, ``open_blob``, ``new_labels`` and ``build_service_info`` are sans-I/O.
``Discovery`` drives python-zeroconf's asyncio API and translates its exceptions (and
``OSError``) into ``assemblymesh.errors`` types.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import inspect
import ipaddress
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ifaddr
import msgpack
import nacl.bindings
import nacl.exceptions
from zeroconf import Error as ZeroconfError
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from assemblymesh.clock import Clock, wall_clock_ms
from assemblymesh.crdt.identity import ASSEMBLY_ID_SIZE, KEY_SIZE
from assemblymesh.errors import DiscoveryError, InvalidAnnouncement, UsageError
from assemblymesh.i18n import _
from assemblymesh.net.credentials import Credentials, Keyring
from assemblymesh.net.lifecycle import Lifecycle
from assemblymesh.net.noise import Rng

__all__ = [
    "DISCOVERY_VERSION",
    "SERVICE_TYPE",
    "TAG_SIZE_BYTES",
    "Announcement",
    "Discovery",
    "DiscoveryConfig",
    "DiscoveryError",
    "IgnoredCallback",
    "InvalidAnnouncement",
    "PeerAddress",
    "PeerCallback",
    "ServiceLabels",
    "announcement_for",
    "build_service_info",
    "device_tag",
    "discovery_key",
    "local_addresses",
    "new_labels",
    "open_blob",
    "open_blob_with",
    "quiet_zeroconf",
    "random_label",
    "seal_blob",
]

log = logging.getLogger(__name__)

SERVICE_TYPE = "_assemblymesh._tcp.local."
DISCOVERY_VERSION = 2
DISCOVERY_KEY_CONTEXT = b"assemblymesh/discovery/v1\x00"
# The AEAD associated data names the protocol and its version, so a blob sealed for another
# version of the format never opens as this one.
BLOB_AD = b"assemblymesh/discovery-blob/v2\x00"
ASSEMBLY_SECRET_SIZE = 32
NONCE_SIZE = 24  # XChaCha20: large enough that random nonces never repeat in practice
TAG_SIZE = 16
LABEL_LENGTH = 12
# RFC 4648 base32 alphabet, lower-cased: valid in DNS labels and 256 / 32 divides evenly, so
# taking each random byte modulo 32 gives uniform characters (60 bits per label).
LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

MAX_BLOB_AGE_MS = 60 * 60 * 1000
MAX_BLOB_FUTURE_MS = 10 * 60 * 1000
# A TXT string is at most 255 bytes; a genuine blob is 182 characters. Anything far longer is
# refused before it is decoded.
MAX_BLOB_TEXT = 255

DEFAULT_ROTATE_EVERY_S = 15 * 60.0
DEFAULT_RESCAN_EVERY_S = 60.0
DEFAULT_RESOLVE_TIMEOUT_MS = 3000
# A stranger can announce as many services as it likes; each costs us a resolve. Past this many
# resolves in flight, new announcements are dropped until some finish.
MAX_PENDING_RESOLVES = 64

_PAYLOAD_KEYS = frozenset({"assembly", "tag", "port", "issued_ms"})
TAG_SIZE_BYTES = 16
TAG_CONTEXT = b"assemblymesh/discovery-tag/v1\x00"


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a blob says: the device whose tag is ``tag`` (``device_tag``) of ``assembly_id``
    syncs on ``port``."""

    assembly_id: bytes
    tag: bytes
    port: int
    issued_ms: int


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """A place to try the handshake with the advertiser of ``tag``: a host (IP literal) and
    TCP port. The handshake, not the tag, says which device it is."""

    tag: bytes
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class ServiceLabels:
    """The two random DNS labels one advertisement period uses."""

    instance: str
    host: str

    @property
    def service_name(self) -> str:
        return f"{self.instance}.{SERVICE_TYPE}"

    @property
    def server(self) -> str:
        return f"{self.host}.local."


PeerCallback = Callable[[PeerAddress], Awaitable[None] | None]
# Called with (service name, reason) for every advertisement that was resolved and refused.
IgnoredCallback = Callable[[str, str], None]


# --- sans-I/O: keys, blobs, labels -----------------------------------------------------------


def discovery_key(assembly_secret: bytes) -> bytes:
    """The blob key: keyed BLAKE2b-256 (key = assembly secret) of ``DISCOVERY_KEY_CONTEXT``."""
    if len(assembly_secret) != ASSEMBLY_SECRET_SIZE:
        raise UsageError("an assembly secret must be 32 bytes")
    return hashlib.blake2b(DISCOVERY_KEY_CONTEXT, key=assembly_secret, digest_size=32).digest()


def device_tag(assembly_secret: bytes, device: bytes, issued_ms: int) -> bytes:
    """The tag a device puts in a blob sealed at ``issued_ms``: keyed BLAKE2b-128 (key = the
    discovery key) of the context, the device key and ``u64be(issued_ms)``. It changes with
    every blob; only a holder of the secret who knows the device key can recognise it."""
    if len(device) != KEY_SIZE or not 0 <= issued_ms < 2**64:
        raise UsageError("a device key is 32 bytes and issued_ms fits 64 bits")
    data = TAG_CONTEXT + device + issued_ms.to_bytes(8, "big")
    key = discovery_key(assembly_secret)
    return hashlib.blake2b(data, key=key, digest_size=TAG_SIZE_BYTES).digest()


def announcement_for(
    assembly_secret: bytes, assembly_id: bytes, device: bytes, port: int, issued_ms: int
) -> Announcement:
    """What ``device`` announces at ``issued_ms``, its tag made with ``assembly_secret``."""
    return Announcement(
        assembly_id, device_tag(assembly_secret, device, issued_ms), port, issued_ms
    )


def _check_announcement(a: Announcement) -> None:
    if len(a.assembly_id) != ASSEMBLY_ID_SIZE:
        raise UsageError("an assembly id must be 16 bytes")
    if len(a.tag) != TAG_SIZE_BYTES:
        raise UsageError(f"a tag must be {TAG_SIZE_BYTES} bytes")
    if not 1 <= a.port <= 65535:
        raise UsageError(f"port {a.port} is not a TCP port")
    if a.issued_ms < 0:
        raise UsageError("issued_ms cannot be negative")


def seal_blob(assembly_secret: bytes, announcement: Announcement, *, rng: Rng = os.urandom) -> str:
    """Encrypt ``announcement`` for the members of its assembly; return the TXT ``b`` value."""
    _check_announcement(announcement)
    key = discovery_key(assembly_secret)
    plaintext: bytes = msgpack.packb(
        {
            "assembly": announcement.assembly_id,
            "tag": announcement.tag,
            "port": announcement.port,
            "issued_ms": announcement.issued_ms,
        },
        use_bin_type=True,
    )
    nonce = rng(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise UsageError("the rng returned the wrong number of bytes")
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, BLOB_AD, nonce, key
    )
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def _decode_blob_text(blob: str | bytes) -> bytes:
    raw = blob.encode("ascii", "replace") if isinstance(blob, str) else bytes(blob)
    if len(raw) > MAX_BLOB_TEXT:
        raise InvalidAnnouncement("blob is too long")
    # Unpadded base64url only, so that a blob has exactly one text form.
    if b"=" in raw or len(raw) % 4 == 1:
        raise InvalidAnnouncement("blob is not unpadded base64url")
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidAnnouncement("blob is not unpadded base64url") from exc


def open_blob(
    assembly_secret: bytes,
    blob: str | bytes,
    *,
    assembly_id: bytes,
    now_ms: int,
    max_age_ms: int = MAX_BLOB_AGE_MS,
    max_future_ms: int = MAX_BLOB_FUTURE_MS,
) -> Announcement:
    """Open a TXT ``b`` value; raise ``InvalidAnnouncement`` unless it is ours and fresh."""
    data = _decode_blob_text(blob)
    if len(data) < NONCE_SIZE + TAG_SIZE:
        raise InvalidAnnouncement("blob is too short")
    key = discovery_key(assembly_secret)
    try:
        plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            data[NONCE_SIZE:], BLOB_AD, data[:NONCE_SIZE], key
        )
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as exc:
        raise InvalidAnnouncement("blob does not open with this assembly's key") from exc
    ann = _announcement_from(plaintext)
    if ann.assembly_id != assembly_id:
        raise InvalidAnnouncement("blob names another assembly")
    if now_ms - ann.issued_ms > max_age_ms:
        raise InvalidAnnouncement(f"blob is stale ({now_ms - ann.issued_ms} ms old)")
    if ann.issued_ms - now_ms > max_future_ms:
        raise InvalidAnnouncement(f"blob is from the future ({ann.issued_ms - now_ms} ms ahead)")
    return ann


def open_blob_with(
    keyring: Keyring, blob: str | bytes, assembly_id: bytes, now_ms: int
) -> tuple[Announcement, bytes] | InvalidAnnouncement:
    """Open ``blob`` with each epoch root the keyring reads (the current epoch first, then
    earlier ones within their grace period): the announcement and the secret that opened
    it, or why none did."""
    failure = InvalidAnnouncement("blob does not open with this assembly's key")
    for root in keyring.read:
        try:
            return open_blob(root.secret, blob, assembly_id=assembly_id, now_ms=now_ms), root.secret
        except InvalidAnnouncement as exc:
            failure = exc
    return failure


def _announcement_from(plaintext: bytes) -> Announcement:
    try:
        fields = msgpack.unpackb(plaintext, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types on bad input
        raise InvalidAnnouncement("blob payload is not msgpack") from exc
    if not isinstance(fields, dict) or set(fields) != _PAYLOAD_KEYS:
        raise InvalidAnnouncement("blob payload has the wrong fields")
    assembly, tag, port, issued = (
        fields["assembly"],
        fields["tag"],
        fields["port"],
        fields["issued_ms"],
    )
    if not (
        isinstance(assembly, bytes)
        and len(assembly) == ASSEMBLY_ID_SIZE
        and isinstance(tag, bytes)
        and len(tag) == TAG_SIZE_BYTES
        and type(port) is int
        and 1 <= port <= 65535
        and type(issued) is int
        and issued >= 0
    ):
        raise InvalidAnnouncement("blob payload is malformed")
    return Announcement(assembly, tag, port, issued)


def random_label(rng: Rng = os.urandom) -> str:
    """``LABEL_LENGTH`` random characters from ``LABEL_ALPHABET``."""
    raw = rng(LABEL_LENGTH)
    if len(raw) != LABEL_LENGTH:
        raise UsageError("the rng returned the wrong number of bytes")
    return "".join(LABEL_ALPHABET[b & 31] for b in raw)


def new_labels(rng: Rng = os.urandom) -> ServiceLabels:
    """Fresh instance and host labels for one advertisement period."""
    return ServiceLabels(instance=random_label(rng), host=random_label(rng))


def build_service_info(
    labels: ServiceLabels, port: int, blob: str, addresses: Sequence[str]
) -> AsyncServiceInfo:
    """The service advertised for one period: random names, the port, ``v`` and ``b`` only."""
    return AsyncServiceInfo(
        SERVICE_TYPE,
        labels.service_name,
        port=port,
        properties={"v": str(DISCOVERY_VERSION), "b": blob},
        server=labels.server,
        parsed_addresses=list(addresses),
    )


def local_addresses(
    interfaces: Sequence[str] | None, listen_hosts: Sequence[str] | None = None
) -> list[str]:
    """The addresses to advertise: the chosen ones, or every address up now that a peer can
    dial, restricted to what the node listens on (``listen_hosts``).

    Never advertised: loopback, and IPv6 link-local addresses (they need a scope id that
    only the receiving side knows, and peers dialled them unscoped for ever). A wildcard
    listen host (``::`` or ``0.0.0.0``) admits its family; a specific one only itself.
    """
    if interfaces is not None:
        found = [str(ipaddress.ip_address(i.split("%", 1)[0])) for i in interfaces]
    else:
        found = _interface_addresses()
    if listen_hosts is None:
        return found
    families = {6 if ":" in h else 4 for h in listen_hosts if h in ("::", "0.0.0.0")}
    exact = {h for h in listen_hosts if h not in ("::", "0.0.0.0")}
    return [a for a in found if a in exact or ipaddress.ip_address(a).version in families]


def _interface_addresses() -> list[str]:
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            try:
                addr = ipaddress.ip_address(text)
            except ValueError:
                continue
            if addr.is_loopback or (addr.version == 6 and addr.is_link_local):
                continue
            if str(addr) not in found:
                found.append(str(addr))
    return found


def _dialable(hosts: Sequence[str]) -> list[str]:
    """Drop addresses nobody can dial: IPv6 link-local without a scope id."""
    out = []
    for host in hosts:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            continue
        if addr.version == 6 and addr.is_link_local and "%" not in host:
            continue
        out.append(host)
    return out


class _QuietSocketErrors(logging.Filter):
    """python-zeroconf logs a traceback when a send fails on an unusable interface (``::1``
    in a network namespace: network unreachable). Keep one line, at debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, OSError):
            log.debug("mDNS: %s (%s)", record.getMessage().splitlines()[0][:200], exc)
            return False
        return True


_QUIET = _QuietSocketErrors()


def quiet_zeroconf() -> None:
    """Install (once) the filter that turns zeroconf's socket tracebacks into a debug line."""
    zc_log = logging.getLogger("zeroconf")
    if _QUIET not in zc_log.filters:
        zc_log.addFilter(_QUIET)


def _check_local_addresses(interfaces: Sequence[str]) -> None:
    """Raise ``DiscoveryError`` unless every address is assigned to this machine.

    python-zeroconf leaks its listen socket when it fails to join the group on an absent
    address, so the check is made first, with sockets that are closed at once.
    """
    for iface in interfaces:
        try:
            family = socket.AF_INET6 if ":" in iface else socket.AF_INET
            sockaddr = socket.getaddrinfo(iface, 0, family, socket.SOCK_DGRAM)[0][4]
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.bind(sockaddr)
        except OSError as exc:
            raise DiscoveryError(
                _("address {iface} is not on this machine: {exc}").format(iface=iface, exc=exc)
            ) from exc


# --- the service --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """What one node advertises and how it browses.

    ``interfaces`` are IP addresses (python-zeroconf does not take interface names); None
    means every interface, IPv4 and IPv6. ``clock`` returns milliseconds since the epoch;
    ``rng`` supplies labels and nonces. ``on_peer`` may be sync or async. ``on_ignored`` is a
    diagnostic hook, called with (service name, reason) for every refused advertisement.
    """

    assembly_id: bytes
    assembly_secret: bytes
    device: bytes
    port: int
    on_peer: PeerCallback
    interfaces: Sequence[str] | None = None
    rotate_every_s: float = DEFAULT_ROTATE_EVERY_S
    rescan_every_s: float = DEFAULT_RESCAN_EVERY_S
    resolve_timeout_ms: int = DEFAULT_RESOLVE_TIMEOUT_MS
    clock: Clock = wall_clock_ms
    rng: Rng = os.urandom
    on_ignored: IgnoredCallback | None = None
    # What the node listens on (``::``, ``0.0.0.0``, or specific addresses): only addresses
    # a peer can reach it at are advertised (see ``local_addresses``). None: no filter.
    listen_hosts: Sequence[str] | None = None
    # The epoch roots in use now (sealing with ``seal``, opening with ``read``); None:
    # ``assembly_secret`` alone.
    keyring: Callable[[], Keyring] | None = None

    def keys(self) -> Keyring:
        return Keyring.single(self.assembly_secret) if self.keyring is None else self.keyring()

    @classmethod
    def for_credentials(
        cls, credentials: Credentials, port: int, on_peer: PeerCallback, **options: Any
    ) -> DiscoveryConfig:
        """The config for a node with ``credentials`` (discovery needs no signing key)."""
        return cls(
            assembly_id=credentials.assembly_id,
            assembly_secret=credentials.assembly_secret,
            device=credentials.device,
            port=port,
            on_peer=on_peer,
            keyring=credentials.keys,
            **options,
        )

    def __post_init__(self) -> None:
        if len(self.assembly_id) != ASSEMBLY_ID_SIZE:
            raise UsageError("an assembly id must be 16 bytes")
        if len(self.assembly_secret) != ASSEMBLY_SECRET_SIZE:
            raise UsageError("an assembly secret must be 32 bytes")
        if len(self.device) != KEY_SIZE:
            raise UsageError("a device key must be 32 bytes")
        if not 1 <= self.port <= 65535:
            raise UsageError(f"port {self.port} is not a TCP port")
        # A blob is sealed once per period; it must still be fresh at the end of the period.
        if not 0 < self.rotate_every_s * 1000 < MAX_BLOB_AGE_MS:
            raise UsageError(f"rotate_every_s must be between 0 and {MAX_BLOB_AGE_MS // 1000}")
        if self.rescan_every_s <= 0 or self.resolve_timeout_ms <= 0:
            raise UsageError("rescan interval and resolve timeout must be positive")
        if self.interfaces is not None:
            if not self.interfaces:
                raise UsageError("interfaces must be None (all) or a non-empty list")
            for iface in self.interfaces:
                try:
                    ipaddress.ip_address(iface.split("%", 1)[0])
                except ValueError as exc:
                    raise UsageError(
                        _("interface {iface!r} is not an IP address").format(iface=iface)
                    ) from exc


class Discovery(Lifecycle):
    """Advertise this device and report peers of the same assembly, until stopped.

    Lifecycle as python-zeroconf's own services: ``await start()`` / ``await stop()``, or
    ``async with Discovery(config):``. A peer is reported when one of its addresses becomes
    known; repeats of an advertisement already known are not reported again, but a peer whose
    advertisement went away (goodbye, expiry, rotation) is reported again when it returns.
    """

    def __init__(self, config: DiscoveryConfig) -> None:
        self._config = config
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._labels: ServiceLabels | None = None
        self._addresses: list[str] = []
        self._loops: list[asyncio.Task[None]] = []
        self._resolves: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._known: dict[str, tuple[PeerAddress, ...]] = {}
        self._lock = asyncio.Lock()  # serialises register / rotate / rescan / stop
        self._running = False

    @property
    def labels(self) -> ServiceLabels | None:
        """The labels advertised now (None when stopped)."""
        return self._labels

    @property
    def service_name(self) -> str | None:
        return self._labels.service_name if self._labels else None

    async def start(self) -> None:
        """Open the mDNS sockets, advertise, browse; raise ``DiscoveryError`` if impossible."""
        if self._running:
            raise UsageError("discovery is already running")
        cfg = self._config
        quiet_zeroconf()
        if cfg.interfaces is not None:
            _check_local_addresses(cfg.interfaces)
        try:
            if cfg.interfaces is None:
                self._zc = AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.All)
            else:
                self._zc = AsyncZeroconf(interfaces=list(cfg.interfaces))
        except (OSError, ZeroconfError, ValueError) as exc:
            raise DiscoveryError(_("cannot open mDNS sockets: {exc}").format(exc=exc)) from exc
        self._running = True
        try:
            self._addresses = local_addresses(cfg.interfaces, cfg.listen_hosts)
            async with self._lock:
                await self._register(new_labels(cfg.rng))
            self._browser = AsyncServiceBrowser(
                self._zc.zeroconf, SERVICE_TYPE, handlers=[self._on_state_change]
            )
        except BaseException:
            await self.stop()
            raise
        self._loops = [
            asyncio.create_task(self._every(cfg.rotate_every_s, self.rotate)),
            asyncio.create_task(self._every(cfg.rescan_every_s, self.rescan_interfaces)),
        ]

    async def stop(self) -> None:
        """Withdraw the advertisement (goodbyes sent), stop browsing, close the sockets."""
        if not self._running:
            return
        self._running = False
        tasks = [*self._loops, *self._resolves.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loops.clear()
        self._resolves.clear()
        self._dirty.clear()
        self._known.clear()
        zc = self._zc
        self._zc = None
        try:
            async with self._lock:
                if self._browser is not None:
                    await self._browser.async_cancel()
                    self._browser = None
                if zc is not None and self._info is not None:
                    await self._unregister(zc)
        except (OSError, ZeroconfError) as exc:
            log.warning("discovery: withdrawing the advertisement failed: %s", exc)
        finally:
            self._labels = None
            if zc is not None:
                try:
                    await zc.async_close()
                except (OSError, ZeroconfError) as exc:
                    log.warning("discovery: closing mDNS failed: %s", exc)

    async def rotate(self) -> None:
        """Replace the advertisement with one under fresh labels and a freshly sealed blob."""
        async with self._lock:
            zc = self._require_running()
            try:
                await self._unregister(zc)
            except (OSError, ZeroconfError) as exc:
                raise DiscoveryError(
                    _("cannot withdraw the advertisement: {exc}").format(exc=exc)
                ) from exc
            await self._register(new_labels(self._config.rng))

    async def rescan_interfaces(self) -> None:
        """Pick up interfaces that appeared (or went) since the last scan, and re-advertise."""
        async with self._lock:
            zc = self._require_running()
            try:
                await zc.async_update_interfaces()
            except (OSError, ZeroconfError, RuntimeError) as exc:
                raise DiscoveryError(_("cannot rescan interfaces: {exc}").format(exc=exc)) from exc
            addresses = local_addresses(self._config.interfaces, self._config.listen_hosts)
            if addresses != self._addresses and self._labels is not None:
                self._addresses = addresses
                info = self._service_info(self._labels)
                try:
                    await (await zc.async_update_service(info))
                except (OSError, ZeroconfError) as exc:
                    raise DiscoveryError(
                        _("cannot update the advertisement: {exc}").format(exc=exc)
                    ) from exc
                self._info = info

    # --- advertising ---------------------------------------------------------------------------

    def _require_running(self) -> AsyncZeroconf:
        if not self._running or self._zc is None:
            raise UsageError("discovery is not running")
        return self._zc

    def _service_info(self, labels: ServiceLabels) -> AsyncServiceInfo:
        cfg = self._config
        secret = cfg.keys().writer.secret
        announcement = announcement_for(secret, cfg.assembly_id, cfg.device, cfg.port, cfg.clock())
        blob = seal_blob(secret, announcement, rng=cfg.rng)
        return build_service_info(labels, cfg.port, blob, self._addresses)

    async def _register(self, labels: ServiceLabels) -> None:
        zc = self._require_running()
        info = self._service_info(labels)
        try:
            # The returned task sends the announcements; awaiting it means they went out.
            await (await zc.async_register_service(info))
        except (OSError, ZeroconfError) as exc:
            raise DiscoveryError(
                _("cannot register the mDNS service: {exc}").format(exc=exc)
            ) from exc
        self._info = info
        self._labels = labels

    async def _unregister(self, zc: AsyncZeroconf) -> None:
        if self._info is None:
            return
        info, self._info = self._info, None
        # Awaiting the returned task is what makes the goodbyes go out; without it browsers
        # keep the old name until its TTL runs out.
        await (await zc.async_unregister_service(info))

    async def _every(self, interval_s: float, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await action()
            except DiscoveryError as exc:
                # A transient failure (an interface going away mid-call) must not end the
                # loop: the next tick tries again.
                log.warning("discovery: %s", exc)

    # --- browsing ------------------------------------------------------------------------------

    def _on_state_change(self, **kwargs: Any) -> None:
        name: str = kwargs["name"]
        change: ServiceStateChange = kwargs["state_change"]
        if not self._running:
            return
        if change is ServiceStateChange.Removed:
            self._known.pop(name, None)
            self._dirty.discard(name)
            task = self._resolves.pop(name, None)
            if task is not None:
                task.cancel()
            return
        if name == self.service_name:
            self._ignore(name, "own advertisement")
            return
        if name in self._resolves:
            # An update arrived while resolving: resolve once more when this one ends.
            self._dirty.add(name)
            return
        if len(self._resolves) >= MAX_PENDING_RESOLVES:
            log.debug("discovery: too many resolves in flight, dropping %s", name)
            return
        self._resolves[name] = asyncio.create_task(self._resolve(name))

    async def _resolve(self, name: str) -> None:
        try:
            while True:
                self._dirty.discard(name)
                await self._resolve_once(name)
                if name not in self._dirty or not self._running:
                    break
        except (OSError, ZeroconfError) as exc:
            log.debug("discovery: resolving %s failed: %s", name, exc)
        finally:
            if self._resolves.get(name) is asyncio.current_task():
                del self._resolves[name]

    async def _resolve_once(self, name: str) -> None:
        cfg = self._config
        zc = self._zc
        if zc is None:
            return
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(zc.zeroconf, cfg.resolve_timeout_ms):
            self._ignore(name, "did not resolve")
            return
        props = info.properties
        if props.get(b"v") != str(DISCOVERY_VERSION).encode():
            self._ignore(name, "unsupported version")
            return
        blob = props.get(b"b")
        if blob is None:
            self._ignore(name, "no blob")
            return
        opened = open_blob_with(cfg.keys(), blob, cfg.assembly_id, cfg.clock())
        if isinstance(opened, InvalidAnnouncement):
            # Other assemblies share the LAN; their blobs failing to open is normal.
            self._ignore(name, str(opened))
            return
        ann, secret = opened
        if ann.tag == device_tag(secret, cfg.device, ann.issued_ms):
            self._ignore(name, "own device")
            return
        if info.port != ann.port:
            log.debug("discovery: %s: SRV port %s, blob port %s", name, info.port, ann.port)
        hosts = _dialable(info.parsed_scoped_addresses())
        if not hosts:
            self._ignore(name, "no address")
            return
        peers = tuple(PeerAddress(ann.tag, host, ann.port) for host in hosts)
        already = {p for other, ps in self._known.items() if other != name for p in ps}
        already.update(self._known.get(name, ()))
        self._known[name] = peers
        for peer in peers:
            if peer not in already:
                await self._report(peer)

    async def _report(self, peer: PeerAddress) -> None:
        try:
            result = self._config.on_peer(peer)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # The consumer's bug must not stop discovery of everyone else.
            log.exception("discovery: on_peer failed for %s", peer.host)

    def _ignore(self, name: str, reason: str) -> None:
        log.debug("discovery: ignoring %s: %s", name, reason)
        hook = self._config.on_ignored
        if hook is not None:
            try:
                hook(name, reason)
            except Exception:
                log.exception("discovery: on_ignored failed")
