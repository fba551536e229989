"""Each metric against the worked example of docs/metrics.md (``tests/model/garden.py``), and
the properties every metric keeps: exact, deterministic, placed by causal time."""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assemblymesh.model import metrics as M
from assemblymesh.model import rules as R
from tests.model.garden import NOW, at, fold_garden, garden

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


@pytest.fixture(scope="module")
def example() -> M.Metrics:
    w = garden()
    return M.compute(fold_garden(w))


def values(s: M.Series) -> list[F | None]:
    return [p.value for p in s.points]


def test_the_periods_are_the_calendar_months_from_creation_to_now(example: M.Metrics) -> None:
    assert [p.label for p in example.periods] == MONTHS
    assert example.periods[0].start_ms == at(1, 1, 0)
    assert example.periods[-1].end_ms == at(5, 1, 0)
    assert example.now_ms == NOW


def test_facilitation_rotation_matches_the_worked_example(example: M.Metrics) -> None:
    distinct = example.get("facilitators")
    top = example.get("top_facilitator_share")
    assert values(distinct) == [1, 2, 2, 1]
    assert [p.names for p in distinct.points][1] == ("ana", "bob")
    assert values(top) == [F(1), F(1, 2), F(1, 2), F(1)]
    assert (distinct.trend.direction, distinct.trend.slope) == (M.RISING, F(1, 2))
    assert (top.trend.direction, top.trend.slope) == (M.FALLING, F(-1, 4))


def test_facilitation_per_two_meetings_matches_the_worked_example() -> None:
    w = garden()
    per_two = M.compute(fold_garden(w), 2)
    labels = ["meetings 1-2", "meetings 3-4", "meetings 5-6", "meeting 7"]
    assert [p.label for p in per_two.periods] == labels
    assert per_two.periods[0].start_ms is None and per_two.periods[1].start_ms == at(2, 11)
    assert values(per_two.get("facilitators")) == [1, 2, 2, 1]
    assert values(per_two.get("top_facilitator_share")) == [1, F(1, 2), F(1, 2), 1]


def test_new_voices_match_the_worked_example(example: M.Metrics) -> None:
    voices = example.get("new_voices")
    assert values(voices) == [2, 2, 1, 0]
    assert [p.names for p in voices.points] == [("ana", "bob"), ("cy", "dee"), ("eve",), ()]
    assert (voices.trend.direction, voices.trend.slope) == (M.FALLING, F(-1, 2))


def test_a_first_voice_is_the_earliest_way_a_member_was_heard() -> None:
    w = garden()
    state = fold_garden(w)
    first = M.first_voices(state, M.held_meetings(state))
    bob = w.mid("bob")
    opening = min(
        (r for r in state.rounds.values() if bob in r.positions), key=lambda r: r.opened_ts
    )
    # Bob consented on 10 January before proposing on the 20th, and spoke in February.
    assert first[bob] == (state.eff_of[opening.positions[bob].ref], M.POSITIONED)
    assert first[w.mid("cy")][1] == M.OBJECTED
    assert first[w.mid("eve")] == (at(3, 11, 13), M.SPOKE)
    assert w.mid("sam") not in first  # a supporter is not one of the assembly's voices
    assert {how for _, who, how in M.voices(state, ()) if who == w.mid("eve")} == set()


def test_own_initiatives_match_the_worked_example(example: M.Metrics) -> None:
    own = example.get("own_initiatives")
    assert values(own) == [F(1), F(0), F(2, 3), F(1)]
    assert [(p.count, p.of) for p in own.points] == [(2, 2), (0, 1), (2, 3), (1, 1)]
    assert (own.trend.direction, own.trend.slope) == (M.FALLING, F(-1, 6))


def test_reliance_on_outsiders_matches_the_worked_example(example: M.Metrics) -> None:
    reliance = example.get("reliance_on_outsiders")
    assert values(reliance) == [F(0), F(1), F(1), None]
    assert (reliance.trend.direction, reliance.trend.slope) == (M.RISING, F(1, 2))


def test_a_clarification_asked_of_a_supporter_is_reliance() -> None:
    """Without the meeting where Sam was asked about the seed library, March's D4 does not
    rely on outsiders: the figure comes from that one record."""
    state = fold_garden(garden())
    meetings = [
        M.HeldMeeting(m.id, m.held_ts, m.facilitator, m.speakers) for m in M.held_meetings(state)
    ]
    reliance = M.compute(state, meetings=meetings).get("reliance_on_outsiders")
    assert values(reliance)[2] == F(1, 2)


def test_replication_matches_the_worked_example(example: M.Metrics) -> None:
    adopted_from = example.get("adopted_from_others")
    assert values(adopted_from) == [0, 0, 1, 0]
    assert adopted_from.points[2].names == ("Seed library",)
    assert (adopted_from.trend.direction, adopted_from.trend.slope) == (M.RISING, F(1, 2))
    # The library holds Hill's publication, but no adoption note of Garden's items.
    by_others = example.get("adopted_by_others")
    assert by_others.note == "" and values(by_others) == [0, 0, 0, 0]


