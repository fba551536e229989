"""Decisions that do what they say, as `status` shows them: the rules in force, what each
proposal's decision would do, and decisions due for review (a clock the test moves)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import last_line, run, status
from tests.helpers import Clock
from tests.test_cli_supporters import HOUR, decide

DAY = 24 * HOUR


def test_status_shows_rules_effects_and_a_review_due(tmp_path: Path, clock: Clock) -> None:
    amara = tmp_path / "amara"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara",
        "--cooling-off-hours", "1", "--review-days", "2")  # fmt: skip
    text = run(amara, "status").stdout
    assert "Rules: cooling-off 1 h, quorum 1, review after 2 days, block threshold 1" in text
    proposed = run(amara, "propose", "--title", "Q", "--body", "b", "--effect", "rule:quorum=2")
    pid = last_line(proposed)
    assert "does: rule:quorum=2" in run(amara, "status").stdout
    decide(amara, pid, clock)
    text = run(amara, "status").stdout
    assert "Rules: cooling-off 1 h, quorum 2," in text  # the effect ran
    assert "DUE FOR REVIEW" not in text
    clock.now += 2 * DAY
    text = run(amara, "status").stdout
    (decision,) = status(amara)["decisions"]
    assert status(amara)["reviews_due"] == [decision["id"]]
    assert "DUE FOR REVIEW: round open PID" in text
    run(amara, "round", "open", pid)  # the review round: no longer due
    assert "DUE FOR REVIEW" not in run(amara, "status").stdout
