"""Round deadlines and "waiting for you" through the command line, on real homes with a
clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock
from tests.test_cli_supporters import HOUR


def ms_of(text: str) -> int:
    moment = dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


@pytest.fixture
def homes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path, str]]:
    """Amara founds the assembly, Ben joins; Ben proposes. Yields the homes and the proposal."""
    amara, ben = tmp_path / "amara", tmp_path / "ben"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara")
    run(ben, "join", last_line(run(amara, "invite", "--no-qr")), "--member-name", "Ben")
    sync(clock, amara, ben)
    sync(clock, amara, ben)
    pid = last_line(run(ben, "propose", "--title", "Shed", "--body", "A tool shed."))
    sync(clock, amara, ben)
    yield amara, ben, pid


def to_positions(home: Path, rid: str) -> None:
    run(home, "round", "advance", rid)
    run(home, "round", "advance", rid)


def test_round_open_with_a_deadline_and_status_shows_who_is_waited_for(
    homes: tuple[Path, Path, str], clock: Clock
) -> None:
    amara, ben, pid = homes
    rid = last_line(run(amara, "round", "open", pid, "--deadline", "2030-01-02 18:00"))
    to_positions(amara, rid)
    run(amara, "position", rid, "consent")
    sync(clock, amara, ben)
    (r,) = status(amara)["rounds"]
    assert r["deadline"] == ms_of("2030-01-02 18:00")
    assert r["waiting_on_names"] == ["Ben"] and r["phase"] == "positions"
    text = run(amara, "status").stdout
    assert "deadline: 2030-01-02 18:00 UTC" in text and "no position yet: Ben" in text
    assert "Waiting for you" not in text
    (waiting,) = status(ben)["waiting_for_you"]
    assert (waiting["round"], waiting["title"], waiting["deadline_near"]) == (rid, "Shed", False)
    assert "Waiting for you (1): Shed" in run(ben, "status").stdout
    run(ben, "position", rid, "consent")
    assert status(ben)["waiting_for_you"] == []


def test_a_near_deadline_shows_a_reminder_and_a_passed_one_too(
    homes: tuple[Path, Path, str], clock: Clock
) -> None:
    amara, ben, pid = homes
    rid = last_line(run(amara, "round", "open", pid, "--deadline-hours", "30"))
    to_positions(amara, rid)
    sync(clock, amara, ben)
    assert "Reminder" not in run(ben, "status").stdout
    clock.now += 10 * HOUR
    out = run(ben, "status").stdout
    assert "Waiting for you (1): Shed" in out
    assert "Reminder: deadline in 20 h" in out
    clock.now += 21 * HOUR
    assert "Reminder: deadline passed" in run(ben, "status").stdout
    # Informational only: the round is still open for the facilitator to close.
    assert status(amara)["rounds"][0]["phase"] == "positions"


def test_round_advance_sets_a_new_deadline(homes: tuple[Path, Path, str], clock: Clock) -> None:
    amara, _ben, pid = homes
    rid = last_line(run(amara, "round", "open", pid))
    assert status(amara)["rounds"][0]["deadline"] is None
    run(amara, "round", "advance", rid, "--deadline", "2031-03-04 05:06")
    assert status(amara)["rounds"][0]["deadline"] == ms_of("2031-03-04 05:06")
    run(amara, "round", "advance", rid)
    assert status(amara)["rounds"][0]["deadline"] == ms_of("2031-03-04 05:06")


def test_bad_deadlines_are_refused_with_one_line(homes: tuple[Path, Path, str]) -> None:
    amara, _ben, pid = homes
    assert "deadline-after-open" in refused(
        amara, "round", "open", pid, "--deadline", "2001-01-01 00:00"
    )
    assert "is not like" in refused(amara, "round", "open", pid, "--deadline", "next week")
    both = refused(
        amara, "round", "open", pid, "--deadline", "2030-01-01 00:00", "--deadline-hours", "2"
    )
    assert "not both" in both
    assert status(amara)["rounds"] == []
