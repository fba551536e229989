"""Genesis, joining by invite, device revocation, and what the fold ignores."""

from __future__ import annotations

from assemblymesh.model import fold
from assemblymesh.model import rules as R
from tests.model.helpers import (
    NONCE,
    B,
    World,
    founded,
    ignored_rules,
    key_for,
    last_entry,
    snapshot_of,
)


def test_genesis_makes_founder_a_facilitating_member() -> None:
    w = World()
    w.create(1_000)
    s = w.fold()
    assert s.assembly is not None
    assert s.assembly.name == "Garden co-op"
    assert s.assembly.founder == w.mid("ana")
    assert s.assembly.rules.cooling_off_ms == 1_000
    ana = s.members[w.mid("ana")]
    assert ana.is_founder and ana.joined_ts == 1_000 and ana.invited_by is None
    assert ana.can_facilitate(5_000)
    assert not ana.can_facilitate(1_000 + 1_000_000)  # the founding term ends
    assert s.founding_period


def test_create_by_a_non_founder_is_ignored() -> None:
    w = World()
    w.create(900, name="bob")  # bob's key does not hash to this assembly id
    s = w.fold()
    assert s.assembly is None
    assert ignored_rules(s) == [R.GENESIS_BY_FOUNDER]


def test_second_create_is_ignored_and_acts_before_genesis_count_for_nothing() -> None:
    w = World()
    early = w.propose("ana", 500)  # precedes genesis in the global order
    w.create(1_000)
    w.create(2_000)
    s = w.fold()
    assert early not in s.proposals
    assert ignored_rules(s) == [R.ASSEMBLY_EXISTS, R.GENESIS_ONCE]


def test_join_with_a_genuine_invite_admits() -> None:
    w = founded("bob")
    s = w.fold()
    bob = s.members[w.mid("bob")]
    assert bob.name == "bob" and bob.invited_by == w.mid("ana") and not bob.is_founder
    assert bob.devices == (w.dev("bob"),)
    assert s.invites[bob.invite_key or ""].used_by == bob.id


def test_an_invite_two_member_keys_claim_admits_the_join_its_inviter_admits() -> None:
    """Whoever saw a code can join with it and date the join early: dating wins nothing.
    Of two genuine joins with one invite, the one the inviter's node admitted (it admits the
    first it sees) is the member, whatever their timestamps and the order of documents."""
    w = founded()
    shared = w.make_invite("ana", label="shared")
    carl = w.ref("carl", w.join("carl", 1_300, invite=shared))
    w.join("bob", 1_200, invite=shared)  # dated earlier, seen later
    w.admit("ana", 1_400, carl)
    for order in (["ana", "bob", "carl"], ["carl", "bob", "ana"], ["bob", "ana", "carl"]):
        docs = {w.mid(n): w.docs[w.mid(n)] for n in order}
        s = fold(snapshot_of(w.assembly_id, docs), 10**7)
        assert w.mid("carl") in s.members
        assert w.mid("bob") not in s.members
        assert last_entry(s, w.docs[w.mid("bob")][0]["id"]).rule == R.INVITE_CONTESTED


def test_a_contested_invite_admits_nobody_until_its_inviter_admits_one() -> None:
    w = founded()
    shared = w.make_invite("ana", label="shared")
    w.join("carl", 1_200, invite=shared)
    bob = w.ref("bob", w.join("bob", 1_200, invite=shared))
    s = w.fold()
    assert set(s.members) == {w.mid("ana")}
    assert ignored_rules(s) == [R.INVITE_CONTESTED, R.INVITE_CONTESTED]
    w.admit("carl", 1_500, bob)  # not the inviter: counts for nothing
    w.admit("ana", 1_600, bob)
    s = w.fold()
    assert set(s.members) == {w.mid("ana"), w.mid("bob")}


def test_expired_invite_does_not_admit() -> None:
    w = founded()
    w.join("bob", 5_000, invite=w.make_invite("ana", expires=4_999))
    s = w.fold()
    assert w.mid("bob") not in s.members
    assert ignored_rules(s) == [R.INVITE_NOT_EXPIRED]


def test_forged_proof_does_not_admit() -> None:
    w = founded()
    w.join("bob", 1_200, proof=bytes(64))
    inv, _ = w.make_invite("ana", label="x")
    # Signed by the joiner instead of the invite key: not a proof.
    w.join("carl", 1_300, invite=(inv, key_for("carl")))
    s = w.fold()
    assert set(s.members) == {w.mid("ana")}
    assert ignored_rules(s) == [R.INVITE_GENUINE, R.INVITE_GENUINE]


def test_a_proof_for_another_joiner_cannot_be_replayed() -> None:
    w = founded("bob")
    bob_join = w.docs[w.mid("bob")][0]
    stolen = {**bob_join, "id": w.next_id()}
    w.add("mallory", stolen)
    s = w.fold()
    assert w.mid("mallory") not in s.members
    assert ignored_rules(s) == [R.INVITE_GENUINE]


def test_invite_for_another_assembly_or_by_a_non_member_is_refused() -> None:
    w = founded()
    w.join("bob", 1_200, invite=w.make_invite("ana", assembly=bytes(16)))
    w.join("carl", 1_300, inviter="zoe")  # zoe never joined
    s = w.fold()
    assert set(s.members) == {w.mid("ana")}
    # zoe's record of the invite is nowhere: carl's join waits for it.
    assert ignored_rules(s) == [R.INVITE_FOR_ASSEMBLY, R.INVITE_RECORDED_FIRST]


