"""The composition root keeps its cached fold equal to a fresh fold, whatever happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from assemblymesh.errors import UsageError
from assemblymesh.home import Home, parse_address
from assemblymesh.model import at_time, commands, fold
from assemblymesh.model import rules as process
from assemblymesh.model.state import Rules
from tests.helpers import Clock, act_ids, exchange

HOUR = 3600 * 1000


def test_cached_state_equals_a_fresh_fold_through_acts_syncs_and_time(tmp_path: Path) -> None:
    clock = Clock()
    rules = Rules(HOUR, 1, 30 * 24 * HOUR)
    amara = Home(tmp_path / "a", clock).create("R", "Amara", rules=rules, new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )

    def check() -> None:
        for node in (amara, ben):
            now = clock()
            assert node.state(now) == fold(node.snapshot(), now)

    exchange(amara, ben)
    check()
    pid = amara.act(commands.propose, "Shed", "Buy one").ref
    rid = amara.act(commands.open_round, pid).ref
    check()
    amara.act(commands.advance_round, rid)
    amara.act(commands.advance_round, rid)
    exchange(amara, ben)
    ben.act(commands.position, rid, process.CONSENT, "")
    check()
    exchange(amara, ben)
    amara.act(commands.close_round, rid)
    check()
    state = amara.state()
    later = clock.now + 2 * HOUR
    assert at_time(state, later) == fold(amara.snapshot(), later)
    assert amara.state(later).proposals[pid].state == process.ADOPTED
    assert amara.state(clock.now).proposals[pid].state == process.ADOPTED_PENDING
    amara.close()
    ben.close()


def test_a_deletion_from_a_peer_is_refused(tmp_path: Path) -> None:
    """Member documents are append-only (docs/protocol.md §2.2.1): a change that deletes an
    act is refused by the receiving node, and its fold keeps the act."""
    import pycrdt

    from assemblymesh.crdt.change import Change
    from assemblymesh.crdt.identity import yjs_client_id

    clock = Clock()
    amara = Home(tmp_path / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )
    for src, dst in ((amara, ben), (ben, amara)):
        dst.replica.ingest([c.data for c in src.replica.missing_for(dst.replica.vector())])
    amara.act(commands.propose, "Shed", "Buy one")
    ben.replica.ingest([c.data for c in amara.replica.missing_for(ben.replica.vector())])
    assert [p.title for p in ben.state().proposals.values()] == ["Shed"]
    # Amara's device signs a change that removes her proposal act from her own document (a
    # deletion only). Her own node would refuse to write it, so it is made by hand.
    r = amara.replica
    device = r.device_key.public
    doc = pycrdt.Doc(client_id=yjs_client_id(device))
    doc.apply_update(r.document(amara.member_id).engine_doc.get_update())
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(bytes(event.update)))
    acts = doc.get("acts", type=pycrdt.Array)
    del acts[next(i for i, act in enumerate(acts.to_py()) if act["type"] == "propose")]
    doc.unobserve(subscription)
    seq, head = r.vector()[device]
    deletion = Change.create(
        r.device_key, r.assembly, bytes.fromhex(amara.member_id), seq + 1, head, clock(),
        captured[0], None,
    )  # fmt: skip
    result = ben.replica.ingest([deletion.data])
    assert [r.detail for r in result.rejected] == ["a member document is append-only: no deletions"]
    assert [p.title for p in ben.state().proposals.values()] == ["Shed"]
    assert fold(ben.snapshot(), clock()).proposals == ben.state().proposals
    amara.close()
    ben.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.0.0.2:7361", ("10.0.0.2", 7361)), ("10.0.0.2", ("10.0.0.2", 99)),
     ("[fe80::1]:80", ("fe80::1", 80)), ("fe80::1", ("fe80::1", 99))],
)  # fmt: skip
def test_addresses_are_read_with_their_port_or_the_default(
    text: str, expected: tuple[str, int]
) -> None:
    assert parse_address(text, 99) == expected


def test_port_zero_is_a_listening_address_only() -> None:
    assert parse_address("127.0.0.1:0", 0, any_port=True) == ("127.0.0.1", 0)
    for bad in ("127.0.0.1:0", "h:65536", "h:x", ":80"):
        with pytest.raises(UsageError):
            parse_address(bad, 99)
