"""Hostile-input benchmark: what each attack on the ingest boundary costs one node, against
the ingest of honest changes measured in the same run.

    .venv/bin/python bench/hostile.py [N | --small]    (default N = 100000; --small = 1000)

Every attack and the baseline run in a child process of their own, against a fresh store of
a real assembly (made with ``Home.create``, an injected clock and fixed entropy), so the real
admission policy (``home.DocumentAdmission``) applies. Hostile changes come from a device
the founder certified (so only the structural check stands between them and the engine)
unless the attack is about devices or members nobody certified.

Figures, per attack: time per input and its ratio to honest ingest (one change per call for
single-change attacks, batches of 5,000 for floods), inputs refused and accepted, peak RSS
growth of the node during the attack (VmHWM reset before it), and the bytes the store holds
after it beyond what it held before (changes, pending, evidence, act log, checkpoints).
A child that dies (a crash in the engine) is reported as such, not hidden.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrdt

sys.path.insert(0, str(Path(__file__).parent))

from assemblymesh.crdt.change import SHARED_DOC, Change
from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, yjs_client_id
from assemblymesh.crdt.replica import MAX_PENDING_BYTES, MAX_PENDING_PER_DEVICE, Replica
from assemblymesh.crdt.yupdate import MAX_VALUES_PER_CHANGE, encode_varuint
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.net.batch import MAX_BATCH_CHANGES
from rss import peak_rss_mb

BATCH = 5_000  # changes per ingest call for floods, as a peer's sync sends them
SINGLE = 500  # honest changes ingested one per call, the baseline of single-change attacks
REPEAT = 20  # ingests of each single hostile change (the store is unchanged by a refusal)
START_MS = 1_700_000_000_000

# --- hostile Yjs updates (the builders of tests/crdt/hostile.py) --------------------------

V = encode_varuint


def vstr(text: str) -> bytes:
    data = text.encode()
    return V(len(data)) + data


ROOT_ACTS = b"\x01" + vstr("acts")  # parent info: a root, by name


def y_update(client: int, structs: list[bytes], clock: int = 0) -> bytes:
    """A Yjs v1 update with one struct group of ``client`` and an empty delete set."""
    return b"\x01" + V(len(structs)) + V(client) + V(clock) + b"".join(structs) + b"\x00"


def any_item(*values: bytes) -> bytes:
    """An Item with ContentAny under the acts root holding lib0-encoded ``values``."""
    return b"\x08" + ROOT_ACTS + V(len(values)) + b"".join(values)


def nested(depth: int) -> bytes:
    """An act mapping whose one field is an array nested ``depth`` levels deep."""
    return b"\x76\x01" + vstr("a") + b"\x75\x01" * depth + b"\x7e"


def small_act(i: int) -> bytes:
    """A lib0 Any mapping {"n": i} (i < 64)."""
    return b"\x76\x01" + vstr("n") + b"\x7d" + V(i % 64)


def xml_element() -> bytes:
    """An Item with ContentType XmlElement named "p" under the acts root."""
    return b"\x07" + ROOT_ACTS + b"\x03" + vstr("p")


# --- the cast -----------------------------------------------------------------------------


class Clock:
    """The injected clock: every read advances it by one millisecond."""

    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        self.now += 1
        return self.now


def seeded(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(f"bench/hostile/{label}".encode(), digest_size=32).digest())


def fresh_assembly(root: Path) -> LocalAssembly:
    """A new assembly with its genesis, in a new home; the same ids on every call."""
    counter = itertools.count()

    def entropy(n: int) -> bytes:
        return hashlib.blake2b(f"entropy/{next(counter)}".encode(), digest_size=64).digest()[:n]

    ids = itertools.count(1)
    return Home(root, clock=Clock(), entropy=entropy).create(
        "Hostile bench", "Founder", new_id=lambda: f"{next(ids):016x}"
    )


@dataclass
class Writer:
    """A device and the document it writes; changes are made in chain order."""

    key: SigningKey
    assembly: bytes
    cert: bytes | None
    seq: int = 0
    prev: bytes = b""

    @property
    def client(self) -> int:
        return yjs_client_id(self.key.public)

    def change(self, doc: bytes, update: bytes, seq: int | None = None) -> Change:
        seq = self.seq + 1 if seq is None else seq
        cert = self.cert if seq == 1 else None
        change = Change.create(
            self.key, self.assembly, doc, seq, self.prev, START_MS + seq, update, cert
        )
        self.seq, self.prev = seq, change.hash
        return change


def certified(local: LocalAssembly, label: str, member: SigningKey | None = None) -> Writer:
    """A device certified by ``member`` (the founder unless given) for this assembly."""
    key = seeded(label)
    issuer = local.member_key if member is None else member
    cert = DeviceCertificate.issue(issuer, local.replica.assembly, key.public, START_MS)
    return Writer(key, local.replica.assembly, cert.encode())


def act_updates(client: int, n: int, offset: int = 0) -> list[bytes]:
    """``n`` updates of one writer, each appending one act of the workload's size."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client)
    out: list[bytes] = []
    doc.observe(lambda event: out.append(bytes(event.update)))
    acts = doc.get("acts", type=pycrdt.Array)
    for i in range(offset, offset + n):
        acts.append({"entity": f"proposal-{i % 997}", "field": "title", "value": f"v{i}" * 8})
    return out


