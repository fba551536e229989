"""Pairing a member's new device, as the CLI and the UI run it (``net.pairing`` is the
protocol; ``home`` keeps the keys and the record).

The certified device calls ``offer`` (``LocalAssembly.pair_device``): it needs the member key
(unlocked if sealed) to sign the new device's certificate, and sends the record as a bundle.
The new device calls ``join`` with the code: it installs the keys it received, then imports
the record.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Sequence

from assemblymesh.crdt.identity import KEY_SIZE, DeviceCertificate, InvalidSignature, SigningKey
from assemblymesh.errors import UsageError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.i18n import _
from assemblymesh.net.discovery import local_addresses
from assemblymesh.net.pairing import PairCode, join_pairing

__all__ = ["DEFAULT_PAIR_TIMEOUT", "join", "offer", "pairing_hosts"]

DEFAULT_PAIR_TIMEOUT = 300.0


def pairing_hosts() -> list[str]:
    """This node's IPv4 addresses a device on the same network can dial
    (``LocalAssembly.pairing_hosts``)."""
    return [ip for ip in local_addresses(None) if ":" not in ip][:4] or ["127.0.0.1"]


async def offer(
    local: LocalAssembly,
    listen: tuple[str, int],
    hosts: Sequence[str],
    shown: Callable[[str], None],
    timeout: float = DEFAULT_PAIR_TIMEOUT,
) -> str:
    """Show a pairing code (``shown``), wait for one device to pair, return its id
    (``LocalAssembly.pair_device``)."""
    return await local.pair_device(listen, hosts, shown, timeout)


async def join(home: Home, code: str, timeout: float = DEFAULT_PAIR_TIMEOUT) -> LocalAssembly:
    """Pair this node with a member's certified device: its own device key, the certificate
    the other device signs for it, and the record."""
    parsed = PairCode.decode(code)
    device_key = SigningKey(home.entropy(KEY_SIZE))
    grant = await join_pairing(parsed, device_key, timeout)
    try:
        certificate = DeviceCertificate.decode(grant.certificate)
        certificate.verify()
    except InvalidSignature as exc:
        raise UsageError(_("the other device sent a forged certificate")) from exc
    if certificate.device != device_key.public or certificate.assembly != grant.assembly:
        raise UsageError(_("the other device sent a certificate for another device"))
    home.install(device_key, certificate, grant.secret, grant.member)
    if home.default_assembly() is None:
        home.set_default(grant.assembly)
    local = home.open(grant.assembly.hex())
    try:
        with tempfile.TemporaryFile() as spool:
            verified = local.verify_bundle(io.BytesIO(grant.record), spool, lambda n: None)
            local.import_bundle(verified, lambda n: None)
        local.record_this_device()
    except BaseException:
        local.close()
        raise
    return local
