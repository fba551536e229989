"""Builders for meeting acts, as ``model.commands`` builds the others: resolve id prefixes
and names, fill in what the rotation or the queue proposes, build the act and replay it
through the rule book before it is written."""

from __future__ import annotations

from collections.abc import Sequence

from assemblymesh.errors import UsageError
from assemblymesh.i18n import _
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.commands import Stamp, built
from assemblymesh.model.meetings import agenda, minutes_hash, proposed_roles, queue
from assemblymesh.model.state import AssemblyState


def _member(state: AssemblyState, ref: str | None) -> str | None:
    return None if ref is None else state.find_member(ref).id


def _item(state: AssemblyState, ref: str | None) -> str | None:
    return None if ref is None else state.find_item(ref).id


def schedule_meeting(
    state: AssemblyState,
    stamp: Stamp,
    starts: int,
    *,
    title: str = "",
    place: str = "",
    kind: str = R.REGULAR,
    facilitator: str | None = None,
    note_taker: str | None = None,
    stack: str = R.STACK_IN_ORDER,
) -> A.ScheduleMeeting:
    """A new meeting; the facilitator and the note-taker default to the rotation's."""
    rotated = proposed_roles(state, kind) if state.assembly is not None else (None, None)
    chosen_f = _member(state, facilitator) or rotated[0]
    chosen_n = _member(state, note_taker) or (rotated[1] if rotated[1] != chosen_f else None)
    if chosen_n is None and note_taker is None:
        chosen_n = chosen_f
    if chosen_f is None or chosen_n is None:
        raise UsageError(_("no member can facilitate or take notes: name them"))
    return built(
        state,
        stamp,
        A.ScheduleMeeting,
        title=title,
        starts=starts,
        place=place,
        kind=kind,
        facilitator=chosen_f,
        note_taker=chosen_n,
        stack=stack,
    )


def update_meeting(
    state: AssemblyState,
    stamp: Stamp,
    meeting: str,
    *,
    facilitator: str | None = None,
    note_taker: str | None = None,
    stack: str | None = None,
    starts: int | None = None,
    place: str | None = None,
) -> A.UpdateMeeting:
    return built(
        state,
        stamp,
        A.UpdateMeeting,
        meeting=state.find_meeting(meeting).id,
        facilitator=_member(state, facilitator),
        note_taker=_member(state, note_taker),
        stack=stack,
        starts=starts,
        place=place,
    )


def advance_meeting(state: AssemblyState, stamp: Stamp, meeting: str, to: str) -> A.AdvanceMeeting:
    """Open (``rules.IN_SESSION``), end or cancel a meeting."""
    return built(state, stamp, A.AdvanceMeeting, meeting=state.find_meeting(meeting).id, to=to)


def attend(
    state: AssemblyState, stamp: Stamp, meeting: str, for_member: str | None = None
) -> A.Attend:
    return built(
        state,
        stamp,
        A.Attend,
        meeting=state.find_meeting(meeting).id,
        for_member=_member(state, for_member),
    )


def add_item(
    state: AssemblyState,
    stamp: Stamp,
    meeting: str,
    kind: str,
    title: str = "",
    proposal: str | None = None,
    note: str = "",
) -> A.AddAgendaItem:
    return built(
        state,
        stamp,
        A.AddAgendaItem,
        meeting=state.find_meeting(meeting).id,
        kind=kind,
        title=title,
        proposal=None if proposal is None else state.find_proposal(proposal).id,
        note=note,
    )


def support_item(state: AssemblyState, stamp: Stamp, item: str) -> A.SupportItem:
    ref = state.find_item(item).id
    return built(state, stamp, A.SupportItem, item=ref)


def reorder_agenda(
    state: AssemblyState, stamp: Stamp, meeting: str, order: Sequence[str]
) -> A.ReorderAgenda:
    """These items first, in this order (id prefixes); the others follow."""
    return built(
        state,
        stamp,
        A.ReorderAgenda,
        meeting=state.find_meeting(meeting).id,
        order=tuple(state.find_item(ref).id for ref in order),
    )


