"""Publications between assemblies, through the command line on real homes: published with
nothing private unless chosen, verified and attributed on import, put forward as a proposal
that keeps its origin, answered with an adoption note, carried on by a third assembly with
every hop of provenance verified; altered and foreign files refused with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgpack
import pytest

from assemblymesh.errors import IllegalMoveError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import commands, library
from assemblymesh.model.publication import packb, read_publication
from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock

HOUR = 3600 * 1000


def decide(home: Path, proposal: str, clock: Clock, *positions: tuple[Path, str, str]) -> str:
    """A round on ``proposal``: the given (home, kind, reason) positions, then the
    facilitator's consent, closed, and the cooling-off (one hour) passed. Returns the
    decision id."""
    rid = last_line(run(home, "round", "open", proposal))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    for where, kind, reason in positions:
        sync(clock, home, where)
        run(where, "position", rid, kind, "--reason", reason)
        sync(clock, home, where)
    run(home, "position", rid, "consent", "--reason", "Rosa's own reason")
    run(home, "round", "close", rid, "--yes", "--statement", "Two bins, turned weekly.")
    clock.now += 2 * HOUR
    return str(status(home)["decisions"][-1]["id"])


@dataclass
class World:
    root: Path
    clock: Clock
    rosa: Path  # founder of Garden
    kofi: Path  # member of Garden, agreed to be named
    ben: Path  # founder of Bakery
    lea: Path  # member of Bakery
    cy: Path  # founder of Mill
    decision: str

    def home(self, name: str) -> Path:
        return self.root / name


def found(home: Path, name: str, founder: str) -> None:
    run(home, "init", "--name", name, "--member-name", founder, "--cooling-off-hours", "1")


def invite(clock: Clock, inviter: Path, joiner: Path, name: str) -> None:
    code = last_line(run(inviter, "invite", "--no-qr"))
    run(joiner, "join", code, "--member-name", name)
    sync(clock, inviter, joiner)


@pytest.fixture
def world(tmp_path: Path, clock: Clock) -> Iterator[World]:
    h = {n: tmp_path / n for n in ("rosa", "kofi", "ben", "lea", "cy")}
    found(h["rosa"], "Garden co-op", "Rosa")
    invite(clock, h["rosa"], h["kofi"], "Kofi")
    found(h["ben"], "Bakery", "Ben")
    invite(clock, h["ben"], h["lea"], "Lea")
    found(h["cy"], "Mill", "Cy")
    run(h["kofi"], "publish", "naming", "allow")
    pid = last_line(run(h["kofi"], "propose", "--title", "Compost bins",
                        "--body", "Two bins by the shed."))  # fmt: skip
    sync(clock, h["rosa"], h["kofi"])
    decision = decide(h["rosa"], pid, clock, (h["kofi"], "concern", "Kofi worries about rats"))
    sync(clock, h["rosa"], h["kofi"])
    yield World(tmp_path, clock, h["rosa"], h["kofi"], h["ben"], h["lea"], h["cy"], decision)


def publish_decision(w: World, path: Path, *choices: str) -> str:
    out = run(w.kofi, "publish", "write", str(path), "--title", "What we decided",
              "--decision", w.decision, "--yes", *choices)  # fmt: skip
    return last_line(out)


# --- publish and import ---------------------------------------------------------------------


def test_publish_and_import_across_two_assemblies(world: World, tmp_path: Path) -> None:
    w = world
    path = tmp_path / "garden.ampub"
    pub_id = publish_decision(w, path, "--names")
    assert path.with_suffix(".md").read_text().startswith("# What we decided")
    assert "<h2>Decision: Compost bins</h2>" in path.with_suffix(".html").read_text()

    out = run(w.ben, "publication", "import", str(path), "--yes")
    assert "published by Garden co-op" in out.stdout and "verified: signed by device" in out.stdout
    assert "(Kofi)" in out.stdout  # Kofi agreed and the publisher chose names
    assert last_line(out) == pub_id
    # The library is part of the record: Lea's node receives the act and verifies the file.
    sync(w.clock, w.ben, w.lea)
    (entry,) = status(w.lea)["library"]["entries"]
    assert entry["id"] == pub_id and entry["assembly_name"] == "Garden co-op"
    assert entry["publisher"] == "Kofi" and entry["imported_by"] == status(w.ben)["me"]["member"]
    (item,) = entry["items"]
    assert (item["kind"], item["title"], item["body"]) == (
        "decision", "Compost bins", "Two bins by the shed.",
    )  # fmt: skip
    assert item["fields"]["statement"] == "Two bins, turned weekly."
    assert item["fields"]["tally"] == {"consent": 1, "concern": 1, "stand_aside": 0, "object": 0}
    assert "Compost bins" in run(w.lea, "publication", "list").stdout
    assert "Two bins, turned weekly." in run(w.lea, "publication", "show", pub_id[:8]).stdout

    # Importing it again changes nothing, and says why in one line.
    before = status(w.ben)["digest"]
    assert "already in the library" in refused(w.ben, "publication", "import", str(path), "--yes")
    assert status(w.ben)["digest"] == before


def test_the_export_shows_what_it_includes_and_asks_first(world: World, tmp_path: Path) -> None:
    w = world
    preview = run(w.kofi, "publish", "preview", "--decision", w.decision).stdout
    assert "Decision: Compost bins" in preview
    assert "Private content included: none" in preview
    assert "the reasons given for positions" in preview.split("Left out:")[1]
    path = tmp_path / "p.ampub"
    answered_no = run(w.kofi, "publish", "write", str(path), "--title", "T",
                      "--decision", w.decision, ok=False, stdin="n\n")  # fmt: skip
    assert answered_no.exit_code == 1 and "nothing written" in answered_no.stderr
    assert "Decision: Compost bins" in answered_no.stdout  # shown before the question
    assert not path.exists() and not path.with_suffix(".md").exists()
    run(w.kofi, "publish", "write", str(path), "--title", "T", "--decision", w.decision,
        stdin="y\n")  # fmt: skip
    assert path.exists()


# --- privacy, asserted on the bytes written ----------------------------------------------


def _all_bytes(path: Path) -> bytes:
    return b"".join(path.with_suffix(s).read_bytes() for s in (".ampub", ".md", ".html"))


def test_nothing_private_leaves_without_an_explicit_choice(world: World, tmp_path: Path) -> None:
    w = world
    plain = tmp_path / "plain.ampub"
    publish_decision(w, plain)
    data = _all_bytes(plain)
    for private in (b"Kofi", b"Rosa", b"rats", b"Rosa's own reason"):
        assert private not in data, private
    assert b"Compost bins" in data and b"Two bins, turned weekly." in data

    # Names chosen: only Kofi, who agreed; Rosa did not, so she stays "a member".
    named = tmp_path / "named.ampub"
    publish_decision(w, named, "--names")
    data = _all_bytes(named)
    assert b"Kofi" in data and b"Rosa" not in data and b"rats" not in data

    # Reasons chosen too.
    full = tmp_path / "full.ampub"
    publish_decision(w, full, "--names", "--reasons")
    data = _all_bytes(full)
    assert b"Kofi worries about rats" in data and b"Rosa's own reason" in data
    assert b"Rosa\x00" not in data and b'"Rosa"' not in data
    fields = read_publication(full.read_bytes()).items[0].item.fields
    assert {p["by"] for p in fields["positions"]} == {"Kofi", "a member"}


def test_a_supporters_name_needs_its_own_choice(world: World, tmp_path: Path) -> None:
    w = world
    sam = w.home("sam")
    code = last_line(run(w.rosa, "supporter", "invite", "--no-qr"))
    run(sam, "join", code, "--member-name", "Sam")
    sync(w.clock, w.rosa, sam, w.kofi)
    standing = last_line(run(w.rosa, "propose", "--title", "Sam helps", "--body", "Yes.",
                             "--effect", "admit-supporter:Sam:2099-01-01"))  # fmt: skip
    decide(w.rosa, standing, w.clock)
    sync(w.clock, w.rosa, sam)
    run(sam, "publish", "naming", "allow")
    pid = last_line(run(sam, "propose", "--title", "Seed swap", "--body", "Each spring."))
    sync(w.clock, w.rosa, sam)
    assert "only a member" in refused(sam, "publish", "write", str(tmp_path / "s.ampub"),
                                      "--title", "T", "--proposal", pid, "--yes")  # fmt: skip
    assert not (tmp_path / "s.ampub").exists()
    members_only = tmp_path / "m.ampub"
    run(w.rosa, "publish", "write", str(members_only), "--title", "T", "--proposal", pid,
        "--names", "--yes")  # fmt: skip
    assert b"Sam" not in _all_bytes(members_only)
    assert read_publication(members_only.read_bytes()).items[0].item.fields["proposed_by"] == (
        "a supporter"
    )
    both = tmp_path / "b.ampub"
    run(w.rosa, "publish", "write", str(both), "--title", "T", "--proposal", pid,
        "--names", "--supporter-names", "--yes")  # fmt: skip
    assert read_publication(both.read_bytes()).items[0].item.fields["proposed_by"] == "Sam"


# --- refusals ----------------------------------------------------------------------------


def test_a_tampered_or_foreign_publication_is_refused_and_nothing_changes(
    world: World, tmp_path: Path
) -> None:
    w = world
    path = tmp_path / "garden.ampub"
    publish_decision(w, path)
    good = path.read_bytes()
    before = status(w.ben)["digest"]

    def refuse(data: bytes, reason: str) -> None:
        bad = tmp_path / "bad.ampub"
        bad.write_bytes(data)
        assert reason in refused(w.ben, "publication", "import", str(bad), "--yes")
        assert status(w.ben)["digest"] == before

    raw = msgpack.unpackb(good, raw=False)
    # An item's text changed: its id no longer matches the signed header.
    item = msgpack.unpackb(raw[4][0], raw=False)
    item["body"] = "Ten bins."
    raw_item = [*raw[:4], [packb(item)], raw[5]]
    refuse(packb(raw_item), "altered")
    # The header changed (the assembly's name): the device's signature fails.
    header = msgpack.unpackb(raw[2], raw=False)
    refuse(packb([*raw[:2], packb({**header, "assembly_name": "Bakery"}), *raw[3:]]), "signature")
    # A flipped bit, a cut file, something else entirely.
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    refuse(bytes(flipped), "publication refused: ")
    refuse(good[:-10], "publication refused: malformed")
    refuse(b"hello", "publication refused: malformed")
    # A device of another assembly signing in Garden's name: the proof does not hold.
    with _opened(w.cy, w.clock) as cy:
        for chain, reason in ((header["proof"]["chain"], "does not verify"), ([], "not certified")):
            forged = {**header, "proof": {**header["proof"], "chain": chain,
                                          "cert": cy.certificate.encode()}}  # fmt: skip
            data = packb(forged)
            signature = cy.device_key.sign(b"assemblymesh/publication/v1\x00", data)
            refuse(packb([raw[0], raw[1], data, signature, raw[4], raw[5]]), reason)
    # A publication of this very assembly.
    assert "own" in refused(w.rosa, "publication", "import", str(path), "--yes")


def test_a_forged_import_act_is_ignored_by_every_fold(world: World, tmp_path: Path) -> None:
    """A member's node that writes an import act without the checks (a hostile node) gets
    nothing into anyone's library: the fold verifies the file."""
    w = world
    path = tmp_path / "garden.ampub"
    publish_decision(w, path)
    raw = msgpack.unpackb(path.read_bytes(), raw=False)
    item = msgpack.unpackb(raw[4][0], raw=False)
    forged = packb([*raw[:4], [packb({**item, "title": "Forged"})], raw[5]])
    from assemblymesh.model import acts as A

    with _opened(w.ben, w.clock) as ben:
        state = ben.state()
        act = A.ImportPublication(id="ab" * 8, ts=w.clock(), publication=forged)
        with ben.replica.transact() as doc:
            doc.array("acts").append(act.to_doc())
        state = ben.state()
    assert state.library == {}
    (entry,) = [e for e in state.audit if e.act_type == "import_publication"]
    assert not entry.accepted and entry.rule == "publication-verifies"


