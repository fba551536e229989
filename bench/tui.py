"""Terminal UI benchmark: time to first screen and key-press latency on a large assembly.

    .venv/bin/python bench/tui.py [--proposals 10000 1000] [--members 100]

Builds a store with N proposals written by M members (real keys, real invites, changes
exchanged by ingest; each member writes its proposals in one transaction), then, in one
process, starts the app headless and measures:

- first screen: from app start to the home screen drawn with the folded data;
- key press: from a key press to the updated screen (cursor down in the proposals list,
  next page), median and 95th percentile over many presses.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from assemblymesh.crdt.yupdate import MAX_VALUES_PER_CHANGE
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.sim.memory import pump
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.widgets import PagedTable

ROUND_EVERY = 20  # one proposal in twenty has a round open
FRAME_WAIT_S = 10.0  # a press that draws nothing by then is a failure, not a slow figure


def append_acts(local: LocalAssembly, acts: list[A.Act]) -> None:
    """Write acts in as few changes as peers accept (a change appends a bounded number)."""
    for start in range(0, len(acts), MAX_VALUES_PER_CHANGE):
        with local.replica.transact() as doc:
            for act in acts[start : start + MAX_VALUES_PER_CHANGE]:
                doc.array("acts").append(act.to_doc())


def build(root: Path, proposals: int, members: int) -> Home:
    tick = [1_700_000_000_000]

    def clock() -> int:
        tick[0] += 1
        return tick[0]

    home = Home(root / "home", clock)
    founder = home.create("Bench assembly", "Founder", "Benchmarks.")
    locals_ = []
    for i in range(members - 1):
        code = founder.issue_invite().encode()
        locals_.append(Home(root / f"m{i}", clock).join(code, f"Member {i:03d}"))
    writers = [founder, *locals_]
    per = -(-proposals // len(writers))
    made: list[str] = []  # the proposals' refs (scoped to their authors)
    for w, local in enumerate(writers):
        count = min(per, proposals - len(made))
        if count <= 0:
            break
        written: list[A.Act] = []
        for k in range(count):
            pid = f"{w:04x}{k:012x}"
            body = f"Proposal {k} of member {w}: a paragraph of text about the matter."
            written.append(A.Propose(id=pid, ts=clock(), title=f"P{w}-{k}", body=body))
            made.append(A.act_ref(local.member_id, pid))
        append_acts(local, written)
    rounds: list[A.Act] = []
    for n, ref in enumerate(made[::ROUND_EVERY]):
        rid = f"ff{n:014x}"
        rounds.append(A.OpenRound(id=rid, ts=clock(), proposal=ref, version=1))
        if n % 2:
            round_ref = A.act_ref(founder.member_id, rid)
            rounds.append(
                A.AdvanceRound(id=f"fe{n:014x}", ts=clock(), round=round_ref, to=R.REACTIONS)
            )
    append_acts(founder, rounds)
    for local in locals_:
        pump(local.replica, founder.replica)
        local.close()
    founder.close()
    return home


async def measure(home: Home, presses: int) -> dict[str, float]:
    app = AssemblyApp(home, refold_every=None)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.digest is not None and not app.busy:
                table = app.screen.query_one("#proposals", PagedTable)
                if table.total:
                    break
        await pilot.pause()
        first = time.perf_counter() - start
        table = app.screen.query_one("#proposals", PagedTable)
        table.focus()
        await pilot.pause()
        folds = app.folds

        cpu: dict[str, list[float]] = {"down": [], "page": []}

        # Key press to screen: the key goes in as the terminal driver would deliver it, and
        # the clock stops when the compositor hands the next frame to the driver (the
        # moment a terminal would be written). Pilot.press is not used for timing: its
        # idle detection sleeps in 20 ms steps, which would be measured too.
        frames: list[float] = []
        original_display = app._display

        def display(screen: object, renderable: object) -> None:
            original_display(screen, renderable)  # type: ignore[arg-type]
            if renderable is not None:
                frames.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]
        assert app._driver is not None

        async def timed(key: str) -> float:
            frames.clear()
            c = time.process_time()
            event = events.Key(key, None)
            event.set_sender(app)
            t = time.perf_counter()
            app._driver.send_message(event)  # type: ignore[union-attr]
            while not frames:
                if time.perf_counter() - t > FRAME_WAIT_S:
                    raise RuntimeError(f"the key {key!r} drew no frame in {FRAME_WAIT_S} s")
                await asyncio.sleep(0.001)
            done = frames[0]
            await pilot.pause()  # let the rest of the frame settle before the next press
            cpu["down" if key == "down" else "page"].append((time.process_time() - c) * 1000)
            return (done - t) * 1000

        down = [await timed("down") for _ in range(presses)]
        # Forward to the last page, back to the first, and so on: every press really
        # changes the page (a press that changes nothing draws no frame).
        page: list[float] = []
        forward = True
        for _ in range(presses // 4):
            if table.pages < 2:
                break
            forward = table.page + 1 < table.pages if forward else table.page == 0
            page.append(await timed("right_square_bracket" if forward else "left_square_bracket"))
        assert app.folds == folds, "a key press must not fold"
        rows = table.total
    return {
        "rows": rows,
        "first_screen_s": first,
        "down_median_ms": statistics.median(down),
        "down_p95_ms": statistics.quantiles(down, n=20)[-1],
        "page_median_ms": statistics.median(page),
        "page_p95_ms": statistics.quantiles(page, n=20)[-1],
        "down_cpu_ms": statistics.median(cpu["down"]),
        "page_cpu_ms": statistics.median(cpu["page"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, nargs="+", default=[10_000, 1_000])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    head = f"{'proposals':>9} {'build s':>8} {'first screen s':>15} "
    head += f"{'down wall ms p50/p95':>21} {'cpu':>6} {'page wall ms p50/p95':>21} {'cpu':>6}"
    print(head)
    for n in args.proposals:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            home = build(Path(tmp), n, args.members)
            built = time.perf_counter() - t
            r = asyncio.run(measure(home, args.presses))
        print(
            f"{n:>9} {built:>8.1f} {r['first_screen_s']:>15.3f} "
            f"{r['down_median_ms']:>11.1f} / {r['down_p95_ms']:<7.1f} {r['down_cpu_ms']:>6.1f} "
            f"{r['page_median_ms']:>11.1f} / {r['page_p95_ms']:<7.1f} {r['page_cpu_ms']:>6.1f}"
        )
    print("targets: first screen < 1 s, key press < 50 ms")


if __name__ == "__main__":
    main()
