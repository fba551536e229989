"""Metrics benchmark: the metabolism metrics, the report and the Metrics screen over two
years of an assembly's record.

    .venv/bin/python bench/metrics.py [--meetings 100] [--proposals 5000] [--members 200]
                                      [--days 730]

Builds a store holding a record of ``--days`` days: ``--members`` participants (one in
twenty a supporter) with real keys, invites and joins; ``--proposals`` proposals, a third
of them taken through a consent round with positions (some objections, some supporters'
advisory ones) and most of those decided; ``--meetings`` meetings, each scheduled, opened,
with agenda items, turns at speaking, clarifications asked of supporters, sealed minutes
(also written in the shared document), then ended. Every member writes its own document
(changes exchanged by ingest, as on the network). Then, in one process, it measures:

- fold: the plain fold of the record (the baseline: every screen and command pays it);
- metrics: ``LocalAssembly.metrics`` per month and per 4 meetings on the folded state;
- report: the report's HTML (metrics, decisions, minutes) on the folded state;
- screen: in the UI, from pressing 7 to the Metrics screen drawn with its figures, the
  first time (computed) and again after leaving it (the same fold: kept).

Targets: metrics and report under 1 s, the Metrics screen open under 1 s. Each figure is
printed with its ratio to the fold measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events

sys.path.insert(0, str(Path(__file__).parent))

from tui import append_acts  # noqa: I001  (bench/ is on the path only from here)

from assemblymesh.crdt.document import SHARED
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.model import fold
from assemblymesh.model import metrics as M
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import minutes_hash, minutes_key
from assemblymesh.model.publication import read_publication
from assemblymesh.model.publish import Disclosure, Selection
from assemblymesh.model.state import Rules
from assemblymesh.sim.memory import pump
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.metrics_screen import MetricsScreen

DAY = R.DAY_MS
HOUR = 3_600_000
START = 1_700_000_000_000
FACILITATORS = 9  # the founder and eight members hold the facilitator role
ROUND_SHARE = 0.35
FRAME_WAIT_S = 30.0


@dataclass
class Writer:
    """One participant: its home's assembly and the acts it will write, by time."""

    local: LocalAssembly
    supporter: bool
    acts: list[A.Act] = field(default_factory=list)
    ids: int = 0

    def next_id(self) -> str:
        self.ids += 1
        return f"b{self.ids:015x}"

    def write(self, cls: type[A.Act], ts: int, **fields: object) -> str:
        act = cls(id=self.next_id(), ts=ts, **fields)  # type: ignore[arg-type]
        self.acts.append(act)
        return act.ref(self.local.member_id)