def text_updates(client: int, n: int, filler: int = 0) -> list[bytes]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client)
    out: list[bytes] = []
    doc.observe(lambda event: out.append(bytes(event.update)))
    for i in range(n):
        text = doc.get(f"draft/motion-{i // 500}", type=pycrdt.Text)  # texts of a few KB
        with doc.transaction():
            text.insert(i % 7, f"w{i} " + "x" * filler)
            if i % 3 == 2:
                del text[0:2]
    return out


# --- measuring in a child -----------------------------------------------------------------


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def reset_peak_rss() -> float:
    """Reset the high-water mark to the current resident set (Linux); that resident set."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return current_rss_mb()
    except OSError:
        return peak_rss_mb()  # the growth is then measured from the peak so far


_STORED = [
    "SELECT coalesce(sum(length(data)), 0) FROM changes",
    "SELECT coalesce(sum(length(data)), 0) FROM pending",
    "SELECT coalesce(sum(length(data)), 0) FROM evidence",
    "SELECT coalesce(sum(length(data)), 0) FROM quarantine",
    "SELECT coalesce(sum(length(acts)), 0) FROM act_log",
    "SELECT coalesce(sum(length(state)), 0) FROM checkpoints",
]


def stored_bytes(local: LocalAssembly) -> int:
    """Bytes of content the store holds: changes, pending, evidence, act log, checkpoints."""
    db = sqlite3.connect(f"file:{local.directory / 'store.sqlite'}?mode=ro", uri=True)
    try:
        return sum(db.execute(query).fetchone()[0] for query in _STORED)
    finally:
        db.close()


@dataclass
class Tally:
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    buffered: int = 0
    seconds: float = 0.0

    def ingest(self, replica: Replica, changes: list[Change]) -> Any:
        data = [c.data for c in changes]
        start = time.perf_counter()
        result = replica.ingest(data)
        self.seconds += time.perf_counter() - start
        self.inputs += len(changes)
        self.accepted += len(result.applied)
        self.refused += len(result.rejected)
        self.buffered += result.buffered
        return result

    def batches(self, replica: Replica, changes: list[Change]) -> None:
        for i in range(0, len(changes), BATCH):
            self.ingest(replica, changes[i : i + BATCH])


Result = tuple[Tally, dict[str, Any]]
Run = Callable[[], Result]
Attack = Callable[[LocalAssembly, int], Run]  # prepares (untimed), returns the timed part


def child(name: str, n: int, directory: Path) -> dict[str, Any]:
    local = fresh_assembly(directory / "home")
    run = ATTACKS[name][1](local, n)
    before = stored_bytes(local)
    base = reset_peak_rss()
    tally, extra = run()
    growth = peak_rss_mb() - base
    after = stored_bytes(local)
    local.close()
    return {
        "attack": name,
        "inputs": tally.inputs,
        "accepted": tally.accepted,
        "refused": tally.refused,
        "buffered": tally.buffered,
        "seconds": tally.seconds,
        "per_input_us": tally.seconds / max(tally.inputs, 1) * 1e6,
        "rss_growth_mb": growth,
        "stored_bytes_after": after - before,
        **extra,
    }


# --- the attacks: each prepares its inputs, then returns what is measured -------------------


def _batched(
    local: LocalAssembly, changes: list[Change], extra: Callable[[], dict[str, Any]]
) -> Run:
    def run() -> Result:
        tally = Tally()
        tally.batches(local.replica, changes)
        return tally, extra()

    return run


def honest_batched(local: LocalAssembly, n: int) -> Run:
    writer = certified(local, "honest")
    member = local.member_key.public
    changes = [writer.change(member, u) for u in act_updates(writer.client, n)]
    mean = sum(len(c.data) for c in changes) / len(changes)
    return _batched(local, changes, lambda: {"change_bytes": mean})


def honest_text(local: LocalAssembly, n: int) -> Run:
    """Honest edits of the shared document's drafts instead of acts (for comparison)."""
    writer = certified(local, "honest")
    changes = [writer.change(SHARED_DOC, u) for u in text_updates(writer.client, n, filler=200)]
    mean = sum(len(c.data) for c in changes) / len(changes)
    return _batched(local, changes, lambda: {"change_bytes": mean})


