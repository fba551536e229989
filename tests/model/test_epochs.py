"""Epochs of the assembly secret as the fold sees them: when a rotation is due, which rekey
begins an epoch, which seals count."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.sealing import epoch_check, open_secret, seal_secret
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.epochs import current_epoch, epoch_of, grace_ends
from tests.model.helpers import COOLING, B, World, act_doc, founded, ignored_rules, key_for

SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(1, 33))


def rekey(w: World, who: str, ts: int, epoch: int, secret: bytes, *devices: str, n: int = 0) -> Any:
    seals = [[d, seal_secret(bytes.fromhex(d), secret).hex()] for d in devices]
    check = epoch_check(secret, w.assembly_id, epoch).hex()
    return w.add(
        who, act_doc(A.Rekey, w.next_id(), ts, w.dev(who, n), epoch=epoch, check=check, seals=seals)
    )


def seal(w: World, who: str, ts: int, epoch: int, secret: bytes, *devices: str) -> Any:
    seals = [[d, seal_secret(bytes.fromhex(d), secret).hex()] for d in devices]
    check = epoch_check(secret, w.assembly_id, epoch).hex()
    doc = act_doc(A.SealSecret, w.next_id(), ts, w.dev(who), epoch=epoch, check=check, seals=seals)
    return w.add(who, doc)


def revoked(w: World) -> World:
    """Bob revokes his device 0 from his device 1 at 2_000: a rotation is due."""
    w.add("bob", B.revoke_device(w.next_id(), 2_000, w.dev("bob", 1), revoked=w.dev("bob")))
    return w


def test_a_revocation_makes_a_rotation_due_and_a_rekey_ends_it() -> None:
    w = revoked(founded("bob"))
    s = w.fold()
    assert s.rotation is not None
    assert (s.rotation.due_ts, s.rotation.cause, s.rotation.by) == (
        2_000,
        "revocation",
        w.mid("bob"),
    )
    rekey(w, "ana", 2_100, 1, SECRET_1, w.dev("ana"), w.dev("bob", 1))
    s = w.fold()
    assert s.rotation is None and current_epoch(s.epochs) == 1
    record = epoch_of(s.epochs, 1)
    assert record is not None and set(record.seals) == {w.dev("ana"), w.dev("bob", 1)}
    # The revoked device has no box; a remaining one opens its own.
    box = bytes.fromhex(record.seals[w.dev("bob", 1)])
    secret = open_secret(
        key_for("bob/device/1"), box, bytes.fromhex(record.check), w.assembly_id, 1
    )
    assert secret == SECRET_1


def test_a_rekey_when_none_is_due_is_ignored() -> None:
    w = founded("bob")
    rekey(w, "ana", 2_100, 1, SECRET_1, w.dev("ana"))
    s = w.fold()
    assert current_epoch(s.epochs) == 0
    assert ignored_rules(s) == [R.REKEY_WHEN_DUE]


def test_of_two_concurrent_rekeys_the_first_in_the_global_order_begins_the_epoch() -> None:
    w = revoked(founded("bob"))
    rekey(w, "bob", 2_300, 1, SECRET_2, w.dev("ana"), w.dev("bob", 1), n=1)
    rekey(w, "ana", 2_200, 1, SECRET_1, w.dev("ana"), w.dev("bob", 1))
    s = w.fold()
    record = epoch_of(s.epochs, 1)
    assert record is not None and record.started_by == w.mid("ana")
    assert record.check == epoch_check(SECRET_1, w.assembly_id, 1).hex()
    assert ignored_rules(s) == [R.ONE_REKEY_PER_EPOCH]


def test_an_epoch_out_of_turn_is_ignored() -> None:
    w = revoked(founded("bob"))
    rekey(w, "ana", 2_100, 2, SECRET_1, w.dev("ana"))
    assert ignored_rules(w.fold()) == [R.ONE_REKEY_PER_EPOCH]


def test_a_removal_and_a_decision_to_rotate_make_rotations_due_when_they_take_effect() -> None:
    w = founded("bob")
    w.decide(3_000, A.RemoveMemberEffect(member=w.mid("bob")))
    s = w.fold(3_000 + COOLING - 1)
    assert s.rotation is None
    s = w.fold(3_000 + COOLING)
    assert s.rotation is not None and s.rotation.cause == "removal"
    assert s.rotation.due_ts == 3_000 + COOLING and s.rotation.by == w.mid("ana")

    v = founded("bob")
    v.decide(3_000, A.RotateSecretEffect())
    s = v.fold()
    assert s.rotation is not None and s.rotation.cause == "decision"


def test_a_removed_member_or_a_supporter_writes_no_epoch() -> None:
    w = revoked(founded("bob"))
    w.supporter("sam", 2_050)
    rekey(w, "sam", 2_100, 1, SECRET_1, w.dev("sam"))
    s = w.fold()
    assert current_epoch(s.epochs) == 0
    assert ignored_rules(s) == [R.SUPPORTER_STANDING]

    v = founded("bob", "cy")
    v.decide(3_000, A.RemoveMemberEffect(member=v.mid("cy")), voters=("bob",))
    rekey(v, "cy", 3_000 + COOLING + 10, 1, SECRET_1, v.dev("cy"))
    s = v.fold()
    assert s.rotation is not None and current_epoch(s.epochs) == 0
    assert ignored_rules(s) == [R.MEMBER_REMOVED]


def test_seals_add_boxes_to_the_current_epoch_with_its_check_only() -> None:
    w = founded("bob")
    seal(w, "ana", 1_500, 0, SECRET_1, w.dev("ana"))  # fixes epoch 0's check
    seal(w, "ana", 1_600, 0, SECRET_2, w.dev("bob"))  # another secret: refused
    seal(w, "ana", 1_700, 0, SECRET_1, w.dev("bob"), w.dev("ana"))  # ana's box stays
    seal(w, "ana", 1_800, 1, SECRET_1, w.dev("bob"))  # not the current epoch
    s = w.fold()
    record = epoch_of(s.epochs, 0)
    assert record is not None and set(record.seals) == {w.dev("ana"), w.dev("bob")}
    assert ignored_rules(s) == [R.SEAL_CURRENT_EPOCH, R.SEAL_CURRENT_EPOCH]


def test_the_previous_epoch_is_accepted_for_the_grace_period_after_the_next_began() -> None:
    w = revoked(founded("bob"))
    rekey(w, "ana", 2_100, 1, SECRET_1, w.dev("ana"))
    s = w.fold()
    assert grace_ends(s.epochs, 0) == 2_100 + R.EPOCH_GRACE_MS
    assert grace_ends(s.epochs, 1) is None


def test_malformed_seals_are_refused() -> None:
    w = revoked(founded("bob"))
    d = w.dev("ana")
    for bad in ([[d]], [[d, "zz" * 80]], [[d, "00" * 80], [d, "11" * 80]], "x"):
        doc = act_doc(A.Rekey, w.next_id(), 2_100, d, epoch=1, check="00" * 32)
        w.add("ana", {**doc, "seals": bad})
    s = w.fold()
    assert ignored_rules(s) == [R.WELL_FORMED] * 4 and current_epoch(s.epochs) == 0


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_the_epoch_record_does_not_depend_on_the_order_documents_arrive(order: list[int]) -> None:
    w = revoked(founded("bob"))
    rekey(w, "ana", 2_200, 1, SECRET_1, w.dev("ana"))
    rekey(w, "bob", 2_200, 1, SECRET_2, w.dev("bob", 1), n=1)
    seal(w, "ana", 2_500, 1, SECRET_1, w.dev("bob", 1))
    seal(w, "bob", 2_500, 1, SECRET_2, w.dev("ana"))
    reference = w.fold().epochs
    members = list(w.docs)
    w.docs = {members[i % len(members)]: w.docs[members[i % len(members)]] for i in order}
    assert w.fold().epochs == reference
    assert len(reference) == 1 and len(reference[0].seals) == 2
