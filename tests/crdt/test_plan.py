"""The ingest plan, without a store: a dict-backed ledger and hypothesis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.plan import DeviceState, Plan, Verdict, plan_batch
from assemblymesh.errors import RejectReason
from tests.crdt.helpers import device, key
from tests.crdt.hostile import chain, client_of, real_updates

MEMBERS = [key(f"member{i}") for i in range(3)]
DEVICES = [device(MEMBERS[i], f"d{i}") for i in range(3)]
CHAINS = [chain(d, real_updates(client_of(d), "acts", 5)) for d in DEVICES]
ALL = [c for ch in CHAINS for c in ch]


@dataclass
class FakeLedger:
    """What a store would know: nothing, or the heads given."""

    assembly: bytes = DEVICES[0].cert.assembly
    heads: dict[bytes, DeviceState] = field(default_factory=dict)
    pending: dict[bytes, list[Change]] = field(default_factory=dict)
    verdict: Verdict = Verdict.ADMIT

    def device_state(self, device: bytes) -> DeviceState | None:
        return self.heads.get(device)

    def member_known(self, member: bytes) -> bool:
        return any(s.member == member for s in self.heads.values())

    def stored_change(self, device: bytes, seq: int) -> Change | None:
        return next((c for c in ALL if c.device == device and c.seq == seq), None)

    def has_pending(self, device: bytes) -> bool:
        return bool(self.pending.get(device))

    def pending_changes(self, device: bytes, first: int, last: int) -> list[Change]:
        return [c for c in self.pending.get(device, []) if first < c.seq <= last]

    def pending_room(self, device: bytes) -> tuple[int, int]:
        return 10_000, 1 << 30

    def admit(self, member: bytes, values: Sequence[object]) -> tuple[Verdict, str]:
        return self.verdict, "fake"

    def device_limit(self, member: bytes, device: bytes, issued_ms: int) -> tuple[int | None, str]:
        return None, ""


def applied(plan: Plan) -> list[Change]:
    return [c for run in plan.runs for c in run]


def strip_some(changes: list[Change], mask: list[bool]) -> list[Change]:
    return [c.without_signature() if m else c for c, m in zip(changes, mask, strict=False)]


@settings(max_examples=150, deadline=None)
@given(
    order=st.permutations(range(len(ALL))),
    dup=st.lists(st.integers(0, len(ALL) - 1), max_size=6),
    cut=st.integers(0, len(ALL)),
    stripped=st.lists(st.booleans(), min_size=len(ALL), max_size=len(ALL)),
)
def test_any_delivery_applies_a_prefix_closed_verified_set(
    order: list[int], dup: list[int], cut: int, stripped: list[bool]
) -> None:
    batch = strip_some([ALL[i] for i in order][:cut] + [ALL[i] for i in dup], stripped)
    plan, _ = plan_batch(FakeLedger(), batch)
    chosen = applied(plan)
    by_device: dict[bytes, list[int]] = {}
    for change in chosen:
        by_device.setdefault(change.device, []).append(change.seq)
    for seqs in by_device.values():
        assert seqs == list(range(1, len(seqs) + 1))  # prefix-closed, in chain order
    for run in plan.runs:
        assert run[-1].signature  # every run ends on a (verified) signature
    assert len({c.hash for c in chosen}) == len(chosen)
    assert not plan.evidence and not plan.forks
    # What a whole, in-order delivery gives, each chain applies completely.
    if cut == len(ALL) and not any(stripped):
        assert len(chosen) == len(ALL)


@settings(max_examples=100, deadline=None)
@given(
    forged=st.sets(st.integers(0, len(ALL) - 1), min_size=1),
    order=st.permutations(range(len(ALL))),
)
def test_a_forged_signature_never_enters_apply(forged: set[int], order: list[int]) -> None:
    batch = []
    for i in order:
        change = ALL[i]
        if i in forged:
            change = change._replace(signature=bytes(64))
        batch.append(change)
    plan, _ = plan_batch(FakeLedger(), batch)
    bad = {ALL[i].hash for i in forged}
    for run in plan.runs:
        assert run[-1].hash not in bad
        assert run[-1].signature != bytes(64)
    assert all(c.signature != bytes(64) for c in plan.buffer)


def test_a_refused_member_applies_nothing_and_buffers_nothing() -> None:
    plan, _ = plan_batch(FakeLedger(verdict=Verdict.REFUSE), CHAINS[0])
    assert not plan.runs and not plan.buffer
    assert {r.reason for r in plan.refused} == {RejectReason.NOT_AUTHORISED}


def test_a_waiting_member_is_buffered() -> None:
    plan, _ = plan_batch(FakeLedger(verdict=Verdict.WAIT), CHAINS[0])
    assert not plan.runs and len(plan.buffer) == 5 and plan.waiting == 1


def test_the_byte_budget_is_spent_on_buffering_only() -> None:
    gap = [CHAINS[0][0].without_signature(), *CHAINS[0][2:]]
    plan, left = plan_batch(FakeLedger(), gap, bytes_left=10**6)
    assert left == 10**6 - sum(len(c.data) for c in plan.buffer) and len(plan.buffer) == 4
    plan, left = plan_batch(FakeLedger(), CHAINS[1], bytes_left=0)
    assert len(applied(plan)) == 5 and left == 0
