"""The fold's handlers for meeting acts: check every rule, then replace the records.

Each handler takes the fold's working state (``Folding``: the folder of ``model.fold``) and
the act being replayed (``Step``), raises ``IllegalMoveError`` naming the rule before it
changes anything, and returns the audit summary. ``model.fold`` registers them (``HANDLERS``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Protocol

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model import tables as T
from assemblymesh.model.meetings import (
    AgendaItem,
    Attendance,
    Clarification,
    Hand,
    Meeting,
    OrderChange,
    RoleChange,
    Seal,
    Turn,
    held,
    minutes_hash,
    most_facilitating,
    steps_back,
)
from assemblymesh.model.state import Assembly, Decision, Member, Proposal


class Folding(Protocol):
    """What the meeting handlers read and replace of the fold's working state."""

    assembly: Assembly | None
    members: dict[str, Member]
    proposals: dict[str, Proposal]
    decisions: dict[str, Decision]
    meetings: dict[str, Meeting]
    agenda_items: dict[str, AgendaItem]


class Step(Protocol):
    """The act being replayed: who wrote it, at which causal time, under which ref."""

    @property
    def member(self) -> str: ...
    @property
    def act(self) -> A.Act: ...
    @property
    def ts(self) -> int: ...
    @property
    def ref(self) -> str: ...


def _name(f: Folding, member: str) -> str:
    m = f.members.get(member)
    return m.name if m is not None else member[:8]


def _meeting(f: Folding, ref: str) -> Meeting:
    m = f.meetings.get(ref)
    if m is None:
        raise IllegalMoveError(R.MEETING_EXISTS, f"no meeting {ref}")
    return m


def _item(f: Folding, ref: str, meeting: Meeting | None = None) -> AgendaItem:
    item = f.agenda_items.get(ref)
    if item is None or (meeting is not None and item.meeting != meeting.id):
        where = "" if meeting is None else " on this meeting's agenda"
        raise IllegalMoveError(R.AGENDA_ITEM_EXISTS, f"no agenda item {ref}{where}")
    return item


def _not_over(m: Meeting, what: str) -> None:
    if m.over:
        raise IllegalMoveError(R.MEETING_TRANSITION, f"the meeting is {m.state}: no {what}")


def _sitting(m: Meeting, what: str) -> None:
    if not m.sits:
        raise IllegalMoveError(
            R.MEETING_TRANSITION, f"{what} only while the meeting sits (it is {m.state})"
        )


def _facilitator(f: Folding, m: Meeting, s: Step, also_scheduler: bool = False) -> None:
    if s.member == m.facilitator or (also_scheduler and s.member == m.scheduled_by):
        return
    raise IllegalMoveError(
        R.MEETING_FACILITATOR_ONLY,
        f"{_name(f, s.member)} is not this meeting's facilitator ({_name(f, m.facilitator)})",
    )


def _subject(f: Folding, m: Meeting, s: Step, for_member: str | None) -> str:
    """Who an act is for: the writer, or (the facilitator only) another participant."""
    if for_member is None or for_member == s.member:
        return s.member
    _facilitator(f, m, s)
    if for_member not in f.members:
        raise IllegalMoveError(R.MEMBER_EXISTS, f"{for_member[:8]} is not a member")
    return for_member


def _check_roles(
    f: Folding, s: Step, kind: str, roles: tuple[str, str], back: tuple[str, ...]
) -> None:
    """The facilitator and the note-taker are members now, and in an absence meeting
    neither steps back."""
    for role, member in zip(("facilitator", "note-taker"), roles, strict=True):
        m = f.members.get(member)
        if m is None or not m.counts(s.ts):
            who = "a supporter" if m is not None and m.supporter else "not a member"
            raise IllegalMoveError(
                R.MEETING_ROLES_BY_MEMBERS, f"the {role}, {_name(f, member)}, is {who}"
            )
        if kind == R.ABSENCE and member in back:
            raise IllegalMoveError(
                R.ABSENCE_STEPS_BACK,
                f"{m.name} facilitated most of the last meetings: they step back and cannot"
                f" be the {role} of an absence meeting",
            )


