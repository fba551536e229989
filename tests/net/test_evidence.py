"""Equivocation evidence over the sync protocol, and the per-connection pending budget.

The replica's evidence store is stood in for by a wrapper (``EvidenceReplica``): the machine
and ``Gossip`` use only the ``SyncSource``/``SyncReplica`` methods.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.replica import IngestResult, PendingBudget, Replica
from assemblymesh.errors import ProtocolError, RejectedChange, RejectReason
from assemblymesh.net.sync import (
    MAX_EVIDENCE_PAIRS,
    PENDING_BUDGET_BYTES,
    PROTOCOL_VERSION,
    Bye,
    EvidenceReceived,
    Gossip,
    Ingest,
    NeedData,
    State,
    SyncMachine,
    encode_evidence,
)
from tests.net.test_sync import ASSEMBLY, Side, kinds, member, open_replica, pump, write

PAIR_A = (b"change-a1", b"change-a2")
PAIR_B = (b"change-b1", b"change-b2")
FORGED = (b"forged-1", b"forged-2")


class EvidenceReplica:
    """A replica with an evidence store: what ``take_evidence`` accepted, in order."""

    def __init__(self, replica: Replica, evidence: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._replica = replica
        self.evidence: list[tuple[bytes, bytes]] = list(evidence)
        self.offered: list[tuple[bytes, bytes]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._replica, name)

    def equivocation_evidence(self) -> list[tuple[bytes, bytes]]:
        return list(self.evidence)

    def take_evidence(self, first: bytes, second: bytes) -> bool:
        self.offered.append((first, second))
        if (first, second) == FORGED:
            raise RejectedChange(RejectReason.BAD_SIGNATURE, "evidence does not verify")
        if (first, second) in self.evidence:
            return False
        self.evidence.append((first, second))
        return True


class EvidenceSide(Side):
    def handle_events(self) -> None:
        while not isinstance(event := self.machine.next_event(), NeedData):
            if isinstance(event, Ingest):
                self.gossip.ingest(self.machine, event.changes)
            elif isinstance(event, EvidenceReceived):
                self.gossip.take_evidence(self.machine, event.pairs)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Replica, Replica, Replica]]:
    opened = tuple(
        open_replica(tmp_path / f"{n}.sqlite", member(n)) for n in ("alice", "bob", "carol")
    )
    yield opened  # type: ignore[misc]
    for r in opened:
        r.close()


def _side(replica: Any, gossip: Gossip | None = None) -> EvidenceSide:
    return EvidenceSide(replica, gossip)


def test_evidence_goes_out_after_hello_and_reaches_the_replica(
    replicas: tuple[Replica, Replica, Replica],
) -> None:
    a = EvidenceReplica(replicas[0], [PAIR_A])
    b = EvidenceReplica(replicas[1])
    write(replicas[0], 2)
    sa, sb = _side(a), _side(b)
    wire = pump((sa, sb))
    assert kinds(wire)[:2] == ["hello", "evidence"] or kinds(wire)[1:3] == ["hello", "evidence"]
    assert b.evidence == [PAIR_A]
    assert a.offered == []  # never sent back to where it came from
    assert sa.machine.state is State.LIVE and sb.machine.state is State.LIVE


def test_new_evidence_is_gossiped_to_other_peers_in_live_mode(
    replicas: tuple[Replica, Replica, Replica],
) -> None:
    a = EvidenceReplica(replicas[0])
    b = EvidenceReplica(replicas[1])
    c = EvidenceReplica(replicas[2])
    b_gossip = Gossip(b)  # type: ignore[arg-type]
    sa, sb1 = _side(a), _side(b, b_gossip)
    sb2, sc = _side(b, b_gossip), _side(c)
    pump((sa, sb1), (sb2, sc))
    # Alice learns evidence while live; it travels alice -> bob -> carol.
    a.evidence.append(PAIR_B)
    sa.gossip._spread([PAIR_B])
    pump((sa, sb1), (sb2, sc))
    assert b.evidence == [PAIR_B] and c.evidence == [PAIR_B]
    assert c.offered == [PAIR_B]


def test_invalid_evidence_is_logged_and_ignored_not_a_protocol_error(
    replicas: tuple[Replica, Replica, Replica], caplog: pytest.LogCaptureFixture
) -> None:
    a = EvidenceReplica(replicas[0], [FORGED, PAIR_A])
    b = EvidenceReplica(replicas[1])
    sa, sb = _side(a), _side(b)
    with caplog.at_level(logging.WARNING, "assemblymesh.net"):
        pump((sa, sb))
    assert b.evidence == [PAIR_A]
    assert sb.machine.state is State.LIVE
    assert any("evidence ignored" in r.getMessage() for r in caplog.records)


def _message(kind: str, **fields: Any) -> bytes:
    packed: bytes = msgpack.packb({"v": PROTOCOL_VERSION, "t": kind, **fields})
    return packed


def test_evidence_before_hello_and_malformed_evidence_are_refused(
    replicas: tuple[Replica, Replica, Replica],
) -> None:
    m = SyncMachine(EvidenceReplica(replicas[0]), ASSEMBLY)  # type: ignore[arg-type]
    m.start()
    with pytest.raises(ProtocolError, match="evidence before hello"):
        m.receive_message(encode_evidence([PAIR_A]))
    m2 = SyncMachine(EvidenceReplica(replicas[1]), ASSEMBLY)  # type: ignore[arg-type]
    m2.start()
    hello = m.__class__(EvidenceReplica(replicas[2]), ASSEMBLY)  # type: ignore[arg-type]
    hello.start()
    m2.receive_message(hello.next_message() or b"")
    with pytest.raises(ProtocolError):
        m2.receive_message(_message("evidence", pairs=[[b"only-one"]]))
    assert m2.state is State.CLOSED
    last = None
    while (out := m2.next_message()) is not None:
        last = out
    assert last is not None and msgpack.unpackb(last)["reason"] == Bye.MALFORMED


def test_evidence_is_capped_per_message(replicas: tuple[Replica, Replica, Replica]) -> None:
    pairs = [(b"x%d" % i, b"y%d" % i) for i in range(MAX_EVIDENCE_PAIRS + 3)]
    m = SyncMachine(EvidenceReplica(replicas[0], pairs), ASSEMBLY)  # type: ignore[arg-type]
    m.start()
    out = []
    while (payload := m.next_message()) is not None:
        out.append(msgpack.unpackb(payload))
    sizes = [len(x["pairs"]) for x in out if x["t"] == "evidence"]
    assert sizes == [MAX_EVIDENCE_PAIRS, 3]
    with pytest.raises(Exception, match="1 to"):
        encode_evidence(pairs)


class BudgetReplica(EvidenceReplica):
    """Records the budget ``Gossip`` passes to ``ingest``."""

    def __init__(self, replica: Replica) -> None:
        super().__init__(replica)
        self.budgets: list[PendingBudget | None] = []

    def ingest(
        self, items: Iterable[bytes | Change], *, budget: PendingBudget | None = None
    ) -> IngestResult:
        self.budgets.append(budget)
        result: IngestResult = self._replica.ingest(items)
        return result


def test_each_connection_gets_its_own_pending_budget(
    replicas: tuple[Replica, Replica, Replica],
) -> None:
    write(replicas[0], 4)
    write(replicas[2], 4)
    b = BudgetReplica(replicas[1])
    gossip = Gossip(b)  # type: ignore[arg-type]
    s1, s2 = _side(b, gossip), _side(b, gossip)
    pump((s1, _side(replicas[0])), (s2, _side(replicas[2])))
    assert b.budgets and all(x is not None for x in b.budgets)
    by_machine = {id(gossip.budget_of(s1.machine)), id(gossip.budget_of(s2.machine))}
    assert len(by_machine) == 2
    assert {id(x) for x in b.budgets} == by_machine
    assert all(x.bytes_left <= PENDING_BUDGET_BYTES for x in b.budgets if x is not None)


def test_a_replica_without_the_budget_keyword_is_called_as_before(
    replicas: tuple[Replica, Replica, Replica],
) -> None:
    write(replicas[0], 3)
    sa, sb = _side(replicas[0]), _side(replicas[1])
    pump((sa, sb))
    assert replicas[0].digest() == replicas[1].digest()
