"""Every benchmark runs end to end on a small history, so none of them rots unnoticed.

The figures are not checked here (this machine is shared and noisy): only that each
benchmark completes and prints them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def figures(out: str) -> dict[str, object]:
    (line,) = [line for line in out.splitlines() if line.startswith("json: ")]
    data = json.loads(line.removeprefix("json: "))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    "args",
    [
        ("foundation.py",),
        ("sync.py",),
        ("bundle.py",),
        ("flood.py", "--syncs", "3"),
        ("funds.py",),
    ],
    ids=lambda args: args[0],
)
def test_a_history_benchmark_runs_on_a_small_history(args: tuple[str, ...]) -> None:
    data = figures(run(args[0], "500", *args[1:]))
    assert data["n"] == 500


def test_the_hostile_input_benchmark_runs_on_a_small_size() -> None:
    data = figures(run("hostile.py", "--small"))
    assert data["n"] == 1000
    assert "honest_batched_us" in data


def test_the_tui_benchmark_presses_keys_on_a_built_assembly() -> None:
    out = run("tui.py", "--proposals", "100", "--members", "3", "--presses", "8")
    (row,) = [line for line in out.splitlines() if line.split()[:1] == ["100"]]
    assert len(row.split()) >= 8


def test_the_epochs_benchmark_prints_its_figures() -> None:
    data = figures(run("epochs.py", "--small"))
    assert data["epochs"] == 8 and data["handshake_64_ms"] > 0


def test_the_metrics_benchmark_measures_a_small_record() -> None:
    small = ("--meetings", "6", "--proposals", "120", "--members", "12", "--days", "60")
    data = figures(run("metrics.py", *small, "--runs", "1"))
    assert data["n"] == 120 and data["meetings"] == 6
    assert data["ignored"] == 0  # every generated act is one the fold accepts
    assert data["decisions"] > 0 and data["periods"] >= 2
    for key in ("fold_s", "metrics_month_s", "report_s", "screen_first_s", "screen_again_s"):
        assert isinstance(data[key], float) and data[key] > 0
