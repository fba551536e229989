"""Meetings folded from signed acts: rotation, attendance, the agenda's order, the speaking
queue and its progressive stack, sealed minutes and strategic-absence meetings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.model import AssemblyState, fold
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import (
    agenda,
    minutes_hash,
    present_members,
    proposed_roles,
    queue,
    rotation,
    speaking_time,
)
from tests.model.helpers import World, act_doc, founded, ignored_rules, last_entry, snapshot_of


def put(w: World, name: str, cls: type[A.Act], ts: int, device: int = 0, **f: Any) -> str:
    """Write one act of ``cls`` in ``name``'s document; returns its ref."""
    act = w.add(name, act_doc(cls, w.next_id(), ts, w.dev(name, device), **f))
    return w.ref(name, act)


def meeting(w: World, ts: int, facilitator: str = "ana", note_taker: str = "bob", **f: Any) -> str:
    return put(
        w, "ana", A.ScheduleMeeting, ts, starts=ts + 10_000, facilitator=w.mid(facilitator),
        note_taker=w.mid(note_taker), **f,
    )  # fmt: skip


def held_meeting(w: World, ts: int, facilitator: str, note_taker: str = "dan") -> str:
    mid = meeting(w, ts, facilitator, note_taker)
    put(w, facilitator, A.AdvanceMeeting, ts + 1, meeting=mid, to=R.IN_SESSION)
    put(w, facilitator, A.AdvanceMeeting, ts + 2, meeting=mid, to=R.ENDED)
    return mid


def sitting(w: World, ts: int, facilitator: str = "ana", **f: Any) -> str:
    mid = meeting(w, ts, facilitator, **f)
    put(w, facilitator, A.AdvanceMeeting, ts + 1, meeting=mid, to=R.IN_SESSION)
    return mid


def rule_of(state: AssemblyState, ref: str) -> str | None:
    return last_entry(state, ref).rule  # type: ignore[no-any-return]


# --- meetings and rotation ---------------------------------------------------------------------


def test_rotation_proposes_who_facilitated_least_recently_and_the_meeting_may_override() -> None:
    w = founded("bob", "cara", "dan")
    s = w.fold()
    order = rotation(s)
    assert order == tuple(w.mid(n) for n in ("ana", "bob", "cara", "dan"))  # nobody yet: by joining
    assert proposed_roles(s) == (w.mid("ana"), w.mid("bob"))
    held_meeting(w, 2_000, "ana")
    held_meeting(w, 3_000, "cara")
    s = w.fold()
    assert rotation(s)[:2] == (w.mid("bob"), w.mid("dan"))  # never facilitated come first
    assert rotation(s)[-1] == w.mid("cara")  # the most recent facilitator comes last
    # Overriding: the schedule names someone else, and an update changes it again.
    mid = meeting(w, 4_000, "cara", "ana")
    put(w, "ana", A.UpdateMeeting, 4_100, meeting=mid, facilitator=w.mid("dan"))
    m = w.fold().meetings[mid]
    assert (m.facilitator, m.note_taker) == (w.mid("dan"), w.mid("ana"))
    assert [r.facilitator for r in m.roles] == [w.mid("cara"), w.mid("dan")]


def test_only_members_hold_meeting_roles() -> None:
    w = founded("bob")
    w.supporter("sam", 1_200)
    bad = meeting(w, 2_000, "sam", "bob")
    assert rule_of(w.fold(), bad) == R.MEETING_ROLES_BY_MEMBERS
    mid = meeting(w, 2_100)
    stranger = put(w, "cara", A.UpdateMeeting, 2_200, meeting=mid, facilitator=w.mid("cara"))
    assert rule_of(w.fold(), stranger) == R.MEMBERS_ONLY
    other = put(w, "bob", A.UpdateMeeting, 2_300, meeting=mid, facilitator=w.mid("bob"))
    assert rule_of(w.fold(), other) == R.MEETING_FACILITATOR_ONLY


