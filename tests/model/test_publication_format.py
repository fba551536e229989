"""The publication file of docs/protocol.md §10: built as the page says, every cut and flip
refused with a PublicationError (never another exception), the invite chain checked hop by
hop, and a library folded from import acts the same whatever the order."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.identity import DeviceCertificate, verify
from assemblymesh.errors import IllegalMoveError, PublicationError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import AssemblySnapshot, fold
from assemblymesh.model import library as lib
from assemblymesh.model.publication import (
    SIGNATURE_CONTEXT,
    Item,
    packb,
    publication_id,
    read_publication,
)
from assemblymesh.model.publish import Disclosure, Selection
from assemblymesh.sim.memory import pump
from tests.helpers import Clock, act_ids


@dataclass
class Scene:
    """Garden: Rosa founds, invites Kofi, who invites Amara (an invite chain of two). The
    Bakery, another assembly, takes publications in."""

    garden: dict[str, LocalAssembly]
    bakery: LocalAssembly
    clock: Clock

    def publish(self, who: str, *lessons: str, title: str = "Notes") -> bytes:
        local = self.garden[who]
        draft = local.draft_publication(
            Selection(texts=[("lesson", text) for text in lessons]), Disclosure()
        )
        return local.seal_publication(draft, title)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("pub")
    clock = Clock()
    rosa = Home(root / "rosa", clock).create("Garden", "Rosa", new_id=act_ids("a"))
    kofi = Home(root / "kofi", clock).join(rosa.issue_invite().encode(), "Kofi", act_ids("b"))
    pump(kofi.replica, rosa.replica)
    rosa.keep_keys()  # Rosa seals the assembly secret for Kofi's device
    pump(rosa.replica, kofi.replica)
    amara = Home(root / "amara", clock).join(kofi.issue_invite().encode(), "Amara", act_ids("c"))
    for a, b in ((amara, kofi), (kofi, rosa), (rosa, kofi), (kofi, amara)):
        pump(a.replica, b.replica)
    bakery = Home(root / "ben", clock).create("Bakery", "Ben", new_id=act_ids("d"))
    s = Scene({"Rosa": rosa, "Kofi": kofi, "Amara": amara}, bakery, clock)
    yield s
    for local in (*s.garden.values(), bakery):
        local.close()


def test_the_file_is_what_protocol_md_says(scene: Scene) -> None:
    data = scene.publish("Amara", "Ask first\nWe asked.")
    marker, version, header, signature, items, hops = msgpack.unpackb(data, raw=False)
    assert (marker, version, hops) == ("assemblymesh/publication", 1, [])
    h = msgpack.unpackb(header, raw=False)
    assert sorted(h) == sorted(
        ["v", "assembly", "assembly_name", "created_ms", "title", "note", "publisher", "items",
         "proof"]
    )  # fmt: skip
    assert packb(h) == header  # canonical: keys sorted, shortest forms
    # The assembly id from the founder's key and nonce (§2.1), the chain of two invites.
    proof = h["proof"]
    founder_made = hashlib.blake2b(
        b"assemblymesh/assembly-id/v1\x00" + proof["founder"] + proof["nonce"], digest_size=16
    ).digest()
    assert founder_made == h["assembly"] == scene.garden["Amara"].assembly_id
    assert len(proof["chain"]) == 2
    cert = DeviceCertificate.decode(proof["cert"])
    assert cert.member.hex() == scene.garden["Amara"].member_id
    verify(cert.device, SIGNATURE_CONTEXT, header, signature)
    # Item ids: BLAKE2b-128 of the item bytes with the item context.
    ((ident, via),) = h["items"]
    (blob,) = items
    assert via == []
    expected = hashlib.blake2b(b"assemblymesh/published-item/v1\x00" + blob, digest_size=16)
    assert ident == expected.digest()
    assert msgpack.unpackb(blob, raw=False) == {
        "body": "We asked.", "fields": {}, "kind": "lesson", "title": "Ask first",
    }  # fmt: skip
    pub = read_publication(data)
    assert pub.id == publication_id(header).hex()
    assert (
        pub.id
        == hashlib.blake2b(
            b"assemblymesh/publication-id/v1\x00" + header, digest_size=16
        ).hexdigest()
    )


def test_the_chain_is_checked_hop_by_hop(scene: Scene) -> None:
    data = scene.publish("Amara", "Ask first")
    raw = msgpack.unpackb(data, raw=False)
    h = msgpack.unpackb(raw[2], raw=False)
    chain = h["proof"]["chain"]
    amara = scene.garden["Amara"]

    def resigned(proof_chain: list[list[bytes]]) -> bytes:
        header = packb({**h, "proof": {**h["proof"], "chain": proof_chain}})
        sig = amara.device_key.sign(SIGNATURE_CONTEXT, header)
        return packb([raw[0], raw[1], header, sig, raw[4], raw[5]])

    assert read_publication(resigned(chain)).header.member.hex() == amara.member_id
    for broken in (chain[::-1], chain[1:], chain[:1], [chain[0], chain[0]]):
        with pytest.raises(PublicationError, match="publication refused"):
            read_publication(resigned(broken))


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_cuts_and_flips_are_all_refused(scene: Scene, data: st.DataObject) -> None:
    good = _good(scene)
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(good) - 1))
        bad = good[:cut]
    else:
        at = data.draw(st.integers(0, len(good) - 1))
        bit = data.draw(st.integers(0, 7))
        flipped = bytearray(good)
        flipped[at] ^= 1 << bit
        bad = bytes(flipped)
    with pytest.raises(PublicationError):
        read_publication(bad)


_GOOD: dict[str, bytes] = {}


def _good(scene: Scene) -> bytes:
    if "file" not in _GOOD:
        _GOOD["file"] = scene.publish("Kofi", "Seed swap\nIn March.", "Rats\nKeep lids on.")
    return _GOOD["file"]


def test_an_item_of_a_kind_this_version_does_not_know_reads_back() -> None:
    item = Item("fund_report", "Spring accounts", "Balanced.", {"income": 120, "lines": ["a"]})
    assert Item.decode(item.encode()) == item
    with pytest.raises(PublicationError):
        Item.decode(Item("x", "T", "", {"deep": [[[[[["too deep"]]]]]]}).encode())
    with pytest.raises(PublicationError):
        Item.decode(Item("x", "bad\x1btitle").encode())


def test_the_library_folds_the_same_in_any_order(scene: Scene) -> None:
    """Two members import two publications in different orders on different nodes: every
    node's library holds both, and a third import of either is ignored once."""
    first = scene.publish("Rosa", "One", title="First")
    second = scene.publish("Kofi", "Two", title="Second")
    bakery = scene.bakery
    bakery.import_publication(first)
    bakery.import_publication(second)
    snapshot = bakery.snapshot()
    # The same acts, their document order shuffled: the fold does not depend on it.
    shuffled = {m: list(v) for m, v in snapshot.acts.items()}
    random.Random(4).shuffle(shuffled[bakery.member_id])
    a = fold(snapshot, scene.clock.now + 1)
    b = fold(AssemblySnapshot(snapshot.assembly_id, shuffled), scene.clock.now + 1)
    assert list(a.library) == list(b.library) and len(a.library) == 2
    assert [e.publication.header.title for e in a.library.values()] == ["First", "Second"]
    with pytest.raises(IllegalMoveError, match="library-once"):
        bakery.import_publication(first)
    # The garden cannot take in its own publication.
    with pytest.raises(PublicationError, match="own"):
        scene.garden["Amara"].import_publication(first)
    assert lib.replication(a) == {"adopted_from_others": 0, "adopted_by_others": 0}