def schedule(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.ScheduleMeeting) and f.assembly is not None
    back: tuple[str, ...] = ()
    if act.kind == R.ABSENCE:
        back = most_facilitating(held(f.meetings), f.assembly.rules.absence_lookback)
    _check_roles(f, s, act.kind, (act.facilitator, act.note_taker), back)
    f.meetings[s.ref] = Meeting(
        id=s.ref,
        title=act.title,
        kind=act.kind,
        starts=act.starts,
        place=act.place,
        scheduled_by=s.member,
        scheduled_ts=s.ts,
        facilitator=act.facilitator,
        note_taker=act.note_taker,
        stack=act.stack,
        stepped_back=back,
        roles=(RoleChange(s.ts, act.facilitator, act.note_taker, s.member),),
    )
    return (
        f"scheduled a {act.kind} meeting {act.title!r}: {_name(f, act.facilitator)} facilitates,"
        f" {_name(f, act.note_taker)} takes notes"
    )


def update(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.UpdateMeeting)
    m = _meeting(f, act.meeting)
    _not_over(m, "change")
    _facilitator(f, m, s, also_scheduler=True)
    facilitator = act.facilitator or m.facilitator
    note_taker = act.note_taker or m.note_taker
    _check_roles(f, s, m.kind, (facilitator, note_taker), m.stepped_back)
    roles = m.roles
    if (facilitator, note_taker) != (m.facilitator, m.note_taker):
        roles = (*roles, RoleChange(s.ts, facilitator, note_taker, s.member))
    f.meetings[m.id] = dataclasses.replace(
        m,
        facilitator=facilitator,
        note_taker=note_taker,
        roles=roles,
        stack=act.stack or m.stack,
        starts=m.starts if act.starts is None else act.starts,
        place=m.place if act.place is None else act.place,
    )
    return f"changed meeting {m.id[:8]}: {_name(f, facilitator)} facilitates"


def advance(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.AdvanceMeeting)
    m = _meeting(f, act.meeting)
    _facilitator(f, m, s, also_scheduler=act.to == R.CANCELLED)
    state = T.meeting_move(m.state, act.to)
    if state == R.IN_SESSION:
        m = dataclasses.replace(m, state=state, started_ts=s.ts)
    else:
        turns = tuple(
            dataclasses.replace(t, end_ts=s.ts) if t.end_ts is None else t for t in m.turns
        )
        m = dataclasses.replace(m, state=state, ended_ts=s.ts, turns=turns, hands=())
    f.meetings[m.id] = m
    return f"meeting {m.id[:8]} is {state}"


def attend(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.Attend)
    m = _meeting(f, act.meeting)
    _not_over(m, "attendance")
    who = _subject(f, m, s, act.for_member)
    if who in m.attendance:
        return f"{_name(f, who)} was already present"
    present = Attendance(who, s.ts, s.member)
    f.meetings[m.id] = dataclasses.replace(m, attendance={**m.attendance, who: present})
    by = "" if who == s.member else f", marked by {_name(f, s.member)}"
    return f"{_name(f, who)} is present at meeting {m.id[:8]}{by}"


def add_item(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.AddAgendaItem)
    m = _meeting(f, act.meeting)
    _not_over(m, "new items")
    title = act.title
    if (act.kind == R.ITEM_PROPOSAL) != (act.proposal is not None):
        raise IllegalMoveError(
            R.ITEM_NAMES_PROPOSAL, "a proposal item, and only a proposal item, names a proposal"
        )
    if act.proposal is not None:
        p = f.proposals.get(act.proposal)
        if p is None:
            raise IllegalMoveError(R.PROPOSAL_EXISTS, f"no proposal {act.proposal}")
        title = title or p.title
    if not title.strip():
        raise IllegalMoveError(R.WELL_FORMED, "an agenda item needs a title")
    f.agenda_items[s.ref] = AgendaItem(
        id=s.ref,
        meeting=m.id,
        kind=act.kind,
        title=title,
        note=act.note,
        proposal=act.proposal,
        added_by=s.member,
        added_ts=s.ts,
    )
    f.meetings[m.id] = dataclasses.replace(m, items=(*m.items, s.ref))
    return f"added {act.kind} {title!r} to the agenda of meeting {m.id[:8]}"


def support(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.SupportItem)
    item = _item(f, act.item)
    _not_over(_meeting(f, item.meeting), "support for items")
    if s.member in item.backers:
        raise IllegalMoveError(R.SUPPORT_ITEM_ONCE, f"{_name(f, s.member)} already supports it")
    f.agenda_items[item.id] = dataclasses.replace(item, backers={**item.backers, s.member: s.ts})
    return f"{_name(f, s.member)} supports {item.title!r} ({len(item.backers) + 1})"


