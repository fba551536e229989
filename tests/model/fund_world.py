"""A World with seed funds and partnerships: founders with long terms, acts dated in days."""

from __future__ import annotations

from typing import Any

from assemblymesh.model import AssemblyState
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.funds import FUND_CONTEXT, PARTNERSHIP_CONTEXT, Fund, derived_id
from assemblymesh.model.partnerships import Partnership
from tests.model.helpers import COOLING, NONCE, REVIEW, B, World, act_doc

DAY = R.DAY_MS
T0 = 10_000  # when the fund's decision closes (it takes effect COOLING later)


class FundWorld(World):
    """Ana founds (facilitating for 700 days); members and supporters join in order."""

    def __init__(self, *members: str, supporters: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.add(
            "ana",
            B.create(
                self.next_id(), 1_000, self.dev("ana"), name="Garden co-op", charter="",
                founder_name="ana", nonce=NONCE.hex(),
                rules_={"cooling_off_ms": COOLING, "quorum": 1, "review_period_ms": REVIEW,
                        "block_threshold": 1},
                term_end=1_000 + 700 * DAY,
            ),
        )  # fmt: skip
        for i, name in enumerate(members):
            self.join(name, 1_100 + i)
        for i, name in enumerate(supporters):
            self.supporter(name, 1_500 + i)

    def write(self, name: str, cls: type[A.Act], ts: int, device: int = 0, **f: Any) -> str:
        """``name`` writes an act of ``cls`` at ``ts``; returns its ref."""
        doc = act_doc(cls, self.next_id(), ts, self.dev(name, device), **f)
        self.add(name, doc)
        return self.ref(name, doc)

    def fund_effect(
        self,
        stewards: tuple[str, ...] = ("bob", "cai"),
        *,
        dissolves: int = T0 + 60 * DAY,
        threshold: int = 100,
        term_days: int = 7,
        remainder: str = R.REMAINDER_RETURN,
        remainder_to: str = "",
        name: str = "Seed fund",
    ) -> A.EstablishFundEffect:
        return A.EstablishFundEffect(
            name=name, purpose="Tools for the garden", unit="EUR", dissolves=dissolves,
            remainder=remainder, remainder_to=remainder_to, threshold=threshold,
            stewards=tuple(self.mid(s) for s in stewards), term_days=term_days,
        )  # fmt: skip

    def establish(self, ts: int = T0, **kw: Any) -> str:
        """A decision establishing a fund closes at ``ts``; returns the fund's id."""
        decision = self.decide(ts, self.fund_effect(**kw))
        return derived_id(FUND_CONTEXT, decision, 0)

    def partnership(self, ts: int, effect: A.EstablishPartnershipEffect) -> str:
        decision = self.decide(ts, effect)
        return derived_id(PARTNERSHIP_CONTEXT, decision, 0)

    def contribute(self, name: str, ts: int, fund: str, amount: int, device: int = 0) -> str:
        return self.write(name, A.Contribute, ts, device, fund=fund, amount=amount)

    def disburse(self, name: str, ts: int, fund: str, amount: int, device: int = 0) -> str:
        return self.write(name, A.Disburse, ts, device, fund=fund, amount=amount, to="Hardware")


def fund_of(state: AssemblyState, fund: str) -> Fund:
    return state.funds[fund]


def partnership_of(state: AssemblyState, p: str) -> Partnership:
    return state.partnerships[p]


def ledger(state: AssemblyState, fund: str) -> list[tuple[str, int, int, str | None]]:
    """(kind, amount, balance after, refusing rule) of every entry."""
    return [(e.kind, e.amount, e.balance, e.rule) for e in state.funds[fund].ledger]