# --- from the library to a proposal, an adoption, and back ---------------------------------


def test_a_library_item_becomes_a_proposal_then_an_adoption_note_goes_back(
    world: World, tmp_path: Path
) -> None:
    w = world
    path = tmp_path / "garden.ampub"
    publish_decision(w, path)
    run(w.ben, "publication", "import", str(path), "--yes")
    sync(w.clock, w.ben, w.lea)
    (item,) = status(w.lea)["library"]["entries"][0]["items"]
    pid = last_line(run(w.lea, "publication", "propose", item["id"][:10]))
    sync(w.clock, w.ben, w.lea)
    proposal = next(p for p in status(w.ben)["proposals"] if p["id"] == pid)
    assert proposal["title"] == "Compost bins"
    # An origin that is not in the library is refused, by the CLI and by the rule book.
    assert "no library item" in refused(w.cy, "publication", "propose", item["id"])
    with _opened(w.cy, w.clock) as cy, pytest.raises(IllegalMoveError, match="origin-in-library"):
        cy.act(commands.propose, "Compost bins", "Copied.", (), item["id"])

    # Not adopted yet: no note.
    note = tmp_path / "note.ampub"
    assert "not adopted" in refused(w.ben, "publication", "adopt-note", pid, str(note), "--yes")
    decide(w.ben, pid, w.clock)
    replication = status(w.ben)["library"]["replication"]
    assert replication == {"adopted_from_others": 1, "adopted_by_others": 0}
    (adopted,) = status(w.ben)["library"]["adoptions_from_others"]
    assert adopted["item"] == item["id"] and adopted["origin_assembly"] == status(w.rosa)[
        "assembly"]["id"]  # fmt: skip

    run(w.ben, "publication", "adopt-note", pid, str(note), "--yes")
    run(w.rosa, "publication", "import", str(note), "--yes")
    sync(w.clock, w.rosa, w.kofi)
    data = status(w.kofi)["library"]
    assert data["replication"] == {"adopted_from_others": 0, "adopted_by_others": 1}
    (back,) = data["adoptions_by_others"]
    assert back["item"] == item["id"] and back["adopting_name"] == "Bakery"

    # The replication metric counts the same adoptions, in both directions.
    def replicated(home: Path, key: str) -> tuple[int, str | None]:
        data = json.loads(run(home, "metrics", "--json").output)
        (series,) = [m for m in data["metrics"] if m["key"] == key]
        return sum(p["count"] for p in series["points"]), series["note"]

    assert replicated(w.kofi, "adopted_by_others") == (1, None)
    assert replicated(w.ben, "adopted_from_others") == (1, None)
    assert replicated(w.cy, "adopted_by_others") == (0, "none recorded")


