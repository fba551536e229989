"""The metabolism metrics: how the assembly lives, not what it produces.

Pure functions of the folded record (``AssemblyState``), exact (shares are ``Fraction``s)
and deterministic: the same record gives the same figures on every node. Each metric is a
time series over *periods* (calendar months in UTC, or groups of N meetings) with its
trend. ``docs/metrics.md`` defines every metric with a formula and a worked example; the
tests check each against its example.

Everything is placed in time by the causal time the fold gave it (a proposal's
``created_ts``, a decision's ``decided_ts``, a position's placed time), never by a writer's
clock alone.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final

from assemblymesh.i18n import N_, _, ngettext
from assemblymesh.model import library
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import Meeting
from assemblymesh.model.state import AssemblyState, Decision

MONTH: Final = "month"
MEETINGS: Final = "meetings"
COUNT: Final = "count"
SHARE: Final = "share"

# The trend: a least-squares line through the last TREND_WINDOW completed periods that
# have a value (at least TREND_MIN of them); "steady" while the line's change over them is
# under STEADY of the metric's scale (1 for a share; the largest value, at least 1, for a
# count).
TREND_WINDOW: Final = 6
TREND_MIN: Final = 3
STEADY: Final = Fraction(1, 20)
RISING: Final = N_("rising")
FALLING: Final = N_("falling")
STEADY_TREND: Final = N_("steady")
TOO_FEW: Final = N_("too few periods")

NONE_RECORDED: Final = N_("none recorded")

# Each metric in one line (docs/metrics.md has the formula and a worked example).
DEFINITIONS: Final[Mapping[str, str]] = {
    "facilitators": N_("how many different members facilitated the period's meetings"),
    "top_facilitator_share": N_(
        "the share of the period's meetings run by the member who ran most"
    ),
    "new_voices": N_(
        "members heard for the first time: proposed, took a position, objected, spoke"
    ),
    "own_initiatives": N_("the share of the period's proposals put by members, not supporters"),
    "reliance_on_outsiders": N_(
        "the share of the period's decisions a supporter took part in "
        "(proposed, took a position, spoke, was asked for clarification)"
    ),
    "adopted_from_others": N_("decisions on proposals put from another assembly's publication"),
    "adopted_by_others": N_("items of this assembly's that other assemblies adopted"),
}

# How a member was first heard, in the order that breaks a tie at the same moment.
PROPOSED: Final = "proposed"
OBJECTED: Final = "objected"
POSITIONED: Final = "took a position"
SPOKE: Final = "spoke"


# --- meetings, as the metrics read them ---------------------------------------------------------


@dataclass(frozen=True)
class HeldMeeting:
    """What the metrics read of a meeting that was held: when, who facilitated, who spoke
    (member, when their turn began), and who was heard on each proposal (spoke on its
    agenda item, or was asked for clarification about it)."""

    id: str
    held_ts: int
    facilitator: str | None
    speakers: tuple[tuple[str, int], ...] = ()
    heard_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def held_meetings(state: AssemblyState) -> tuple[HeldMeeting, ...]:
    """The meetings the record says were held (opened, whether ended or still sitting;
    never a cancelled one), in the order they opened (then by ref)."""
    held = []
    for m in state.meetings.values():
        if m.started_ts is None or m.state == R.CANCELLED:
            continue
        heard: dict[str, list[str]] = {}
        for member, item in _heard_in(m):
            proposal = _proposal_of(state, item)
            if proposal is not None:
                heard.setdefault(proposal, []).append(member)
        held.append(
            HeldMeeting(
                m.id,
                m.started_ts,
                m.facilitator,
                tuple((t.member, t.start_ts) for t in m.turns),
                {p: tuple(who) for p, who in heard.items()},
            )
        )
    return tuple(sorted(held, key=lambda h: (h.held_ts, h.id)))


def _heard_in(m: Meeting) -> Iterator[tuple[str, str | None]]:
    """(member, agenda item) for every turn at speaking and every clarification asked."""
    for t in m.turns:
        yield t.member, t.item
    for c in m.clarifications:
        yield c.supporter, c.item


def _proposal_of(state: AssemblyState, item: str | None) -> str | None:
    """The proposal an agenda item is about: the one it names, else the one of the decision
    its outcome names."""
    found = state.agenda_items.get(item) if item is not None else None
    if found is None:
        return None
    if found.proposal is not None:
        return found.proposal
    d = state.decisions.get(found.decision) if found.decision is not None else None
    return d.proposal if d is not None else None


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A stretch of the record: ``start_ms`` inclusive, ``end_ms`` exclusive (None: open)."""

    index: int
    label: str
    start_ms: int | None
    end_ms: int | None


