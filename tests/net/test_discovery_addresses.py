"""Discovery advertises only addresses the node can be reached at, and stays quiet when
python-zeroconf cannot use an interface."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from assemblymesh import errors
from assemblymesh.net import discovery
from assemblymesh.net.credentials import Credentials
from assemblymesh.net.discovery import DiscoveryConfig, _dialable, local_addresses, quiet_zeroconf
from tests.net.test_sync import ASSEMBLY, SECRET, member

UP = ["10.0.0.7", "192.168.1.4", "2001:db8::7", "fe80::1", "::1", "127.0.0.1"]


@pytest.fixture
def interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's interfaces as ifaddr reports them (IPv6 as (addr, flow, scope))."""
    ips = [
        SimpleNamespace(ip=(a, 0, 2) if ":" in a else a)  # type: ignore[arg-type]
        for a in UP
    ]
    monkeypatch.setattr(discovery.ifaddr, "get_adapters", lambda: [SimpleNamespace(ips=ips)])


def test_link_local_and_loopback_are_never_advertised(interfaces: None) -> None:
    assert local_addresses(None) == ["10.0.0.7", "192.168.1.4", "2001:db8::7"]


def test_advertised_addresses_follow_what_the_node_listens_on(interfaces: None) -> None:
    assert local_addresses(None, ["0.0.0.0"]) == ["10.0.0.7", "192.168.1.4"]
    assert local_addresses(None, ["::", "0.0.0.0"]) == ["10.0.0.7", "192.168.1.4", "2001:db8::7"]
    assert local_addresses(None, ["192.168.1.4"]) == ["192.168.1.4"]
    assert local_addresses(None, ["::"]) == ["2001:db8::7"]


def test_unscoped_link_local_addresses_are_not_dialled() -> None:
    got = _dialable(["10.0.0.7", "fe80::1", "fe80::1%eth0", "2001:db8::7"])
    assert got == ["10.0.0.7", "fe80::1%eth0", "2001:db8::7"]


def test_zeroconf_socket_tracebacks_become_one_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_zeroconf()
    quiet_zeroconf()  # once is enough; twice changes nothing
    zc = logging.getLogger("zeroconf")
    assert sum(isinstance(f, discovery._QuietSocketErrors) for f in zc.filters) == 1
    with caplog.at_level(logging.DEBUG):
        try:
            raise OSError(101, "Network is unreachable")
        except OSError:
            zc.exception("Error sending through socket %d", 7)
    tracebacks = [r for r in caplog.records if r.name == "zeroconf"]
    assert tracebacks == []
    lines = [r.getMessage() for r in caplog.records if r.name == "assemblymesh.net.discovery"]
    assert len(lines) == 1 and "unreachable" in lines[0] and "\n" not in lines[0]


def test_discovery_errors_live_in_the_one_tree() -> None:
    assert discovery.InvalidAnnouncement is errors.InvalidAnnouncement
    assert discovery.DiscoveryError is errors.DiscoveryError
    assert issubclass(errors.InvalidAnnouncement, errors.RemoteError)
    assert issubclass(errors.DiscoveryError, errors.UsageError)


def test_config_from_credentials_holds_no_signing_key() -> None:
    alice = member("alice")
    creds = Credentials(ASSEMBLY, SECRET, alice.device, alice.cert)
    cfg = DiscoveryConfig.for_credentials(creds, 7361, lambda peer: None)
    assert (cfg.assembly_id, cfg.assembly_secret, cfg.device) == (
        ASSEMBLY,
        SECRET,
        alice.device.public,
    )