def tiny_acts_batch(local: LocalAssembly, n: int) -> Run:
    """A device the founder certified sends one batch of as many small act changes as a
    sync batch may hold (``MAX_BATCH_CHANGES``), all accepted: one engine transaction."""
    count = MAX_BATCH_CHANGES if n >= 10_000 else min(n, 2_000)
    writer = certified(local, "chatty")
    member = local.member_key.public
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=writer.client)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(bytes(event.update)))
    acts = doc.get("acts", type=pycrdt.Array)
    for i in range(count):
        acts.append({"n": i})  # appended as any client does: each item follows the last
    changes = [writer.change(member, u) for u in updates]
    mean = sum(len(c.data) for c in changes) / len(changes)

    def run() -> Result:
        tally = Tally()
        tally.ingest(local.replica, changes)
        return tally, {"change_bytes": mean, "batch_changes": count}

    return run


def honest_single(local: LocalAssembly, n: int) -> Run:
    writer = certified(local, "honest")
    member = local.member_key.public
    count = min(n // 4, SINGLE)
    changes = [writer.change(member, u) for u in act_updates(writer.client, count)]

    def run() -> Result:
        tally = Tally()
        for change in changes:
            tally.ingest(local.replica, [change])
        return tally, {}

    return run


def _repeat(local: LocalAssembly, change: Change) -> Run:
    """The same refused change, ingested ``REPEAT`` times (median time per ingest)."""

    def run() -> Result:
        tally = Tally()
        times = []
        reasons: set[str] = set()
        for _ in range(REPEAT):
            start = tally.seconds
            result = tally.ingest(local.replica, [change])
            times.append(tally.seconds - start)
            reasons.update(r.reason.value for r in result.rejected)
        tally.seconds = statistics.median(times) * tally.inputs
        return tally, {"change_bytes": len(change.data), "reasons": sorted(reasons)}

    return run


def _structural(local: LocalAssembly, structs: Callable[[], list[bytes]]) -> Run:
    writer = certified(local, "mallory")
    update = y_update(writer.client, structs())
    return _repeat(local, writer.change(local.member_key.public, update))


def deep_100k(local: LocalAssembly, n: int) -> Run:
    return _structural(local, lambda: [any_item(nested(100_000))])


def xml_in_acts(local: LocalAssembly, n: int) -> Run:
    return _structural(local, lambda: [xml_element()])


def deep_1200(local: LocalAssembly, n: int) -> Run:
    return _structural(local, lambda: [any_item(nested(1_200))])


def too_many_acts(local: LocalAssembly, n: int) -> Run:
    acts = [small_act(i) for i in range(MAX_VALUES_PER_CHANGE + 1)]
    return _structural(local, lambda: [any_item(*acts)])


MANY = 70_000  # items of one act each: the change stays under MAX_CHANGE_SIZE


def many_acts(local: LocalAssembly, n: int) -> Run:
    return _structural(local, lambda: [any_item(small_act(i)) for i in range(MANY)])


def uncertified_flood(local: LocalAssembly, n: int) -> Run:
    """``n`` signed changes of made-up devices, none with a certificate; half the devices
    start at seq 1, half at seq 2 (as if their first change were still to come)."""
    devices = max(n // 100, 1)
    per = max(n // devices, 1)
    changes: list[Change] = []
    for d in range(devices):
        writer = Writer(seeded(f"flood/{d}"), local.replica.assembly, None)
        if d % 2:
            writer.seq, writer.prev = 1, bytes(32)
        changes += [writer.change(SHARED_DOC, u) for u in text_updates(writer.client, per)]
    return _batched(local, changes, lambda: _pending(local) | {"devices": devices})


def _pending(local: LocalAssembly) -> dict[str, Any]:
    return {
        "pending_changes": local.replica.pending_count(),
        "pending_bytes": local.replica._store.pending_bytes(),
        "pending_quota": MAX_PENDING_BYTES,
        "pending_per_device_quota": MAX_PENDING_PER_DEVICE,
    }


def insider_gaps(local: LocalAssembly, n: int) -> Run:
    """Devices the founder certified send seq 1, then changes after a gap, each of ~600 B
    (more than the pending quota holds when ``n`` is 100,000)."""
    devices = max(n // 1_000, 1)
    per = max(n // devices, 2)
    changes: list[Change] = []
    for d in range(devices):
        writer = certified(local, f"gap/{d}")
        updates = text_updates(writer.client, per, filler=500)
        changes.append(writer.change(SHARED_DOC, updates[0]))
        writer.seq += 1  # seq 2 never comes
        changes += [writer.change(SHARED_DOC, u) for u in updates[1:]]
    return _batched(local, changes, lambda: _pending(local) | {"devices": devices})


def self_certified_member(local: LocalAssembly, n: int) -> Run:
    count = min(n, 10_000)
    outsider = seeded("outsider-member")
    writer = certified(local, "outsider-device", member=outsider)
    changes = [writer.change(outsider.public, u) for u in act_updates(writer.client, count)]
    names_before = set(local.replica.document_names())
    members_before = len(local.state().members)

    def extra() -> dict[str, Any]:
        local.refresh()
        return {
            "new_documents": len(set(local.replica.document_names()) - names_before),
            "members_before": members_before,
            "members_after": len(local.state().members),
            "outsider_device_known": local.replica.device_member(writer.key.public) is not None,
        }

    return _batched(local, changes, extra)


def equivocation(local: LocalAssembly, n: int) -> Run:
    """Devices the founder certified, each with one stored change, then a second one at the
    same seq (each fork is one ingest call)."""
    devices = 100 if n >= 10_000 else 10
    member = local.member_key.public
    forks: list[Change] = []
    setup: list[Change] = []
    for d in range(devices):
        writer = certified(local, f"twofaced/{d}")
        first, second = act_updates(writer.client, 2)
        setup.append(writer.change(member, first))
        writer.seq, writer.prev = 0, b""
        forks.append(writer.change(member, second))  # a second change at seq 1
    result = local.replica.ingest([c.data for c in setup])
    assert len(result.applied) == devices, result.rejected[:1]

    def run() -> Result:
        tally = Tally()
        detected = 0
        for change in forks:
            detected += bool(tally.ingest(local.replica, [change]).equivocating)
        pairs = local.replica.equivocation_evidence()
        return tally, {
            "detected": detected,
            "flagged": len(local.replica.equivocating_devices()),
            "evidence_pairs": len(pairs),
            "evidence_bytes": sum(len(a) + len(b) for a, b in pairs),
        }

    return run


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(out)) if out else 0
        op = rng.choice(("flip", "flip", "insert", "delete"))
        if op == "flip" and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif op == "insert":
            out[pos:pos] = bytes([rng.randrange(256)])
        elif out:
            del out[pos]
    return bytes(out)


def mutated_updates(local: LocalAssembly, n: int) -> Run:
    """Byte flips, insertions and deletions of genuine updates, each signed by a certified
    device as the next change of its chain: only the structural check and the engine judge.
    Signing happens between the timed ingests (each change depends on what was accepted)."""
    count = 3_000 if n >= 10_000 else 150
    rng = random.Random(7)
    writer = certified(local, "mutator")
    member = local.member_key.public
    genuine = [(member, u) for u in act_updates(writer.client, 40)]
    genuine += [(SHARED_DOC, u) for u in text_updates(writer.client, 40)]

    def run() -> Result:
        tally = Tally()
        identical = 0
        reasons: dict[str, int] = {}
        for _ in range(count):
            doc, original = rng.choice(genuine)
            data = _mutate(rng, original)
            identical += data == original
            seq, prev = writer.seq, writer.prev
            result = tally.ingest(local.replica, [writer.change(doc, data)])
            for r in result.rejected:
                reasons[r.reason.value] = reasons.get(r.reason.value, 0) + 1
            if not result.applied:
                writer.seq, writer.prev = seq, prev  # refused: the chain goes on from its head
        acts = len(local.replica.document(member.hex()).array("acts").to_py() or [])
        return tally, {"unchanged_by_mutation": identical, "reasons": reasons, "acts_read": acts}

    return run


ATTACKS: dict[str, tuple[str, Attack, str]] = {
    "honest_batched": ("honest changes, batches of 5,000", honest_batched, ""),
    "honest_single": ("honest changes, one per ingest", honest_single, ""),
    "honest_text": ("honest draft edits, batches of 5,000", honest_text, "batched"),
    "deep_100k": ("1. value nested 100,000 deep", deep_100k, "single"),
    "xml_in_acts": ("2a. XmlElement in acts", xml_in_acts, "single"),
    "deep_1200": ("2b. value nested 1,200 deep", deep_1200, "single"),
    "too_many_acts": (f"3a. {MAX_VALUES_PER_CHANGE + 1} acts in one item", too_many_acts, "single"),
    "many_acts": (f"3b. {MANY:,} act items in one change", many_acts, "single"),
    "uncertified_flood": ("4. flood, uncertified devices", uncertified_flood, "batched"),
    "insider_gaps": ("4b. flood after a gap, certified", insider_gaps, "batched"),
    "self_certified": ("5. self-certified member", self_certified_member, "batched"),
    "equivocation": ("6. equivocating devices", equivocation, "single"),
    "mutated": ("7. mutated genuine updates", mutated_updates, "single"),
    "tiny_acts_batch": ("8. one full batch of tiny acts", tiny_acts_batch, "batched"),
}


def run_child(name: str, n: int, directory: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(n), str(directory / name)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return {"attack": name, "crashed": out.returncode, "stderr": out.stderr[-500:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _row(label: str, r: dict[str, Any], baseline: float) -> str:
    if "crashed" in r:
        return f"{label:40} CRASHED (exit {r['crashed']}): {r['stderr'].strip()[-200:]}"
    per = r["per_input_us"]
    ratio = per / baseline if baseline else float("nan")
    return (
        f"{label:40} {r['inputs']:>7,} {per:>10,.1f} {ratio:>8.2f}x"
        f" {r['refused']:>7,} {r['accepted']:>6,} {r['buffered']:>7,}"
        f" {r['rss_growth_mb']:>7.1f} {r['stored_bytes_after']:>10,}"
    )


def main(n: int) -> None:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ATTACKS:
            results[name] = run_child(name, n, Path(tmp))
    for name in ("honest_batched", "honest_single"):
        if "crashed" in results[name]:
            raise SystemExit(f"baseline {name} failed: {results[name]['stderr']}")
    batched = results["honest_batched"]["per_input_us"]
    single = results["honest_single"]["per_input_us"]
    print(
        f"n = {n}; honest change {results['honest_batched']['change_bytes']:.0f} B;"
        f" baseline {batched:.1f} us/change batched, {single:.1f} us/change one per ingest"
    )
    print(
        f"{'attack':40} {'inputs':>7} {'us/input':>10} {'vs hon.':>9} {'refused':>7}"
        f" {'accept':>6} {'pending':>7} {'RSS +MB':>7} {'stored B':>10}"
    )
    for name, (label, _, kind) in ATTACKS.items():
        baseline = single if kind == "single" or name == "honest_single" else batched
        print(_row(label, results[name], baseline))
    _notes(results)
    summary: dict[str, Any] = {"n": n, "honest_batched_us": batched, "honest_single_us": single}
    for name, (_, _, kind) in ATTACKS.items():
        r = results[name]
        if "crashed" in r:
            summary[name] = {"crashed": r["crashed"]}
            continue
        baseline = single if kind == "single" else batched
        keep = {k: v for k, v in r.items() if k not in ("attack", "seconds")}
        summary[name] = {**keep, "ratio": r["per_input_us"] / baseline}
    print("json:", json.dumps(summary))


def _notes(results: dict[str, dict[str, Any]]) -> None:
    """The attack-specific figures under the table."""
    for name, keys in [
        ("deep_100k", ["change_bytes", "reasons"]),
        ("xml_in_acts", ["change_bytes", "reasons"]),
        ("deep_1200", ["change_bytes", "reasons"]),
        ("too_many_acts", ["change_bytes", "reasons"]),
        ("many_acts", ["change_bytes", "reasons"]),
        ("uncertified_flood", ["devices", "pending_bytes", "pending_quota"]),
        ("insider_gaps", ["devices", "pending_changes", "pending_bytes", "pending_quota"]),
        (
            "self_certified",
            ["new_documents", "members_before", "members_after", "outsider_device_known"],
        ),
        ("equivocation", ["detected", "flagged", "evidence_pairs", "evidence_bytes"]),
        ("mutated", ["unchanged_by_mutation", "reasons", "acts_read"]),
        ("tiny_acts_batch", ["batch_changes", "change_bytes"]),
        ("honest_text", ["change_bytes"]),
    ]:
        r = results[name]
        if "crashed" not in r:
            print(f"  {name}: " + ", ".join(f"{k} = {r[k]}" for k in keys))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--small":
        main(1_000)
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
