"""Supporters through the command line, on real homes with a clock the test moves: invited
with a supporter invite, given standing by a decision, heard but never blocking, and ended
by a decision, after which the assembly's nodes refuse their devices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assemblymesh.crdt.identity import Invite, SigningKey
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import queries
from assemblymesh.net.credentials import Admitted, PeerIdentity, Refused
from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock

HOUR = 3600 * 1000


def opened(home: Path, clock: Clock) -> LocalAssembly:
    return Home(home, clock).open()


def decide(home: Path, proposal: str, clock: Clock) -> str:
    """A round on ``proposal`` with the facilitator's consent, closed, and the cooling-off
    (one hour) passed; returns what closing said."""
    rid = last_line(run(home, "round", "open", proposal))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    run(home, "position", rid, "consent")
    out = run(home, "round", "close", rid).stdout
    clock.now += 2 * HOUR
    return out


@pytest.fixture
def homes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path]]:
    """Amara founds the assembly (cooling-off one hour); Sam joins with a supporter invite."""
    amara, sam = tmp_path / "amara", tmp_path / "sam"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara",
        "--cooling-off-hours", "1")  # fmt: skip
    code = last_line(run(amara, "supporter", "invite", "--no-qr"))
    run(sam, "join", code, "--member-name", "Sam")
    sync(clock, amara, sam)
    yield amara, sam


def device_verdict(home: Path, of: Path, clock: Clock) -> Admitted | Refused:
    """What ``home``'s node answers when a device of ``of`` asks to sync."""
    node, peer = opened(home, clock), opened(of, clock)
    try:
        identity = PeerIdentity(
            peer.member_key.public, peer.device_key.public, peer.certificate, None
        )
        return node.authorize(identity)
    finally:
        node.close()
        peer.close()


def test_the_supporter_invite_says_what_its_holder_becomes(tmp_path: Path, clock: Clock) -> None:
    amara = tmp_path / "amara"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara")
    out = run(amara, "supporter", "invite", "--no-qr", "--valid-days", "3").stdout
    assert "valid 3 days" in out and "is a supporter, not a member" in out
    assert "advisory (no veto" in out and "standing by a decision" in out
    assert "assemblymesh propose" in out and "--effect admit-supporter:NAME:YYYY-MM-DD" in out
    assert last_line(run(amara, "supporter", "invite", "--no-qr")).startswith("am1:")
    # A plain invite still makes a member.
    ben = tmp_path / "ben"
    run(ben, "join", last_line(run(amara, "invite", "--no-qr")), "--member-name", "Ben")
    sync(clock, amara, ben)
    assert [(m["name"], m["supporter"]) for m in status(amara)["members"]] == [
        ("Amara", False), ("Ben", False),
    ]  # fmt: skip
    assert status(amara)["supporters"] == []


