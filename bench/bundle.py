"""Bundle benchmark: a USB-stick sync of the shared workload, against the network's figures.

    .venv/bin/python bench/bundle.py [N]      (default N = 100000; history cached in bench/out)

Figures, all measured in this run (times are the best of three, peaks the highest):
- export of the N-change history from a seeded store to a bundle file (wall time, size);
- import of that file into an empty store (wall time: the full check, then ingest), against
  an in-process ingest of the same changes (the seeding of the exporting store);
- the file's size against the batch bytes a network sync carries for the same history
  (the ``batch`` messages a sync machine sends to an empty peer, in full);
- peak RSS of an import of 10k and of N changes, each in its own process, beside the peak
  of the in-process ingest (the documents themselves grow with the history) and of the
  check pass alone (no store: the bundle code's own memory, bounded by one batch).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgpack

sys.path.insert(0, str(Path(__file__).parent))

from assemblymesh.crdt.replica import Replica, Verdict, vector_digest
from assemblymesh.net import bundle
from assemblymesh.net.sync import SyncMachine, encode_hello
from history import Cast, history
from rss import peak_rss_mb

SECRET = bytes(range(32))
SLICE = 5000  # changes per ingest call when seeding, as bench/sync.py does
REPEAT = 3  # every step runs this many times, in fresh processes and stores


class _AdmitAll:
    def admit(self, member: bytes, values: Any, known: Any) -> tuple[Verdict, str]:
        return Verdict.ADMIT, "benchmark"


ADMIT = _AdmitAll()


def _open(cast: Cast, store: Path, label: str) -> Replica:
    device, cert = cast.reader(label)
    return Replica.open(store, cast.assembly, device, cert, admission=ADMIT)


def _reply(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


# --- child processes ----------------------------------------------------------------------


def seed(store: Path, n: int) -> None:
    """Ingest the history in process: the baseline the import is measured against."""
    cast, changes = history(n)
    replica = _open(cast, store, "a")
    start = time.perf_counter()
    for i in range(0, len(changes), SLICE):
        result = replica.ingest(changes[i : i + SLICE])
        assert not result.rejected, result.rejected[0]
    seconds = time.perf_counter() - start
    replica.close()
    _reply({"seconds": seconds, "rss_mb": peak_rss_mb()})


def export(store: Path, path: Path) -> None:
    cast = Cast.make()
    replica = _open(cast, store, "a")
    device, cert = cast.reader("a")
    identity = bundle.Identity(cast.assembly, SECRET, device, cert)
    start = time.perf_counter()
    with path.open("wb") as out:
        summary = bundle.write_bundle(out, identity, replica, 0)
    seconds = time.perf_counter() - start
    network = network_batch_bytes(replica, cast.assembly)
    replica.close()
    _reply(
        {
            "seconds": seconds,
            "changes": summary.changes,
            "batches": summary.batches,
            "batch_bytes": summary.batch_bytes,
            "size": summary.size,
            "network": network,
            "rss_mb": peak_rss_mb(),
        }
    )


def network_batch_bytes(replica: Replica, assembly: bytes) -> dict[str, int]:
    """What a sync machine sends an empty peer: its batch messages (whole payloads and the
    compressed batches alone), driven in process like the simulator drives it."""
    machine = SyncMachine(replica, assembly)
    machine.start()
    machine.next_message()  # our hello
    machine.receive_message(encode_hello(vector_digest({}), {}))
    payloads = batches = count = 0
    while (message := machine.next_message()) is not None:
        decoded = msgpack.unpackb(message, raw=False)
        if decoded["t"] == "batch":
            payloads += len(message)
            batches += len(decoded["z"])
            count += decoded["n"]
    return {"payload_bytes": payloads, "batch_bytes": batches, "changes": count}


def import_(store: Path, path: Path) -> None:
    cast = Cast.make()
    replica = _open(cast, store, "b")
    start = time.perf_counter()
    with path.open("rb") as source:
        summary = bundle.import_bundle(
            source, cast.assembly, SECRET, replica, spool_dir=store.parent
        )
    seconds = time.perf_counter() - start
    assert summary.applied == summary.changes and not summary.rejected, summary
    replica.close()
    _reply({"seconds": seconds, "changes": summary.changes, "rss_mb": peak_rss_mb()})


def check(path: Path) -> None:
    """The first pass of an import alone (decrypt, decode, verify, spool): no replica, so
    its peak RSS is the bundle code's own."""
    with tempfile.TemporaryFile() as spool, path.open("rb") as source:
        start = time.perf_counter()
        verified = bundle.verify_bundle(source, Cast.make().assembly, SECRET, spool)
        seconds = time.perf_counter() - start
    _reply({"seconds": seconds, "changes": verified.changes, "rss_mb": peak_rss_mb()})