def test_a_publication_too_large_is_refused_before_it_is_written(scene: Scene) -> None:
    big = "x" * 90_000
    with pytest.raises(PublicationError, match="the limit is"):
        scene.publish("Rosa", f"Big\n{big}", f"Bigger\n{big}y")


def test_read_publication_refuses_files_that_are_not_canonical(scene: Scene) -> None:
    raw = msgpack.unpackb(_good(scene), raw=False)
    # The same structure under a longer array header than the shortest: refused.
    padded = b"\xdc\x00\x06" + b"".join(msgpack.packb(v, use_bin_type=True) for v in raw)
    with pytest.raises(PublicationError, match="canonical"):
        read_publication(padded)


def test_a_large_publication_is_recorded_synced_and_folded(scene: Scene, tmp_path: Path) -> None:
    """A file near the size limit fits one act, travels to another node, and folds there."""
    big = scene.publish("Rosa", "Long\n" + "word " * 12_000, "Longer\n" + "more " * 14_000)
    assert len(big) > 120_000
    scene.bakery.import_publication(big)
    other = Home(tmp_path / "lea", scene.clock).join(
        scene.bakery.issue_invite().encode(), "Lea", act_ids("e")
    )
    try:
        for a, b in ((other, scene.bakery), (scene.bakery, other)):
            pump(a.replica, b.replica)
        library = other.state().library
        assert read_publication(big).id in library
    finally:
        other.close()
