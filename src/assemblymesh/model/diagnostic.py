"""The strategic-absence diagnostic: what happened at the meetings where the usual
facilitators and the supporters stepped back, beside the regular ones.

For each meeting that was held (ended), in the order they opened:

- decisions reached: ``meetings.meeting_decisions``;
- items deferred (outcome ``deferred``) and stalled (no outcome when the meeting ended);
- who facilitated, and whether it was their first time (no meeting held before had them);
- new speakers: members whose first turn at any meeting was at this one;
- objections raised: objection positions taken while the meeting sat, on rounds of the
  proposals on its agenda; resolved: those whose proposal was adopted afterwards, by a
  decision made after the objection.

Then the same, summed per kind of meeting. A pure function of the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assemblymesh.model import rules as R
from assemblymesh.model.meetings import Meeting, meeting_decisions
from assemblymesh.model.state import AssemblyState


@dataclass(frozen=True)
class MeetingReview:
    meeting: str
    kind: str
    title: str
    starts: int
    facilitator: str
    first_time: bool  # the facilitator facilitated no meeting held before this one
    decisions: tuple[str, ...]
    deferred: tuple[str, ...]  # agenda item refs
    stalled: tuple[str, ...]
    new_speakers: tuple[str, ...]  # member ids
    speakers: tuple[str, ...]
    objections_raised: int
    objections_resolved: int


@dataclass(frozen=True)
class KindSummary:
    kind: str
    meetings: int
    decisions: int
    deferred: int
    stalled: int
    facilitators: tuple[str, ...]  # distinct, in the order they first facilitated
    first_time_facilitators: tuple[str, ...]
    new_speakers: int
    objections_raised: int
    objections_resolved: int


@dataclass(frozen=True)
class Diagnostic:
    reviews: tuple[MeetingReview, ...]
    by_kind: Mapping[str, KindSummary]


def _objections(state: AssemblyState, m: Meeting) -> tuple[int, int]:
    """(raised, resolved) at meeting ``m``: see the module docstring."""
    start, end = m.started_ts or 0, m.ended_ts or state.now_ms
    proposals = {
        state.agenda_items[i].proposal
        for i in m.items
        if i in state.agenda_items and state.agenda_items[i].proposal is not None
    }
    raised = resolved = 0
    for r in state.rounds.values():
        if r.proposal not in proposals:
            continue
        p = state.proposals[r.proposal]
        adopted = state.decisions.get(p.decision) if p.decision is not None else None
        for pos in r.positions.values():
            if pos.kind != R.OBJECT or pos.advisory or not start <= pos.ts <= end:
                continue
            raised += 1
            if adopted is not None and adopted.decided_ts > pos.ts:
                resolved += 1
    return raised, resolved


def _review(
    state: AssemblyState, m: Meeting, facilitated: set[str], spoken: set[str]
) -> MeetingReview:
    items = [state.agenda_items[i] for i in m.items if i in state.agenda_items]
    speakers = tuple(dict.fromkeys(t.member for t in m.turns))
    raised, resolved = _objections(state, m)
    return MeetingReview(
        meeting=m.id,
        kind=m.kind,
        title=m.title,
        starts=m.starts,
        facilitator=m.facilitator,
        first_time=m.facilitator not in facilitated,
        decisions=meeting_decisions(state, m),
        deferred=tuple(i.id for i in items if i.outcome == R.DEFERRED),
        stalled=tuple(i.id for i in items if i.outcome is None),
        new_speakers=tuple(s for s in speakers if s not in spoken),
        speakers=speakers,
        objections_raised=raised,
        objections_resolved=resolved,
    )


def _summary(kind: str, reviews: list[MeetingReview]) -> KindSummary:
    return KindSummary(
        kind=kind,
        meetings=len(reviews),
        decisions=sum(len(r.decisions) for r in reviews),
        deferred=sum(len(r.deferred) for r in reviews),
        stalled=sum(len(r.stalled) for r in reviews),
        facilitators=tuple(dict.fromkeys(r.facilitator for r in reviews)),
        first_time_facilitators=tuple(
            dict.fromkeys(r.facilitator for r in reviews if r.first_time)
        ),
        new_speakers=sum(len(r.new_speakers) for r in reviews),
        objections_raised=sum(r.objections_raised for r in reviews),
        objections_resolved=sum(r.objections_resolved for r in reviews),
    )


def diagnostic(state: AssemblyState) -> Diagnostic:
    """Every held meeting reviewed, and the reviews summed per kind (every kind listed)."""
    done = sorted(
        (m for m in state.meetings.values() if m.state == R.ENDED),
        key=lambda m: (m.started_ts or 0, m.id),
    )
    facilitated: set[str] = set()
    spoken: set[str] = set()
    reviews = []
    for m in done:
        review = _review(state, m, facilitated, spoken)
        reviews.append(review)
        facilitated.add(m.facilitator)
        spoken.update(review.speakers)
    by_kind = {k: _summary(k, [r for r in reviews if r.kind == k]) for k in R.MEETING_KINDS}
    return Diagnostic(tuple(reviews), by_kind)


__all__ = ["Diagnostic", "KindSummary", "MeetingReview", "diagnostic"]