def move_item(
    state: AssemblyState, stamp: Stamp, meeting: str, item: str, offset: int
) -> A.ReorderAgenda:
    """Move one item ``offset`` places (negative: earlier) in the agenda as it stands."""
    m = state.find_meeting(meeting)
    refs = [i.id for i in agenda(state, m)]
    ref = state.find_item(item).id
    if ref not in refs:
        raise UsageError(_("that item is not on this meeting's agenda"))
    at = refs.index(ref)
    to = max(0, min(len(refs) - 1, at + offset))
    refs.insert(to, refs.pop(at))
    return reorder_agenda(state, stamp, m.id, refs[: R.MAX_AGENDA_ORDER])


def item_outcome(
    state: AssemblyState,
    stamp: Stamp,
    item: str,
    outcome: str,
    decision: str | None = None,
    note: str = "",
) -> A.ItemOutcome:
    return built(
        state,
        stamp,
        A.ItemOutcome,
        item=state.find_item(item).id,
        outcome=outcome,
        decision=None if decision is None else state.find_decision(decision).id,
        note=note,
    )


def raise_hand(
    state: AssemblyState,
    stamp: Stamp,
    meeting: str,
    item: str | None = None,
    for_member: str | None = None,
) -> A.RaiseHand:
    return built(
        state,
        stamp,
        A.RaiseHand,
        meeting=state.find_meeting(meeting).id,
        item=_item(state, item),
        for_member=_member(state, for_member),
    )


def lower_hand(
    state: AssemblyState, stamp: Stamp, meeting: str, for_member: str | None = None
) -> A.LowerHand:
    return built(
        state,
        stamp,
        A.LowerHand,
        meeting=state.find_meeting(meeting).id,
        for_member=_member(state, for_member),
    )


def give_floor(
    state: AssemblyState,
    stamp: Stamp,
    meeting: str,
    member: str | None = None,
    item: str | None = None,
    duration_ms: int | None = None,
) -> A.GiveFloor:
    """The floor to ``member`` (None: close it); with ``duration_ms``, record a turn that
    already happened."""
    return built(
        state,
        stamp,
        A.GiveFloor,
        meeting=state.find_meeting(meeting).id,
        member=_member(state, member),
        item=_item(state, item),
        duration_ms=duration_ms,
    )


def next_speaker(state: AssemblyState, stamp: Stamp, meeting: str) -> A.GiveFloor:
    """The floor to whoever the queue puts first."""
    m = state.find_meeting(meeting)
    waiting = queue(state, m)
    if not waiting:
        raise UsageError(_("nobody is in the queue"))
    return give_floor(state, stamp, m.id, waiting[0].member)


def clarify(
    state: AssemblyState,
    stamp: Stamp,
    meeting: str,
    supporter: str,
    question: str = "",
    item: str | None = None,
) -> A.AskClarification:
    return built(
        state,
        stamp,
        A.AskClarification,
        meeting=state.find_meeting(meeting).id,
        supporter=state.find_member(supporter).id,
        item=_item(state, item),
        question=question,
    )


def seal_minutes(state: AssemblyState, stamp: Stamp, meeting: str, text: str) -> A.SealMinutes:
    """Seal ``text`` as the minutes: it and its hash go into a signed act."""
    return built(
        state,
        stamp,
        A.SealMinutes,
        meeting=state.find_meeting(meeting).id,
        text=text,
        hash=minutes_hash(text),
    )


__all__ = [
    "add_item",
    "advance_meeting",
    "attend",
    "clarify",
    "give_floor",
    "item_outcome",
    "lower_hand",
    "move_item",
    "next_speaker",
    "raise_hand",
    "reorder_agenda",
    "schedule_meeting",
    "seal_minutes",
    "support_item",
    "update_meeting",
]
