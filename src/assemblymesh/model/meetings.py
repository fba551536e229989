"""Meetings as the record holds them: frozen records the fold builds (``model.meeting_fold``)
and the deterministic questions asked of them.

A meeting is named by the ref of the act that scheduled it, an agenda item by the ref of the
act that added it. Every time below is a causal time (``model.order``), so every node that
holds the same acts computes the same agenda order, the same queue and the same turns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assemblymesh.model import rules as R

if TYPE_CHECKING:
    from assemblymesh.model.state import AssemblyState, Member


def minutes_hash(text: str) -> str:
    """The hash a seal carries: BLAKE2b-256 of the text's UTF-8 bytes, in hex."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def minutes_key(meeting: str) -> str:
    """The shared document's text the note-taker writes a meeting's minutes in."""
    return "minutes/" + meeting


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """A member present at a meeting, once whatever the number of acts or devices."""

    member: str
    ts: int  # when they were first marked present
    recorded_by: str  # themselves, or the facilitator for a member without a device


@dataclass(frozen=True)
class Hand:
    """A raised hand waiting for the floor."""

    member: str
    ts: int
    item: str | None
    raised_by: str
    ref: str


@dataclass(frozen=True)
class Turn:
    """One turn at speaking: who, on which item, from when to when (``end_ts`` None while
    they still have the floor). A turn recorded after the fact has ``recorded`` set."""

    member: str
    item: str | None
    start_ts: int
    end_ts: int | None
    given_by: str
    ref: str
    recorded: bool = False

    def duration(self, now_ms: int) -> int:
        return max(0, (now_ms if self.end_ts is None else self.end_ts) - self.start_ts)


@dataclass(frozen=True)
class OrderChange:
    """The facilitator's reorder during the meeting: these items first, in this order."""

    ts: int
    by: str
    order: tuple[str, ...]
    ref: str


@dataclass(frozen=True)
class Clarification:
    """A question put to an outside supporter in the meeting."""

    ts: int
    asked_by: str
    supporter: str
    item: str | None
    question: str
    ref: str


@dataclass(frozen=True)
class RoleChange:
    """Who facilitated and took notes from ``ts`` (the first is the meeting's schedule)."""

    ts: int
    facilitator: str
    note_taker: str
    by: str


@dataclass(frozen=True)
class Seal:
    """A signed version of the minutes: the text, its hash, who sealed it and when."""

    ts: int
    by: str
    text: str
    hash: str
    ref: str


@dataclass(frozen=True)
class AgendaItem:
    """One item of a meeting's agenda. ``backers`` are the members who support the item
    (member -> when), not outside supporters: they never order the agenda."""

    id: str
    meeting: str
    kind: str
    title: str
    note: str
    proposal: str | None
    added_by: str
    added_ts: int
    backers: Mapping[str, int] = field(default_factory=dict)
    outcome: str | None = None
    outcome_ts: int | None = None
    decision: str | None = None  # the decision the outcome names, if any
    outcome_note: str = ""


@dataclass(frozen=True)
class Meeting:
    id: str
    title: str
    kind: str
    starts: int  # the date and time it is called for (ms)
    place: str
    scheduled_by: str
    scheduled_ts: int
    facilitator: str
    note_taker: str
    stack: str
    state: str = R.SCHEDULED
    started_ts: int | None = None
    ended_ts: int | None = None
    # In an absence meeting: who steps back (fixed when it was scheduled).
    stepped_back: tuple[str, ...] = ()
    roles: tuple[RoleChange, ...] = ()
    attendance: Mapping[str, Attendance] = field(default_factory=dict)
    items: tuple[str, ...] = ()  # agenda item refs, in the order they were added
    order_changes: tuple[OrderChange, ...] = ()
    hands: tuple[Hand, ...] = ()  # waiting, in the order they went up
    turns: tuple[Turn, ...] = ()  # in the order they began
    current_item: str | None = None
    clarifications: tuple[Clarification, ...] = ()
    seals: tuple[Seal, ...] = ()

    @property
    def speaker(self) -> Turn | None:
        """The turn that has the floor now, if any."""
        for turn in reversed(self.turns):
            if not turn.recorded:
                return turn if turn.end_ts is None else None
        return None

    @property
    def sealed(self) -> Seal | None:
        return self.seals[-1] if self.seals else None

    @property
    def sits(self) -> bool:
        return self.state == R.IN_SESSION

    @property
    def over(self) -> bool:
        return self.state in (R.ENDED, R.CANCELLED)

    def present(self) -> tuple[str, ...]:
        return tuple(self.attendance)


