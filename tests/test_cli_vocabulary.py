"""The assembly's own words on the command line: decided by --effect, shown by every command
in the language in use, while the record keeps its stable ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock
from tests.test_cli_supporters import HOUR

WORDS_ES = "words:es:proposal=propuesta,proposals=propuestas,object=bloqueo,round=ronda"
WORDS_EN = "words:en:object=block,round=circle,rounds=circles,facilitator=host"


@pytest.fixture
def homes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path]]:
    """Amara founds the assembly (cooling-off one hour); Ben joins as a member."""
    amara, ben = tmp_path / "amara", tmp_path / "ben"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara",
        "--cooling-off-hours", "1")  # fmt: skip
    code = last_line(run(amara, "invite", "--no-qr"))
    run(ben, "join", code, "--member-name", "Ben")
    sync(clock, amara, ben)
    yield amara, ben


def decide(home: Path, proposal: str, clock: Clock) -> None:
    """A round on ``proposal`` with the founder's consent, closed, its cooling-off passed."""
    rid = last_line(run(home, "round", "open", proposal))
    while next(r for r in status(home)["rounds"] if r["id"] == rid)["phase"] != "positions":
        run(home, "round", "advance", rid)
    run(home, "position", rid, "consent")
    run(home, "round", "close", rid, "--yes")
    clock.now += 2 * HOUR


def _propose(home: Path, effect: str) -> str:
    return last_line(run(home, "propose", "--title", "T", "--body", "b", "--effect", effect))


def _round_with_a_block(home: Path, block: str) -> str:
    """A round in its positions phase with Amara's objection, typed as ``block``."""
    pid = last_line(run(home, "propose", "--title", "Paint the door", "--body", "green"))
    rid = last_line(run(home, "round", "open", pid))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    out = run(home, "position", rid, block, "--reason", "not green").stdout
    assert out.strip() == f"{block} recorded"
    return rid


def _without_labels(data: dict[str, Any]) -> dict[str, Any]:
    """``status --json`` less what depends on the node: who it is, what it holds of the
    secret, and the words it shows."""
    rounds = [
        {**r, "phase_label": None,
         "positions": {m: {**p, "kind_label": None} for m, p in r["positions"].items()}}
        for r in data["rounds"]
    ]  # fmt: skip
    members = [{**m, "role_labels": None} for m in data["members"]]
    node = dict.fromkeys(("me", "waiting_for_you", "epochs", "vocabulary"))
    return {**data, **node, "rounds": rounds, "members": members}


