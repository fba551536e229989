"""Local commands: the same rules as the fold, raised as errors instead of ignored."""

from __future__ import annotations

from typing import Any

import pytest

from assemblymesh.crdt.identity import Invite, sign_invite_proof
from assemblymesh.errors import IllegalMoveError, NotFoundError, UsageError
from assemblymesh.model import AssemblySnapshot, AssemblyState, Rules, apply_act, fold
from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from tests.model.helpers import NONCE, World, key_for


class Node:
    """One member's node: runs commands on the folded state, appends acts to the docs."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.now = 10_000

    def state(self) -> AssemblyState:
        return self.w.fold(now=self.now)

    def do(self, name: str, command: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.now += 10
        act: dict[str, Any] = command(
            self.state(),
            self.w.mid(name),
            self.now,
            self.w.next_id(),
            self.w.dev(name),
            *args,
            **kwargs,
        )
        self.w.add(name, act)
        entry = self.state().audit[-1]
        assert entry.accepted and entry.act_id == act["id"], entry
        return act


def founded_node() -> Node:
    w = World()
    aid, act = C.create_assembly(
        w.mid("ana"),
        9_000,
        w.next_id(),
        w.dev("ana"),
        name="Garden co-op",
        charter="We tend the garden together.",
        founder_name="ana",
        nonce=NONCE,
        rules=Rules(cooling_off_ms=1_000, quorum=1, review_period_ms=5_000),
    )
    assert aid == w.assembly_id
    w.add("ana", act)
    node = Node(w)
    for name in ("bob", "cara"):
        invite = Invite.issue(key_for("ana"), aid, key_for(f"inv/{name}").public, 10**9)
        node.do("ana", C.record_invite, invite)
        proof = sign_invite_proof(key_for(f"inv/{name}"), invite, key_for(name).public)
        node.do(name, C.join, name, invite, proof)
    return node


def test_a_whole_meeting_through_commands() -> None:
    n = founded_node()
    pid = n.do("bob", C.propose, "Buy a shed", "A 2x3 m shed.")["id"]
    rid = n.do("ana", C.open_round, pid[:6])["id"]
    n.do("ana", C.advance_round, rid[:6])
    n.do("ana", C.advance_round, rid[:6])
    n.do("cara", C.position, rid, R.OBJECT, "too close to the beds")
    n.do("ana", C.close_round, rid)
    assert n.state().proposals[pid].state == R.RETURNED
    n.do("bob", C.amend, pid, "A 2x3 m shed, by the gate.", "moved away from the beds")
    rid2 = n.do("ana", C.open_round, pid)["id"]
    n.do("ana", C.advance_round, rid2)
    n.do("ana", C.advance_round, rid2)
    n.do("cara", C.position, rid2, R.CONSENT, "")
    n.do("ana", C.position, rid2, R.STAND_ASIDE, "no view", for_member="bob")
    n.do("ana", C.close_round, rid2)
    s = n.state()
    assert s.rounds[rid2].version == 2
    decision = s.rounds[rid2].decision or ""
    assert s.decisions[decision].status == R.PENDING
    n.now += 1_000
    n.do("ana", C.grant_role, "cara", R.FACILITATOR, n.now + 100_000, decision=decision[:8])
    assert n.state().members[n.w.mid("cara")].can_facilitate(n.now)


def test_commands_raise_the_rule_the_fold_would_record() -> None:
    n = founded_node()
    s = n.state()
    bob, cara = n.w.mid("bob"), n.w.mid("cara")
    pid = n.do("bob", C.propose, "Buy a shed", "")["id"]
    s = n.state()
    with pytest.raises(IllegalMoveError) as info:
        C.open_round(s, bob, n.now, n.w.next_id(), n.w.dev("bob"), pid)
    assert info.value.rule == R.FACILITATOR_ONLY
    assert "(rule: facilitator-only)" in str(info.value)
    with pytest.raises(IllegalMoveError) as info:
        C.withdraw(s, cara, n.now, n.w.next_id(), n.w.dev("cara"), pid)
    assert info.value.rule == R.AUTHOR_ONLY
    with pytest.raises(IllegalMoveError) as info:
        C.open_round(s, n.w.mid("ana"), n.now, n.w.next_id(), n.w.dev("ana"), pid, version=7)
    assert info.value.rule == R.ROUND_ON_LATEST_VERSION
    rid = n.do("ana", C.open_round, pid)["id"]
    s = n.state()
    with pytest.raises(IllegalMoveError) as info:
        C.position(s, cara, n.now + 1, n.w.next_id(), n.w.dev("cara"), rid, R.CONSENT, "")
    assert info.value.rule == R.ROUND_TRANSITION
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, cara, n.now + 1, n.w.next_id(), n.w.dev("cara"), "  ", "")
    assert info.value.rule == R.WELL_FORMED
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, n.w.mid("zoe"), n.now + 1, n.w.next_id(), n.w.dev("zoe"), "Hi", "")
    assert info.value.rule == R.MEMBERS_ONLY
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, cara, n.now + 1, pid, n.w.dev("cara"), "Reused id", "")
    assert info.value.rule == R.UNIQUE_ID
    n.do("ana", C.advance_round, rid)
    n.do("ana", C.advance_round, rid)
    with pytest.raises(IllegalMoveError) as info:
        n.do("ana", C.advance_round, rid)
    assert info.value.rule == R.ROUND_TRANSITION


def test_prefix_lookups() -> None:
    n = founded_node()
    w = n.w
    w._ids = iter(range(0xAB0, 0xAC0))  # type: ignore[assignment]
    p1 = n.do("bob", C.propose, "One", "")["id"]
    p2 = n.do("bob", C.propose, "Two", "")["id"]
    s = n.state()
    assert s.find_proposal(p1).title == "One"
    assert s.find_proposal(p2[-16:].upper()).title == "Two"
    with pytest.raises(UsageError, match="ambiguous"):
        s.find_proposal(p1[:12])
    with pytest.raises(NotFoundError):
        s.find_proposal("ffff")
    with pytest.raises(NotFoundError):
        s.find_round("00")
    with pytest.raises(UsageError):
        s.find_decision("")
    assert s.find_member("Bob").id == w.mid("bob")
    assert s.find_member(w.mid("cara")[:10]).name == "cara"
    with pytest.raises(NotFoundError):
        C.amend(s, w.mid("bob"), n.now, w.next_id(), w.dev("bob"), "eeee", "x", "y")


def test_join_command_refuses_a_used_invite() -> None:
    n = founded_node()
    s = n.state()
    invite = Invite.issue(key_for("ana"), s.assembly_id, key_for("inv/bob").public, 10**9)
    proof = sign_invite_proof(key_for("inv/bob"), invite, key_for("dan").public)
    with pytest.raises(IllegalMoveError) as info:
        C.join(s, n.w.mid("dan"), n.now, n.w.next_id(), n.w.dev("dan"), "dan", invite, proof)
    assert info.value.rule == R.INVITE_USED_ONCE


def test_create_assembly_checks_its_input() -> None:
    with pytest.raises(UsageError):
        C.create_assembly(
            "nothex",
            1,
            "00000000000000aa",
            "ab" * 32,
            name="x",
            charter="",
            founder_name="x",
            nonce=b"n",
        )
    with pytest.raises(IllegalMoveError) as info:
        C.create_assembly(
            key_for("ana").public.hex(),
            1,
            "00000000000000aa",
            "ab" * 32,
            name="",
            charter="",
            founder_name="ana",
            nonce=b"n",
        )
    assert info.value.rule == R.WELL_FORMED


def test_apply_act_previews_the_fold() -> None:
    n = founded_node()
    s = n.state()
    act = C.propose(s, n.w.mid("bob"), n.now + 5, n.w.next_id(), n.w.dev("bob"), "Shed", "")
    preview = apply_act(s, n.w.mid("bob"), act)
    n.w.add("bob", act)
    assert preview == fold(AssemblySnapshot(n.w.assembly_id, n.w.docs), n.now)


def test_commands_work_on_an_adopted_state_frozen_after_cooling_off() -> None:
    n = founded_node()
    pid = n.do("bob", C.propose, "Shed", "")["id"]
    rid = n.do("ana", C.open_round, pid)["id"]
    n.do("ana", C.advance_round, rid)
    n.do("ana", C.advance_round, rid)
    n.do("cara", C.position, rid, R.CONSENT, "")
    n.do("ana", C.close_round, rid)
    n.now += 5_000
    s = n.state()
    assert s.proposals[pid].state == R.ADOPTED
    with pytest.raises(IllegalMoveError) as info:
        C.position(s, n.w.mid("bob"), n.now, n.w.next_id(), n.w.dev("bob"), rid, R.OBJECT, "no")
    assert info.value.rule == R.LATE_OBJECTION_WINDOW
    with pytest.raises(IllegalMoveError) as info:
        C.amend(s, n.w.mid("bob"), n.now, n.w.next_id(), n.w.dev("bob"), pid, "", "")
    assert info.value.rule == R.PROPOSAL_TRANSITION