# --- questions -------------------------------------------------------------------------------


def _members(state: AssemblyState) -> list[Member]:
    """Those who may hold a meeting role now: members, not supporters, not removed."""
    return [m for m in state.members.values() if m.counts(state.now_ms)]


def held(meetings: Mapping[str, Meeting]) -> list[Meeting]:
    """Meetings that have ended, in the order they ended."""
    done = [m for m in meetings.values() if m.state == R.ENDED]
    return sorted(done, key=lambda m: (m.ended_ts or 0, m.id))


def most_facilitating(meetings: Iterable[Meeting], lookback: int) -> tuple[str, ...]:
    """Who facilitated most of the last ``lookback`` of ``meetings`` (held, in order), by
    member id: everyone tied at the top, nobody when none was held."""
    counts: dict[str, int] = {}
    for m in list(meetings)[-lookback:] if lookback > 0 else []:
        counts[m.facilitator] = counts.get(m.facilitator, 0) + 1
    if not counts:
        return ()
    top = max(counts.values())
    return tuple(sorted(k for k, v in counts.items() if v == top))


def steps_back(meeting: Meeting, member: str, supporter: bool) -> bool:
    """Whether ``member`` steps back in ``meeting`` (only absence meetings step anyone back)."""
    return meeting.kind == R.ABSENCE and (supporter or member in meeting.stepped_back)


def _last_in_role(state: AssemblyState, role: str) -> dict[str, int]:
    """member -> when they last held ``role`` ("facilitator" / "note_taker") at a meeting
    that was not cancelled, by the meeting's date."""
    last: dict[str, int] = {}
    for m in state.meetings.values():
        if m.state == R.CANCELLED:
            continue
        holder = m.facilitator if role == R.FACILITATOR else m.note_taker
        last[holder] = max(last.get(holder, m.starts), m.starts)
    return last


def rotation(state: AssemblyState, role: str = R.FACILITATOR) -> tuple[str, ...]:
    """The members in rotation order for ``role``: who held it least recently first (never:
    first of all), then who joined earlier, then by id. The same on every node."""
    last = _last_in_role(state, role)
    members = _members(state)
    members.sort(key=lambda m: (m.id in last, last.get(m.id, 0), m.joined_ts, m.id))
    return tuple(m.id for m in members)


def proposed_roles(state: AssemblyState, kind: str = R.REGULAR) -> tuple[str | None, str | None]:
    """(facilitator, note-taker) the rotation proposes for a new meeting of ``kind``: two
    different members when there are two, none stepped back in an absence meeting."""
    barred: tuple[str, ...] = ()
    if kind == R.ABSENCE:
        assert state.assembly is not None
        barred = most_facilitating(held(state.meetings), state.assembly.rules.absence_lookback)
    facilitators = [m for m in rotation(state, R.FACILITATOR) if m not in barred]
    facilitator = facilitators[0] if facilitators else None
    takers = [m for m in rotation(state, R.NOTE_TAKER) if m not in barred]
    others = [m for m in takers if m != facilitator]
    pick = others or takers
    note_taker = pick[0] if pick else None
    return facilitator, note_taker


def agenda(state: AssemblyState, meeting: Meeting) -> tuple[AgendaItem, ...]:
    """The agenda in order. By the assembly's ``agenda_order`` rule (default: most backed
    first, then the oldest; ties by ref), after the facilitator's last reorder, if any: the
    items it names first, in its order, then the others."""
    items = [state.agenda_items[i] for i in meeting.items if i in state.agenda_items]
    rule = state.assembly.rules.agenda_order if state.assembly is not None else 0
    if rule == R.ORDER_BY_AGE:
        items.sort(key=lambda i: (i.added_ts, i.id))
    else:
        items.sort(key=lambda i: (-len(i.backers), i.added_ts, i.id))
    if not meeting.order_changes:
        return tuple(items)
    chosen = meeting.order_changes[-1].order
    rank = {ref: n for n, ref in enumerate(chosen)}
    named = sorted((i for i in items if i.id in rank), key=lambda i: rank[i.id])
    return (*named, *(i for i in items if i.id not in rank))


