"""Local commands: the same rules as the fold, raised as errors instead of ignored."""

from __future__ import annotations

from typing import Any

import pytest

from assemblymesh.crdt.identity import Invite, sign_invite_proof
from assemblymesh.errors import IllegalMoveError, NotFoundError, UsageError
from assemblymesh.model import AssemblyState, Rules, apply_act, fold
from assemblymesh.model import acts as A
from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from tests.model.helpers import NONCE, World, key_for, snapshot_of


class Node:
    """One member's node: runs commands on the folded state, appends acts to the docs."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.now = 10_000

    def state(self) -> AssemblyState:
        return self.w.fold(now=self.now)

    def stamp(self, name: str) -> C.Stamp:
        self.now += 10
        return C.Stamp(self.w.mid(name), self.w.dev(name), self.now, self.w.next_id())

    def do(self, name: str, command: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run ``command`` as ``name`` and write its act; returns the act's document value,
        with ``id`` set to the act's ref (what other commands take)."""
        stamp = self.stamp(name)
        if command is C.join:
            act = command(stamp, *args, **kwargs)
        else:
            act = command(self.state(), stamp, *args, **kwargs)
        self.w.add(name, {**act.to_doc(), "device": stamp.device})
        ref = act.ref(stamp.member)
        entry = self.state().audit[-1]
        assert entry.accepted and entry.ref == ref, entry
        return {**act.to_doc(), "id": ref, "local_id": act.id}


def founded_node() -> Node:
    w = World()
    aid, act = C.create_assembly(
        C.Stamp(w.mid("ana"), w.dev("ana"), 9_000, w.next_id()),
        name="Garden co-op",
        charter="We tend the garden together.",
        founder_name="ana",
        nonce=NONCE,
        rules=Rules(cooling_off_ms=1_000, quorum=1, review_period_ms=5_000),
    )
    assert aid == w.assembly_id
    w.add("ana", {**act.to_doc(), "device": w.dev("ana")})
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
    cara = n.w.mid("cara")
    steward = A.GrantRoleEffect(member=cara, role=R.FACILITATOR, term_days=30)
    n.do("bob", C.amend, pid, "A 2x3 m shed, by the gate.", "moved away", effects=(steward,))
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
    assert not n.state().members[cara].can_facilitate(n.now)
    n.now += 1_000  # the cooling-off: the decision's effect grants the role
    assert n.state().members[cara].can_facilitate(n.now)
    with pytest.raises(IllegalMoveError) as info:  # nothing cites a decision any more
        C.grant_role(n.state(), n.stamp("ana"), "bob", R.FACILITATOR, n.now + 9, decision[:8])
    assert info.value.rule == R.ROLE_BY_DECISION


def test_commands_raise_the_rule_the_fold_would_record() -> None:
    n = founded_node()
    s = n.state()
    bob, cara = n.w.mid("bob"), n.w.mid("cara")
    proposed = n.do("bob", C.propose, "Buy a shed", "")
    pid = proposed["id"]
    s = n.state()
    with pytest.raises(IllegalMoveError) as info:
        C.open_round(s, C.Stamp(bob, n.w.dev("bob"), n.now, n.w.next_id()), pid)
    assert info.value.rule == R.FACILITATOR_ONLY
    assert "(rule: facilitator-only)" in str(info.value)
    with pytest.raises(IllegalMoveError) as info:
        C.withdraw(s, C.Stamp(cara, n.w.dev("cara"), n.now, n.w.next_id()), pid)
    assert info.value.rule == R.AUTHOR_ONLY
    with pytest.raises(IllegalMoveError) as info:
        C.open_round(
            s, C.Stamp(n.w.mid("ana"), n.w.dev("ana"), n.now, n.w.next_id()), pid, version=7
        )
    assert info.value.rule == R.ROUND_ON_LATEST_VERSION
    rid = n.do("ana", C.open_round, pid)["id"]
    s = n.state()
    with pytest.raises(IllegalMoveError) as info:
        C.position(s, C.Stamp(cara, n.w.dev("cara"), n.now + 1, n.w.next_id()), rid, R.CONSENT, "")
    assert info.value.rule == R.ROUND_TRANSITION
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, C.Stamp(cara, n.w.dev("cara"), n.now + 1, n.w.next_id()), "  ", "")
    assert info.value.rule == R.WELL_FORMED
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, C.Stamp(n.w.mid("zoe"), n.w.dev("zoe"), n.now + 1, n.w.next_id()), "Hi", "")
    assert info.value.rule == R.MEMBERS_ONLY
    with pytest.raises(IllegalMoveError) as info:
        C.propose(s, C.Stamp(bob, n.w.dev("bob"), n.now + 1, proposed["local_id"]), "Again", "")
    assert info.value.rule == R.UNIQUE_ID
    n.do("ana", C.advance_round, rid)
    n.do("ana", C.advance_round, rid)
    with pytest.raises(IllegalMoveError) as info:
        n.do("ana", C.advance_round, rid)
    assert info.value.rule == R.ROUND_TRANSITION


