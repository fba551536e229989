"""Metrics: the metabolism metrics as a table and a plot of the chosen one.

The figures come from the app (``AssemblyApp.request_metrics``), computed once per fold and
period choice in a worker thread through ``LocalAssembly.metrics``: the same computation the
command line and the report show. The screen only draws them.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from assemblymesh.i18n import N_, _, format_number
from assemblymesh.model import metrics as M
from assemblymesh.report import period_label, trend_text, value_text
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import display
from assemblymesh.tui.messages import MetricsReady
from assemblymesh.tui.view import Digest
from assemblymesh.tui.widgets import BidiStatic, PagedTable

MEETINGS_PER_PERIOD = 4  # ``p`` switches to periods of this many meetings
SHOWN_PERIODS = 24  # the plot shows at most the latest two years of months


def metric_rows(metrics: M.Metrics) -> list[tuple[str, tuple[str, ...]]]:
    """One row a metric: its title, its latest figure, of which period, and its trend."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for s in metrics.series:
        latest = s.latest()
        figure = value_text(s, latest[1].value) if latest else "–"
        period = period_label(metrics.periods[latest[0]]) if latest else ""
        trend = _(s.note) if s.note else _(s.trend.direction)
        rows.append((s.key, (_(s.title), figure, period, trend)))
    return rows


def detail_text(metrics: M.Metrics, s: M.Series) -> Text:
    """The chosen metric's definition, trend and latest periods in words."""
    text = Text()
    text.append(f"{_(s.title)}: ", style="bold")
    definition = M.DEFINITIONS.get(s.key)
    text.append((_(definition) if definition else "") + "\n")
    text.append(trend_text(s) + "\n")
    for k in range(max(0, len(s.points) - 4), len(s.points)):
        p = s.points[k]
        of = (
            " "
            + _("({count} of {total})").format(
                count=format_number(p.count), total=format_number(p.of)
            )
            if p.of
            else ""
        )
        who = f": {', '.join(p.names)}" if p.names else ""
        period = period_label(metrics.periods[k])
        text.append(f"{period}  {value_text(s, p.value)}{of}{who}\n")
    return text


class MetricsScreen(AssemblyScreen):
    MODE = "metrics"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_period", N_("Month / meetings")),
    ]
    DEFAULT_CSS = """
    #metrics-body { height: 1fr; }
    #metrics-top { height: 11; }
    #metrics-table { width: 2fr; min-width: 60; border: round $primary; height: 11; }
    #metrics-detail { width: 1fr; min-width: 36; height: 11; padding: 0 1;
                      border: round $secondary; }
    #metrics-plot { height: 1fr; min-height: 10; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.per_meetings: int | None = None
        self.metrics: M.Metrics | None = None
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Vertical(id="metrics-body"):
            with Horizontal(id="metrics-top"):
                columns = (_("Metric"), _("Latest"), _("Period"), _("Trend"))
                yield PagedTable(columns, id="metrics-table", empty=_("(none)"))
                yield BidiStatic(_("Computing the metrics..."), id="metrics-detail", markup=False)
            yield PlotextPlot(id="metrics-plot")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#metrics-table", PagedTable)
        table.border_title = display(_("Metabolism: {per}").format(per=_("per month")))
        super().on_mount()

    def show(self, digest: Digest) -> None:
        metrics = self.am.request_metrics(digest, self.per_meetings)
        if metrics is not None:
            self.draw(metrics)

    def on_metrics_ready(self, message: MetricsReady) -> None:
        if message.digest is self.am.digest and message.per_meetings == self.per_meetings:
            self.draw(message.metrics)

    def draw(self, metrics: M.Metrics) -> None:
        self.metrics = metrics
        table = self.query_one("#metrics-table", PagedTable)
        per = M.per_text(metrics)
        table.border_title = display(_("Metabolism: {per}").format(per=per))
        table.set_rows(metric_rows(metrics), keep=self.chosen)
        if not metrics.series:
            none = (
                _("No meetings recorded yet: p goes back to months.")
                if self.per_meetings
                else _("Nothing to measure yet.")
            )
            self.query_one("#metrics-detail", Static).update(none)
            self._plot(None)
            return
        self.chosen = table.current_key or metrics.series[0].key
        self._draw_chosen()

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key and message.key != self.chosen:
            self.chosen = message.key
            self._draw_chosen()

    def _draw_chosen(self) -> None:
        if self.metrics is None or self.chosen is None:
            return
        s = self.metrics.get(self.chosen)
        self.query_one("#metrics-detail", Static).update(detail_text(self.metrics, s))
        self._plot(s)

    def _plot(self, s: M.Series | None) -> None:
        widget = self.query_one("#metrics-plot", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        if s is None or self.metrics is None:
            widget.refresh()
            return
        first = max(0, len(s.points) - SHOWN_PERIODS)
        labels = [p.label for p in self.metrics.periods[first:]]
        points = s.points[first:]
        unit = "%" if s.unit == M.SHARE else _("count")
        title = _("{title} ({unit})").format(title=_(s.title), unit=unit)
        plt.title(
            display(_("{title}: {note}").format(title=title, note=_(s.note)) if s.note else title)
        )
        if all(p.value is None for p in points):
            widget.refresh()
            return
        if s.unit == M.COUNT:
            plt.bar(labels, [float(p.value or 0) for p in points], width=0.6)
        else:
            xs = [k for k, p in enumerate(points) if p.value is not None]
            ys = [float(p.value) * 100 for p in points if p.value is not None]
            plt.plot(xs, ys, marker="braille")
            plt.scatter(xs, ys, marker="dot")
            step = max(1, -(-len(labels) // 8))
            plt.xticks(list(range(0, len(labels), step)), labels[::step])
            plt.xlim(-0.5, max(0.5, len(labels) - 0.5))
            plt.ylim(0, 100)
        widget.refresh()

    def action_toggle_period(self) -> None:
        self.per_meetings = None if self.per_meetings else MEETINGS_PER_PERIOD
        self.metrics = None
        self.query_one("#metrics-detail", Static).update(_("Computing the metrics..."))
        digest = self.am.digest
        if digest is not None:
            self.show(digest)