def test_a_meeting_opens_ends_or_is_cancelled_as_the_table_says() -> None:
    w = founded("bob")
    mid = meeting(w, 2_000)
    early_end = put(w, "ana", A.AdvanceMeeting, 2_100, meeting=mid, to=R.ENDED)
    put(w, "ana", A.AdvanceMeeting, 2_200, meeting=mid, to=R.IN_SESSION)
    no_cancel = put(w, "ana", A.AdvanceMeeting, 2_300, meeting=mid, to=R.CANCELLED)
    put(w, "ana", A.AdvanceMeeting, 2_400, meeting=mid, to=R.ENDED)
    s = w.fold()
    assert rule_of(s, early_end) == R.MEETING_TRANSITION
    assert rule_of(s, no_cancel) == R.MEETING_TRANSITION
    m = s.meetings[mid]
    assert (m.state, m.started_ts, m.ended_ts) == (R.ENDED, 2_200, 2_400)


# --- attendance --------------------------------------------------------------------------------


def test_attendance_from_two_devices_and_the_facilitator_counts_once() -> None:
    w = founded("bob", "cara")
    mid = meeting(w, 2_000)
    put(w, "bob", A.Attend, 2_100, device=0, meeting=mid)
    put(w, "bob", A.Attend, 2_101, device=1, meeting=mid)
    put(w, "ana", A.Attend, 2_102, meeting=mid, for_member=w.mid("bob"))
    put(w, "ana", A.Attend, 2_103, meeting=mid, for_member=w.mid("cara"))  # no device with her
    s = w.fold()
    m = s.meetings[mid]
    assert list(m.attendance) == [w.mid("bob"), w.mid("cara")]
    assert m.attendance[w.mid("bob")].recorded_by == w.mid("bob")  # the first mark stands
    assert m.attendance[w.mid("cara")].recorded_by == w.mid("ana")
    assert present_members(s, m) == 2
    assert not any(not e.accepted for e in s.audit)  # repeats are accepted, counted once


def test_only_the_facilitator_marks_someone_else_present() -> None:
    w = founded("bob", "cara")
    mid = meeting(w, 2_000)
    proxy = put(w, "bob", A.Attend, 2_100, meeting=mid, for_member=w.mid("cara"))
    s = w.fold()
    assert rule_of(s, proxy) == R.MEETING_FACILITATOR_ONLY
    assert s.meetings[mid].attendance == {}


def test_the_meeting_quorum_is_a_rule_the_assembly_changes_by_decision() -> None:
    w = founded("bob", "cara")
    w.decide(2_000, A.SetRuleEffect(rule="meeting_quorum", value=2))
    mid = sitting(w, 5_000)
    item = put(w, "bob", A.AddAgendaItem, 5_100, meeting=mid, kind=R.ITEM_TOPIC, title="Paths")
    put(w, "bob", A.Attend, 5_200, meeting=mid)
    early = put(w, "ana", A.ItemOutcome, 5_300, item=item, outcome=R.DECIDED)
    put(w, "cara", A.Attend, 5_400, meeting=mid)
    later = put(w, "ana", A.ItemOutcome, 5_500, item=item, outcome=R.DECIDED)
    s = w.fold()
    assert s.assembly is not None and s.assembly.rules.meeting_quorum == 2
    assert rule_of(s, early) == R.MEETING_QUORUM
    assert last_entry(s, later).accepted
    assert s.agenda_items[item].outcome == R.DECIDED


# --- the agenda --------------------------------------------------------------------------------


def test_agenda_order_is_support_then_age_and_the_facilitator_reorders_while_it_sits() -> None:
    w = founded("bob", "cara")
    mid = meeting(w, 2_000)
    first = put(w, "bob", A.AddAgendaItem, 2_100, meeting=mid, kind=R.ITEM_TOPIC, title="Paths")
    second = put(w, "cara", A.AddAgendaItem, 2_200, meeting=mid, kind=R.ITEM_QUESTION, title="Key")
    third = put(w, "cara", A.AddAgendaItem, 2_300, meeting=mid, kind=R.ITEM_REPORT, title="Seeds")
    put(w, "bob", A.SupportItem, 2_400, item=third)
    put(w, "ana", A.SupportItem, 2_500, item=third)
    put(w, "ana", A.SupportItem, 2_600, item=second)
    again = put(w, "ana", A.SupportItem, 2_700, device=1, item=second)
    early = put(w, "ana", A.ReorderAgenda, 2_800, meeting=mid, order=[first])
    s = w.fold()
    assert [i.id for i in agenda(s, s.meetings[mid])] == [third, second, first]
    assert rule_of(s, again) == R.SUPPORT_ITEM_ONCE
    assert rule_of(s, early) == R.MEETING_TRANSITION
    put(w, "ana", A.AdvanceMeeting, 2_900, meeting=mid, to=R.IN_SESSION)
    not_theirs = put(w, "bob", A.ReorderAgenda, 3_000, meeting=mid, order=[first])
    put(w, "ana", A.ReorderAgenda, 3_100, meeting=mid, order=[first])
    s = w.fold()
    assert rule_of(s, not_theirs) == R.MEETING_FACILITATOR_ONLY
    m = s.meetings[mid]
    assert [i.id for i in agenda(s, m)] == [first, third, second]
    assert [(c.by, c.order) for c in m.order_changes] == [(w.mid("ana"), (first,))]