def test_a_supporter_joins_advises_and_the_assembly_ends_their_standing(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, sam = homes
    (joined,) = status(amara)["supporters"]
    assert (joined["name"], joined["standing"], joined["invited_by_name"]) == (
        "Sam", "none", "Amara",
    )  # fmt: skip
    text = run(amara, "status").stdout
    assert "Members (1):" in text and "Supporters (1, advisory" in text
    assert "no standing yet; invited by Amara" in text
    assert "supporter-has-standing" in refused(sam, "propose", "--title", "T", "--body", "B")

    # Standing comes by a decision.
    out = run(amara, "supporter", "extend", "Sam", "2026-06-01")
    assert "Proposed standing for Sam until 2026-06-01" in out.stdout
    assert "adopted-pending" in decide(amara, last_line(out), clock)
    assert "standing until 2026-06-01" in run(amara, "supporter", "list").stdout

    # Sam proposes; Sam's objection to another proposal is on record and blocks nothing.
    sync(clock, amara, sam)
    racks = last_line(run(sam, "propose", "--title", "Bike racks", "--body", "By the door"))
    pid = last_line(run(amara, "propose", "--title", "Quiet hours", "--body", "After 8pm"))
    rid = last_line(run(amara, "round", "open", pid))
    run(amara, "round", "advance", rid)
    run(amara, "round", "advance", rid)
    sync(clock, amara, sam)
    run(sam, "position", rid, "object", "--reason", "I work nights")
    sync(clock, amara, sam)
    run(amara, "position", rid, "consent")
    closed = run(amara, "round", "close", rid).stdout
    assert "outcome: adopted" in closed and "objection from Sam" not in closed
    (rnd,) = [r for r in status(amara)["rounds"] if r["id"] == rid]
    assert rnd["positions"][joined["id"]]["kind"] == "object"
    listed = json.loads(run(amara, "supporter", "list", "--json").stdout)
    assert [p["id"] for p in listed[0]["proposals"]] == [racks]
    assert "1 proposal\n" in run(amara, "supporter", "list").stdout

    # Ended by a decision: from when it takes effect, Sam's device is refused.
    ending = run(amara, "supporter", "end", "Sam")
    assert "Proposed to end Sam's standing" in ending.stdout
    ended = last_line(ending)
    assert status(amara)["proposals"][-1]["effects"] == [
        {"effect": "end_supporter", "member": joined["id"]}
    ]
    assert "adopted-pending" in decide(amara, ended, clock)
    assert isinstance(device_verdict(amara, sam, clock), Refused)


def test_an_ended_standing_waits_for_cooling_off_then_refuses_the_device(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, sam = homes
    decide(amara, last_line(run(amara, "supporter", "extend", "Sam", "2026-06-01")), clock)
    assert isinstance(device_verdict(amara, sam, clock), Admitted)
    ended = last_line(run(amara, "supporter", "end", "Sam", "--title", "Thank you, Sam"))
    rid = last_line(run(amara, "round", "open", ended))
    run(amara, "round", "advance", rid)
    run(amara, "round", "advance", rid)
    run(amara, "position", rid, "consent")
    assert "adopted-pending" in run(amara, "round", "close", rid).stdout
    # Adopted, not yet in effect: Sam still has standing and may sync.
    assert status(amara)["supporters"][0]["standing"] == "active"
    assert isinstance(device_verdict(amara, sam, clock), Admitted)
    clock.now += 2 * HOUR
    (gone,) = status(amara)["supporters"]
    assert gone["standing"] == "ended"
    assert "standing ended" in run(amara, "supporter", "list").stdout
    verdict = device_verdict(amara, sam, clock)
    assert isinstance(verdict, Refused) and "standing has ended" in verdict.reason
    node, peer = opened(amara, clock), opened(sam, clock)
    try:
        admission = queries.peer_admission(
            node.state(), peer.member_key.public, peer.device_key.public, None, clock()
        )
    finally:
        node.close()
        peer.close()
    assert admission.admission is queries.Admission.REFUSE
    assert "already ended" in refused(amara, "supporter", "end", "Sam")


def test_only_a_member_can_issue_a_supporter_invite(
    homes: tuple[Path, Path], clock: Clock, tmp_path: Path
) -> None:
    amara, sam = homes
    for command in (("supporter", "invite"), ("invite",)):
        assert "you are a supporter: only members" in refused(sam, *command, "--no-qr")
    # Not admitted yet (the join has not reached the assembly): not a member either.
    ben = tmp_path / "ben"
    run(ben, "join", last_line(run(amara, "invite", "--no-qr")), "--member-name", "Ben")
    assert "only a member of the assembly can invite" in refused(
        ben, "supporter", "invite", "--no-qr"
    )
    # An invite a supporter signs anyway gets its holder nowhere: the handshake refuses it.
    local = opened(sam, clock)
    try:
        state = local.state()
        key, stranger = SigningKey(bytes(32)), SigningKey(bytes([7]) * 32)
        forged = Invite.issue(local.member_key, local.assembly_id, key.public, clock() + HOUR)
        verdict = queries.peer_admission(state, stranger.public, stranger.public, forged, clock())
    finally:
        local.close()
    assert verdict.admission is queries.Admission.REFUSE and "not a member" in verdict.reason


def test_supporter_commands_refuse_bad_input_in_one_line(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, _ = homes
    assert "Amara is a member of the assembly, not a supporter" in refused(
        amara, "supporter", "end", "Amara"
    )
    assert "not a supporter" in refused(amara, "supporter", "extend", "Amara", "2026-06-01")
    assert "has passed" in refused(amara, "supporter", "extend", "Sam", "2020-01-01")
    assert "no member" in refused(amara, "supporter", "end", "Nobody")
    bad_date = run(amara, "supporter", "extend", "Sam", "June", ok=False)
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr
    assert [p["title"] for p in status(amara)["proposals"]] == []  # nothing was written