def test_prefix_lookups() -> None:
    n = founded_node()
    w = n.w
    p1 = n.do("bob", C.propose, "One", "")["id"]
    p2 = n.do("bob", C.propose, "Two", "")["id"]
    # Refs are hashes: propose until two share a first digit (17 proposals always do).
    by_digit: dict[str, str] = {p1[0]: p1}
    while (ref := n.do("bob", C.propose, "More", "")["id"])[0] not in by_digit:
        by_digit[ref[0]] = ref
    s = n.state()
    assert s.find_proposal(p1).title == "One"
    assert s.find_proposal(p2[-16:].upper()).title == "Two"
    with pytest.raises(UsageError, match="ambiguous"):
        s.find_proposal(ref[0])
    with pytest.raises(NotFoundError):
        s.find_proposal("ffff")
    with pytest.raises(NotFoundError):
        s.find_round("00")
    with pytest.raises(UsageError):
        s.find_decision("")
    assert s.find_member("Bob").id == w.mid("bob")
    assert s.find_member(w.mid("cara")[:10]).name == "cara"
    with pytest.raises(NotFoundError):
        C.amend(s, C.Stamp(w.mid("bob"), w.dev("bob"), n.now, w.next_id()), "eeee", "x", "y")


def test_join_command_refuses_a_used_invite() -> None:
    n = founded_node()
    s = n.state()
    invite = Invite.issue(key_for("ana"), s.assembly_id, key_for("inv/bob").public, 10**9)
    proof = sign_invite_proof(key_for("inv/bob"), invite, key_for("dan").public)
    with pytest.raises(IllegalMoveError) as info:
        stamp = C.Stamp(n.w.mid("dan"), n.w.dev("dan"), n.now, n.w.next_id())
        C.join(stamp, "dan", invite, proof, state=s)
    assert info.value.rule == R.INVITE_USED_ONCE


def test_create_assembly_checks_its_input() -> None:
    with pytest.raises(UsageError):
        C.create_assembly(
            C.Stamp("nothex", "ab" * 32, 1, "00000000000000aa"),
            name="x",
            charter="",
            founder_name="x",
            nonce=b"n",
        )
    with pytest.raises(IllegalMoveError) as info:
        C.create_assembly(
            C.Stamp(key_for("ana").public.hex(), "ab" * 32, 1, "00000000000000aa"),
            name="",
            charter="",
            founder_name="ana",
            nonce=b"n",
        )
    assert info.value.rule == R.WELL_FORMED


def test_apply_act_previews_the_fold() -> None:
    n = founded_node()
    s = n.state()
    act = C.propose(
        s, C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now + 5, n.w.next_id()), "Shed", ""
    )
    preview = apply_act(s, n.w.mid("bob"), n.w.dev("bob"), act)
    n.w.add("bob", {**act.to_doc(), "device": n.w.dev("bob")})
    assert preview == fold(snapshot_of(n.w.assembly_id, n.w.docs), n.now)


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
        C.position(
            s, C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now, n.w.next_id()), rid, R.OBJECT, "no"
        )
    assert info.value.rule == R.LATE_OBJECTION_WINDOW
    with pytest.raises(IllegalMoveError) as info:
        C.amend(s, C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now, n.w.next_id()), pid, "", "")
    assert info.value.rule == R.PROPOSAL_TRANSITION


def test_a_member_records_a_supporter_invite_and_a_supporter_records_none() -> None:
    n = founded_node()
    aid = n.w.assembly_id
    olga_invite = Invite.issue(key_for("ana"), aid, key_for("inv/olga").public, 10**9)
    recorded = n.do("ana", C.record_invite, olga_invite, R.SUPPORTER_INVITE)
    assert recorded["kind"] == R.SUPPORTER_INVITE
    proof = sign_invite_proof(key_for("inv/olga"), olga_invite, key_for("olga").public)
    n.do("olga", C.join, "olga", olga_invite, proof)
    olga = n.state().members[n.w.mid("olga")]
    assert olga.supporter and olga.standing_until is None
    # A supporter's own invite, of either kind, is refused as the fold would ignore it.
    for kind in R.INVITE_KINDS:
        own = Invite.issue(key_for("olga"), aid, key_for(f"inv/olga/{kind}").public, 10**9)
        with pytest.raises(IllegalMoveError) as info:
            C.record_invite(n.state(), n.stamp("olga"), own, kind)
        assert info.value.rule in (R.SUPPORTER_STANDING, R.SUPPORTER_MAY_NOT)
    with pytest.raises(UsageError, match="an invite is one of"):
        other = Invite.issue(key_for("ana"), aid, key_for("inv/x").public, 10**9)
        C.record_invite(n.state(), n.stamp("ana"), other, "guest")