def test_a_reflection_meeting_is_ordered_by_the_members_alone() -> None:
    w = founded("bob")
    mid = sitting(w, 2_000, kind=R.REFLECTION)
    item = put(w, "bob", A.AddAgendaItem, 2_100, meeting=mid, kind=R.ITEM_TOPIC, title="Us")
    refused = put(w, "ana", A.ReorderAgenda, 2_200, meeting=mid, order=[item])
    assert rule_of(w.fold(), refused) == R.REFLECTION_AGENDA


def test_proposal_items_name_a_proposal_that_exists() -> None:
    w = founded("bob")
    mid = meeting(w, 2_000)
    pid = w.propose("bob", 2_050, "Buy a shed")
    ok = put(w, "bob", A.AddAgendaItem, 2_100, meeting=mid, kind=R.ITEM_PROPOSAL, proposal=pid)
    unnamed = put(w, "bob", A.AddAgendaItem, 2_200, meeting=mid, kind=R.ITEM_PROPOSAL, title="x")
    named = put(
        w, "bob", A.AddAgendaItem, 2_300, meeting=mid, kind=R.ITEM_TOPIC, title="x", proposal=pid
    )
    s = w.fold()
    assert s.agenda_items[ok].title == "Buy a shed"
    assert rule_of(s, unnamed) == R.ITEM_NAMES_PROPOSAL
    assert rule_of(s, named) == R.ITEM_NAMES_PROPOSAL


def _partitioned_agenda(w: World) -> tuple[str, list[str]]:
    """Both sides of a partition add and back items of one meeting; returns the meeting and
    the items in the order the rule gives once the sides meet again."""
    mid = meeting(w, 2_000, "ana", "ana")  # both sides know ana
    # Side one (ana, bob) and side two (cara, dan) write at the same times.
    a = put(w, "bob", A.AddAgendaItem, 2_100, meeting=mid, kind=R.ITEM_TOPIC, title="Water")
    b = put(w, "cara", A.AddAgendaItem, 2_100, meeting=mid, kind=R.ITEM_TOPIC, title="Tools")
    c = put(w, "dan", A.AddAgendaItem, 2_150, meeting=mid, kind=R.ITEM_QUESTION, title="Rota?")
    put(w, "ana", A.SupportItem, 2_200, item=a)
    put(w, "dan", A.SupportItem, 2_200, item=c)
    put(w, "cara", A.SupportItem, 2_210, item=c)
    put(w, "bob", A.SupportItem, 2_300, item=a)
    # a and c: two backers each, and a is older; b: none. Ties on age go by ref.
    return mid, [a, c, b]


def test_agenda_order_is_the_same_on_every_node_after_a_partition() -> None:
    w = founded("bob", "cara", "dan")
    mid, expected = _partitioned_agenda(w)
    one = w.fold(only=("ana", "bob"))
    two = w.fold(only=("ana", "cara", "dan"))  # the meeting's schedule reached both sides
    assert [i.title for i in agenda(one, one.meetings[mid])] == ["Water"]
    assert [i.title for i in agenda(two, two.meetings[mid])] == ["Rota?", "Tools"]
    # Healed: each node received the other side's documents in its own order.
    docs_one = dict(w.docs)
    docs_two = dict(reversed(list(w.docs.items())))
    healed = [fold(snapshot_of(w.assembly_id, d), 10**7) for d in (docs_one, docs_two)]
    orders = [[i.id for i in agenda(s, s.meetings[mid])] for s in healed]
    assert orders[0] == orders[1] == expected


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(6)))
def test_agenda_order_does_not_depend_on_the_order_documents_arrive(perm: list[int]) -> None:
    w = founded("bob", "cara", "dan", "eve")
    mid, expected = _partitioned_agenda(w)
    put(w, "eve", A.SupportItem, 2_400, item=expected[2])
    items = list(w.docs.items())
    shuffled = dict(items[i] for i in perm if i < len(items))
    s = fold(snapshot_of(w.assembly_id, shuffled), 10**7)
    # b now has one backer, a and c two: the order stays a, c, b whichever arrives first.
    assert [i.id for i in agenda(s, s.meetings[mid])] == expected