def test_a_renamed_vocabulary_shows_in_every_command_while_the_record_keeps_its_ids(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, ben = homes
    pid = last_line(
        run(amara, "propose", "--title", "Our words", "--body", "b",
            "--effect", WORDS_ES, "--effect", WORDS_EN)
    )  # fmt: skip
    decide(amara, pid, clock)
    rid = _round_with_a_block(amara, "block")  # the assembly's word is a kind on the command line
    sync(clock, amara, ben)
    data = status(amara)
    (rnd,) = [r for r in data["rounds"] if r["id"] == rid]
    (position,) = rnd["positions"].values()
    assert (position["kind"], position["kind_label"]) == ("object", "block")
    assert (rnd["phase"], rnd["phase_label"]) == ("positions", "positions")
    assert data["vocabulary"]["labels"]["round"] == "circle"
    assert data["vocabulary"]["decided"]["es"]["object"] == "bloqueo"
    text = run(amara, "status").stdout
    assert "Open circles (1):" in text and "Proposals (2):" in text
    assert "Amara                " in text and "host" in text  # the founder's role
    shown = run(amara, "show", rid).stdout
    assert shown.startswith("Circle ") and "block    Amara: not green" in shown
    # Ben's node reads Spanish: the same record, in the assembly's Spanish words.
    spanish = run(ben, "--lang", "es", "show", rid).stdout
    assert spanish.startswith("Ronda ") and "bloqueo" in spanish and "block" not in spanish
    assert "Propuestas (2):" in run(ben, "--lang", "es", "status").stdout
    assert _without_labels(status(ben)) == _without_labels(data)


def test_the_folded_record_is_the_same_with_or_without_the_words(
    tmp_path: Path, clock: Clock
) -> None:
    def assembly(home: Path, *effects: str) -> dict[str, Any]:
        run(home, "init", "--name", "Riverside", "--member-name", "Amara",
            "--cooling-off-hours", "1")  # fmt: skip
        args = [a for e in effects for a in ("--effect", e)]
        decide(home, last_line(run(home, "propose", "--title", "W", "--body", "b", *args)), clock)
        _round_with_a_block(home, "block" if effects else "object")
        return status(home)

    renamed = assembly(tmp_path / "renamed", WORDS_EN)
    plain = assembly(tmp_path / "plain")
    for data in (renamed, plain):
        (rnd,) = [r for r in data["rounds"] if r["phase"] != "closed"]
        assert [p["kind"] for p in rnd["positions"].values()] == ["object"]
        assert rnd["outcome"] is None and rnd["phase"] == "positions"
    kinds = {p["kind_label"] for r in renamed["rounds"] for p in r["positions"].values()}
    assert kinds == {"consent", "block"}
    assert {p["kind_label"] for r in plain["rounds"] for p in r["positions"].values()} == {
        "consent", "object",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("effect", "rule"),
    [
        ("round-shape:questions+positions:consent+concern", "blocking-kind-exists"),
        ("round-shape:questions+reactions:consent+object", "positions-phase-exists"),
        ("round-shape:positions:consent+object:consent", "objection-needs-reason"),
    ],
)
def test_a_shape_that_would_empty_consent_is_refused_in_one_line_naming_the_rule(
    homes: tuple[Path, Path], effect: str, rule: str
) -> None:
    amara, _ben = homes
    line = refused(amara, "propose", "--title", "Simpler", "--body", "b", "--effect", effect)
    assert f"(rule: {rule})" in line
    assert status(amara)["proposals"] == []


def test_a_treasurer_of_the_assemblys_own_is_granted_by_a_decision(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, _ben = homes
    grant = "grant-role:Ben:treasurer:90"
    early = refused(amara, "propose", "--title", "Ben", "--body", "b", "--effect", grant)
    assert "(rule: role-exists)" in early
    role = "add-role:treasurer:Treasurer:365"
    decide(amara, _propose(amara, role), clock)
    long = refused(amara, "propose", "--title", "Ben", "--body", "b",
                   "--effect", "grant-role:Ben:treasurer:400")  # fmt: skip
    assert "(rule: role-term-capped)" in long
    pid = last_line(run(amara, "propose", "--title", "Ben", "--body", "b", "--effect", grant))
    assert f"does: {grant}" in run(amara, "status").stdout
    decide(amara, pid, clock)
    (ben,) = [m for m in status(amara)["members"] if m["name"] == "Ben"]
    assert (ben["roles"], ben["role_labels"]) == (["treasurer"], ["Treasurer"])
    assert status(amara)["vocabulary"]["roles"]["treasurer"]["max_term_days"] == 365
    assert "Treasurer" in run(amara, "status").stdout


def test_phases_and_kinds_chosen_by_decision_change_what_a_round_takes(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, _ben = homes
    shape = "round-shape:positions:consent+object"
    decide(amara, _propose(amara, shape), clock)
    pid = last_line(run(amara, "propose", "--title", "Paint", "--body", "b"))
    rid = last_line(run(amara, "round", "open", pid))
    assert next(r for r in status(amara)["rounds"] if r["id"] == rid)["phase"] == "positions"
    line = refused(amara, "position", rid, "stand-aside")
    assert "(rule: position-kind-in-round)" in line
    assert "(rule: round-transition)" in refused(amara, "round", "advance", rid)
    assert run(amara, "position", rid, "consent").stdout.strip() == "consent recorded"


def test_meetings_show_the_assemblys_words_for_their_kind_and_roles(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, _ben = homes
    decide(amara, _propose(amara, "words:absence=retreat,note_taker=scribe"), clock)
    out = run(amara, "meeting", "new", "--date", "2030-10-10 18:00", "--kind", "absence")
    assert "Scheduled retreat meeting for 2030-10-10 18:00 UTC" in out.stdout
    assert "Next meeting: retreat 2030-10-10 18:00 UTC" in run(amara, "status").stdout
    shown = run(amara, "meeting", "show").stdout
    assert "retreat," in shown and "scribe " in shown
    assert json.loads(run(amara, "meeting", "show", "--json").stdout)["kind"] == "absence"


def test_rules_show_the_shape_of_rounds_and_the_assemblys_own_roles(
    homes: tuple[Path, Path], clock: Clock
) -> None:
    amara, _ben = homes
    before = run(amara, "rules").stdout
    assert "phases           questions, reactions, positions" in before
    shape = "round-shape:reactions+positions:consent+concern+object:object+concern"
    decide(amara, _propose(amara, shape), clock)
    decide(amara, _propose(amara, "add-role:treasurer:Treasurer:365"), clock)
    after = run(amara, "rules").stdout
    assert "phases           reactions, positions" in after
    assert "position kinds   consent, concern, object (with a reason: object, concern)" in after
    assert "own role         Treasurer (treasurer), terms of at most 365 days" in after
