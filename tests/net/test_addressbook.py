"""The address book keeps what a member told it on a short leash (poisoning, aging)."""

from __future__ import annotations

import json
from pathlib import Path

from assemblymesh.net.addressbook import (
    GOSSIP_MAX_AGE_MS,
    GOSSIP_MAX_FAILING_MS,
    MAX_GOSSIP_PER_SOURCE,
    AddressBook,
)

NOW = 1_760_000_000_000
MALLORY = "aa" * 32


def test_one_peer_cannot_fill_the_book_with_gossip(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "peers.json")
    book.add("10.0.0.1", 7361, "static", NOW)
    # A member's hellos name 256 addresses (16 per hello, many hellos).
    for i in range(256):
        book.add(f"10.9.{i // 200}.{i % 200}", 7361, "gossip", NOW, via=MALLORY)
    book.add("10.8.0.1", 7361, "gossip", NOW, via="bb" * 32)
    gossip = [e for e in book.entries() if e.source == "gossip"]
    assert len([e for e in gossip if e.via == MALLORY]) == MAX_GOSSIP_PER_SOURCE
    assert len(book.dial_candidates(NOW)) == 1 + MAX_GOSSIP_PER_SOURCE + 1


def test_a_book_poisoned_before_the_cap_dials_only_a_few(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    peers = [
        {"host": f"10.9.0.{i}", "port": 7361, "source": "gossip", "last_seen_ms": NOW}
        for i in range(256)
    ]
    peers.append({"host": "10.0.0.1", "port": 7361, "source": "peer", "last_seen_ms": NOW})
    path.write_text(json.dumps({"version": 1, "peers": peers}))
    candidates = AddressBook(path).dial_candidates(NOW)
    assert ("10.0.0.1", 7361) in candidates
    assert len(candidates) == 1 + MAX_GOSSIP_PER_SOURCE


def test_gossip_ages_out_and_configured_entries_stay(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "peers.json")
    for source in ("static", "invite", "peer", "gossip", "discovery"):
        book.add(f"host-{source}", 7361, source, NOW, via=MALLORY)
    later = NOW + GOSSIP_MAX_AGE_MS + 1
    assert book.prune(later) == 2
    assert sorted(e.source for e in book.entries()) == ["invite", "peer", "static"]


def test_gossip_that_keeps_failing_is_dropped(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "peers.json")
    book.add("10.9.0.1", 7361, "gossip", NOW, via=MALLORY)
    book.add("10.0.0.1", 7361, "static", NOW)
    assert book.failed("10.9.0.1", 7361, NOW)
    assert book.failed("10.0.0.1", 7361, NOW)
    assert book.failed("10.9.0.1", 7361, NOW + GOSSIP_MAX_FAILING_MS // 2)
    assert not book.failed("10.9.0.1", 7361, NOW + GOSSIP_MAX_FAILING_MS + 1)
    assert book.failed("10.0.0.1", 7361, NOW + GOSSIP_MAX_FAILING_MS + 1)
    assert [e.host for e in book.entries()] == ["10.0.0.1"]
    book.save()
    again = AddressBook(tmp_path / "peers.json")
    assert [e.host for e in again.entries()] == ["10.0.0.1"]


def test_a_success_ends_the_failure_streak(tmp_path: Path) -> None:
    book = AddressBook(None)
    book.add("10.9.0.1", 7361, "gossip", NOW, via=MALLORY)
    book.failed("10.9.0.1", 7361, NOW)
    book.succeeded("10.9.0.1", 7361, NOW + 1)
    assert book.failed("10.9.0.1", 7361, NOW + GOSSIP_MAX_FAILING_MS + 2)


async def test_a_restarted_node_dials_a_poisoned_book_only_within_the_cap(tmp_path: Path) -> None:
    import dataclasses

    from tests.net.test_node import config
    from tests.net.test_sync import member, open_replica

    path = tmp_path / "peers.json"
    peers = [
        {"host": "127.0.0.1", "port": 9 + i, "source": "gossip", "last_seen_ms": NOW, "via": "m"}
        for i in range(256)
    ]
    path.write_text(json.dumps({"version": 1, "peers": peers}))
    alice = member("alice")
    with open_replica(tmp_path / "a.sqlite", alice) as replica:
        cfg = dataclasses.replace(config(replica, alice), address_book=path, clock=lambda: NOW)
        from assemblymesh.net.node import Node

        node = Node(cfg)
        await node.start()
        try:
            assert len(node.dialling) == MAX_GOSSIP_PER_SOURCE
        finally:
            await node.stop()
