"""Meetings through the command line, on real homes with a clock the test moves: scheduled
by rotation, attended from each member's own node, an agenda members add to and support,
the speaking queue, sealed minutes exported, and the absence diagnostic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import last_line, refused, run, status, sync
from tests.helpers import Clock

MINUTE = 60_000


@pytest.fixture
def homes(tmp_path: Path, clock: Clock) -> Iterator[tuple[Path, Path, Path]]:
    """Rosa founds the assembly; Kofi and Amara join as members."""
    rosa, kofi, amara = tmp_path / "rosa", tmp_path / "kofi", tmp_path / "amara"
    run(rosa, "init", "--name", "Garden", "--member-name", "Rosa")
    for home, who in ((kofi, "Kofi"), (amara, "Amara")):
        run(home, "join", last_line(run(rosa, "invite", "--no-qr")), "--member-name", who)
        sync(clock, rosa, home)
    sync(clock, rosa, kofi, amara)
    yield rosa, kofi, amara


def show(home: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(run(home, "meeting", "show", "--json").stdout)


def test_a_meeting_from_schedule_to_sealed_minutes(
    homes: tuple[Path, Path, Path], clock: Clock, tmp_path: Path
) -> None:
    rosa, kofi, amara = homes
    out = run(rosa, "meeting", "new", "--date", "2025-10-10 18:00", "--title", "October",
              "--place", "The shed")  # fmt: skip
    mid = last_line(out)
    # The rotation: nobody facilitated yet, so the earliest to join facilitate and take notes.
    assert "Rosa facilitates, Kofi takes notes" in out.stdout
    assert status(rosa)["meeting"]["id"] == mid
    assert "Next meeting: October 2025-10-10 18:00 UTC at The shed" in run(rosa, "status").stdout

    sync(clock, rosa, kofi, amara)
    water = last_line(run(kofi, "meeting", "agenda", "add", "Water rota"))
    key = last_line(run(amara, "meeting", "agenda", "add", "--kind", "question", "Who has keys?"))
    sync(clock, rosa, kofi, amara)
    run(rosa, "meeting", "agenda", "support", key)
    run(kofi, "meeting", "agenda", "support", key)
    assert "support-item-once" in refused(kofi, "meeting", "agenda", "support", key)
    sync(clock, rosa, kofi, amara)
    assert [i["id"] for i in show(amara)["agenda"]] == [key, water]  # most supported first

    # Kofi marks himself present from his node, Rosa marks him and Amara (no device here).
    assert "meeting-transition" in refused(rosa, "meeting", "agenda", "reorder", water)
    run(rosa, "meeting", "open")
    run(kofi, "meeting", "attend")
    run(rosa, "meeting", "attend", "--for", "Kofi")
    run(rosa, "meeting", "attend", "--for", "Amara")
    assert "meeting-facilitator-only" in refused(kofi, "meeting", "attend", "--for", "Rosa")
    sync(clock, rosa, kofi, amara)
    data = show(rosa)
    assert [p["name"] for p in data["present"]] == ["Kofi", "Amara"]  # Kofi once
    assert data["members_present"] == 2 and data["quorate"]
    run(rosa, "meeting", "agenda", "reorder", water)
    assert [i["id"] for i in show(rosa)["agenda"]] == [water, key]

    # The queue: Kofi raises his hand from his node; Rosa gives him the floor.
    run(kofi, "meeting", "queue", "raise")
    sync(clock, rosa, kofi)
    assert "Queue: Kofi" in run(rosa, "meeting", "queue", "show").stdout
    run(rosa, "meeting", "queue", "next")
    clock.now += 3 * MINUTE
    run(rosa, "meeting", "queue", "close")
    (turn,) = show(rosa)["turns"]
    assert turn["member"] == data["present"][0]["id"]  # Kofi
    assert 3 * MINUTE <= turn["ms"] < 4 * MINUTE and turn["end"] is not None

    # Minutes: Kofi is the note-taker. He writes, seals; a later edit shows as a change.
    sync(clock, rosa, kofi)
    run(kofi, "meeting", "minutes", "--start")
    run(kofi, "meeting", "minutes", "--append", "Water rota: Amara takes June.")
    assert "note-taker-only" in refused(rosa, "meeting", "minutes", "--seal")
    sealed = run(kofi, "meeting", "minutes", "--seal").stdout
    assert "Sealed: BLAKE2b-256" in sealed
    assert "Unchanged since sealed." in run(kofi, "meeting", "minutes", "--diff").stdout
    sync(clock, rosa, kofi)
    run(rosa, "meeting", "minutes", "--append", "Rosa's later line.")
    diff = run(rosa, "meeting", "minutes", "--diff").stdout
    assert "+Rosa's later line." in diff and "--- sealed" in diff

    run(rosa, "meeting", "agenda", "outcome", water, "decided")
    run(rosa, "meeting", "agenda", "outcome", key, "deferred")
    md, page = tmp_path / "minutes.md", tmp_path / "minutes.html"
    run(rosa, "meeting", "minutes", mid, "--md", str(md), "--html", str(page))
    text = md.read_text()
    assert (
        "# October" in text
        and "Place: The shed" in text
        and "Water rota: Amara takes June." in text
    )
    assert "**Water rota** (topic, added by Kofi, 0 in support): decided" in text
    assert "## Changed since sealed" in text and "+Rosa's later line." in text
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "<h1>October</h1>" in html
    assert "<strong>Who has keys?</strong>" in html and "<script" not in html

    run(rosa, "meeting", "end")
    diag = json.loads(run(rosa, "meeting", "diagnostic", "--json").stdout)
    regular = diag["by_kind"]["regular"]
    assert regular["meetings"] == 1 and regular["deferred"] == 1 and regular["stalled"] == 0
    assert regular["facilitators"] == ["Rosa"] and regular["first_time_facilitators"] == ["Rosa"]
    assert regular["new_speakers"] == 1
    assert status(rosa)["meeting"] is None


def test_an_absence_meeting_steps_back_the_usual_facilitator(
    homes: tuple[Path, Path, Path], clock: Clock
) -> None:
    rosa, kofi, amara = homes
    for day in ("01", "02"):
        run(rosa, "meeting", "new", "--date", f"2025-10-{day} 18:00", "--facilitator", "Rosa")
        run(rosa, "meeting", "open")
        run(rosa, "meeting", "end")
    assert "Kofi facilitates" in run(rosa, "meeting", "rotation").stdout
    error = refused(rosa, "meeting", "new", "--date", "2025-10-20 18:00", "--kind", "absence",
                    "--facilitator", "Rosa")  # fmt: skip
    assert "absence-steps-back" in error
    out = run(rosa, "meeting", "new", "--date", "2025-10-20 18:00", "--kind", "absence")
    assert "Stepping back: Rosa" in out.stdout and "Rosa facilitates" not in out.stdout
    sync(clock, rosa, kofi, amara)
    facilitator = show(kofi)["facilitator_name"]
    home = {"Kofi": kofi, "Amara": amara}[facilitator]
    run(home, "meeting", "open")
    sync(clock, rosa, kofi, amara)
    run(rosa, "meeting", "queue", "raise")
    run(amara, "meeting", "queue", "raise")
    sync(clock, rosa, kofi, amara)
    assert "Queue: Amara, Rosa" in run(home, "meeting", "queue", "show").stdout
    assert "absence-steps-back" in refused(home, "meeting", "queue", "floor", "Rosa")
    run(home, "meeting", "queue", "next")
    assert show(home)["speaker"]["name"] == "Amara"
    text = run(rosa, "meeting", "diagnostic").stdout
    assert "strategic absence" in text and "meetings held" in text