def test_re_publication_keeps_the_chain_of_provenance(world: World, tmp_path: Path) -> None:
    w = world
    first = tmp_path / "garden.ampub"
    publish_decision(w, first)
    run(w.ben, "publication", "import", str(first), "--yes")
    item_id = status(w.ben)["library"]["entries"][0]["items"][0]["id"]
    # Bakery carries the item on, with a lesson of its own, to the Mill.
    second = tmp_path / "bakery.ampub"
    run(w.ben, "publish", "write", str(second), "--title", "From our neighbours",
        "--item", item_id[:8], "--lesson", "Ask first\nWe asked the garden.", "--yes")  # fmt: skip
    out = run(w.cy, "publication", "import", str(second), "--yes").stdout
    assert "first published by Garden co-op" in out and "carried on by Bakery" in out
    (entry,) = status(w.cy)["library"]["entries"]
    carried = next(i for i in entry["items"] if i["id"] == item_id)
    assert carried["origin_name"] == "Garden co-op"
    assert [v["assembly_name"] for v in carried["via"]] == ["Garden co-op"]
    assert "first published by Garden co-op" in second.with_suffix(".md").read_text()
    # The Mill carries it on again: two hops, each verified.
    third = tmp_path / "mill.ampub"
    run(w.cy, "publish", "write", str(third), "--title", "Again", "--item", item_id, "--yes")
    run(w.lea, "publication", "import", str(third), "--yes")
    (entry,) = status(w.lea)["library"]["entries"]
    assert [v["assembly_name"] for v in entry["items"][0]["via"]] == ["Garden co-op", "Bakery"]

    # A hop whose signature is broken breaks the chain.
    raw = msgpack.unpackb(third.read_bytes(), raw=False)
    hop_header, _ = raw[5][0]
    raw[5][0] = [hop_header, bytes(64)]
    broken = tmp_path / "broken.ampub"
    broken.write_bytes(packb(raw))
    assert "earlier publication" in refused(w.rosa, "publication", "import", str(broken), "--yes")
    # Leaving out a hop does too.
    raw[5] = raw[5][1:]
    broken.write_bytes(packb(raw))
    assert "provenance" in refused(w.rosa, "publication", "import", str(broken), "--yes")


