"""Members without a device: a facilitator adds them and records their positions; a claim
invite hands the membership to a key of their own, past positions included; once only."""

from __future__ import annotations

from typing import Any

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from tests.model.helpers import B, World, act_doc


def add_member(w: World, name: str, ts: int, who: str) -> tuple[dict[str, Any], str]:
    act = w.add(name, act_doc(A.AddMember, w.next_id(), ts, w.dev(name), name=who))
    return act, A.deviceless_id(w.mid(name), str(act["id"]))


def claim_invite(w: World, name: str, ts: int, claim: str, label: str) -> Any:
    inv, secret = w.make_invite(name, label=label)
    w.recorded.add(inv.invite_key.hex())
    doc = B.invite(
        w.next_id(), ts, w.dev(name), invite_key=inv.invite_key.hex(), expires=inv.expires_ms,
        claim=claim,
    )  # fmt: skip
    w.add(name, doc)
    return inv, secret, doc


def rule_of(w: World, act: dict[str, Any]) -> str | None:
    return next(e for e in w.fold().audit if e.act_id == act["id"]).rule


def test_a_facilitator_adds_a_member_without_a_device_who_counts() -> None:
    w = World(quorum=2)
    w.create(1_000)
    w.join("bob", 1_100)
    _, elder = add_member(w, "ana", 1_200, "Grandmother Ama")
    refused, _ = add_member(w, "bob", 1_300, "Someone")
    assert rule_of(w, refused) == R.FACILITATOR_ONLY
    pid = w.propose("ana", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.add("ana", B.position(w.next_id(), 2_300, w.dev("ana"), round_=rid, kind=R.CONSENT,
                            reason="by voice", for_member=elder))  # fmt: skip
    w.position("ana", 2_400, rid)
    w.close("ana", 2_500, rid)
    state = w.fold()
    m = state.members[elder]
    assert m.deviceless and m.name == "Grandmother Ama" and m.devices == ()
    assert state.find_member("grandmother ama").id == elder
    pos = state.rounds[rid].positions[elder]
    assert pos.provisional and pos.recorded_by == w.mid("ana")
    assert state.rounds[rid].outcome == R.OUTCOME_ADOPTED  # two members taking part: quorum


def test_a_claim_hands_the_membership_to_the_new_key_with_its_positions() -> None:
    w = World()
    w.create(1_000)
    _, elder = add_member(w, "ana", 1_200, "Ama")
    pid = w.propose("ana", 2_000)
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.add("ana", B.position(w.next_id(), 2_300, w.dev("ana"), round_=rid, kind=R.CONCERN,
                            reason="the noise", for_member=elder))  # fmt: skip
    inv, secret, _ = claim_invite(w, "ana", 2_400, elder, "claim-ama")
    w.join("ama", 2_500, invite=(inv, secret))
    state = w.fold()
    new = state.members[w.mid("ama")]
    assert new.claimed_from == elder and new.joined_ts == 1_200 and not new.supporter
    assert state.members[elder].claimed_by == new.id and not state.members[elder].counts(3_000)
    pos = state.rounds[rid].positions[new.id]
    assert pos.kind == R.CONCERN and pos.provisional and pos.member == new.id
    assert elder not in state.rounds[rid].positions
    assert state.find_member("ama").id == new.id
    # A position still recorded "for" the old id lands on the member it became.
    w.add("ana", B.position(w.next_id(), 2_600, w.dev("ana"), round_=rid, kind=R.CONSENT,
                            reason="changed", for_member=elder))  # fmt: skip
    # The member confirms from their own device: a provisional position gives way.
    w.position("ama", 2_700, rid, R.CONSENT, "confirmed")
    final = w.fold().rounds[rid].positions[new.id]
    assert final.reason == "confirmed" and not final.provisional


def test_a_membership_is_claimed_once_and_only_by_a_facilitators_claim_invite() -> None:
    w = World()
    w.create(1_000)
    w.join("bob", 1_100)
    _, elder = add_member(w, "ana", 1_200, "Ama")
    first = claim_invite(w, "ana", 1_300, elder, "c1")
    second = claim_invite(w, "ana", 1_301, elder, "c2")
    w.join("ama", 1_400, invite=first[:2])
    thief = w.join("eve", 1_500, invite=second[:2])
    assert rule_of(w, thief) == R.CLAIM_ONCE
    by_bob = claim_invite(w, "bob", 1_600, elder, "c3")[2]
    assert rule_of(w, by_bob) == R.FACILITATOR_ONLY
    not_deviceless = claim_invite(w, "ana", 1_700, w.mid("bob"), "c4")[2]
    assert rule_of(w, not_deviceless) == R.CLAIM_ONCE


def test_removing_a_deviceless_member_by_decision_ends_the_claim() -> None:
    w = World()
    w.create(1_000)
    w.join("bob", 1_100)
    _, elder = add_member(w, "ana", 1_200, "Ama")
    decision = w.decide(3_000, A.RemoveMemberEffect(member=elder))
    assert decision
    inv, secret, record = claim_invite(w, "ana", 6_000, elder, "late")
    joined = w.join("ama", 6_100, invite=(inv, secret))
    assert rule_of(w, record) == R.MEMBER_REMOVED
    assert rule_of(w, joined) == R.MEMBER_REMOVED
    assert w.mid("ama") not in w.fold().members