def month_start(ms: int) -> int:
    """The first millisecond of the calendar month (UTC) that holds ``ms``."""
    day = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return int(dt.datetime(day.year, day.month, 1, tzinfo=dt.UTC).timestamp() * 1000)


def next_month(ms: int) -> int:
    """The first millisecond of the calendar month (UTC) after the one that holds ``ms``."""
    day = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return int(dt.datetime(year, month, 1, tzinfo=dt.UTC).timestamp() * 1000)


def month_periods(first_ms: int, now_ms: int) -> tuple[Period, ...]:
    """Every calendar month from the one holding ``first_ms`` to the one holding ``now_ms``."""
    periods: list[Period] = []
    start = month_start(first_ms)
    last = month_start(max(first_ms, now_ms))
    while start <= last:
        end = next_month(start)
        label = dt.datetime.fromtimestamp(start / 1000, tz=dt.UTC).strftime("%Y-%m")
        periods.append(Period(len(periods), label, start, end))
        start = end
    return tuple(periods)


def meeting_periods(meetings: Sequence[HeldMeeting], per: int) -> tuple[Period, ...]:
    """Groups of ``per`` meetings in the order held: group k runs from the day its first
    meeting was held to the moment the next group's first was (the first group from the
    beginning of the record, the last to now)."""
    if per < 1:
        raise ValueError("a period holds at least one meeting")
    periods: list[Period] = []
    for k in range(0, len(meetings), per):
        group = meetings[k : k + per]
        nxt = meetings[k + per].held_ts if k + per < len(meetings) else None
        start = None if k == 0 else group[0].held_ts
        first, last = k + 1, k + len(group)
        label = f"meeting {first}" if first == last else f"meetings {first}-{last}"
        periods.append(Period(len(periods), label, start, nxt))
    return tuple(periods)


class _Placer:
    """Which period a moment falls in (before the first: the first; after the last: the
    last, which runs until now)."""

    def __init__(self, periods: Sequence[Period]) -> None:
        self.count = len(periods)
        self.starts = [p.start_ms if p.start_ms is not None else -(2**63) for p in periods]

    def __call__(self, ts: int) -> int:
        return max(0, bisect.bisect_right(self.starts, ts) - 1)


# --- series and trends --------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One period's figure: ``count`` of ``of`` for a share (``value`` = count / of, None
    when ``of`` is 0); ``count`` itself for a count. ``names`` says who, where it helps."""

    value: Fraction | None
    count: int
    of: int | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trend:
    direction: str  # rising, falling, steady or too few periods
    slope: Fraction | None  # change per period of the least-squares line
    periods: int  # how many periods the line was fitted through
    intercept: Fraction | None = None  # the line's value at period 0: y = intercept + slope k
    span: tuple[int, int] | None = None  # the first and last period the line was fitted on

    def at(self, k: int) -> Fraction | None:
        """The fitted line's value at period ``k``."""
        if self.slope is None or self.intercept is None:
            return None
        return self.intercept + self.slope * k


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    unit: str  # count or share
    points: tuple[Point, ...]
    trend: Trend
    note: str = ""  # e.g. "none recorded": nothing in the record can say yet

    def latest(self) -> tuple[int, Point] | None:
        """The most recent period with a value, and its point."""
        for i in range(len(self.points) - 1, -1, -1):
            if self.points[i].value is not None:
                return i, self.points[i]
        return None


@dataclass(frozen=True)
class Metrics:
    """Every metric over the same periods."""

    kind: str  # month or meetings
    per: int  # meetings per period (1 for months)
    periods: tuple[Period, ...]
    series: tuple[Series, ...]
    now_ms: int

    def get(self, key: str) -> Series:
        for s in self.series:
            if s.key == key:
                return s
        raise KeyError(key)