def test_adoptions_by_others_are_none_recorded_while_the_library_is_empty() -> None:
    state = dataclasses.replace(fold_garden(garden()), library={})
    by_others = M.compute(state).get("adopted_by_others")
    assert by_others.note == M.NONE_RECORDED
    assert values(by_others) == [None] * 4
    assert by_others.trend.direction == M.TOO_FEW


def test_adoption_notes_when_the_record_has_them_are_counted_per_period() -> None:
    w = garden()
    state = fold_garden(w)
    by_others = M.compute(state, adoptions=[at(2, 3), at(2, 9), at(4, 1)]).get("adopted_by_others")
    assert values(by_others) == [0, 2, 0, 1] and by_others.note == ""


def test_without_meetings_facilitation_says_none_were_recorded() -> None:
    state = fold_garden(garden())
    metrics = M.compute(state, meetings=())
    assert metrics.get("facilitators").note == "no meetings recorded"
    assert values(metrics.get("facilitators")) == [None] * 4
    assert M.compute(state, 3, meetings=()).periods == ()  # no meetings: no meeting periods


def test_a_window_keeps_the_overlapping_periods_and_refits_the_trend(
    example: M.Metrics,
) -> None:
    feb_mar = M.window(example, at(2, 1, 0), at(4, 1, 0))
    assert [p.label for p in feb_mar.periods] == ["2026-02", "2026-03"]
    assert values(feb_mar.get("new_voices")) == [2, 1]
    assert feb_mar.get("new_voices").trend.direction == M.TOO_FEW
    assert M.window(example, at(6, 1), None).periods == ()


def test_the_metrics_are_the_same_whatever_order_the_documents_come_in() -> None:
    w = garden()
    forward = M.compute(fold_garden(w))
    w.docs = dict(reversed(list(w.docs.items())))
    assert M.compute(fold_garden(w)) == forward


def test_a_clock_set_back_does_not_move_an_act_before_what_its_writer_saw() -> None:
    """Bob's device writes a proposal dated November 2025 after its last act (ending the
    meeting of 8 April): the causal time puts it after that act, in April, not before the
    assembly existed."""
    w = garden()
    w.propose("bob", at(1, 1) - 40 * R.DAY_MS, "Backdated")
    own = M.compute(fold_garden(w)).get("own_initiatives")
    assert [(p.count, p.of) for p in own.points] == [(2, 2), (0, 1), (2, 3), (2, 2)]


# --- the trend ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "series,unit,direction,slope",
    [
        ([F(1), F(2), F(3), None], M.COUNT, M.RISING, F(1)),
        ([F(3), F(2), F(1), F(9)], M.COUNT, M.FALLING, F(-1)),  # the running period left out
        ([F(10), F(10), F(10, 1) + F(1, 3), F(0)], M.COUNT, M.STEADY_TREND, F(1, 6)),
        ([F(1, 2), None, F(1, 2), F(1, 2), F(0)], M.SHARE, M.STEADY_TREND, F(0)),
        ([F(1), F(2), F(0)], M.COUNT, M.TOO_FEW, None),
    ],
)
def test_the_trend_is_the_least_squares_slope_of_the_completed_periods(
    series: list[F | None], unit: str, direction: str, slope: F | None
) -> None:
    t = M.trend(series, unit)
    assert (t.direction, t.slope) == (direction, slope)


def test_the_trend_looks_at_the_last_six_periods_with_a_value() -> None:
    t = M.trend([F(100), *[F(k) for k in range(6)], F(0)], M.COUNT)
    assert (t.periods, t.slope, t.span) == (6, F(1), (1, 6))
    assert t.at(1) == 0 and t.at(6) == 5


@given(st.lists(st.one_of(st.none(), st.fractions(0, 1)), max_size=30))
def test_a_trend_line_passes_through_the_mean_of_the_points_it_fits(
    series: list[F | None],
) -> None:
    t = M.trend(series, M.SHARE)
    pairs = [(k, v) for k, v in enumerate(series[:-1]) if v is not None][-M.TREND_WINDOW :]
    if len(pairs) < M.TREND_MIN:
        assert t.direction == M.TOO_FEW
        return
    mean_x = F(sum(k for k, _ in pairs), len(pairs))
    mean_v = sum((v for _, v in pairs), F(0)) / len(pairs)
    assert t.intercept is not None and t.slope is not None
    assert t.intercept + t.slope * mean_x == mean_v
    assert t.direction in (M.RISING, M.FALLING, M.STEADY_TREND)


def test_months_run_across_a_year_end() -> None:
    months = M.month_periods(at(11, 20), at(2, 3) + 365 * R.DAY_MS)
    assert [p.label for p in months] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(months))