# --- driver ------------------------------------------------------------------------------


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    value: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return value


def main(n: int) -> None:
    sizes = sorted({min(10_000, n), n})  # two sizes when N is large enough to compare
    for size in sizes:
        history(size)
    runs: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for size in sizes:
            tries: list[dict[str, Any]] = []
            for k in range(REPEAT):
                a, b = tmp / f"a{size}-{k}.sqlite", tmp / f"b{size}-{k}.sqlite"
                path = tmp / f"{size}-{k}.bundle"
                tries.append({
                    "ingest": _child("--seed", str(a), str(size)),
                    "export": _child("--export", str(a), str(path)),
                    "import": _child("--import", str(b), str(path)),
                    "check": _child("--check", str(path)),
                })  # fmt: skip
            # The machine is shared: each time is the best of the tries, each peak the highest.
            runs[size] = {
                step: {
                    **tries[0][step],
                    "seconds": min(t[step]["seconds"] for t in tries),
                    "rss_mb": max(t[step]["rss_mb"] for t in tries),
                }
                for step in tries[0]
            }
    big = runs[n]
    ingest_s, import_s = big["ingest"]["seconds"], big["import"]["seconds"]
    size, network = big["export"]["size"], big["export"]["network"]
    print(f"history: {n} changes (times: best of {REPEAT} runs, each step in its own process)")
    print(
        f"export:  {big['export']['seconds']:6.2f} s  {size / 1e6:5.2f} MB in"
        f" {big['export']['batches']} batches"
    )
    print(
        f"import:  {import_s:6.2f} s  (check the whole file, then ingest)"
        f"  in-process ingest of the same changes: {ingest_s:.2f} s"
        f"  -> import / ingest = {import_s / ingest_s:.2f}x (target <= 1.3x)"
    )
    print(
        f"size:    file {size} bytes; network sync batches {network['batch_bytes']} bytes"
        f" ({network['payload_bytes']} with their message headers)"
        f"  -> file / batches = {size / network['batch_bytes']:.3f}x (target <= 1.1x)"
    )
    rss = {s: runs[s]["import"]["rss_mb"] for s in sizes}
    base = {s: runs[s]["ingest"]["rss_mb"] for s in sizes}
    print(
        "peak RSS of import: "
        + ", ".join(f"{s // 1000}k changes {rss[s]:.0f} MB" for s in sizes)
        + f"  -> {rss[n] / rss[sizes[0]]:.2f}x (target: flat)"
    )
    print(
        "  peak RSS of the in-process ingest of the same changes (the documents themselves): "
        + ", ".join(f"{s // 1000}k {base[s]:.0f} MB" for s in sizes)
        + "; import minus ingest: "
        + ", ".join(f"{s // 1000}k {rss[s] - base[s]:+.0f} MB" for s in sizes)
    )
    checks = {s: runs[s]["check"]["rss_mb"] for s in sizes}
    print(
        "  peak RSS of the check alone (decrypt, decode, verify; no store): "
        + ", ".join(f"{s // 1000}k {checks[s]:.0f} MB" for s in sizes)
        + f"  -> {checks[n] / checks[sizes[0]]:.2f}x; it took {big['check']['seconds']:.2f} s"
    )
    print(
        "json:",
        json.dumps(
            {
                "n": n,
                "export_s": big["export"]["seconds"],
                "import_s": import_s,
                "ingest_s": ingest_s,
                "import_vs_ingest": import_s / ingest_s,
                "file_bytes": size,
                "network_batch_bytes": network["batch_bytes"],
                "network_payload_bytes": network["payload_bytes"],
                "file_vs_network": size / network["batch_bytes"],
                "import_rss_mb": {str(s): rss[s] for s in sizes},
                "ingest_rss_mb": {str(s): base[s] for s in sizes},
                "check_rss_mb": {str(s): checks[s] for s in sizes},
            }
        ),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed(Path(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--export":
        export(Path(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--check":
        check(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--import":
        import_(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