def trend(values: Sequence[Fraction | None], unit: str, running: bool = True) -> Trend:
    """The trend of a series: the least-squares slope through its last ``TREND_WINDOW``
    completed periods with a value (the last period is still running and left out when
    ``running``), and whether that line rises, falls or stays steady."""
    done = values[:-1] if running and values else values
    pairs = [(i, v) for i, v in enumerate(done) if v is not None][-TREND_WINDOW:]
    if len(pairs) < TREND_MIN:
        return Trend(TOO_FEW, None, len(pairs))
    n = len(pairs)
    mean_x = Fraction(sum(i for i, _ in pairs), n)
    mean_y = sum((v for _, v in pairs), Fraction(0)) / n
    sxx = sum(((i - mean_x) ** 2 for i, _ in pairs), Fraction(0))
    sxy = sum(((i - mean_x) * (v - mean_y) for i, v in pairs), Fraction(0))
    slope = sxy / sxx
    change = slope * (pairs[-1][0] - pairs[0][0])
    scale = Fraction(1) if unit == SHARE else max(Fraction(1), *(abs(v) for _, v in pairs))
    direction = RISING if change > 0 else FALLING
    if abs(change) < STEADY * scale:
        direction = STEADY_TREND
    return Trend(direction, slope, n, mean_y - slope * mean_x, (pairs[0][0], pairs[-1][0]))


def _share_points(hits: Sequence[int], totals: Sequence[int]) -> tuple[Point, ...]:
    return tuple(
        Point(Fraction(h, t) if t else None, h, t) for h, t in zip(hits, totals, strict=True)
    )


def _series(key: str, title: str, unit: str, points: tuple[Point, ...], note: str = "") -> Series:
    return Series(key, title, unit, points, trend([p.value for p in points], unit), note)


# --- the metrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What every metric needs: the state, its periods and who is a supporter."""

    state: AssemblyState
    periods: tuple[Period, ...]
    place: Callable[[int], int]
    meetings: tuple[HeldMeeting, ...]
    supporters: frozenset[str]

    def name(self, member: str) -> str:
        m = self.state.members.get(member)
        return m.name if m is not None else member[:8]

    def zeros(self) -> list[int]:
        return [0] * len(self.periods)


def facilitation(scope: _Scope) -> tuple[Series, Series]:
    """Distinct facilitators per period, and the share of the period's meetings run by its
    most frequent facilitator."""
    per_period: list[Counter[str]] = [Counter() for _ in scope.periods]
    held = scope.zeros()
    for m in scope.meetings:
        k = scope.place(m.held_ts)
        held[k] += 1
        if m.facilitator is not None:
            per_period[k][m.facilitator] += 1
    distinct: list[Point] = []
    top: list[Point] = []
    for k, counts in enumerate(per_period):
        names = tuple(sorted(scope.name(f) for f in counts))
        most = max(counts.values(), default=0)
        distinct.append(Point(Fraction(len(counts)) if held[k] else None, len(counts), None, names))
        top.append(Point(Fraction(most, held[k]) if held[k] else None, most, held[k]))
    note = "" if scope.meetings else N_("no meetings recorded")
    return (
        _series("facilitators", N_("Distinct facilitators"), COUNT, tuple(distinct), note),
        _series("top_facilitator_share", N_("Share run by the most frequent facilitator"),
                SHARE, tuple(top), note),
    )  # fmt: skip


def voices(state: AssemblyState, meetings: Sequence[HeldMeeting]) -> Iterator[tuple[int, str, str]]:
    """Every time a participant was heard: (time, member, how). Proposing; each standing
    position in a round (the last one they stated there, a late objection included),
    placed at its causal time; speaking in a meeting."""
    for p in state.proposals.values():
        yield p.created_ts, p.author, PROPOSED
    for r in state.rounds.values():
        for pos in r.positions.values():
            how = OBJECTED if pos.kind == R.OBJECT else POSITIONED
            yield state.eff_of.get(pos.ref, pos.ts), pos.member, how
    for m in meetings:
        for speaker, ts in m.speakers:
            yield ts, speaker, SPOKE


