"""The assembly's report for a period, as one self-contained HTML page to print or share.

The page carries its own style and draws every metric as an inline SVG chart: no script, no
font, no image or style sheet is fetched from anywhere, so it reads the same offline, in
any browser, on paper. Every text that comes from the record (titles, names, statements,
minutes) is escaped: the record is written by many hands.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from assemblymesh import i18n
from assemblymesh.i18n import N_, _, format_date, format_datetime, format_number, label, ngettext
from assemblymesh.minutes import minutes_text
from assemblymesh.model import metrics as M
from assemblymesh.model import rules as R
from assemblymesh.model.metrics import COUNT, SHARE, Metrics, Period, Series, held_meetings
from assemblymesh.model.shapes import Shapes
from assemblymesh.model.state import AssemblyState, Decision

CHART_W: Final = 640
CHART_H: Final = 200
MARGIN_L: Final = 48
MARGIN_R: Final = 12
MARGIN_T: Final = 12
MARGIN_B: Final = 36
BAR: Final = "#2a6f97"
TREND: Final = "#c44e00"
GRID: Final = "#d0d0d0"
MAX_X_LABELS: Final = 12

XFn = Callable[[float], float]  # a period's index -> the x of its middle
YFn = Callable[[Fraction], float]  # a value -> its y

STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem;
       color: #1a1a1a; line-height: 1.4; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
.lede { color: #555; margin-top: 0; }
figure.metric { margin: 1.5rem 0; break-inside: avoid; }
figure.metric figcaption { font-weight: 600; margin-bottom: 0.3rem; }
figure.metric .trend { font-weight: normal; color: #444; }
svg.chart { width: 100%; height: auto; max-width: 640px; display: block; }
svg.chart text { font-size: 11px; fill: #333; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-style: italic; }
.minutes { white-space: pre-wrap; border-left: 3px solid #ccc; padding-left: 0.8rem; }
@media print { body { margin: 0; max-width: none; } }
"""


@dataclass(frozen=True)
class Minutes:
    """One meeting's minutes as the report shows them."""

    held_ts: int
    title: str
    text: str
    facilitator: str = ""
    note_taker: str = ""
    sealed: bool = False
    changed_since_seal: bool = False
    place: str = ""


