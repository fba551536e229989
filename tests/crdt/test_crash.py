"""Kill a writing process (SIGKILL) at random points, many times: the store always opens and
holds every change it acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.crdt.helpers import device, key, replica

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assemblymesh.crdt.document import SHARED
    from tests.crdt.helpers import device, key, replica

    path, start = Path(sys.argv[1]), int(sys.argv[2])
    r = replica(path, device(key("alice"), "a1"))
    i = start
    while True:
        with r.transact(SHARED if i % 3 == 0 else None) as doc:
            if i % 3 == 0:
                doc.text("draft/t").insert(0, "x" * (1 + i % 50))
            else:
                doc.array("acts").append({"k": f"k{i}", "v": "v" * (1 + (i * 7919) % 3000)})
        head = r.vector()[r.device_key.public]
        # Acknowledged: transact() returned, so the change is durable.
        print(f"ack {i} {head[0]} {head[1].hex()}", flush=True)
        i += 1
    """
)


def test_sigkill_at_random_points_loses_no_acknowledged_change(tmp_path: Path) -> None:
    rng = random.Random(2026)
    path = tmp_path / "store.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    acked: dict[int, tuple[int, str]] = {}  # write index -> (seq, head hash)
    next_index = 0
    for _ in range(25):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(next_index)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        assert proc.stdout is not None
        want = rng.randint(1, 25)
        for line in proc.stdout:
            _, index, seq, head = line.split()
            acked[int(index)] = (int(seq), head)
            want -= 1
            if want == 0:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        next_index = max(acked) + 1
    r = replica(path, device(key("alice"), "a1"))
    stored = {c.seq: c.hash.hex() for c in r.changes_of(r.device_key.public)}
    for index, (seq, head) in acked.items():
        assert stored.get(seq) == head, f"acknowledged change {index} (seq {seq}) lost"
    written = {act["k"] for act in r.document(r.member_id).array("acts").to_py()}
    for index in acked:
        if index % 3:
            assert f"k{index}" in written
    # The chain is whole: seqs 1..n with no gap, and the device can go on writing.
    assert sorted(stored) == list(range(1, len(stored) + 1))
    with r.transact() as doc:
        doc.array("acts").append({"k": "after crashes"})
    r.close()
