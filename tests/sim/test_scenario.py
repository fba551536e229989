"""Random meetings over random partitions end with one record and one set of outcomes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assemblymesh.cli import main
from assemblymesh.sim.scenario import run_scenario


@pytest.mark.parametrize("topology", ["line", "ring", "mesh"])
@pytest.mark.parametrize("seed", [1, 2])
def test_random_meetings_converge(topology: str, seed: int) -> None:
    report = run_scenario(nodes=5, steps=90, seed=seed, topology=topology)
    assert report.events.count("heal") >= 1 and any(
        e.startswith("partition") for e in report.events
    )
    assert report.acts > 30
    assert report.converged, report.nodes
    outcomes = next(iter(report.outcomes.values()))
    assert outcomes and all(o == outcomes for o in report.outcomes.values())


def test_the_same_seed_tells_the_same_story() -> None:
    first, second = run_scenario(4, 60, seed=9), run_scenario(4, 60, seed=9)
    assert first.events == second.events
    assert first.outcomes == second.outcomes  # titles and states; keys differ per run
    assert (first.acts, first.refused, first.ignored) == (
        second.acts,
        second.refused,
        second.ignored,
    )


def test_the_simulate_command_reports_convergence() -> None:
    result = CliRunner().invoke(main, ["simulate", "--nodes", "3", "--steps", "40", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(
        "converged: every node holds the same record and the same outcomes"
    )
    assert len([line for line in result.stdout.splitlines() if "  record " in line]) == 3
