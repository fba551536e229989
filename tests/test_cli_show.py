"""The outcome statement written at close, and ``show`` for one proposal, round or decision,
through the command line on real homes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from assemblymesh.errors import UsageError
from assemblymesh.home import Home
from assemblymesh.show import find_item
from tests import cli_helpers as helpers
from tests.cli_helpers import clock
from tests.helpers import Clock
from tests.test_cli import founded, last_line, run, status, sync

__all__ = ["clock", "founded"]

STATEMENT = "Quiet hours from 10pm.\nWe keep the list of exceptions on the notice board."


def adopted_with_a_statement(home: Path, tmp_path: Path) -> tuple[str, str, str]:
    """Ben joins; Amara proposes, amends, records Ben's concern for him, consents and closes
    with a statement. Returns the proposal, round and decision ids."""
    ben = tmp_path / "ben"
    run(ben, "join", last_line(run(home, "invite", "--no-qr")), "--member-name", "Ben")
    sync(home, ben)
    pid = last_line(run(home, "propose", "--title", "Quiet hours", "--body", "No drills at 8pm",
                        "--effect", "rule:quorum=2"))  # fmt: skip
    run(home, "amend", pid, "--body", "No drills after 10pm", "--note", "later start")
    rid = last_line(run(home, "round", "open", pid))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    run(home, "position", rid, "consent", "--reason", "fine by me")
    run(home, "position", rid, "concern", "--reason", "weekends?", "--for", "Ben")
    out = run(home, "round", "close", rid, "--statement", STATEMENT).stdout
    assert "outcome: adopted" in out
    (decision,) = status(home)["decisions"]
    return pid, rid, decision["id"]


def show(home: Path, ref: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(home, "show", ref, "--json").stdout)
    return data


def test_the_statement_is_kept_with_the_decision_and_status_shows_it(
    founded: Path, tmp_path: Path
) -> None:
    adopted_with_a_statement(founded, tmp_path)
    (decision,) = status(founded)["decisions"]
    assert (decision["title"], decision["statement"]) == ("Quiet hours", STATEMENT)
    text = run(founded, "status").stdout
    assert "on: Quiet hours" in text
    assert "statement: Quiet hours from 10pm." in text and "list of exceptions" in text
    # A close without a statement (here short of the quorum of 2 the decision set) has none,
    # and says nothing of one.
    pid = last_line(run(founded, "propose", "--title", "Bins", "--body", "Blue on Mondays"))
    rid = last_line(run(founded, "round", "open", pid))
    run(founded, "round", "advance", rid)
    run(founded, "round", "advance", rid)
    run(founded, "position", rid, "consent")
    run(founded, "round", "close", rid, "--yes")
    assert "statement" not in run(founded, "show", rid).stdout
    assert [d["statement"] for d in status(founded)["decisions"]] == [STATEMENT]
    assert show(founded, rid)["statement"] == ""


def test_show_a_proposal_with_every_version_and_its_rounds(founded: Path, tmp_path: Path) -> None:
    pid, rid, did = adopted_with_a_statement(founded, tmp_path)
    data = show(founded, pid[:6])
    assert (data["kind"], data["title"], data["state"], data["author_name"]) == (
        "proposal", "Quiet hours", "adopted", "Amara",
    )  # fmt: skip
    assert [(v["number"], v["body"], v["note"]) for v in data["versions"]] == [
        (1, "No drills at 8pm", "first version"), (2, "No drills after 10pm", "later start"),
    ]  # fmt: skip
    assert data["versions"][0]["effects_text"] == ["rule:quorum=2"]
    assert data["rounds"] == [
        {"id": rid, "version": 2, "phase": "closed", "phase_label": "closed",
         "outcome": "adopted", "decision": did}
    ]  # fmt: skip
    text = run(founded, "show", pid[:6]).stdout
    assert "Proposal" in text and "Quiet hours" in text and "Version 2 by Amara" in text
    assert "later start" in text and "No drills after 10pm" in text
    assert "does: rule:quorum=2" in text and "adopted" in text


def test_show_a_round_with_every_position_and_the_outcome(founded: Path, tmp_path: Path) -> None:
    _pid, rid, did = adopted_with_a_statement(founded, tmp_path)
    data = show(founded, rid[:6])
    assert (data["kind"], data["title"], data["version"], data["phase"]) == (
        "round", "Quiet hours", 2, "closed",
    )  # fmt: skip
    assert (data["facilitator_name"], data["outcome"], data["decision"]) == (
        "Amara", "adopted", did,
    )  # fmt: skip
    positions = {p["name"]: p for p in data["positions"]}
    assert positions["Amara"]["kind"] == "consent" and positions["Amara"]["reason"] == "fine by me"
    assert positions["Ben"]["kind"] == "concern" and positions["Ben"]["provisional"] is True
    text = run(founded, "show", rid).stdout
    assert "consent  Amara: fine by me" in text
    assert "concern  Ben [provisional]: weekends?" in text
    assert "outcome: adopted" in text and "Quiet hours from 10pm." in text


def test_show_a_decision_with_dates_statement_and_effects(founded: Path, tmp_path: Path) -> None:
    _pid, _rid, did = adopted_with_a_statement(founded, tmp_path)
    data = show(founded, did[:7])
    assert (data["kind"], data["title"], data["status"], data["statement"]) == (
        "decision", "Quiet hours", "in-effect", STATEMENT,
    )  # fmt: skip
    assert data["effects_text"] == ["rule:quorum=2"]
    assert data["effective_ts"] <= data["review_ts"]
    text = run(founded, "show", did[:7]).stdout
    assert "Decision" in text and "in-effect" in text and "review by" in text
    assert "We keep the list of exceptions" in text and "does: rule:quorum=2" in text


def test_show_refuses_an_unknown_or_ambiguous_ref_in_one_line(
    founded: Path, tmp_path: Path
) -> None:
    adopted_with_a_statement(founded, tmp_path)
    for ref, says in (("ffffffffffff", "no proposal, round or decision"), ("", "give the id")):
        result = run(founded, "show", ref, ok=False)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("error: ") and says in result.stderr
    # A prefix that starts ids of two kinds names neither.
    local = Home(founded).open()
    try:
        state = local.state()
    finally:
        local.close()
    (p,) = [q for q in state.proposals.values() if q.title == "Quiet hours"]
    (r,) = state.rounds.values()
    crafted = dataclasses.replace(state, proposals={"ab01" + p.id: p}, rounds={"ab02" + r.id: r})
    with pytest.raises(UsageError, match=r"ambiguous \(a proposal and a round match\)"):
        find_item(crafted, "AB0")
    assert find_item(crafted, "ab02")[0] == "round"


def test_a_close_that_positions_from_out_of_range_changed_is_said_by_status_and_show(
    tmp_path: Path, clock: Clock
) -> None:
    amara, ben = tmp_path / "amara", tmp_path / "ben"
    helpers.run(amara, "init", "--name", "Riverside", "--member-name", "Amara")
    code = helpers.last_line(helpers.run(amara, "invite", "--no-qr"))
    helpers.run(ben, "join", code, "--member-name", "Ben")
    helpers.sync(clock, amara, ben)
    pid = helpers.last_line(helpers.run(amara, "propose", "--title", "Quiet hours", "--body", "x"))
    rid = helpers.last_line(helpers.run(amara, "round", "open", pid))
    helpers.run(amara, "round", "advance", rid)
    helpers.run(amara, "round", "advance", rid)
    helpers.sync(clock, amara, ben)
    # Ben objects out of range; Amara, who has not received it, closes with her consent.
    helpers.run(ben, "position", rid, "object", "--reason", "Shift workers sleep by day.")
    helpers.run(amara, "position", rid, "consent")
    closed = helpers.run(amara, "round", "close", rid, "--yes", "--statement", "From 8pm.")
    assert "outcome: adopted" in closed.stdout
    assert "Changed since close" not in helpers.run(amara, "status").stdout
    helpers.sync(clock, amara, ben)
    for home in (amara, ben):  # every node says so, from the record
        text = helpers.run(home, "status").stdout
        assert "Changed since close (1):" in text
        assert (
            f"{pid[:8]}  Quiet hours: closed as adopted, now objections: positions from members"
            " out of range arrived after the close" in text
        )
        (changed,) = helpers.status(home)["changed_since_close"]
        assert (changed["kind"], changed["round"], changed["decision"]) == (
            "out-of-range",
            rid,
            None,
        )
        assert (changed["announced"], changed["outcome"]) == ("adopted", "objections")
        shown = helpers.run(home, "show", rid).stdout
        assert "outcome: objections" in shown
        assert "announced at close: adopted; positions from members out of range" in shown
    assert helpers.status(amara)["decisions"] == []
