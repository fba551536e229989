"""What epochs of the assembly secret cost: a responder trying every accepted root on a first
handshake message, a bundle reader unwrapping the file key from a full key block, and a node
working out its keyring from a record with many epochs, each against its one-root baseline
measured in the same run.

    .venv/bin/python bench/epochs.py [--small]

Figures: the time of a full in-memory handshake when the initiator's root is the first of 1
accepted root (the baseline) and the last of 64 (the most a responder accepts); the time to
open a bundle's key block with 1 entry and with 255 (the reader's device key is in the last
one); the time to compute the keyring from a record with 1 and with E epochs (opening this
device's box in each). Each is the median of several runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import statistics
import sys
import time
from collections.abc import Callable

from assemblymesh.crdt.identity import DeviceCertificate, SigningKey, assembly_id_for
from assemblymesh.crdt.sealing import epoch_check, seal_secret
from assemblymesh.epochkeys import view
from assemblymesh.model import fold
from assemblymesh.model.epochs import Epoch
from assemblymesh.net import bundle as B
from assemblymesh.net.credentials import Admitted, Credentials, Keyring, Root
from assemblymesh.net.handshake import Handshake, Status

NOW = 1_760_000_000_000


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(label.encode(), digest_size=32).digest())


def secret(n: int) -> bytes:
    return hashlib.blake2b(f"root {n}".encode(), digest_size=32).digest()


FOUNDER = key("founder")
ASSEMBLY = assembly_id_for(FOUNDER.public, b"bench-nonce-0000")


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def handshake(accepted: int) -> None:
    roots = tuple(Root("epoch", n, secret(n)) for n in range(accepted))
    dial = roots[-1]  # the last the responder tries
    sides = []
    for role, name in (("initiator", "a"), ("responder", "b")):
        member, device = key(f"{name}/member"), key(f"{name}/device")
        cert = DeviceCertificate.issue(member, ASSEMBLY, device.public, NOW)
        ring = Keyring(0, dial, (dial,)) if role == "initiator" else Keyring(0, roots[0], roots)
        creds = Credentials(ASSEMBLY, ring.dial.secret, device, cert)
        sides.append(
            Handshake(
                role=role,  # type: ignore[arg-type]
                credentials=creds,
                authorize=lambda _p: Admitted(),
                now_ms=NOW,
                keyring=ring,
            )
        )
    for _ in range(4):
        for me, other in ((sides[0], sides[1]), (sides[1], sides[0])):
            out = me.data_to_send()
            if out:
                other.receive_data(out, NOW)
    assert all(s.status is Status.DONE for s in sides)


def key_block(readers: int) -> Callable[[], object]:
    reader = key("reader/device")
    roots = [B.bundle_key(secret(n)) for n in range(1)]
    devices = [key(f"device {n}").public for n in range(readers - 2)] + [reader.public]
    out = io.BytesIO()
    writer = B._SealedWriter(out, roots, devices if readers > 1 else ())
    writer.write(b"x")
    writer.close()
    data = out.getvalue()
    openers = B.Openers((B.bundle_key(secret(7)),), (reader,))
    if readers == 1:
        openers = B.Openers((roots[0],))
    return lambda: B._SealedReader(io.BytesIO(data), openers)


def keyring(epochs: int) -> Callable[[], object]:
    device = key("me/device")
    state = fold(_empty_snapshot(), NOW)
    records = []
    for n in range(epochs):
        s = secret(n)
        records.append(
            Epoch(n, epoch_check(s, ASSEMBLY, n).hex(), NOW - (epochs - n), "x",
                  {device.public.hex(): seal_secret(device.public, s).hex()})
        )  # fmt: skip
    import dataclasses

    state = dataclasses.replace(state, epochs=tuple(records))
    opened: dict[tuple[int, str, str], bytes | None] = {}
    view(state, device, None, None, (), opened)  # a node opens each box once, then remembers
    return lambda: view(state, device, None, None, (), opened)


def _empty_snapshot():  # type: ignore[no-untyped-def]
    from assemblymesh.model import AssemblySnapshot

    return AssemblySnapshot(ASSEMBLY, {})


def main() -> None:
    small = "--small" in sys.argv
    repeat = 5 if small else 30
    epochs = 8 if small else 64
    one = median_ms(lambda: handshake(1), repeat)
    many = median_ms(lambda: handshake(64), repeat)
    block_1, block_255 = key_block(1), key_block(255)
    kb1 = median_ms(block_1, repeat)
    kb255 = median_ms(block_255, repeat)
    ring_1, ring_e = keyring(1), keyring(epochs)
    kr1 = median_ms(ring_1, repeat)
    kre = median_ms(ring_e, repeat)
    print(f"handshake, dial root accepted 1st of 1:   {one:8.2f} ms")
    print(f"handshake, dial root accepted 64th of 64: {many:8.2f} ms  ({many / one:.2f}x)")
    print(f"key block, 1 entry:                       {kb1:8.2f} ms")
    print(f"key block, 255 entries, device last:      {kb255:8.2f} ms  ({kb255 / kb1:.1f}x)")
    print(f"keyring, 1 epoch:                         {kr1:8.2f} ms")
    print(f"keyring, {epochs} epochs:                       {kre:8.2f} ms  ({kre / kr1:.1f}x)")
    figures = {
        "handshake_1_ms": one, "handshake_64_ms": many, "key_block_1_ms": kb1,
        "key_block_255_ms": kb255, "keyring_1_ms": kr1, "keyring_epochs_ms": kre,
        "epochs": epochs,
    }  # fmt: skip
    print("json: " + json.dumps(figures))


if __name__ == "__main__":
    main()