def reorder(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.ReorderAgenda)
    m = _meeting(f, act.meeting)
    _sitting(m, "the agenda is reordered")
    _facilitator(f, m, s)
    if m.kind == R.REFLECTION:
        raise IllegalMoveError(
            R.REFLECTION_AGENDA, "in a reflection meeting the members' support orders the agenda"
        )
    if len(set(act.order)) != len(act.order):
        raise IllegalMoveError(R.AGENDA_ITEM_EXISTS, "a reorder names each item once")
    for ref in act.order:
        _item(f, ref, m)
    change = OrderChange(s.ts, s.member, act.order, s.ref)
    f.meetings[m.id] = dataclasses.replace(m, order_changes=(*m.order_changes, change))
    return f"reordered the agenda of meeting {m.id[:8]}"


def outcome(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.ItemOutcome) and f.assembly is not None
    item = _item(f, act.item)
    m = _meeting(f, item.meeting)
    if m.state not in (R.IN_SESSION, R.ENDED):
        raise IllegalMoveError(R.MEETING_TRANSITION, f"the meeting is {m.state}: no outcomes")
    _facilitator(f, m, s)
    if act.decision is not None and act.decision not in f.decisions:
        raise IllegalMoveError(R.DECISION_EXISTS, f"no decision {act.decision}")
    if act.outcome == R.DECIDED:
        present = sum(1 for w in m.attendance if w in f.members and f.members[w].counts(s.ts))
        need = f.assembly.rules.meeting_quorum
        if present < need:
            raise IllegalMoveError(
                R.MEETING_QUORUM, f"{present} members present; the meeting quorum is {need}"
            )
    f.agenda_items[item.id] = dataclasses.replace(
        item, outcome=act.outcome, outcome_ts=s.ts, decision=act.decision, outcome_note=act.note
    )
    return f"{item.title!r}: {act.outcome}"


def raise_hand(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.RaiseHand)
    m = _meeting(f, act.meeting)
    _sitting(m, "hands go up")
    who = _subject(f, m, s, act.for_member)
    if act.item is not None:
        _item(f, act.item, m)
    if any(h.member == who for h in m.hands):
        raise IllegalMoveError(R.ONE_HAND_EACH, f"{_name(f, who)} is already in the queue")
    hand = Hand(who, s.ts, act.item, s.member, s.ref)
    f.meetings[m.id] = dataclasses.replace(m, hands=(*m.hands, hand))
    return f"{_name(f, who)} raised a hand at meeting {m.id[:8]}"


def lower_hand(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.LowerHand)
    m = _meeting(f, act.meeting)
    _sitting(m, "hands go down")
    who = _subject(f, m, s, act.for_member)
    if not any(h.member == who for h in m.hands):
        raise IllegalMoveError(R.ONE_HAND_EACH, f"{_name(f, who)} has no hand up")
    hands = tuple(h for h in m.hands if h.member != who)
    f.meetings[m.id] = dataclasses.replace(m, hands=hands)
    return f"{_name(f, who)} lowered their hand"


def _check_absence_floor(f: Folding, m: Meeting, member: str) -> None:
    """In an absence meeting, one who steps back never goes before someone who does not."""

    def back(who: str) -> bool:
        p = f.members.get(who)
        return steps_back(m, who, p is not None and p.supporter)

    if back(member) and any(not back(h.member) for h in m.hands):
        raise IllegalMoveError(
            R.ABSENCE_STEPS_BACK,
            f"{_name(f, member)} steps back in this meeting: others in the queue speak first",
        )


def give_floor(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.GiveFloor)
    m = _meeting(f, act.meeting)
    _sitting(m, "the floor is given")
    _facilitator(f, m, s)
    if act.member is not None and act.member not in f.members:
        raise IllegalMoveError(R.MEMBER_EXISTS, f"{act.member[:8]} is not a member")
    item = _floor_item(f, m, act)
    hands = tuple(h for h in m.hands if h.member != act.member)
    if act.duration_ms is not None:
        return _recorded_turn(f, m, s, act, item, hands)
    if act.member is not None:
        _check_absence_floor(f, m, act.member)
    turns = tuple(dataclasses.replace(t, end_ts=s.ts) if t.end_ts is None else t for t in m.turns)
    if act.member is not None:
        turns = (*turns, Turn(act.member, item, s.ts, None, s.member, s.ref))
    f.meetings[m.id] = dataclasses.replace(m, turns=turns, hands=hands, current_item=item)
    if act.member is None:
        return f"closed the floor at meeting {m.id[:8]}"
    return f"{_name(f, act.member)} has the floor"