# --- the speaking queue ------------------------------------------------------------------------


def _hands_after_bob_spoke(stack: str, dan_spoke_before: bool) -> tuple[World, str]:
    w = founded("bob", "cara", "dan")
    if dan_spoke_before:
        old = sitting(w, 1_500)
        put(w, "ana", A.GiveFloor, 1_600, meeting=old, member=w.mid("dan"))
        put(w, "ana", A.AdvanceMeeting, 1_700, meeting=old, to=R.ENDED)
    mid = sitting(w, 2_000, stack=stack)
    put(w, "ana", A.GiveFloor, 2_100, meeting=mid, member=w.mid("bob"))
    put(w, "bob", A.RaiseHand, 2_200, meeting=mid)
    put(w, "dan", A.RaiseHand, 2_300, meeting=mid)
    put(w, "ana", A.RaiseHand, 2_400, meeting=mid, for_member=w.mid("cara"))
    return w, mid


@pytest.mark.parametrize(
    ("stack", "dan_before", "expected"),
    [
        (R.STACK_IN_ORDER, True, ["bob", "dan", "cara"]),
        (R.STACK_MEETING, True, ["dan", "cara", "bob"]),
        (R.STACK_EVER, True, ["cara", "bob", "dan"]),
        (R.STACK_EVER, False, ["dan", "cara", "bob"]),
    ],
)
def test_the_progressive_stack_puts_new_voices_first(
    stack: str, dan_before: bool, expected: list[str]
) -> None:
    w, mid = _hands_after_bob_spoke(stack, dan_before)
    s = w.fold()
    names = {w.mid(n): n for n in ("ana", "bob", "cara", "dan")}
    assert [names[h.member] for h in queue(s, s.meetings[mid])] == expected


def test_turns_are_timed_from_causal_time_and_recorded_turns_keep_their_length() -> None:
    w, mid = _hands_after_bob_spoke(R.STACK_IN_ORDER, False)
    put(w, "ana", A.GiveFloor, 2_600, meeting=mid, member=w.mid("dan"))
    put(w, "ana", A.GiveFloor, 2_900, meeting=mid, member=w.mid("cara"), duration_ms=120)
    put(w, "ana", A.AdvanceMeeting, 3_000, meeting=mid, to=R.ENDED)
    s = w.fold()
    m = s.meetings[mid]
    assert [(t.member, t.start_ts, t.end_ts) for t in m.turns] == [
        (w.mid("bob"), 2_100, 2_600),
        (w.mid("dan"), 2_600, 3_000),
        (w.mid("cara"), 2_780, 2_900),
    ]
    assert speaking_time(m, s.now_ms) == {w.mid("bob"): 500, w.mid("dan"): 400, w.mid("cara"): 120}
    assert m.hands == () and m.speaker is None


def test_hands_go_up_once_and_only_the_facilitator_adds_others() -> None:
    w = founded("bob", "cara")
    mid = sitting(w, 2_000)
    put(w, "bob", A.RaiseHand, 2_100, meeting=mid)
    twice = put(w, "bob", A.RaiseHand, 2_200, device=1, meeting=mid)
    proxy = put(w, "bob", A.RaiseHand, 2_300, meeting=mid, for_member=w.mid("cara"))
    not_up = put(w, "cara", A.LowerHand, 2_400, meeting=mid)
    put(w, "bob", A.LowerHand, 2_500, meeting=mid)
    s = w.fold()
    assert rule_of(s, twice) == R.ONE_HAND_EACH
    assert rule_of(s, proxy) == R.MEETING_FACILITATOR_ONLY
    assert rule_of(s, not_up) == R.ONE_HAND_EACH
    assert s.meetings[mid].hands == ()