def spoken_ever(state: AssemblyState, before: int | None = None) -> frozenset[str]:
    """Members who have had a turn at any meeting (starting before ``before``, if given)."""
    return frozenset(
        t.member
        for m in state.meetings.values()
        for t in m.turns
        if before is None or t.start_ts < before
    )


def queue(state: AssemblyState, meeting: Meeting) -> tuple[Hand, ...]:
    """The speaking queue in the order the floor should go.

    Hands in the order they went up; with a progressive stack, those who have not spoken
    yet (in this meeting, or ever) first; in an absence meeting, the members who step back
    after everyone else.
    """
    spoke: frozenset[str] = frozenset()
    if meeting.stack == R.STACK_MEETING:
        spoke = frozenset(t.member for t in meeting.turns)
    elif meeting.stack == R.STACK_EVER:
        spoke = spoken_ever(state)

    def key(pair: tuple[int, Hand]) -> tuple[bool, bool, int]:
        n, hand = pair
        m = state.members.get(hand.member)
        back = steps_back(meeting, hand.member, m is not None and m.supporter)
        return back, hand.member in spoke, n

    return tuple(h for _, h in sorted(enumerate(meeting.hands), key=key))


def next_meeting(state: AssemblyState) -> Meeting | None:
    """The meeting sitting now, else the next one scheduled (soonest first)."""
    sitting = [m for m in state.meetings.values() if m.sits]
    if sitting:
        return max(sitting, key=lambda m: (m.started_ts or 0, m.id))
    upcoming = [m for m in state.meetings.values() if m.state == R.SCHEDULED]
    return min(upcoming, key=lambda m: (m.starts, m.id)) if upcoming else None


def quorate(state: AssemblyState, meeting: Meeting) -> bool:
    """Whether the members present reach the assembly's meeting quorum (supporters and
    removed members are not counted)."""
    assert state.assembly is not None
    return present_members(state, meeting) >= state.assembly.rules.meeting_quorum


def present_members(state: AssemblyState, meeting: Meeting) -> int:
    return sum(
        1
        for member in meeting.attendance
        if member in state.members and state.members[member].counts(state.now_ms)
    )


def speaking_time(meeting: Meeting, now_ms: int) -> dict[str, int]:
    """member -> total ms they spoke at ``meeting``."""
    out: dict[str, int] = {}
    for t in meeting.turns:
        out[t.member] = out.get(t.member, 0) + t.duration(now_ms)
    return out


def meeting_decisions(state: AssemblyState, meeting: Meeting) -> tuple[str, ...]:
    """Decisions linked to ``meeting``: named by an item's outcome, or made on a proposal of
    its agenda while it sat. In the order they were made."""
    found: set[str] = set()
    proposals = set()
    for ref in meeting.items:
        item = state.agenda_items.get(ref)
        if item is None:
            continue
        if item.decision is not None:
            found.add(item.decision)
        if item.proposal is not None:
            proposals.add(item.proposal)
    start = meeting.started_ts
    end = meeting.ended_ts if meeting.ended_ts is not None else state.now_ms
    if start is not None:
        for d in state.decisions.values():
            if d.proposal in proposals and start <= d.decided_ts <= end:
                found.add(d.id)
    chosen = [state.decisions[d] for d in found if d in state.decisions]
    return tuple(d.id for d in sorted(chosen, key=lambda d: (d.decided_ts, d.id)))


__all__ = [
    "AgendaItem",
    "Attendance",
    "Clarification",
    "Hand",
    "Meeting",
    "OrderChange",
    "RoleChange",
    "Seal",
    "Turn",
    "agenda",
    "held",
    "meeting_decisions",
    "minutes_hash",
    "minutes_key",
    "most_facilitating",
    "next_meeting",
    "present_members",
    "proposed_roles",
    "queue",
    "quorate",
    "rotation",
    "speaking_time",
    "spoken_ever",
    "steps_back",
]
