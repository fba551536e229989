"""Funds benchmark: what a fund's ledger costs the fold, against the same number of plain acts
folded in the same run.

    .venv/bin/python bench/funds.py [N]      (default N = 20000 ledger entries)

One assembly (a founder and two members, real keys and invites) with a fund established by a
decision, then N acts on it: contributions by a member and disbursements by the steward
(every tenth spends more than the balance allows, so it is refused and kept in the ledger).
The baseline history is the same assembly with N ``allow_naming`` acts instead (the cheapest
act there is). Figures, each the median of several repetitions:
- the fold of the fund history, and its ratio to the fold of the baseline;
- the same for twice N, so a cost growing faster than the ledger shows as a growing ratio;
- moving the folded state a day on (``at_time``), which dissolves nothing but redoes the
  time-dependent statuses, against the same for the baseline.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from typing import Any

from assemblymesh.crdt.identity import Invite, SigningKey, assembly_id_for, sign_invite_proof
from assemblymesh.model import AssemblySnapshot, LoggedAct, at_time, fold
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.funds import FUND_CONTEXT, derived_id

DAY = R.DAY_MS
NONCE = b"bench-funds-nonce"
REPEAT = 3


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.blake2b(f"bench/funds/{label}".encode(), digest_size=32).digest())


class Builder:
    """Acts of named members, each in its member's document with its device noted."""

    def __init__(self) -> None:
        self.docs: dict[str, list[tuple[dict[str, Any], str]]] = {}
        self.count = 0
        self.assembly = assembly_id_for(key("ana").public, NONCE)

    def mid(self, name: str) -> str:
        return key(name).public.hex()

    def add(self, who: str, cls: type[A.Act], ts: int, **fields: Any) -> str:
        self.count += 1
        act = cls(id=f"{self.count:016x}", ts=ts, **fields)
        self.docs.setdefault(self.mid(who), []).append(
            (act.to_doc(), key(who + "/dev").public.hex())
        )
        return act.ref(self.mid(who))

    def snapshot(self) -> AssemblySnapshot:
        logs = {}
        for member, values in self.docs.items():
            seqs: dict[str, int] = {}
            logged = []
            for value, device in values:
                seqs[device] = seqs.get(device, 0) + 1
                logged.append(LoggedAct(value, device, seqs[device]))
            logs[member] = logged
        return AssemblySnapshot(self.assembly, logs)


def assembly() -> tuple[Builder, str, int]:
    """The founder, two members and a fund they decided; returns the fund's id and the time
    its decision took effect."""
    b = Builder()
    b.add("ana", A.Create, 1_000, name="Bench", charter="", founder_name="ana", nonce=NONCE.hex(),
          rules={"cooling_off_ms": 1_000, "quorum": 1, "review_period_ms": 400 * DAY,
                 "block_threshold": 1},
          term_end=1_000 + 700 * DAY)  # fmt: skip
    for i, name in enumerate(("bob", "cai")):
        secret = key(f"invite/{name}")
        invite = Invite.issue(key("ana"), b.assembly, secret.public, 10**12)
        b.add("ana", A.RecordInvite, 1_100 + i, invite_key=secret.public.hex(), expires=10**12)
        proof = sign_invite_proof(secret, invite, key(name).public)
        b.add(name, A.Join, 1_200 + i, name=name, invite=invite.encode().hex(), proof=proof.hex())
    effect = A.EstablishFundEffect(
        name="Seed", purpose="", unit="EUR", dissolves=500 * DAY, remainder=R.REMAINDER_RETURN,
        threshold=10**9, stewards=(b.mid("bob"),), term_days=30,
    )  # fmt: skip
    pid = b.add("ana", A.Propose, 2_000, title="Seed", body="", effects=(effect,))
    rid = b.add("ana", A.OpenRound, 2_100, proposal=pid, version=1)
    b.add("ana", A.AdvanceRound, 2_200, round=rid, to=R.REACTIONS)
    b.add("ana", A.AdvanceRound, 2_300, round=rid, to=R.POSITIONS)
    b.add("bob", A.TakePosition, 2_400, round=rid, kind=R.CONSENT, reason="")
    decision = b.add("ana", A.CloseRound, 2_500, round=rid)
    return b, derived_id(FUND_CONTEXT, decision, 0), 3_500


def fund_history(n: int) -> Builder:
    b, fund, start = assembly()
    for i in range(n):
        ts = start + 10 + i * 1_000
        if i % 2 == 0:
            b.add("cai", A.Contribute, ts, fund=fund, amount=10)
        else:
            amount = 10**6 if i % 10 == 1 else 7  # every tenth is refused: too much
            b.add("bob", A.Disburse, ts, fund=fund, amount=amount, to="x")
    return b


def plain_history(n: int) -> Builder:
    b, _, start = assembly()
    for i in range(n):
        b.add(
            "cai" if i % 2 == 0 else "bob", A.AllowNaming, start + 10 + i * 1_000, allow=bool(i % 4)
        )
    return b


def timed(run: Any) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(n: int) -> dict[str, float]:
    funds, plain = fund_history(n).snapshot(), plain_history(n).snapshot()
    now = 10 + n * 1_000 + 10 * DAY
    state = fold(funds, now)
    (f,) = state.funds.values()
    assert len(f.ledger) == n and len(f.refused()) == (n + 8) // 10, (
        len(f.ledger),
        len(f.refused()),
    )
    base = fold(plain, now)
    fund_s = timed(lambda: fold(funds, now))
    plain_s = timed(lambda: fold(plain, now))
    later_fund = timed(lambda: at_time(state, now + DAY))
    later_plain = timed(lambda: at_time(base, now + DAY))
    return {
        "fold_s": fund_s,
        "baseline_s": plain_s,
        "ratio": fund_s / plain_s,
        "at_time_s": later_fund,
        "at_time_ratio": later_fund / max(later_plain, 1e-9),
    }


def main(n: int) -> None:
    one, two = measure(n), measure(2 * n)
    heads = ("entries", "fold s", "baseline s", "ratio", "at_time s", "ratio")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (8, 8, 11, 6, 10, 6), strict=True)))
    for size, m in ((n, one), (2 * n, two)):
        print(f"{size:>8} {m['fold_s']:>8.3f} {m['baseline_s']:>11.3f} {m['ratio']:>6.2f}"
              f" {m['at_time_s']:>10.4f} {m['at_time_ratio']:>6.2f}")  # fmt: skip
    print("json: " + json.dumps({"n": n, "one": one, "two": two}, sort_keys=True))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
