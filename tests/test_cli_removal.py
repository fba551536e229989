"""A member removed by a decision, as ``status`` shows it: out of the member count, listed
apart with the day the removal took effect, and still in the JSON with that moment."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import last_line, run, status
from tests.helpers import Clock

HOUR = 3600 * 1000


def test_status_lists_a_removed_member_apart(tmp_path: Path, clock: Clock) -> None:
    home = tmp_path / "amara"
    run(home, "init", "--name", "Riverside", "--member-name", "Amara",
        "--cooling-off-hours", "1")  # fmt: skip
    run(home, "member", "add", "Dele")
    assert "Members (2):" in run(home, "status").stdout
    pid = last_line(run(home, "propose", "--title", "A parting", "--body", "",
                        "--effect", "remove:Dele"))  # fmt: skip
    rid = last_line(run(home, "round", "open", pid))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    run(home, "position", rid, "consent")
    run(home, "round", "close", rid, "--yes")
    # Adopted, not yet in effect: still a member.
    assert "Removed by a decision" not in run(home, "status").stdout
    clock.now += 2 * HOUR
    text = run(home, "status").stdout
    assert "Members (1):" in text and "Removed by a decision (1):" in text
    removed_part = text.split("Removed by a decision (1):", 1)[1]
    assert "Dele" in removed_part and "Dele" not in text.split("Removed by a decision", 1)[0]
    (dele,) = [m for m in status(home)["members"] if m["name"] == "Dele"]
    assert dele["removed"] is not None and dele["removed"] <= clock.now