def test_supporters_attend_and_speak_and_are_asked_for_clarification() -> None:
    w = founded("bob")
    w.supporter("sam", 1_200)
    w.decide(1_800, A.AdmitSupporterEffect(member=w.mid("sam"), until=10**8))
    mid = sitting(w, 5_000)
    put(w, "sam", A.Attend, 5_100, meeting=mid)
    put(w, "sam", A.RaiseHand, 5_200, meeting=mid)
    item = put(w, "sam", A.AddAgendaItem, 5_250, meeting=mid, kind=R.ITEM_REPORT, title="Grant")
    backing = put(w, "sam", A.SupportItem, 5_300, item=item)
    asked = put(w, "bob", A.AskClarification, 5_400, meeting=mid, supporter=w.mid("sam"))
    wrong = put(w, "bob", A.AskClarification, 5_500, meeting=mid, supporter=w.mid("ana"))
    s = w.fold()
    m = s.meetings[mid]
    assert w.mid("sam") in m.attendance and present_members(s, m) == 0  # supporters: no quorum
    assert [h.member for h in m.hands] == [w.mid("sam")]
    assert rule_of(s, backing) == R.SUPPORTER_MAY_NOT
    assert last_entry(s, asked).accepted and m.clarifications[0].supporter == w.mid("sam")
    assert rule_of(s, wrong) == R.CLARIFY_SUPPORTER


# --- minutes -----------------------------------------------------------------------------------


def test_sealed_minutes_are_tamper_evident() -> None:
    w = founded("bob", "cara")
    mid = sitting(w, 2_000)
    text = "# Minutes\n\nWe agreed on the paths.\n"
    sealed = put(w, "bob", A.SealMinutes, 2_100, meeting=mid, text=text, hash=minutes_hash(text))
    forged = put(
        w, "bob", A.SealMinutes, 2_200, meeting=mid, text=text + "And the shed.\n",
        hash=minutes_hash(text),
    )  # fmt: skip
    digest = minutes_hash(text)
    not_theirs = put(w, "cara", A.SealMinutes, 2_300, meeting=mid, text=text, hash=digest)
    s = w.fold()
    assert last_entry(s, sealed).accepted
    assert rule_of(s, forged) == R.MINUTES_HASH
    assert rule_of(s, not_theirs) == R.NOTE_TAKER_ONLY
    seal = s.meetings[mid].sealed
    assert seal is not None and seal.text == text and seal.by == w.mid("bob")
    # Any later edit of the shared text no longer matches what was sealed.
    assert minutes_hash(text.replace("paths", "roads")) != seal.hash


def test_minutes_are_sealed_only_once_the_meeting_sits() -> None:
    w = founded("bob")
    mid = meeting(w, 2_000)
    early = put(w, "bob", A.SealMinutes, 2_100, meeting=mid, text="x", hash=minutes_hash("x"))
    assert rule_of(w.fold(), early) == R.MEETING_TRANSITION


# --- strategic absence -------------------------------------------------------------------------


def _after_ana_facilitated_most() -> World:
    w = founded("bob", "cara", "dan")
    held_meeting(w, 2_000, "ana")
    held_meeting(w, 3_000, "bob")
    held_meeting(w, 4_000, "ana")
    return w


def test_absence_meetings_refuse_the_stepped_back_members_roles() -> None:
    w = _after_ana_facilitated_most()
    s = w.fold()
    assert proposed_roles(s, R.ABSENCE)[0] != w.mid("ana")
    as_facilitator = meeting(w, 5_000, "ana", "cara", kind=R.ABSENCE)
    as_notes = meeting(w, 5_100, "cara", "ana", kind=R.ABSENCE)
    mid = meeting(w, 5_200, "cara", "dan", kind=R.ABSENCE)
    handover = put(w, "cara", A.UpdateMeeting, 5_300, meeting=mid, facilitator=w.mid("ana"))
    s = w.fold()
    assert rule_of(s, as_facilitator) == R.ABSENCE_STEPS_BACK
    assert rule_of(s, as_notes) == R.ABSENCE_STEPS_BACK
    assert rule_of(s, handover) == R.ABSENCE_STEPS_BACK
    assert s.meetings[mid].stepped_back == (w.mid("ana"),)
    # A regular meeting puts no one back.
    regular = meeting(w, 5_400, "ana", "cara")
    assert last_entry(w.fold(), regular).accepted