def first_voices(
    state: AssemblyState, meetings: Sequence[HeldMeeting]
) -> dict[str, tuple[int, str]]:
    """Each member's first time heard: member -> (time, how). Supporters are left out:
    they are not the assembly's voices."""
    first: dict[str, tuple[int, str]] = {}
    for ts, member, how in voices(state, meetings):
        m = state.members.get(member)
        if m is None or m.supporter:
            continue
        seen = first.get(member)
        if seen is None or (ts, how) < seen:
            first[member] = (ts, how)
    return first


def new_voices(scope: _Scope) -> Series:
    """Members heard for the first time in the period (they proposed, took a position,
    objected or spoke)."""
    names: list[list[str]] = [[] for _ in scope.periods]
    for member, (ts, _how) in first_voices(scope.state, scope.meetings).items():
        names[scope.place(ts)].append(scope.name(member))
    points = tuple(Point(Fraction(len(n)), len(n), None, tuple(sorted(n))) for n in names)
    return _series("new_voices", N_("New voices"), COUNT, points)


def own_initiatives(scope: _Scope) -> Series:
    """The share of the period's proposals put by members rather than supporters."""
    own, total = scope.zeros(), scope.zeros()
    for p in scope.state.proposals.values():
        k = scope.place(p.created_ts)
        total[k] += 1
        if not (p.by_supporter or p.author in scope.supporters):
            own[k] += 1
    return _series("own_initiatives", N_("Own initiatives"), SHARE, _share_points(own, total))


def outsider_part(scope: _Scope, d: Decision) -> bool:
    """Whether a supporter proposed, took a position in the deciding round, spoke on its
    agenda item or was asked for clarification in it."""
    state, outsiders = scope.state, scope.supporters
    p = state.proposals.get(d.proposal)
    if p is not None and (p.by_supporter or any(v.author in outsiders for v in p.versions)):
        return True
    r = state.rounds.get(d.round)
    if r is not None and any(m in outsiders for m in r.positions):
        return True
    return any(m in outsiders for m in _heard_on(scope, d.proposal))


def _heard_on(scope: _Scope, proposal: str) -> Iterator[str]:
    """Who spoke on, or was asked for clarification about, ``proposal`` in meetings."""
    for m in scope.meetings:
        yield from m.heard_on.get(proposal, ())


def reliance_on_outsiders(scope: _Scope) -> Series:
    """The share of the period's decisions in which a supporter took part."""
    hit, total = scope.zeros(), scope.zeros()
    for d in scope.state.decisions.values():
        k = scope.place(d.decided_ts)
        total[k] += 1
        hit[k] += outsider_part(scope, d)
    points = _share_points(hit, total)
    return _series("reliance_on_outsiders", N_("Reliance on outsiders"), SHARE, points)


def replication(scope: _Scope, adoptions: Sequence[int] | None) -> tuple[Series, Series]:
    """Decisions in the period on proposals put from another assembly's publication; and
    this assembly's published items adopted by others, from the adoption notes the record
    holds (``adoptions``: their times; None while the record has no such notes)."""
    state = scope.state
    imported = scope.zeros()
    titles: list[list[str]] = [[] for _ in scope.periods]
    for d in state.decisions.values():
        p = state.proposals.get(d.proposal)
        if p is not None and p.origin is not None:
            k = scope.place(d.decided_ts)
            imported[k] += 1
            titles[k].append(p.title)
    adopted_from = tuple(
        Point(Fraction(n), n, None, tuple(sorted(t))) for n, t in zip(imported, titles, strict=True)
    )
    if adoptions is None:
        by_others = tuple(Point(None, 0) for _ in scope.periods)
        note = NONE_RECORDED
    else:
        counts = scope.zeros()
        for ts in adoptions:
            counts[scope.place(ts)] += 1
        by_others, note = tuple(Point(Fraction(n), n) for n in counts), ""
    return (
        _series("adopted_from_others", N_("Adopted from another assembly"), COUNT, adopted_from),
        _series("adopted_by_others", N_("Adopted by other assemblies"), COUNT, by_others, note),
    )