def _floor_item(f: Folding, m: Meeting, act: A.GiveFloor) -> str | None:
    """The item a turn is on: the act's, else the one the hand went up for, else the
    meeting's current item."""
    hand = next((h for h in m.hands if h.member == act.member), None)
    item = act.item or (hand.item if hand is not None else None) or m.current_item
    if item is not None:
        _item(f, item, m)
    return item


def _recorded_turn(
    f: Folding, m: Meeting, s: Step, act: A.GiveFloor, item: str | None, hands: tuple[Hand, ...]
) -> str:
    """A turn that already happened, ``duration_ms`` long and ending now."""
    assert act.duration_ms is not None
    if act.member is None:
        raise IllegalMoveError(R.WELL_FORMED, "a recorded turn names who spoke")
    turn = Turn(act.member, item, s.ts - act.duration_ms, s.ts, s.member, s.ref, True)
    f.meetings[m.id] = dataclasses.replace(m, turns=(*m.turns, turn), hands=hands)
    return f"recorded a turn of {_name(f, act.member)} ({act.duration_ms // 1000} s)"


def clarify(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.AskClarification)
    m = _meeting(f, act.meeting)
    _sitting(m, "clarifications are asked")
    target = f.members.get(act.supporter)
    if target is None or not target.supporter:
        raise IllegalMoveError(
            R.CLARIFY_SUPPORTER, f"{_name(f, act.supporter)} is not an outside supporter"
        )
    if act.item is not None:
        _item(f, act.item, m)
    item = act.item or m.current_item
    asked = Clarification(s.ts, s.member, act.supporter, item, act.question, s.ref)
    f.meetings[m.id] = dataclasses.replace(m, clarifications=(*m.clarifications, asked))
    return f"{_name(f, s.member)} asked {target.name} for clarification"


def seal(f: Folding, s: Step) -> str:
    act = s.act
    assert isinstance(act, A.SealMinutes)
    m = _meeting(f, act.meeting)
    if m.state not in (R.IN_SESSION, R.ENDED):
        raise IllegalMoveError(R.MEETING_TRANSITION, f"the meeting is {m.state}: no minutes")
    if s.member != m.note_taker:
        raise IllegalMoveError(
            R.NOTE_TAKER_ONLY, f"{_name(f, m.note_taker)} takes this meeting's notes"
        )
    if minutes_hash(act.text) != act.hash:
        raise IllegalMoveError(R.MINUTES_HASH, "the hash is not the hash of the text")
    sealed = Seal(s.ts, s.member, act.text, act.hash, s.ref)
    f.meetings[m.id] = dataclasses.replace(m, seals=(*m.seals, sealed))
    return f"{_name(f, s.member)} sealed the minutes of meeting {m.id[:8]} ({act.hash[:12]})"


HANDLERS: Mapping[type[A.Act], Callable[[Folding, Step], str]] = {
    A.ScheduleMeeting: schedule,
    A.UpdateMeeting: update,
    A.AdvanceMeeting: advance,
    A.Attend: attend,
    A.AddAgendaItem: add_item,
    A.SupportItem: support,
    A.ReorderAgenda: reorder,
    A.ItemOutcome: outcome,
    A.RaiseHand: raise_hand,
    A.LowerHand: lower_hand,
    A.GiveFloor: give_floor,
    A.AskClarification: clarify,
    A.SealMinutes: seal,
}

# What an outside supporter with standing may do at a meeting: be present, put an item on
# the agenda, ask to speak (the queue puts them last in an absence meeting).
SUPPORTER_ACTS: frozenset[type[A.Act]] = frozenset(
    {A.Attend, A.AddAgendaItem, A.RaiseHand, A.LowerHand}
)

__all__ = ["HANDLERS", "SUPPORTER_ACTS", "Folding", "Step"]
