"""Sync benchmark: nodes on loopback, each in its own process (so peak RSS is per node).

    .venv/bin/python bench/sync.py [N]        (default N = 100000; history cached in bench/out)

Figures, all measured in this run:
- cold sync of the N-change history from one node to an empty one: wall time, bytes on the
  wire (both directions, handshake included), peak RSS of each node, and the ratio to an
  in-process ingest of the same history (the seeding of the first node);
- reconnect sync of 10 new changes on a 10k and an N history (time, bytes);
- live push of 10 changes to a connected peer (time from the writer's last local commit to
  the peer having stored all 10, and bytes), and the time of the 10 local writes before it;
- five nodes in a line: time for one change written at one end to reach the other.
Each node process is driven over stdin/stdout with one JSON line per command.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from assemblymesh.crdt.replica import Replica, Verdict
from assemblymesh.net.credentials import Admitted, Authorization, Credentials, PeerIdentity
from assemblymesh.net.node import Node, NodeConfig, sync_once
from history import Cast, history
from rss import peak_rss_mb


class _AdmitAll:
    def admit(self, member: bytes, values: Any, known: Any) -> tuple[Verdict, str]:
        return Verdict.ADMIT, "benchmark"


ADMIT = _AdmitAll()

SECRET = bytes(range(32))
TIMEOUT = 300.0


def _admit(peer: PeerIdentity) -> Authorization:
    return Admitted()


def _open(cast: Cast, store: Path, label: str) -> Replica:
    device, cert = cast.reader(label)
    return Replica.open(store, cast.assembly, device, cert, admission=ADMIT)


def _rss_mb() -> float:
    return peak_rss_mb()


def _reply(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


# --- child processes ----------------------------------------------------------------------


def seed(store: Path, n: int, label: str) -> None:
    cast, changes = history(n)
    replica = _open(cast, store, label)
    start = time.perf_counter()
    for i in range(0, len(changes), 5000):
        result = replica.ingest(changes[i : i + 5000])
        assert not result.rejected, result.rejected[0]
    seconds = time.perf_counter() - start
    replica.close()
    _reply({"seconds": seconds})


async def serve(store: Path, label: str) -> None:
    cast = Cast.make()
    replica = _open(cast, store, label)
    device, cert = cast.reader(label)
    node = Node(
        NodeConfig(
            replica=replica,
            credentials=Credentials(cast.assembly, SECRET, device, cert),
            authorize=_admit,
            listen=("127.0.0.1", 0),
        )
    )
    await node.start()
    assert node.listen_address is not None
    _reply({"port": node.listen_address[1]})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    written = 0
    while line := await reader.readline():
        command, *args = line.decode().split()
        if command == "write":
            # No await between the writes: the node cannot send anything before the last is
            # durable, so "t" (after the writes) is when the push can start.
            t0 = time.time_ns()
            for _ in range(int(args[0])):
                with replica.transact() as doc:
                    doc.array("acts").append({"entity": f"k{written}", "value": "v" * 20})
                written += 1
            _reply({"t0": t0, "t": time.time_ns()})
        elif command == "wait":
            count = int(args[0])
            await asyncio.wait_for(
                node.wait_for(lambda c=count: replica.change_count() >= c), TIMEOUT
            )
            _reply({"t": time.time_ns()})
        elif command == "synced":
            await asyncio.wait_for(
                node.wait_for(lambda: any(s for _, _, s in node.connections())), TIMEOUT
            )
            _reply({})
        elif command == "connect":
            node.add_peer("127.0.0.1", int(args[0]))
            _reply({})
        elif command == "traffic":
            out, into = node.traffic()
            _reply({"out": out, "in": into})
        elif command == "sync":
            config = node.config
            start = time.perf_counter()
            summary = await sync_once(config, ("127.0.0.1", int(args[0])), TIMEOUT)
            seconds = time.perf_counter() - start
            _reply(
                {
                    "seconds": seconds,
                    "sent": summary.sent,
                    "received": summary.received,
                    "bytes": summary.bytes_sent + summary.bytes_received,
                }
            )
        elif command == "quit":
            break
    await node.stop()
    replica.close()
    _reply({"rss_mb": _rss_mb()})


# --- driver ------------------------------------------------------------------------------


class Proc:
    def __init__(self, *args: str) -> None:
        self.p = subprocess.Popen(
            [sys.executable, __file__, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"child {self.p.args} died")
        value: dict[str, Any] = json.loads(line)
        return value

    def ask(self, command: str) -> dict[str, Any]:
        assert self.p.stdin is not None
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()
        return self.read()

    def quit(self) -> float:
        rss: float = self.ask("quit")["rss_mb"]
        self.p.wait()
        return rss


def _seed(store: Path, n: int, label: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--seed", str(store), str(n), label],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds: float = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def reconnect(tmp: Path, n: int) -> dict[str, Any]:
    a_store, b_store = tmp / f"ra{n}.sqlite", tmp / f"rb{n}.sqlite"
    _seed(a_store, n, "a")
    _seed(b_store, n, "b")
    a, b = Proc("--serve", str(a_store), "a"), Proc("--serve", str(b_store), "b")
    a_port = a.read()["port"]
    b.read()
    a.ask("write 10")
    result = b.ask(f"sync {a_port}")
    a.quit()
    b.quit()
    return result


def main(n: int) -> None:
    sizes = sorted({min(10_000, n), n})  # reconnect on a 10k history and on the full one
    for size in sizes:
        history(size)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ingest_s = _seed(tmp / "a.sqlite", n, "a")
        a, b = (
            Proc("--serve", str(tmp / "a.sqlite"), "a"),
            Proc("--serve", str(tmp / "b.sqlite"), "b"),
        )
        a_port, _ = a.read()["port"], b.read()["port"]
        cold = b.ask(f"sync {a_port}")
        assert cold["received"] == n, cold
        # Live: b dials a and stays connected; a writes 10 changes, b waits for them.
        b.ask(f"connect {a_port}")
        b.ask("synced")
        a.ask("synced")
        before = a.ask("traffic")
        wrote = a.ask("write 10")
        t0 = wrote["t"]
        t1 = b.ask(f"wait {n + 10}")["t"]
        write_ms = (wrote["t"] - wrote["t0"]) / 1e6
        after = a.ask("traffic")
        live_bytes = (after["out"] - before["out"]) + (after["in"] - before["in"])
        rss_a, rss_b = a.quit(), b.quit()
        recon = {size: reconnect(tmp, size) for size in sizes}
        # Five nodes in a line, empty stores: n_i dials n_(i-1).
        line = [Proc("--serve", str(tmp / f"line{i}.sqlite"), f"line{i}") for i in range(5)]
        ports = [p.read()["port"] for p in line]
        for i in range(1, 5):
            line[i].ask(f"connect {ports[i - 1]}")
        for p in line:
            p.ask("synced")
        t_start = line[0].ask("write 1")["t0"]
        t_end = line[4].ask("wait 1")["t"]
        for p in line:
            p.quit()

    cold_s, cold_mb = cold["seconds"], cold["bytes"] / 1e6
    live_ms = (t1 - t0) / 1e6
    print(f"history: {n} changes")
    print(
        f"cold sync:         {cold_s:6.2f} s  {cold_mb:5.2f} MB on the wire"
        f"  (targets <= 2.5 s, <= 2.7 MB; Yjs 1.27 s / 2.79 MB, Automerge 4.2 s / 2.64 MB)"
    )
    print(
        f"  in-process ingest of the same history: {ingest_s:.2f} s"
        f"  -> cold sync / ingest = {cold_s / ingest_s:.2f}x"
    )
    print(f"  peak RSS: serving node {rss_a:.0f} MB, receiving node {rss_b:.0f} MB (target <= 250)")
    for size, r in recon.items():
        print(
            f"reconnect, 10 new changes on {size:>6} history: {r['seconds'] * 1e3:6.1f} ms"
            f"  {r['bytes']:5d} bytes  (targets <= 50 ms, <= 4096 bytes)"
        )
    print(
        f"live push of 10 changes: {live_ms:6.2f} ms  {live_bytes} bytes"
        f"  (targets <= 5 ms, <= 1024 bytes; from the writer's last commit to the peer's)"
    )
    print(f"  the 10 local writes before it (each durable): {write_ms:.2f} ms")
    print(f"five nodes in a line, end to end: {(t_end - t_start) / 1e6:.1f} ms")
    print(
        "json:",
        json.dumps(
            {
                "n": n,
                "cold_s": cold_s,
                "cold_bytes": cold["bytes"],
                "ingest_s": ingest_s,
                "cold_vs_ingest": cold_s / ingest_s,
                "rss_serving_mb": rss_a,
                "rss_receiving_mb": rss_b,
                "reconnect": {str(k): v for k, v in recon.items()},
                "live_ms": live_ms,
                "live_bytes": live_bytes,
                "live_write_ms": write_ms,
                "line5_ms": (t_end - t_start) / 1e6,
            }
        ),
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        seed(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve(Path(sys.argv[2]), sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
