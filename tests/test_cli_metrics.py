"""``metrics`` and ``report`` through the command line, on real homes with a clock the test
moves: the figures follow what the members did, month by month and per meeting, and the
report is one page with a chart a metric."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock

DAY = 24 * 3600 * 1000


def month_of(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m")


def metrics(home: Path, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run(home, "metrics", "--json", *args).stdout)


def by_key(data: dict, key: str) -> dict:  # type: ignore[type-arg]
    return next(m for m in data["metrics"] if m["key"] == key)  # type: ignore[no-any-return]


def two_months(tmp_path: Path, clock: Clock) -> tuple[Path, Path, str, str]:
    """Rosa founds and proposes; a month later Kofi joins, proposes, and speaks at a meeting
    Rosa facilitates. Returns the homes and the two months."""
    rosa, kofi = tmp_path / "rosa", tmp_path / "kofi"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa")
    first = month_of(clock.now)
    run(rosa, "propose", "--title", "Water rota", "--body", "Weekly.")
    clock.now += 32 * DAY
    second = month_of(clock.now)
    run(kofi, "join", last_line(run(rosa, "invite", "--no-qr")), "--member-name", "Kofi")
    sync(clock, rosa, kofi)
    run(kofi, "propose", "--title", "Compost bins", "--body", "Two.")
    sync(clock, rosa, kofi)
    run(rosa, "meeting", "new", "--date", dt.datetime.fromtimestamp(clock.now / 1000, tz=dt.UTC)
        .strftime("%Y-%m-%d %H:%M"), "--title", "Monthly")  # fmt: skip
    run(rosa, "meeting", "open")
    sync(clock, rosa, kofi)
    run(kofi, "meeting", "queue", "raise")
    sync(clock, rosa, kofi)
    run(rosa, "meeting", "queue", "next")
    run(rosa, "meeting", "end")
    sync(clock, rosa, kofi)
    return rosa, kofi, first, second


def test_metrics_follow_what_the_members_did(tmp_path: Path, clock: Clock) -> None:
    rosa, kofi, first, second = two_months(tmp_path, clock)
    data = metrics(rosa)
    assert data["period"] == {"kind": "month", "per": 1}
    assert [p["label"] for p in data["periods"]][-2:] == [first, second]
    voices = by_key(data, "new_voices")["points"]
    assert [(p["count"], p["names"]) for p in voices[-2:]] == [(1, ["Rosa"]), (1, ["Kofi"])]
    rotation = by_key(data, "facilitators")["points"]
    assert [(p["value"], p["names"]) for p in rotation[-2:]] == [(None, []), (1.0, ["Rosa"])]
    own = by_key(data, "own_initiatives")
    assert [p["value"] for p in own["points"][-2:]] == [1.0, 1.0]
    assert own["trend"]["direction"] == "too few periods"
    assert by_key(data, "adopted_by_others")["note"] == "none recorded"
    theirs = metrics(kofi)
    assert theirs.pop("now") > data.pop("now")  # read later, by the moving clock
    assert theirs == data  # every node, the same figures
    text = run(rosa, "metrics").stdout
    assert f"New voices in {second}: Kofi" in text
    assert "Adopted by other assemblies" in text and "none recorded" in text
    assert status(rosa)["metrics"]["new_voices"] == {
        "period": second, "value": 1.0, "trend": "too few periods", "note": None,
    }  # fmt: skip


def test_metrics_per_meeting_and_before_any_meeting(tmp_path: Path, clock: Clock) -> None:
    rosa = tmp_path / "rosa"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa")
    assert metrics(rosa, "--per-meetings", "2")["periods"] == []
    assert "No meetings recorded yet" in run(rosa, "metrics", "--per-meetings", "2").stdout
    rosa, _, _, _ = two_months(tmp_path / "again", clock)
    data = metrics(rosa, "--per-meetings", "2")
    assert [p["label"] for p in data["periods"]] == ["meeting 1"]
    assert by_key(data, "top_facilitator_share")["points"][0]["value"] == 1.0


def test_the_report_is_one_page_with_a_chart_a_metric(tmp_path: Path, clock: Clock) -> None:
    rosa, _, _, second = two_months(tmp_path, clock)
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    assert last_line(run(rosa, "report", "--html", str(page))) == str(page)
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 7 and "Compost bins" not in html.split('id="minutes"')[0]
    assert "Monthly" in html and "not sealed" in html
    assert not list(page.parent.glob("*.part"))
    only = tmp_path / "out" / "second.html"
    run(rosa, "report", "--html", str(only), "--from", second, "--to", second)
    assert f"{second} to {second}" in only.read_text(encoding="utf-8")


def test_a_bad_period_is_one_error_line_and_writes_nothing(tmp_path: Path, clock: Clock) -> None:
    rosa = tmp_path / "rosa"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa")
    page = tmp_path / "report.html"
    assert "not a date" in refused(rosa, "report", "--html", str(page), "--from", "May 2026")
    assert "--to is before --from" in refused(
        rosa, "report", "--html", str(page), "--from", "2026-05", "--to", "2026-04-30"
    )
    assert not page.exists()