def minutes_of(
    state: AssemblyState,
    current_of: Callable[[str], str],
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> list[Minutes]:
    """The minutes of every meeting held in [since_ms, until_ms), in the order held:
    the sealed text if sealed (and whether the shared text changed since), else the shared
    text as it stands. ``current_of(meeting)`` reads a meeting's shared minutes."""
    out = []
    for held in held_meetings(state):
        if (since_ms is not None and held.held_ts < since_ms) or (
            until_ms is not None and held.held_ts >= until_ms
        ):
            continue
        m = state.meetings[held.id]
        text = minutes_text(m, current_of(m.id))
        out.append(
            Minutes(
                held.held_ts,
                m.title or _("Meeting"),
                text.text,
                _name(state, m.facilitator),
                _name(state, m.note_taker),
                text.sealed,
                text.changed_since_seal,
                m.place,
            )
        )
    return out


def _name(state: AssemblyState, member: str) -> str:
    m = state.members.get(member)
    return m.name if m is not None else member[:8]


def day(ms: int) -> str:
    return format_date(ms)


def moment(ms: int) -> str:
    return f"{format_datetime(ms)} UTC"


def value_text(series: Series, value: Fraction | None) -> str:
    """A figure as people read it, in the chosen language: a share in per cent, a count as
    a number."""
    if value is None:
        return "–"
    if series.unit == SHARE:
        return percent_text(value)
    if value.denominator == 1:
        return format_number(value.numerator)
    return format_number(round(float(value), 2))


def percent_text(value: Fraction) -> str:
    """A share in per cent, whole (``67%``; ``67 %`` in Spanish)."""
    from babel import numbers

    return numbers.format_percent(float(value), locale=i18n.language())


def signed_text(value: float) -> str:
    """A change with its sign and two decimals, in the chosen language (``+0.50``; ``+0,50``)."""
    from babel import numbers

    return numbers.format_decimal(value, "+#,##0.00;-#,##0.00", locale=i18n.language())


def trend_text(series: Series) -> str:
    t = series.trend
    if series.note:
        return _(series.note)
    if t.slope is None:
        return _("trend: {direction}").format(direction=_(t.direction))
    step = float(t.slope) * (100 if series.unit == SHARE else 1)
    if series.unit == SHARE:
        text = ngettext(
            "trend: {direction} ({step}pp a period over {count} period)",
            "trend: {direction} ({step}pp a period over {count} periods)",
            t.periods,
        )
    else:
        text = ngettext(
            "trend: {direction} ({step} a period over {count} period)",
            "trend: {direction} ({step} a period over {count} periods)",
            t.periods,
        )
    return text.format(direction=_(t.direction), step=signed_text(step), count=t.periods)


# How model.metrics labels a period of meetings (``meeting 3``, ``meetings 1-4``).
PERIOD_WORDS: Final = Shapes((N_("meeting {number}"), N_("meetings {first}-{last}")))


MONTH_LABEL: Final = re.compile(r"(\d{4})-(\d{2})")


def period_label(period: Period) -> str:
    """A period's label in the chosen language: a month as its name and year (``may 2026``;
    English keeps ``2026-05``, as ``--json`` has it), a group of meetings in words."""
    month = MONTH_LABEL.fullmatch(period.label)
    if month is None:
        return PERIOD_WORDS.in_words(period.label)
    if i18n.language() == i18n.SOURCE_LANGUAGE:
        return period.label
    from babel import dates

    first = dt.date(int(month[1]), int(month[2]), 1)
    return dates.format_skeleton("yMMM", first, locale=i18n.language())


def per_text(metrics: Metrics) -> str:
    """'per month', 'per meeting' or 'per 4 meetings', in the chosen language."""
    return M.per_text(metrics)


# --- charts --------------------------------------------------------------------------------------


def _y_max(series: Series) -> Fraction:
    if series.unit == SHARE:
        return Fraction(1)
    top = max((p.value for p in series.points if p.value is not None), default=Fraction(0))
    return max(Fraction(1), Fraction(int(top) + (0 if top.denominator == 1 else 1)))


def _y_ticks(series: Series, top: Fraction) -> list[Fraction]:
    if series.unit == SHARE:
        return [Fraction(k, 4) for k in range(5)]
    step = max(1, -(-int(top) // 4))
    return [Fraction(k) for k in range(0, int(top) + 1, step)]


def chart_svg(series: Series, periods: Sequence[Period]) -> str:
    """One metric as an SVG chart: a bar a period for a count, a line with a dot a period
    for a share; the fitted trend line dashed over the periods it was fitted on."""
    n = max(1, len(periods))
    plot_w = CHART_W - MARGIN_L - MARGIN_R
    plot_h = CHART_H - MARGIN_T - MARGIN_B
    top = _y_max(series)
    slot = plot_w / n

    def x(k: float) -> float:
        return MARGIN_L + slot * (k + 0.5)

    def y(v: Fraction) -> float:
        return MARGIN_T + plot_h * (1 - float(min(v, top) / top))

    label = html.escape(f"{_(series.title)}: {trend_text(series)}", quote=True)
    parts = [
        f'<svg class="chart" data-metric="{html.escape(series.key, quote=True)}"'
        f' viewBox="0 0 {CHART_W} {CHART_H}" xmlns="http://www.w3.org/2000/svg"'
        f' role="img" aria-label="{label}">',
        f"<title>{label}</title>",
    ]
    parts += _axes(series, periods, top, x, y)
    parts += _marks(series, slot, x, y)
    parts += _trend_line(series, x, y, top)
    parts.append("</svg>")
    return "\n".join(parts)


def _axes(series: Series, periods: Sequence[Period], top: Fraction, x: XFn, y: YFn) -> list[str]:
    out = []
    for tick in _y_ticks(series, top):
        ty = y(tick)
        out.append(
            f'<line x1="{MARGIN_L}" y1="{ty:.1f}" x2="{CHART_W - MARGIN_R}" y2="{ty:.1f}"'
            f' stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{MARGIN_L - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{html.escape(value_text(series, tick))}</text>"
        )
    every = max(1, -(-len(periods) // MAX_X_LABELS))
    for p in periods:
        if p.index % every == 0 or p.index == len(periods) - 1:
            out.append(
                f'<text x="{x(p.index):.1f}" y="{CHART_H - MARGIN_B + 16}" text-anchor="middle">'
                f"{html.escape(period_label(p))}</text>"
            )
    return out


def _marks(series: Series, slot: float, x: XFn, y: YFn) -> list[str]:
    out = []
    base = y(Fraction(0))
    if series.unit == COUNT:
        width = max(1.0, slot * 0.7)
        for k, p in enumerate(series.points):
            if p.value is None:
                continue
            top_y = y(p.value)
            height = max(0.0, base - top_y)
            out.append(
                f'<rect class="mark" x="{x(k) - width / 2:.1f}" y="{top_y:.1f}"'
                f' width="{width:.1f}" height="{max(height, 1.0):.1f}" fill="{BAR}"/>'
            )
        return out
    run: list[str] = []
    for k, point in enumerate([*series.points, None]):
        if point is None or point.value is None:
            if len(run) > 1:
                out.append(
                    f'<polyline class="line" points="{" ".join(run)}" fill="none"'
                    f' stroke="{BAR}" stroke-width="3"/>'
                )
            run = []
            continue
        run.append(f"{x(k):.1f},{y(point.value):.1f}")
        out.append(
            f'<circle class="mark" cx="{x(k):.1f}" cy="{y(point.value):.1f}" r="4" fill="{BAR}"/>'
        )
    return out


def _trend_line(series: Series, x: XFn, y: YFn, top: Fraction) -> list[str]:
    t = series.trend
    if t.span is None:
        return []
    a, b = t.span
    va, vb = t.at(a), t.at(b)
    assert va is not None and vb is not None
    clamp = [max(Fraction(0), min(top, v)) for v in (va, vb)]
    return [
        f'<line class="trend" x1="{x(a):.1f}" y1="{y(clamp[0]):.1f}" x2="{x(b):.1f}"'
        f' y2="{y(clamp[1]):.1f}" stroke="{TREND}" stroke-width="2" stroke-dasharray="6 4"/>'
    ]


# --- the page ------------------------------------------------------------------------------------


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _metric_section(metrics: Metrics) -> list[str]:
    heading = html.escape(_("Metabolism"))
    out = ['<section id="metrics">', f"<h2>{heading}</h2>"]
    if not metrics.series:
        out.append(_note(_("No periods to show.")))
    for s in metrics.series:
        latest = s.latest()
        now = (
            _("{value} in {period}").format(
                value=value_text(s, latest[1].value),
                period=period_label(metrics.periods[latest[0]]),
            )
            if latest
            else _("no value yet")
        )
        out.append(f'<figure class="metric" id="metric-{html.escape(s.key, quote=True)}">')
        out.append(
            f"<figcaption>{html.escape(_(s.title))}: {html.escape(now)}"
            f' <span class="trend">({html.escape(trend_text(s))})</span></figcaption>'
        )
        out.append(chart_svg(s, metrics.periods))
        out.append("</figure>")
    out.append(_figures_table(metrics))
    out.append("</section>")
    return out


def _figures_table(metrics: Metrics) -> str:
    """Every figure as a table too (for reading without the charts)."""
    head = "".join(f"<th>{html.escape(period_label(p))}</th>" for p in metrics.periods)
    metric = html.escape(_("Metric"))
    rows = [f"<tr><th>{metric}</th>{head}</tr>"]
    for s in metrics.series:
        cells = "".join(
            f'<td class="num">{html.escape(value_text(s, p.value))}</td>' for p in s.points
        )
        rows.append(f"<tr><th>{html.escape(_(s.title))}</th>{cells}</tr>")
    return (
        "<details><summary>" + html.escape(_("The figures")) + "</summary>"
        '<table class="figures">' + "".join(rows) + "</table></details>"
    )


def decisions_in(
    state: AssemblyState, since_ms: int | None, until_ms: int | None
) -> list[Decision]:
    """The decisions made in [since_ms, until_ms), in the order they were made."""
    return sorted(
        (
            d
            for d in state.decisions.values()
            if (since_ms is None or d.decided_ts >= since_ms)
            and (until_ms is None or d.decided_ts < until_ms)
        ),
        key=lambda d: (d.decided_ts, d.id),
    )


STATUS_TEXT: Final = {
    R.PENDING: N_("in cooling-off"),
    R.IN_EFFECT: N_("in effect"),
    R.DECISION_RETURNED: N_("returned by a late objection"),
}


def _decision_section(state: AssemblyState, decisions: Sequence[Decision]) -> list[str]:
    heading = _("Decisions ({count})").format(count=len(decisions))
    out = ['<section id="decisions">', f"<h2>{html.escape(heading)}</h2>"]
    if not decisions:
        out.append(_note(_("No decision in this period.")))
        return [*out, "</section>"]
    heads = (_("Decided"), _("Proposal"), _("Status"), _("Statement"))
    out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr>")
    for d in decisions:
        p = state.proposals.get(d.proposal)
        title = p.title if p is not None else d.proposal[:8]
        status = label(STATUS_TEXT, d.status)
        out.append(
            f"<tr><td>{day(d.decided_ts)}</td><td>{html.escape(title)}</td>"
            f"<td>{html.escape(status)}</td>"
            f"<td>{html.escape(d.statement)}</td></tr>"
        )
    out.append("</table>")
    return [*out, "</section>"]


def _minutes_section(minutes: Sequence[Minutes]) -> list[str]:
    heading = _("Minutes ({count})").format(count=len(minutes))
    out = ['<section id="minutes">', f"<h2>{html.escape(heading)}</h2>"]
    if not minutes:
        out.append(_note(_("No minutes recorded in this period.")))
    for m in minutes:
        roles = ", ".join(
            part
            for part in (
                _("facilitated by {name}").format(name=m.facilitator) if m.facilitator else "",
                _("notes by {name}").format(name=m.note_taker) if m.note_taker else "",
            )
            if part
        )
        if m.changed_since_seal:
            seal = _("sealed, edited since the seal") if m.sealed else _("not sealed")
        else:
            seal = _("sealed") if m.sealed else _("not sealed")
        seal = html.escape(seal)
        where = f", {m.place}" if m.place else ""
        out.append(
            f'<article class="meeting"><h3>{day(m.held_ts)}{html.escape(where)}:'
            f" {html.escape(m.title)}</h3>"
        )
        out.append(f'<p class="lede">{html.escape(roles)} ({seal})</p>')
        out.append(f'<div class="minutes">{html.escape(m.text)}</div></article>')
    return [*out, "</section>"]


def render_html(
    state: AssemblyState,
    metrics: Metrics,
    minutes: Sequence[Minutes] = (),
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> str:
    """The report: metric charts, the decisions and the minutes of [since_ms, until_ms)."""
    name = state.assembly.name if state.assembly is not None else _("Assembly")
    if metrics.periods:
        lede = _("{first} to {last}, {per}. From the record as of {when}.").format(
            first=period_label(metrics.periods[0]), last=period_label(metrics.periods[-1]),
            per=per_text(metrics), when=moment(metrics.now_ms),
        )  # fmt: skip
    else:
        lede = _("From the record as of {when}.").format(when=moment(metrics.now_ms))
    direction = ' dir="rtl"' if i18n.is_right_to_left() else ""
    body = [
        "<!DOCTYPE html>",
        f'<html lang="{i18n.language()}"{direction}><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>" + html.escape(_("{name}: report").format(name=name)) + "</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(name)}</h1>",
        f'<p class="lede">{html.escape(lede)}</p>',
        *_metric_section(metrics),
        *_decision_section(state, decisions_in(state, since_ms, until_ms)),
        *_minutes_section(minutes),
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


__all__ = ["Minutes", "chart_svg", "decisions_in", "minutes_of", "render_html", "value_text"]
