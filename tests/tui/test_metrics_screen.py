"""The Metrics screen (key 7): a row a metric, a plot of the chosen one, computed once per
fold through ``LocalAssembly.metrics`` and never on a key press."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Static
from textual_plotext import PlotextPlot

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.metrics_screen import MetricsScreen
from assemblymesh.tui.widgets import PagedTable
from tests.tui.conftest import Trio, proposal_in_positions, settle


def text_of(app: AssemblyApp, selector: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def plot_text(app: AssemblyApp) -> str:
    plot = app.screen.query_one("#metrics-plot", PlotextPlot)
    console = Console(width=plot.size.width, record=True, file=io.StringIO())
    console.print(plot.render())
    return console.export_text()


def counted(app: AssemblyApp) -> list[int | None]:
    """Record each computation of the metrics the app asks its assembly for."""
    calls: list[int | None] = []
    assert app.local is not None
    original = app.local.metrics

    def metrics(state: object = None, per_meetings: int | None = None) -> object:
        calls.append(per_meetings)
        return original(state, per_meetings)  # type: ignore[arg-type]

    app.local.metrics = metrics  # type: ignore[method-assign, assignment]
    return calls


async def ready(app: AssemblyApp, pilot: object) -> None:
    await settle(app, pilot)
    await app.workers.wait_for_complete()
    await settle(app, pilot)


def make_record(trio: Trio) -> None:
    """Kofi's proposal decided with Rosa's and Amara's consent; Amara proposes too."""
    _, rid = proposal_in_positions(trio)
    trio.act("Rosa", commands.position, rid, R.CONSENT, "", None)
    trio.act("Amara", commands.position, rid, R.OBJECT, "Too close to the shed", None)
    trio.act("Amara", commands.position, rid, R.CONSENT, "Moved: fine", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.act("Amara", commands.propose, "Seed swap", "In March.")


async def test_the_metrics_screen_lists_every_metric_and_plots_the_chosen_one(
    trio: Trio,
) -> None:
    make_record(trio)
    app = trio.app()
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(app, pilot)
        calls = counted(app)
        await pilot.press("7")
        await ready(app, pilot)
        assert isinstance(app.screen, MetricsScreen)
        table = app.screen.query_one("#metrics-table", PagedTable)
        titles = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert titles[:4] == [
            "Distinct facilitators",
            "Share run by the most frequent facilitator",
            "New voices",
            "Own initiatives",
        ]
        assert len(titles) == 7
        assert "no meetings recorded" in str(table.get_row_at(0)[3])
        table.focus()
        await pilot.press("down", "down")
        await pilot.pause()
        detail = text_of(app, "#metrics-detail")
        assert "New voices:" in detail and "Amara, Kofi, Rosa" in detail
        assert "New voices (count)" in plot_text(app)
        await pilot.press("down")  # own initiatives: a share, as a line of dots
        await pilot.pause()
        assert "Own initiatives (%)" in plot_text(app)
        assert "100%" in detail or "100%" in text_of(app, "#metrics-detail")
        assert calls == [None]  # moving between metrics computes nothing


async def test_the_metrics_are_computed_once_per_fold_and_period(trio: Trio) -> None:
    make_record(trio)
    app = trio.app()
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(app, pilot)
        calls = counted(app)
        await pilot.press("7")
        await ready(app, pilot)
        await pilot.press("1", "7")  # away and back: the same fold, the same figures
        await ready(app, pilot)
        assert calls == [None]
        await pilot.press("p")  # per meetings: none recorded yet, says so
        await ready(app, pilot)
        assert calls == [None, 4]
        table = app.screen.query_one("#metrics-table", PagedTable)
        assert table.border_title == "Metabolism: per 4 meetings"
        assert "No meetings recorded yet" in text_of(app, "#metrics-detail")
        await pilot.press("p")
        await ready(app, pilot)
        assert table.border_title == "Metabolism: per month" and table.row_count == 7
        assert app.local is not None
        app.local.act(commands.propose, "Rain barrels", "Two.")  # a change: a new fold
        await ready(app, pilot)
        assert calls == [None, 4, None, None]