def adoptions_by_others(state: AssemblyState) -> Sequence[int] | None:
    """When other assemblies adopted what this one published, from the adoption notes in
    the library; None while the library holds no publication at all, since adoption notes
    reach an assembly only as publications it imports (nothing there says "nobody")."""
    if not state.library:
        return None
    return tuple(a.ts for a in library.adoptions_by_others(state))


# --- all together -------------------------------------------------------------------------------


def periods_of(
    state: AssemblyState, per_meetings: int | None, meetings: Sequence[HeldMeeting]
) -> tuple[str, int, tuple[Period, ...]]:
    """The periods: calendar months from the assembly's creation to now, or groups of
    ``per_meetings`` meetings."""
    if per_meetings is not None:
        return MEETINGS, per_meetings, meeting_periods(meetings, per_meetings)
    if state.assembly is None:
        return MONTH, 1, ()
    return MONTH, 1, month_periods(state.assembly.created_ts, state.now_ms)


def compute(
    state: AssemblyState,
    per_meetings: int | None = None,
    *,
    meetings: Sequence[HeldMeeting] | None = None,
    adoptions: Sequence[int] | None = None,
) -> Metrics:
    """Every metric of ``state``, per calendar month or per ``per_meetings`` meetings.

    ``meetings`` and ``adoptions`` stand in for what the record says (``held_meetings``,
    ``adoptions_by_others``) when given."""
    held = tuple(held_meetings(state) if meetings is None else meetings)
    kind, per, periods = periods_of(state, per_meetings, held)
    if not periods:
        return Metrics(kind, per, periods, (), state.now_ms)
    scope = _Scope(
        state,
        periods,
        _Placer(periods),
        held,
        frozenset(m.id for m in state.members.values() if m.supporter),
    )
    series = (
        *facilitation(scope),
        new_voices(scope),
        own_initiatives(scope),
        reliance_on_outsiders(scope),
        *replication(scope, adoptions_by_others(state) if adoptions is None else adoptions),
    )
    return Metrics(kind, per, periods, series, state.now_ms)


def restrict(metrics: Metrics, first: int, last: int) -> Metrics:
    """``metrics`` over periods ``first``..``last`` (inclusive), trends refitted on them
    (the last is complete unless it is the running one)."""
    periods = metrics.periods[first : last + 1]
    running = last == len(metrics.periods) - 1
    series = tuple(
        Series(
            s.key,
            s.title,
            s.unit,
            s.points[first : last + 1],
            trend([p.value for p in s.points[first : last + 1]], s.unit, running),
            s.note,
        )
        for s in metrics.series
    )
    renumbered = tuple(Period(i, p.label, p.start_ms, p.end_ms) for i, p in enumerate(periods))
    return Metrics(metrics.kind, metrics.per, renumbered, series, metrics.now_ms)


def per_text(metrics: Metrics) -> str:
    """'per month', 'per meeting' or 'per 4 meetings', in the chosen language."""
    if metrics.kind == MONTH:
        return _("per month")
    return ngettext("per meeting", "per {count} meetings", metrics.per).format(count=metrics.per)


def window(metrics: Metrics, since_ms: int | None, until_ms: int | None) -> Metrics:
    """``metrics`` over the periods that overlap [``since_ms``, ``until_ms``) (None: open)."""
    inside = [
        p.index
        for p in metrics.periods
        if (since_ms is None or p.end_ms is None or p.end_ms > since_ms)
        and (until_ms is None or p.start_ms is None or p.start_ms < until_ms)
    ]
    if not inside:
        return Metrics(metrics.kind, metrics.per, (), (), metrics.now_ms)
    return restrict(metrics, inside[0], inside[-1])


__all__ = [
    "COUNT",
    "DEFINITIONS",
    "MEETINGS",
    "MONTH",
    "NONE_RECORDED",
    "SHARE",
    "HeldMeeting",
    "Metrics",
    "Period",
    "Point",
    "Series",
    "Trend",
    "compute",
    "first_voices",
    "held_meetings",
    "meeting_periods",
    "month_periods",
    "restrict",
    "trend",
    "voices",
    "window",
]