def test_a_member_may_invite_once_admitted_and_a_failed_join_may_be_retried() -> None:
    w = founded("bob")
    invite = w.make_invite("bob", label="for-carl")
    w.join("carl", 1_050, invite=invite, proof=bytes(64))  # a bad proof: ignored
    w.join("carl", 2_000, invite=invite)  # same invite, genuine: admits
    s = w.fold()
    assert s.members[w.mid("carl")].invited_by == w.mid("bob")
    assert ignored_rules(s) == [R.INVITE_GENUINE]


def test_a_join_is_never_placed_before_its_invite_record() -> None:
    """A join dated before its inviter joined (or before the invite was made) is placed
    after the inviter's record of the invite: back-dating a join gains nothing."""
    w = founded("bob")
    join = w.join("carl", 900, inviter="bob")  # dated before the assembly existed
    s = w.fold()
    carl = s.members[w.mid("carl")]
    assert carl.joined_ts > s.members[w.mid("bob")].joined_ts
    assert last_entry(s, join["id"]).accepted


def test_acts_of_non_members_and_unknown_or_malformed_acts_are_ignored() -> None:
    w = founded("bob")
    w.propose("zoe", 2_000)  # never joined
    w.add("bob", {"id": w.next_id(), "type": "future_thing", "ts": 2_100, "device": w.dev("bob")})
    w.add("bob", {"id": w.next_id(), "type": "propose", "ts": 2_200, "device": w.dev("bob")})
    w.add("bob", {"type": "propose", "ts": "soon"})
    w.add("bob", ["not", "a", "mapping"])  # type: ignore[arg-type]
    s = w.fold()
    assert s.proposals == {}
    assert ignored_rules(s) == [
        R.MEMBERS_ONLY,
        R.KNOWN_TYPE,
        R.WELL_FORMED,
        R.WELL_FORMED,
        R.WELL_FORMED,
    ]


def test_garbage_documents_do_not_crash_the_fold() -> None:
    w = founded("bob")
    docs: dict[str, object] = dict(w.docs)
    docs["not-a-key"] = [{"id": "00000000000000aa", "type": "propose", "ts": 5}]
    docs[w.mid("carl")] = "not a list"
    docs[w.mid("dan")] = [None, 3, {"ts": float("nan")}, {"ts": True, "type": 1}]
    s = fold(snapshot_of(w.assembly_id, docs), 0)  # type: ignore[arg-type]
    assert set(s.members) == {w.mid("ana"), w.mid("bob")}


def test_integral_float_values_from_storage_are_read_as_ints() -> None:
    w = World()
    act = w.create(1_000)
    act["ts"] = 1000.0
    act["term_end"] = float(act["term_end"])
    act["rules"]["quorum"] = 1.0
    s = w.fold()
    assert s.assembly is not None and s.assembly.created_ts == 1_000
    assert isinstance(s.assembly.rules.quorum, int)


def test_duplicate_act_ids_count_once_and_no_member_takes_another_members_id() -> None:
    w = founded("bob")
    pid = w.propose("ana", 2_000)
    local_id = w.docs[w.mid("ana")][-1]["id"]
    w.add("ana", B.propose(local_id, 2_050, w.dev("ana"), title="Again", body=""))
    w.add("bob", B.propose(local_id, 1_500, w.dev("bob"), title="Hijack", body=""))
    s = w.fold()
    assert s.proposals[pid].title == "Buy a shed"
    hijack = w.ref("bob", w.docs[w.mid("bob")][-1])
    assert hijack != pid and s.proposals[hijack].author == w.mid("bob")
    assert ignored_rules(s) == [R.UNIQUE_ID]


def test_document_order_wins_over_a_clock_that_went_back() -> None:
    w = founded("bob")
    pid = w.propose("ana", 5_000)
    w.amend("ana", 4_000, pid)  # written after the proposal, on a clock set back
    s = w.fold()
    assert len(s.proposals[pid].versions) == 2
    assert s.device_last[w.dev("ana")] == 5_000
    assert [e.ts for e in s.audit][-2:] == [5_000, 5_000]


def test_revoked_device_can_no_longer_act() -> None:
    w = founded("bob")
    w.revoke("bob", 2_000, w.dev("bob"), keep=1)  # bob's join stays
    w.propose("bob", 2_100)  # from the revoked device 0
    w.add("bob", B.propose(w.next_id(), 2_200, w.dev("bob", 1), title="ok", body=""))
    s = w.fold()
    bob = s.members[w.mid("bob")]
    assert bob.revoked_devices == (w.dev("bob"),)
    assert not s.device_allowed(bob.id, w.dev("bob"))
    assert s.device_allowed(bob.id, w.dev("bob", 1))
    assert [p.title for p in s.proposals.values()] == ["ok"]
    assert ignored_rules(s) == [R.DEVICE_NOT_REVOKED]


def test_genesis_check_is_self_certifying() -> None:
    # The assembly id is the hash of the founder key and the nonce; any node can check it.
    from assemblymesh.crdt.identity import assembly_id_for

    w = World()
    assert w.assembly_id == assembly_id_for(key_for("ana").public, NONCE)