def test_status_json_and_the_library_query_agree(world: World, tmp_path: Path) -> None:
    w = world
    path = tmp_path / "garden.ampub"
    publish_decision(w, path)
    run(w.ben, "publication", "import", str(path), "--yes")
    with _opened(w.ben, w.clock) as ben:
        assert status(w.ben)["library"] == json.loads(json.dumps(library.as_data(ben.state())))


@contextmanager
def _opened(home: Path, clock: Clock) -> Iterator[LocalAssembly]:
    local = Home(home, clock).open()
    try:
        yield local
    finally:
        local.close()


def test_practices_extend_what_can_be_published(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A practice registers an item kind of its own and adds fields to record items; an
    importer that knows neither still reads both."""
    from assemblymesh.model import publish as P
    from assemblymesh.model.publication import Item

    def fund_report(ctx: P.Context, ref: str) -> Item:
        return Item("fund_report", f"Fund {ref}", "Balanced.", {"income": 120})

    monkeypatch.setitem(P.RECORD_KINDS, "fund_report", fund_report)
    monkeypatch.setattr(P, "FIELD_HOOKS", [lambda ctx, kind, ref: {"metric_note": kind}])
    path = tmp_path / "f.ampub"
    run(world.kofi, "publish", "write", str(path), "--title", "Funds", "--record",
        "fund_report:spring", "--decision", world.decision, "--yes")  # fmt: skip
    monkeypatch.delitem(P.RECORD_KINDS, "fund_report")
    run(world.ben, "publication", "import", str(path), "--yes")
    items = status(world.ben)["library"]["entries"][0]["items"]
    assert [(i["kind"], i["fields"]["metric_note"]) for i in items] == [
        ("decision", "decision"), ("fund_report", "fund_report"),
    ]  # fmt: skip
    assert "## Fund report: Fund spring" in path.with_suffix(".md").read_text()
    assert "no item kind 'ledger'" in refused(
        world.kofi, "publish", "preview", "--record", "ledger:1"
    )
