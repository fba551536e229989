"""Flood benchmark: how long a member's sync takes while strangers hold the node's sockets.

    .venv/bin/python bench/flood.py [N] [--syncs K]    (default N = 10000 changes, K = 20)

A node serving an N-change history runs in a process of its own (bench/sync.py's node); a
member's node, holding the same history, syncs with it K times (10 new changes each time, as
a member coming back in range would), and the median time is compared with the same syncs
measured in this run with no attacker:
- 64 sockets from 8 addresses (127.0.0.2-9) that never send a byte;
- 500 sockets from one address;
- 64 sockets from 8 addresses that send a byte every 0.5 s (a slow first handshake message).
The attackers know no secret, which is all an outsider can do; a holder of an old invite can
do no more before the handshake (the secret only opens the handshake to members' devices).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sync import Proc, _seed  # the node process and the seeding of bench/sync.py

SLOW_BYTE_EVERY_S = 0.5


class Attack:
    """Sockets held open against the node from the given local addresses."""

    def __init__(self, port: int, count: int, hosts: list[str], trickle: bool) -> None:
        self.port, self.count, self.hosts, self.trickle = port, count, hosts, trickle
        self.sockets: list[socket.socket] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Attack:
        loop = asyncio.get_running_loop()
        for i in range(self.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((self.hosts[i % len(self.hosts)], 0))
            await loop.sock_connect(s, ("127.0.0.1", self.port))
            self.sockets.append(s)
        if self.trickle:
            self._task = asyncio.ensure_future(self._trickle())
        return self

    async def _trickle(self) -> None:
        while True:
            await asyncio.sleep(SLOW_BYTE_EVERY_S)
            for s in self.sockets:
                with contextlib.suppress(OSError):  # the node closed it: the defence works
                    s.send(b"\x00")

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        for s in self.sockets:
            s.close()


def sync_ms(serving: Proc, member: Proc, port: int) -> float:
    serving.ask("write 10")
    result = member.ask(f"sync {port}")
    assert result["received"] == 10, result
    return float(result["seconds"]) * 1000


async def syncs(serving: Proc, member: Proc, port: int, k: int, attack: Attack | None) -> float:
    if attack is None:
        return statistics.median(sync_ms(serving, member, port) for _ in range(k))
    async with attack:
        await asyncio.sleep(0.2)  # let the node accept (or refuse) every socket first
        times = []
        for _ in range(k):
            times.append(await asyncio.to_thread(sync_ms, serving, member, port))
        return statistics.median(times)


def attacks(port: int) -> dict[str, Attack]:
    eight = [f"127.0.0.{2 + k}" for k in range(8)]
    return {
        "64 silent sockets from 8 addresses": Attack(port, 64, eight, trickle=False),
        "500 silent sockets from 1 address": Attack(port, 500, ["127.0.0.2"], trickle=False),
        "64 trickling sockets from 8 addresses": Attack(port, 64, eight, trickle=True),
    }


async def run(n: int, k: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        _seed(tmp / "a.sqlite", n, "a")
        _seed(tmp / "b.sqlite", n, "b")
        serving, member = (
            Proc("--serve", str(tmp / "a.sqlite"), "a"),
            Proc("--serve", str(tmp / "b.sqlite"), "b"),
        )
        port = serving.read()["port"]
        member.read()
        try:
            await syncs(serving, member, port, k, None)  # warm up both nodes, not timed
            figures = {"no attack": await syncs(serving, member, port, k, None)}
            for name, attack in attacks(port).items():
                figures[name] = await syncs(serving, member, port, k, attack)
            figures["no attack, after"] = await syncs(serving, member, port, k, None)
        finally:
            serving.quit()
            member.quit()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--syncs", type=int, default=20)
    args = parser.parse_args()
    figures = asyncio.run(run(args.n, args.syncs))
    base = figures["no attack"]
    print(f"member's sync of 10 new changes on a {args.n}-change history, median of {args.syncs}:")
    for name, ms in figures.items():
        print(f"  {name:<40} {ms:7.1f} ms  {ms / base:5.2f}x the sync with no attack")
    print("json: " + json.dumps({"n": args.n, "syncs": args.syncs, "median_ms": figures}))


if __name__ == "__main__":
    main()
