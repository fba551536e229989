"""Seed funds, partnerships and the readiness report through the command line, on real homes
with a clock the test moves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock
from tests.test_cli_supporters import HOUR

DAY = 24 * HOUR


def decide(home: Path, proposal: str, clock: Clock) -> str:
    """A round on ``proposal`` with the facilitator's consent, closed (without waiting for
    the others), and the cooling-off (one hour) passed; returns what closing said."""
    rid = last_line(run(home, "round", "open", proposal))
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)
    run(home, "position", rid, "consent")
    out = run(home, "round", "close", rid, "--yes").stdout
    clock.now += 2 * HOUR
    return out


@pytest.fixture
def homes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path, Path]]:
    """Amara founds (cooling-off one hour); Ben joins as a member, Sam as a supporter with
    standing."""
    amara, ben, sam = tmp_path / "amara", tmp_path / "ben", tmp_path / "sam"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara",
        "--cooling-off-hours", "1")  # fmt: skip
    run(ben, "join", last_line(run(amara, "invite", "--no-qr")), "--member-name", "Ben")
    run(sam, "join", last_line(run(amara, "supporter", "invite", "--no-qr")),
        "--member-name", "Sam")  # fmt: skip
    sync(clock, amara, ben, sam)
    decide(amara, last_line(run(amara, "supporter", "extend", "Sam", "2026-09-01")), clock)
    sync(clock, amara, ben, sam)
    yield amara, ben, sam


def funds(home: Path) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(run(home, "fund", "list", "--json").stdout)


def establish(amara: Path, clock: Clock, *extra: str) -> str:
    out = run(amara, "fund", "propose", "--name", "Seed", "--purpose", "Tools", "--unit", "EUR",
              "--dissolves", "2026-03-01", "--threshold", "100", "--steward", "Amara",
              "--steward", "Ben", "--term-days", "7", *extra)  # fmt: skip
    assert "does: establish-fund:Seed:EUR:2026-03-01:100:Amara+Ben:7:return:Tools" in out.stdout
    decide(amara, last_line(out), clock)
    (fund,) = funds(amara)
    return str(fund["id"])


def test_a_fund_is_proposed_decided_funded_and_spent_within_its_threshold(
    homes: tuple[Path, Path, Path], clock: Clock
) -> None:
    amara, ben, _ = homes
    assert "No funds" in run(amara, "fund", "list").stdout
    establish(amara, clock)
    (fund,) = funds(amara)
    assert (fund["balance"], fund["steward_name"], fund["next_steward_name"]) == (0, "Amara", "Ben")
    assert fund["days_until_dissolution"] > 0 and fund["open"]
    assert (
        "contributed 150 EUR; balance 150 EUR"
        in run(amara, "fund", "contribute", "seed", "150", "--note", "jumble sale").stdout
    )
    error = refused(amara, "fund", "disburse", "Seed", "120", "--to", "Shed")
    assert "above the threshold of 100" in error and "fund propose-disbursement" in error
    assert "balance 100 EUR" in run(amara, "fund", "disburse", "Seed", "50", "--to", "Shed").stdout
    # Ben is not the steward this week: refused locally, with the rule, and nothing written.
    sync(clock, amara, ben)
    assert "fund-disbursed-by-current-steward" in refused(
        ben, "fund", "disburse", "Seed", "5", "--to", "x"
    )
    # Above the threshold, by decision.
    out = run(amara, "fund", "propose-disbursement", "Seed", "90", "--to", "Greenhouse")
    assert "does: disburse:Seed:90:Greenhouse" in out.stdout
    decide(amara, last_line(out), clock)
    shown = run(amara, "fund", "show", "Seed").stdout
    assert "balance 10 EUR" in shown and "jumble sale" in shown and "Greenhouse" in shown
    assert "stewards, in turn every 7 days: Amara, Ben" in shown
    # A week on, Ben is the steward.
    clock.now += 7 * DAY
    assert funds(amara)[0]["steward_name"] == "Ben"
    text = run(amara, "status").stdout
    assert "Funds (1):" in text and "steward: Ben" in text
    assert status(amara)["funds"][0]["balance"] == 10


def test_a_supporter_contributes_pledges_and_pauses_but_its_objection_is_not_counted(
    homes: tuple[Path, Path, Path], clock: Clock
) -> None:
    amara, _, sam = homes
    out = run(amara, "fund", "propose", "--name", "Seed", "--unit", "EUR", "--dissolves",
              "2026-03-01", "--threshold", "100", "--steward", "Amara")  # fmt: skip
    pid = last_line(out)
    rid = last_line(run(amara, "round", "open", pid))
    run(amara, "round", "advance", rid)
    run(amara, "round", "advance", rid)
    sync(clock, amara, sam)
    run(sam, "position", rid, "object", "--reason", "we fund it, we want a say")
    sync(clock, amara, sam)
    run(amara, "position", rid, "consent")
    assert "outcome: adopted" in run(amara, "round", "close", rid, "--yes").stdout
    clock.now += 2 * HOUR
    shown = run(amara, "fund", "show", "Seed").stdout
    assert "not counted: Sam (object: we fund it, we want a say)" in shown
    assert "supporters-propose-and-advise-only" in shown
    sync(clock, amara, sam)
    run(sam, "fund", "contribute", "Seed", "40")
    run(sam, "fund", "pledge", "Seed", "20", "--every-days", "30")
    assert "pledge paused" in run(sam, "fund", "pause", "Seed").stdout
    assert "already paused" in refused(sam, "fund", "pause", "Seed")
    assert "supporters-propose-and-advise-only" in refused(
        sam, "fund", "disburse", "Seed", "5", "--to", "x"
    )
    sync(clock, amara, sam)
    (fund,) = funds(amara)
    assert fund["pledges"] == [
        {"member": fund["ledger"][0]["member"], "name": "Sam", "amount": 20, "every_days": 30,
         "paused": True},
    ]  # fmt: skip
    report = json.loads(run(amara, "readiness", "--json").stdout)
    kinds = [f["kind"] for f in report["findings"]]
    assert "income" in kinds and "stewardship" in kinds and "decision" in kinds
    assert status(amara)["readiness"] == report


def test_shortening_and_lengthening_are_different_proposals(
    homes: tuple[Path, Path, Path], clock: Clock
) -> None:
    amara, _, _ = homes
    establish(amara, clock)
    error = refused(amara, "fund", "shorten", "Seed", "2026-06-01")
    assert "not earlier than 2026-03-01" in error and "fund lengthen" in error
    assert "not later" in refused(amara, "fund", "lengthen", "Seed", "2026-02-01",
                                  "--reason", "x")  # fmt: skip
    out = run(amara, "fund", "lengthen", "Seed", "2026-06-01", "--reason", "Harvest is late")
    assert "This LENGTHENS the life of 'Seed' by 92 days" in out.stdout
    assert "does: lengthen-fund:Seed:2026-06-01" in out.stdout
    (proposal,) = [p for p in status(amara)["proposals"] if p["id"] == last_line(out)]
    assert proposal["title"] == "LENGTHEN Seed to 2026-06-01"
    assert proposal["effects_text"] == ["lengthen-fund:Seed:2026-06-01"]
    # Typed by hand beside another effect, a lengthening is refused before anything is written.
    assert "fund-lengthened-by-its-own-decision" in refused(
        amara, "propose", "--title", "Both", "--body", "b", "--effect",
        "lengthen-fund:Seed:2026-06-01", "--effect", "rule:quorum=1",
    )  # fmt: skip
    decide(amara, last_line(out), clock)
    assert funds(amara)[0]["dissolves"] > funds(amara)[0]["established"] + 100 * DAY
    shorter = run(amara, "fund", "shorten", "Seed", "2026-02-01")
    decide(amara, last_line(shorter), clock)
    ledger = funds(amara)[0]["ledger"]
    assert [e["note"].split(":")[0] for e in ledger] == ["lengthened", "shortened"]


def test_a_partnership_with_skills_and_a_sunset_then_the_readiness_report(
    homes: tuple[Path, Path, Path], clock: Clock
) -> None:
    amara, ben, _ = homes
    establish(amara, clock)
    assert "give --sunset" in refused(amara, "partnership", "propose", "--name", "Solar",
                                      "--supporter", "Sam")  # fmt: skip
    out = run(amara, "partnership", "propose", "--name", "Solar", "--supporter", "Sam",
              "--provides", "panels", "--skill", "fit panels@Ben", "--sunset", "2026-05-01",
              "--fund", "Seed")  # fmt: skip
    assert "does: establish-partnership:Solar:Sam:2026-05-01:Seed:fit panels@Ben:panels" in (
        out.stdout
    )
    decide(amara, last_line(out), clock)
    listed = run(amara, "partnership", "list").stdout
    assert "Solar" in listed and "skill: fit panels -> Ben: not yet" in listed
    text = run(amara, "readiness").stdout
    assert "Skills not yet transferred:" in text
    assert "'fit panels' (partnership 'Solar') is not yet transferred to Ben" in text
    assert "runs past fund 'Seed''s dissolution" in text
    assert "fix: propose --effect shorten-partnership:Solar:2026-03-01" in text
    sync(clock, amara, ben)
    assert "skill-confirmed-by-its-learner" in refused(
        amara, "partnership", "confirm", "Solar", "fit panels"
    )
    run(ben, "partnership", "confirm", "Solar", "fit panels")
    sync(clock, amara, ben)
    assert "confirmed" in run(amara, "partnership", "list").stdout
    shorten = run(amara, "partnership", "shorten", "Solar", "2026-03-01")
    decide(amara, last_line(shorten), clock)
    data = json.loads(run(amara, "partnership", "list", "--json").stdout)
    assert data[0]["history"][0]["kind"] == "shortened"
    kinds = [f["kind"] for f in json.loads(run(amara, "readiness", "--json").stdout)["findings"]]
    assert "skill" not in kinds and "partnership" not in kinds
    assert status(amara)["partnerships"] == data