def test_in_an_absence_meeting_the_stepped_back_are_never_first_in_the_queue() -> None:
    w = _after_ana_facilitated_most()
    w.supporter("sam", 4_500)
    w.decide(4_800, A.AdmitSupporterEffect(member=w.mid("sam"), until=10**8))
    mid = meeting(w, 6_000, "cara", "dan", kind=R.ABSENCE, stack=R.STACK_MEETING)
    put(w, "cara", A.AdvanceMeeting, 6_001, meeting=mid, to=R.IN_SESSION)
    put(w, "ana", A.RaiseHand, 6_100, meeting=mid)
    put(w, "sam", A.RaiseHand, 6_150, meeting=mid)
    put(w, "bob", A.RaiseHand, 6_200, meeting=mid)
    s = w.fold()
    assert [h.member for h in queue(s, s.meetings[mid])] == [
        w.mid("bob"), w.mid("ana"), w.mid("sam"),
    ]  # fmt: skip
    jumped = put(w, "cara", A.GiveFloor, 6_300, meeting=mid, member=w.mid("ana"))
    put(w, "cara", A.GiveFloor, 6_400, meeting=mid, member=w.mid("bob"))
    after = put(w, "cara", A.GiveFloor, 6_500, meeting=mid, member=w.mid("ana"))
    s = w.fold()
    assert rule_of(s, jumped) == R.ABSENCE_STEPS_BACK
    assert last_entry(s, after).accepted  # nobody else waits: they may speak
    assert ignored_rules(s).count(R.ABSENCE_STEPS_BACK) == 1


def test_the_seal_hash_is_the_one_docs_protocol_gives() -> None:
    import hashlib

    text = "Minutes — café\n"
    assert minutes_hash(text) == hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def test_the_diagnostic_compares_absence_meetings_with_regular_ones() -> None:
    from assemblymesh.model.diagnostic import diagnostic

    w = _after_ana_facilitated_most()  # three regular meetings: ana, bob, ana; nobody spoke
    mid = meeting(w, 5_000, "cara", "dan", kind=R.ABSENCE)
    put(w, "cara", A.AdvanceMeeting, 5_001, meeting=mid, to=R.IN_SESSION)
    done = put(w, "dan", A.AddAgendaItem, 5_010, meeting=mid, kind=R.ITEM_TOPIC, title="Paint")
    later = put(w, "dan", A.AddAgendaItem, 5_020, meeting=mid, kind=R.ITEM_TOPIC, title="Roof")
    put(w, "dan", A.AddAgendaItem, 5_030, meeting=mid, kind=R.ITEM_TOPIC, title="Bins")
    put(w, "cara", A.Attend, 5_040, meeting=mid)
    put(w, "cara", A.GiveFloor, 5_050, meeting=mid, member=w.mid("dan"))
    put(w, "cara", A.GiveFloor, 5_060, meeting=mid, member=w.mid("ana"))
    put(w, "cara", A.ItemOutcome, 5_070, item=done, outcome=R.DISCUSSED)
    put(w, "cara", A.ItemOutcome, 5_080, item=later, outcome=R.DEFERRED)
    put(w, "cara", A.AdvanceMeeting, 5_100, meeting=mid, to=R.ENDED)
    d = diagnostic(w.fold())
    absence, regular = d.by_kind[R.ABSENCE], d.by_kind[R.REGULAR]
    assert (regular.meetings, regular.facilitators) == (3, (w.mid("ana"), w.mid("bob")))
    assert regular.first_time_facilitators == (w.mid("ana"), w.mid("bob"))
    assert (absence.meetings, absence.deferred, absence.stalled) == (1, 1, 1)
    assert absence.first_time_facilitators == (w.mid("cara"),)
    assert (absence.new_speakers, regular.new_speakers) == (2, 0)
    assert [r.kind for r in d.reviews] == [R.REGULAR] * 3 + [R.ABSENCE]
