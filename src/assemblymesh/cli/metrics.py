"""``assemblymesh metrics`` and ``assemblymesh report``: the metabolism metrics as a table or
JSON, and the period's report as one self-contained HTML page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from assemblymesh.cli import Context, _write_atomically, pass_ctx, when
from assemblymesh.errors import UsageError
from assemblymesh.i18n import _
from assemblymesh.model import metrics as M
from assemblymesh.model import rules as R
from assemblymesh.model.state import AssemblyState
from assemblymesh.report import per_text, period_label, trend_text, value_text

LABEL_W = 44
CELL_W = 9


def period_option(f: Any) -> Any:
    return click.option(
        "--per-meetings",
        type=click.IntRange(1, 1000),
        default=None,
        metavar="N",
        help="Periods of N meetings instead of calendar months.",
    )(f)


# --- data ----------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def series_data(s: M.Series, periods: tuple[M.Period, ...]) -> dict[str, Any]:
    return {
        "key": s.key,
        "title": s.title,
        "unit": s.unit,
        "note": s.note or None,
        "points": [
            {
                "period": periods[k].label,
                "value": _number(p.value),
                "count": p.count,
                "of": p.of,
                "names": list(p.names),
            }
            for k, p in enumerate(s.points)
        ],
        "trend": {
            "direction": s.trend.direction,
            "slope": _number(s.trend.slope),
            "periods": s.trend.periods,
        },
    }


def metrics_data(metrics: M.Metrics) -> dict[str, Any]:
    """The metrics as ``metrics --json`` prints them."""
    return {
        "period": {"kind": metrics.kind, "per": metrics.per},
        "now": metrics.now_ms,
        "periods": [
            {"label": p.label, "start": p.start_ms, "end": p.end_ms} for p in metrics.periods
        ],
        "metrics": [series_data(s, metrics.periods) for s in metrics.series],
    }


def metrics_summary(state: AssemblyState) -> dict[str, Any]:
    """Per metric, its latest figure and its trend (for ``status --json``)."""
    metrics = M.compute(state)
    out: dict[str, Any] = {}
    for s in metrics.series:
        latest = s.latest()
        out[s.key] = {
            "period": metrics.periods[latest[0]].label if latest else None,
            "value": _number(latest[1].value) if latest else None,
            "trend": s.trend.direction,
            "note": s.note or None,
        }
    return out


# --- text ----------------------------------------------------------------------------------------


def metric_lines(metrics: M.Metrics, last: int) -> list[str]:
    """The last ``last`` periods of every metric as a table, then who the new voices were."""
    if not metrics.periods:
        if metrics.kind == M.MEETINGS:
            return [
                _("No meetings recorded yet: without {option}, the metrics go by month.").format(
                    option="--per-meetings"
                )
            ]
        return [_("The assembly is not here yet: sync with a member.")]
    first = max(0, len(metrics.periods) - last)
    shown = metrics.periods[first:]
    labels = [period_label(p) for p in shown]
    width = max(CELL_W, *(len(label) + 2 for label in labels))
    head = f"{'':<{LABEL_W}}" + "".join(f"{label:>{width}}" for label in labels)
    lines = [head]
    for s in metrics.series:
        title = _(s.title)
        title = title if len(title) <= LABEL_W - 2 else title[: LABEL_W - 3] + "…"
        if s.note == M.NONE_RECORDED:
            lines.append(f"{title:<{LABEL_W}}{_(s.note)}")
            continue
        cells = "".join(f"{value_text(s, p.value):>{width}}" for p in s.points[first:])
        lines.append(f"{title:<{LABEL_W}}{cells}")
        lines.append(f"{'':<4}{trend_text(s)}")
    voices = metrics.get("new_voices")
    for k in range(first, len(metrics.periods)):
        names = voices.points[k].names
        if names:
            lines.append(
                _("New voices in {period}: {names}").format(
                    period=period_label(metrics.periods[k]), names=", ".join(names)
                )
            )
    return lines


# --- the commands --------------------------------------------------------------------------------


@click.command(name="metrics")
@period_option
@click.option("--last", type=click.IntRange(1, 240), default=6, show_default=True,
              help="How many of the latest periods to show (JSON gives them all).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def metrics_command(ctx: Context, per_meetings: int | None, last: int, as_json: bool) -> None:
    """The metabolism metrics, per month or per N meetings, each with its trend
    (docs/metrics.md defines each)."""
    with ctx.open() as local:
        metrics = local.metrics(per_meetings=per_meetings)
    if as_json:
        click.echo(json.dumps(metrics_data(metrics), indent=2, sort_keys=True))
        return
    click.echo(
        _("Metabolism, {per}, from the record as of {when}").format(
            per=per_text(metrics), when=when(metrics.now_ms)
        )
    )
    click.echo("")
    for line in metric_lines(metrics, last):
        click.echo(line)


def parse_day(text: str | None, end: bool) -> int | None:
    """``YYYY-MM`` or ``YYYY-MM-DD`` as ms: its first moment, or (``end``) the first moment
    after it."""
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            moment = dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
        ms = int(moment.timestamp() * 1000)
        if not end:
            return ms
        return ms + R.DAY_MS if fmt == "%Y-%m-%d" else M.next_month(ms)
    raise UsageError(
        _("{given!r} is not a date like {month} or {day}").format(
            given=text, month="2026-05", day="2026-05-01"
        )
    )


@click.command(name="report")
@click.option("--html", "path", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE (one self-contained HTML page).")  # fmt: skip
@period_option
@click.option("--from", "since", default=None, metavar="YYYY-MM[-DD]",
              help="First month or day of the period (default: the beginning).")  # fmt: skip
@click.option("--to", "until", default=None, metavar="YYYY-MM[-DD]",
              help="Last month or day of the period, included (default: now).")  # fmt: skip
@pass_ctx
def report_command(
    ctx: Context, path: Path, per_meetings: int | None, since: str | None, until: str | None
) -> None:
    """Write the period's report: every metric as a chart, the decisions and the minutes,
    in one HTML page to print or share; prints the file's path."""
    since_ms, until_ms = parse_day(since, False), parse_day(until, True)
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise UsageError(_("{to} is before {since}").format(to="--to", since="--from"))
    with ctx.open() as local:
        state = local.state()
        metrics = M.window(local.metrics(state, per_meetings), since_ms, until_ms)
        page = local.report_html(state, metrics, since_ms, until_ms)
    _write_atomically(path, lambda out: out.write(page.encode("utf-8")))
    click.echo(str(path))
