"""Foundation benchmark: cold ingest, open, and peak RSS of one node, with baselines measured
in the same run.

    .venv/bin/python bench/foundation.py [N]      (default N = 100000; history cached in bench/out)

Figures:
- cold ingest rate of N signed changes (50 members x 2 devices) into an empty node, batches
  of 5,000 as a peer would send them;
- its ratio to raw pycrdt applying the same updates one by one (no checks, no store);
- its ratio to verifying one Ed25519 signature per change (what a naive node would do);
- open time of the resulting store vs loading one full-state update of the same documents;
- peak RSS of the ingesting process (measured in a child process of its own).
Each timed figure is the median of several repetitions.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nacl.bindings
import pycrdt

sys.path.insert(0, str(Path(__file__).parent))

from assemblymesh.crdt.change import decode_change
from assemblymesh.crdt.replica import Replica, Verdict
from history import history
from rss import peak_rss_mb

BATCH = 5_000


class _AdmitAll:
    def admit(self, member: bytes, values: Any, known: Any) -> tuple[Verdict, str]:
        return Verdict.ADMIT, "benchmark"


ADMIT = _AdmitAll()
REPEAT = 3


def _ingest_child(n: int, directory: Path) -> dict[str, Any]:
    cast, changes = history(n)
    device, cert = cast.reader()
    replica = Replica.open(directory / "store.sqlite", cast.assembly, device, cert, admission=ADMIT)
    start = time.perf_counter()
    for i in range(0, len(changes), BATCH):
        result = replica.ingest(changes[i : i + BATCH])
        if result.rejected:
            raise SystemExit(f"unexpected rejection: {result.rejected[0]}")
    elapsed = time.perf_counter() - start
    count = replica.change_count()
    replica.close()
    rss_mb = peak_rss_mb()
    return {"seconds": elapsed, "changes": count, "peak_rss_mb": rss_mb}


def _run_child(n: int, directory: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n), str(directory)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _raw_apply(changes: list[bytes]) -> float:
    decoded = [decode_change(c) for c in changes]
    docs: dict[bytes, pycrdt.Doc[Any]] = {}
    start = time.perf_counter()
    for change in decoded:
        doc = docs.get(change.doc)
        if doc is None:
            doc = docs[change.doc] = pycrdt.Doc()
        doc.apply_update(change.update)
    return time.perf_counter() - start


def _verify_each(changes: list[bytes]) -> float:
    decoded = [decode_change(c) for c in changes]
    start = time.perf_counter()
    for change in decoded:
        nacl.bindings.crypto_sign_open(change.signature + change.signed_message, change.device)
    return time.perf_counter() - start


def _open(directory: Path, n: int) -> tuple[float, dict[str, bytes]]:
    cast, _ = history(n)
    device, cert = cast.reader()
    start = time.perf_counter()
    replica = Replica.open(directory / "store.sqlite", cast.assembly, device, cert, admission=ADMIT)
    elapsed = time.perf_counter() - start
    states = {name: replica.document(name).full_state() for name in replica.document_names()}
    replica._store.close()  # no checkpoint rewrite: nothing changed
    return elapsed, states


def _load_full_states(states: dict[str, bytes]) -> float:
    start = time.perf_counter()
    for state in states.values():
        pycrdt.Doc().apply_update(state)
    return time.perf_counter() - start


def main(n: int) -> None:
    _, changes = history(n)
    ingest_runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(REPEAT):
            directory = Path(tmp) / f"run{r}"
            ingest_runs.append(_run_child(n, directory))
        directory = Path(tmp) / "run0"
        opens, states = [], {}
        for _ in range(REPEAT):
            seconds, states = _open(directory, n)
            opens.append(seconds)
        full_loads = [_load_full_states(states) for _ in range(REPEAT)]
    raw = statistics.median(_raw_apply(changes) for _ in range(REPEAT))
    verify = statistics.median(_verify_each(changes) for _ in range(REPEAT))
    ingest = statistics.median(r["seconds"] for r in ingest_runs)
    open_s, full_s = statistics.median(opens), statistics.median(full_loads)
    rss = max(r["peak_rss_mb"] for r in ingest_runs)
    assert all(r["changes"] == n for r in ingest_runs)
    docs = len(states)
    print(f"history: {n} changes, {sum(map(len, changes)) / 1e6:.1f} MB, {docs} documents")
    print(
        f"cold ingest:            {ingest:6.2f} s  {n / ingest:9,.0f} changes/s  (target >= 30,000)"
    )
    print(
        f"raw pycrdt apply:       {raw:6.2f} s  {n / raw:9,.0f} changes/s"
        f"  ingest/raw = {ingest / raw:.2f}x time"
    )
    print(
        f"1 Ed25519 verify each:  {verify:6.2f} s  {n / verify:9,.0f} changes/s"
        f"  ingest is {verify / ingest:.2f}x faster (target >= 2.5x)"
    )
    print(
        f"open store:             {open_s * 1e3:6.0f} ms   full-state load: {full_s * 1e3:.0f} ms"
        f"  ratio {open_s / full_s:.2f} (target <= 2)"
    )
    print(f"peak RSS of ingesting node: {rss:.0f} MB (target < 300)")
    print(
        "json:",
        json.dumps(
            {
                "n": n,
                "ingest_per_s": n / ingest,
                "raw_apply_per_s": n / raw,
                "verify_per_s": n / verify,
                "ingest_vs_verify": verify / ingest,
                "open_ms": open_s * 1e3,
                "full_state_load_ms": full_s * 1e3,
                "open_ratio": open_s / full_s,
                "peak_rss_mb": rss,
            }
        ),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_ingest_child(int(sys.argv[2]), Path(sys.argv[3]))))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