class Record:
    """The generator: who writes what, when."""

    def __init__(self, root: Path, members: int, days: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.now = [START]
        clock: Callable[[], int] = self._tick
        self.home = Home(root / "founder", clock)
        rules = Rules(cooling_off_ms=HOUR, quorum=1, review_period_ms=180 * DAY)
        founder = self.home.create("Bench assembly", "Founder", "Two years.", rules)
        self.writers = [Writer(founder, False)]
        for i in range(members - 1):
            supporter = i % 20 == 5
            kind = R.SUPPORTER_INVITE if supporter else R.MEMBER_INVITE
            code = founder.issue_invite(kind=kind).encode()
            local = Home(root / f"m{i:03d}", clock).join(code, f"Member {i:03d}")
            self.writers.append(Writer(local, supporter))
        self.members = [w for w in self.writers if not w.supporter]
        self.supporters = [w for w in self.writers if w.supporter]
        self.facilitators = self.members[:FACILITATORS]
        self.proposals: list[tuple[int, str]] = []  # (created, ref)
        self.origin = self._neighbour_item(root, clock)

    def _neighbour_item(self, root: Path, clock: Callable[[], int]) -> str:
        """A neighbouring assembly publishes one experiment and the founder imports it; the
        few proposals put from another assembly's item name it as their origin."""
        hill = Home(root / "neighbour", clock).create("Neighbours", "Hill")
        draft = hill.draft_publication(
            Selection(texts=[("experiment", "Seed library")]), Disclosure()
        )
        data = hill.seal_publication(draft, "Seeds")
        hill.close()
        self.founder.write(A.ImportPublication, self.at(0) - 1, publication=data)
        return read_publication(data).items[0].id

    def _tick(self) -> int:
        self.now[0] += 1
        return self.now[0]

    @property
    def founder(self) -> Writer:
        return self.writers[0]

    def at(self, day: float) -> int:
        return START + HOUR + int(day * DAY)

    # --- the story ------------------------------------------------------------------------

    def founding(self) -> None:
        """Roles for the facilitators, then a decision that gives the supporters standing."""
        ts = self.at(0)
        for n, w in enumerate(self.facilitators):
            term_end = ts + n + R.MAX_TERM_MS - DAY
            self.founder.write(
                A.GrantRole, ts + n, member=w.local.member_id, role=R.FACILITATOR, term_end=term_end
            )
        until = self.at(self.days + 30)
        effects = tuple(
            A.AdmitSupporterEffect(member=s.local.member_id, until=until)
            for s in self.supporters[: A.MAX_EFFECTS]
        )
        pid = self.founder.write(A.Propose, self.at(0.5), title="Supporters' standing",
                                 body="For two years.", effects=effects)  # fmt: skip
        self.round(self.at(0.6), pid, self.founder, decide=True)

    def round(self, ts: int, pid: str, by: Writer, decide: bool) -> None:
        rid = by.write(A.OpenRound, ts, proposal=pid, version=1)
        by.write(A.AdvanceRound, ts + 60_000, round=rid, to=R.REACTIONS)
        by.write(A.AdvanceRound, ts + 120_000, round=rid, to=R.POSITIONS)
        voters = self.rng.sample(self.members, min(len(self.members), self.rng.randint(4, 12)))
        for n, v in enumerate(voters):
            blocks = not decide and self.rng.random() < 0.5
            kind = R.OBJECT if blocks and n == 0 else R.CONSENT
            v.write(A.TakePosition, ts + (n + 3) * 60_000, round=rid, kind=kind, reason="why")
        if self.supporters and self.rng.random() < 0.2 and ts > self.at(1):
            s = self.rng.choice(self.supporters)
            s.write(A.TakePosition, ts + 20 * 60_000, round=rid, kind=R.CONCERN, reason="note")
        by.write(A.CloseRound, ts + HOUR, round=rid, statement="As discussed.")

    def proposals_and_rounds(self, count: int) -> None:
        for k in range(count):
            day = 1 + (self.days - 4) * k / max(1, count)
            ts = self.at(day) + self.rng.randrange(HOUR)
            author = self.rng.choice(self.supporters if self.rng.random() < 0.05 else self.members)
            origin = self.origin if self.rng.random() < 0.02 else None
            pid = author.write(A.Propose, ts, title=f"Proposal {k}", body="A paragraph of text.",
                               origin=origin)  # fmt: skip
            self.proposals.append((ts, pid))
            if self.rng.random() < ROUND_SHARE:
                by = self.rng.choice(self.facilitators)
                decide = self.rng.random() < 0.85
                self.round(ts + 2 * HOUR + self.rng.randrange(HOUR), pid, by, decide)

    def meetings(self, count: int) -> list[tuple[str, str]]:
        """The meetings; returns (meeting ref, minutes) to write in the shared document."""
        minutes = []
        core = self.members[:4]
        for k in range(count):
            ts = self.at(2 + (self.days - 5) * k / max(1, count)) + 20 * HOUR + 30 * 60_000
            chair = self.rng.choice(core if self.rng.random() < 0.7 else self.members)
            taker = self.rng.choice([m for m in self.members if m is not chair])
            mid = chair.write(A.ScheduleMeeting, ts - 6 * HOUR, title=f"Meeting {k + 1}",
                              starts=ts, place="The hall", facilitator=chair.local.member_id,
                              note_taker=taker.local.member_id)  # fmt: skip
            earlier = [ref for created, ref in self.proposals if created < ts - 6 * HOUR]
            items = [
                self.rng.choice(self.members).write(
                    A.AddAgendaItem,
                    ts - 5 * HOUR + n,
                    meeting=mid,
                    kind=R.ITEM_PROPOSAL,
                    title=f"Item {n}",
                    proposal=ref,
                )
                for n, ref in enumerate(self.rng.sample(earlier, min(3, len(earlier))))
            ]
            chair.write(A.AdvanceMeeting, ts, meeting=mid, to=R.IN_SESSION)
            self.turns(chair, mid, ts, items)
            text = f"Minutes of meeting {k + 1}: {len(items)} items discussed."
            taker.write(A.SealMinutes, ts + 110 * 60_000, meeting=mid, text=text,
                        hash=minutes_hash(text))  # fmt: skip
            chair.write(A.AdvanceMeeting, ts + 2 * HOUR, meeting=mid, to=R.ENDED)
            minutes.append((mid, text))
        return minutes

    def turns(self, chair: Writer, mid: str, ts: int, items: list[str]) -> None:
        for n in range(self.rng.randint(6, 12)):
            pool = self.supporters if self.rng.random() < 0.05 else self.members
            speaker = self.rng.choice(pool)
            item = self.rng.choice(items) if items else None
            chair.write(A.GiveFloor, ts + (n + 1) * 5 * 60_000, meeting=mid,
                        member=speaker.local.member_id, item=item)  # fmt: skip
        for n in range(self.rng.randint(0, 2) if self.supporters and items else 0):
            chair.write(A.AskClarification, ts + 90 * 60_000 + n, meeting=mid,
                        supporter=self.rng.choice(self.supporters).local.member_id,
                        item=self.rng.choice(items), question="How?")  # fmt: skip

    # --- writing it -----------------------------------------------------------------------

    def write_all(self, minutes: list[tuple[str, str]]) -> int:
        written = 0
        for w in self.writers:
            w.acts.sort(key=lambda a: a.ts)
            append_acts(w.local, w.acts)
            written += len(w.acts)
        with self.founder.local.replica.transact(SHARED) as doc:
            for mid, text in minutes:
                doc.text(minutes_key(mid)).insert(0, text)
        for w in self.writers[1:]:
            pump(w.local.replica, self.founder.local.replica)
            w.local.close()
        self.now[0] = self.at(self.days)
        return written


def build(root: Path, meetings: int, proposals: int, members: int, days: int) -> Record:
    record = Record(root, members, days)
    record.founding()
    record.proposals_and_rounds(proposals - 1)
    record.write_all(record.meetings(meetings))
    return record


def best(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    """The median time of ``runs`` runs of ``work`` (seconds) and its last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


async def screen_open(home: Home, local: LocalAssembly) -> tuple[float, float]:
    """Seconds from pressing 7 to the Metrics screen drawn with its figures: the first time,
    and again after going home and back."""
    app = AssemblyApp(home, local=local, refold_every=None, poll_every=None)
    async with app.run_test(size=(140, 44)) as pilot:
        while app.digest is None or app.busy:
            await app.workers.wait_for_complete()
            await pilot.pause()
        frames: list[float] = []
        original = app._display

        def display(screen: object, renderable: object) -> None:
            original(screen, renderable)  # type: ignore[arg-type]
            if renderable is not None:
                frames.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]

        async def press(key: str, wait: bool) -> float:
            event = events.Key(key, None)
            event.set_sender(app)
            t = time.perf_counter()
            app._driver.send_message(event)  # type: ignore[union-attr]
            while wait and not (isinstance(app.screen, MetricsScreen) and app.screen.metrics):
                if time.perf_counter() - t > FRAME_WAIT_S:
                    raise RuntimeError("the Metrics screen drew no figures")
                await asyncio.sleep(0.001)
            frames.clear()
            while wait and not frames:
                await asyncio.sleep(0.001)
            done = frames[0] if wait else time.perf_counter()
            await pilot.pause()
            return done - t

        first = await press("7", True)
        await press("1", False)
        again = await press("7", True)
    return first, again


def measure(record: Record, runs: int) -> dict[str, float]:
    local = record.founder.local
    snapshot = local.snapshot()
    now = record.now[0]
    fold_s, state = best(runs, lambda: fold(snapshot, now))
    assert state is not None
    local.keep_fold(local.begin_fold(), state)  # type: ignore[arg-type]
    month_s, metrics = best(runs, lambda: local.metrics(state, None))  # type: ignore[arg-type]
    meetings_s, _ = best(runs, lambda: local.metrics(state, 4))  # type: ignore[arg-type]
    report_s, page = best(runs, lambda: local.report_html(state, metrics))  # type: ignore[arg-type]
    first, again = asyncio.run(screen_open(record.home, local))
    s = state  # type: ignore[assignment]
    return {
        "fold_s": fold_s,
        "metrics_month_s": month_s,
        "metrics_meetings_s": meetings_s,
        "report_s": report_s,
        "metrics_and_report_s": month_s + report_s,
        "screen_first_s": first,
        "screen_again_s": again,
        "report_bytes": len(str(page)),
        "acts": len(s.audit),  # type: ignore[attr-defined]
        "ignored": sum(1 for e in s.audit if not e.accepted),  # type: ignore[attr-defined]
        "decisions": len(s.decisions),  # type: ignore[attr-defined]
        "meetings": len(M.held_meetings(s)),  # type: ignore[arg-type]
        "periods": len(metrics.periods),  # type: ignore[attr-defined]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--proposals", type=int, default=5000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        record = build(Path(tmp), args.meetings, args.proposals, args.members, args.days)
        built = time.perf_counter() - t
        r = measure(record, args.runs)
        record.founder.local.close()
    fold_s = r["fold_s"]
    print(f"record: {args.days} days, {args.members} members, {args.proposals} proposals, "
          f"{r['meetings']} meetings held, {r['decisions']} decisions, {r['acts']} acts "
          f"({r['ignored']} ignored); built in {built:.1f} s")  # fmt: skip
    print(f"{'measure':<34} {'seconds':>9} {'x fold':>8}")
    for key, label in (
        ("fold_s", "fold of the record (baseline)"),
        ("metrics_month_s", "metrics per month"),
        ("metrics_meetings_s", "metrics per 4 meetings"),
        ("report_s", "report HTML"),
        ("metrics_and_report_s", "metrics + report"),
        ("screen_first_s", "Metrics screen opens (computed)"),
        ("screen_again_s", "Metrics screen opens again (kept)"),
    ):
        print(f"{label:<34} {r[key]:>9.3f} {r[key] / fold_s:>8.3f}")
    print("targets: metrics + report < 1 s, Metrics screen opens < 1 s")
    print("json: " + json.dumps({"n": args.proposals, "built_s": built, **r}, sort_keys=True))


if __name__ == "__main__":
    main()
