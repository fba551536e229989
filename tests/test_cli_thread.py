"""The command line for a round's thread and for members without a device, on real homes
with a clock the test moves: ask, answer and react in their phases, show and status print
the thread; a member added without a device has positions recorded for them, then claims
the membership from a device of their own with a facilitator's claim code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import last_line, refused, run, status, sync


def founded(home: Path) -> tuple[str, str]:
    run(home, "init", "--name", "Riverside", "--member-name", "Rosa")
    pid = last_line(run(home, "propose", "--title", "Heat pump", "--body", "For block B."))
    rid = last_line(run(home, "round", "open", pid))
    return pid, rid


def test_ask_answer_and_react_then_show_and_status_print_the_thread(
    tmp_path: Path, clock: object
) -> None:
    rosa = tmp_path / "rosa"
    _, rid = founded(rosa)
    asked = run(rosa, "round", "ask", rid, "How loud is it?")
    qid = last_line(asked)
    assert "question recorded" in asked.stdout
    aid = last_line(run(rosa, "round", "answer", qid[:6], "35 dB at one metre."))
    run(rosa, "round", "advance", rid)
    rid_react = last_line(react(rosa, rid))
    shown = run(rosa, "show", rid).stdout
    assert "Questions and reactions (3):" in shown
    assert f"Q {qid[:8]} Rosa: How loud is it?" in shown
    assert f"        A {aid[:8]} Rosa: 35 dB at one metre." in shown
    assert f"R {rid_react[:8]} Rosa: Quiet." in shown and "      Good." in shown
    data = json.loads(run(rosa, "show", rid, "--json").stdout)
    assert [c["kind"] for c in data["thread"]] == ["question", "reaction"]
    assert data["thread"][0]["answers"][0]["id"] == aid
    (r,) = status(rosa)["rounds"]
    assert r["thread"] == data["thread"]


def test_a_question_out_of_its_phase_or_an_unknown_parent_is_one_error_line(
    tmp_path: Path, clock: object
) -> None:
    rosa = tmp_path / "rosa"
    _, rid = founded(rosa)
    run(rosa, "round", "advance", rid)
    run(rosa, "round", "advance", rid)
    assert "comment-in-its-phase" in refused(rosa, "round", "ask", rid, "Too late?")
    assert "no question with an id starting" in refused(rosa, "round", "answer", "ffff", "x")
    assert "give the text" in refused(rosa, "round", "react", rid)


def test_a_member_without_a_device_is_recorded_for_then_claims_the_membership(
    tmp_path: Path, clock: object
) -> None:
    rosa, ama = tmp_path / "rosa", tmp_path / "ama"
    _, rid = founded(rosa)
    added = run(rosa, "member", "add", "Ama")
    elder = last_line(added)
    assert "without a device" in added.stdout
    assert "already named" in refused(rosa, "member", "add", "ama")
    text = run(rosa, "status").stdout
    assert "Ama" in text and "(no device: a facilitator records for them)" in text
    run(rosa, "round", "ask", rid, "Who maintains it?", "--for", "Ama")
    run(rosa, "round", "advance", rid)
    run(rosa, "round", "advance", rid)
    run(rosa, "position", rid, "concern", "--reason", "the noise", "--for", "Ama")
    code = last_line(run(rosa, "member", "claim", "Ama", "--no-qr"))
    assert "not a member without a device" in refused(rosa, "member", "claim", "Rosa", "--no-qr")
    run(ama, "join", code, "--member-name", "Ama")
    sync(clock, rosa, ama)  # type: ignore[arg-type]
    for home in (rosa, ama):
        data = status(home)
        members = {m["name"]: m for m in data["members"]}
        assert set(members) == {"Rosa", "Ama"} and not members["Ama"]["deviceless"]
        new_id = members["Ama"]["id"]
        assert new_id != elder
        (r,) = data["rounds"]
        assert r["positions"][new_id]["kind"] == "concern"
        assert r["positions"][new_id]["provisional"]
        assert r["thread"][0]["author"] == new_id
    assert status(ama)["me"]["member"] == new_id
    # The member confirms the position from the new device.
    run(ama, "position", rid, "consent", "--reason", "fine by me")
    (r,) = status(ama)["rounds"]
    assert not r["positions"][new_id]["provisional"]


def react(home: Path, rid: str) -> object:
    """A reaction read from standard input, over two lines."""
    from click.testing import CliRunner

    from assemblymesh import cli

    result = CliRunner().invoke(
        cli.main,
        ["--home", str(home), "round", "react", rid, "--body", "-"],
        input="Quiet.\nGood.",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result
