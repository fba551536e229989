"""The fold's handlers for seed funds and partnerships: acts and decision effects.

``FundFolding`` is mixed into the fold's working state (``model.fold._Folder``): each handler
checks an act or an effect and replaces the fund or partnership record it changes, raising
``IllegalMoveError`` (with nothing changed) when a rule forbids it. The records and the
computations are in ``model.funds`` and ``model.partnerships``.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import funds as F
from assemblymesh.model import partnerships as P
from assemblymesh.model import rules as R
from assemblymesh.model.state import Decision, Member

# Acts that name a fund: refused, they stay in the fund's ledger with their reason.
FUND_ACTS: frozenset[type[A.Act]] = frozenset({A.Contribute, A.Pledge, A.PausePledge, A.Disburse})
# What a supporter with standing may write besides proposing and advising.
SUPPORTER_FUND_ACTS: frozenset[type[A.Act]] = frozenset({A.Contribute, A.Pledge, A.PausePledge})


class _Ctx(Protocol):
    @property
    def member(self) -> str: ...
    @property
    def act(self) -> A.Act: ...
    @property
    def ts(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def device(self) -> str: ...


def check_version_effects(effects: tuple[A.Effect, ...]) -> None:
    """A version that lengthens a fund's life does nothing else: lengthening has a consent
    round of its own, never folded into another decision."""
    if any(isinstance(e, A.LengthenFundEffect) for e in effects) and len(effects) > 1:
        raise IllegalMoveError(
            R.FUND_LENGTHEN_ALONE,
            "a lengthen_fund effect must be the only effect of its proposal",
        )


class FundFolding:
    """Fund and partnership handlers over the fold's working records."""

    members: dict[str, Member]
    decisions: dict[str, Decision]
    funds: dict[str, F.Fund]
    partnerships: dict[str, P.Partnership]
    # fund id -> the entries of its ledger so far (``Fund.ledger`` is filled in on freezing)
    ledgers: dict[str, list[F.LedgerEntry]]

    def thaw_funds(self, funds: dict[str, F.Fund]) -> None:
        self.funds = dict(funds)
        self.ledgers = {k: list(f.ledger) for k, f in funds.items()}

    def frozen_funds(self) -> dict[str, F.Fund]:
        out = {}
        for k, f in self.funds.items():
            entries = self.ledgers.get(k, [])
            same = len(f.ledger) == len(entries)
            out[k] = f if same else dataclasses.replace(f, ledger=tuple(entries))
        return out

    def _commit(self, step: F.Step) -> F.Fund:
        self.funds[step.fund.id] = step.fund
        self.ledgers.setdefault(step.fund.id, []).extend(step.entries)
        return step.fund

    def _is_member_at(self, member: str, ts: int) -> bool:
        m = self.members.get(member)
        return m is not None and m.counts(ts)

    def _fund(self, ref: str) -> F.Fund:
        fund = self.funds.get(ref)
        if fund is None:
            raise IllegalMoveError(R.FUND_EXISTS, f"no fund {ref}")
        return fund

    def _partnership(self, ref: str) -> P.Partnership:
        p = self.partnerships.get(ref)
        if p is None:
            raise IllegalMoveError(R.PARTNERSHIP_EXISTS, f"no partnership {ref}")
        return p

    def _name(self, member: str) -> str:
        m = self.members.get(member)
        return m.name if m is not None else member[:8]

    # --- acts ------------------------------------------------------------------------------

    def _contribute(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Contribute)
        fund = self._commit(
            F.contribute(self._fund(act.fund), ctx.ts, (ctx.member, ctx.ref, ctx.device), act)
        )
        return f"{self._name(ctx.member)} contributed {act.amount} {fund.unit} to {fund.name!r}"

    def _pledge(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Pledge)
        fund = self._commit(
            F.pledge(self._fund(act.fund), ctx.ts, (ctx.member, ctx.ref, ctx.device), act)
        )
        who = self._name(ctx.member)
        return f"{who} pledged {act.amount} {fund.unit} every {act.every_days} days"

    def _pause_pledge(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.PausePledge)
        who = (ctx.member, ctx.ref, ctx.device)
        fund = self._commit(F.pause_pledge(self._fund(act.fund), ctx.ts, who, act))
        what = "paused" if act.paused else "resumed"
        return f"{self._name(ctx.member)} {what} their pledge to {fund.name!r}"

    def _disburse(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.Disburse)
        who = (ctx.member, ctx.ref, ctx.device)
        fund = self._commit(F.disburse(self._fund(act.fund), ctx.ts, who, act, self._is_member_at))
        return f"{self._name(ctx.member)} disbursed {act.amount} {fund.unit} to {act.to}"

    def _confirm_skill(self, ctx: _Ctx) -> str:
        act = ctx.act
        assert isinstance(act, A.ConfirmSkill)
        p = P.confirm(self._partnership(act.partnership), ctx.ts, ctx.member, ctx.ref, act)
        self.partnerships[p.id] = p
        return f"{self._name(ctx.member)} can now do {act.skill!r} themselves"

    def note_fund_refusal(
        self, act: A.Act | None, ts: int, who: tuple[str, str, str], error: IllegalMoveError
    ) -> None:
        """A refused act that names a fund stays in that fund's ledger with the reason;
        ``who`` is (member, act ref, device)."""
        if act is None or type(act) not in FUND_ACTS:
            return
        fund = self.funds.get(str(getattr(act, "fund", "")))
        if fund is not None:
            self._commit(F.refused(fund, ts, who, act, error.rule, error.detail))

    # --- effects ---------------------------------------------------------------------------

    def _effect_index(self, d: Decision, e: A.Effect) -> int:
        return next(i for i, x in enumerate(d.effects) if x is e)

    def _check_stewards(self, stewards: tuple[str, ...], ts: int) -> None:
        for s in stewards:
            m = self.members.get(s)
            if m is not None and m.supporter:
                raise IllegalMoveError(R.SUPPORTER_NO_ROLE, f"{m.name} is a supporter")
            if not self._is_member_at(s, ts):
                raise IllegalMoveError(R.EFFECT_APPLIES, f"{s[:8]} is not a member")

    def _effect_establish_fund(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.EstablishFundEffect)
        ts = d.effective_ts
        self._check_stewards(e.stewards, ts)
        if any(
            f.name.casefold() == e.name.casefold() and f.open_at(ts) for f in self.funds.values()
        ):
            raise IllegalMoveError(R.FUND_NAME_UNIQUE, f"an open fund is named {e.name!r}")
        fund = F.establish(d.id, self._effect_index(d, e), ts, e)
        self.funds[fund.id] = fund
        self.ledgers[fund.id] = []
        return f"fund {e.name!r} established; it dissolves {F.day(e.dissolves)}"

    def _effect_move_dissolution(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, (A.ShortenFundEffect, A.LengthenFundEffect))
        lengthen = isinstance(e, A.LengthenFundEffect)
        fund = self._fund(e.fund)
        fund = self._commit(
            F.move_dissolution(
                fund, d.effective_ts, d.decided_by, d.id, e.dissolves, lengthen=lengthen
            )
        )
        return f"fund {fund.name!r} now dissolves {F.day(fund.dissolves_ts)}"

    def _effect_disburse(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.DisburseEffect)
        fund = self._fund(e.fund)
        try:
            step = F.disburse_by_decision(fund, d.effective_ts, d.decided_by, d.id, e)
        except F.Refused as refused:
            self._commit(refused.step)
            raise refused.error from None
        fund = self._commit(step)
        return f"disbursed {e.amount} {fund.unit} from {fund.name!r} to {e.to}"

    def _effect_fund_stewards(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.FundStewardsEffect)
        fund = self._fund(e.fund)
        self._check_stewards(e.stewards, d.effective_ts)
        fund = self._commit(F.new_rotation(fund, d.effective_ts, d.decided_by, d.id, e))
        return f"fund {fund.name!r} has {len(e.stewards)} stewards from now"

    def dissolve_due(self, until: int) -> None:
        """Every fund whose dissolution date has come by ``until`` closes."""
        for fund in F.due_dissolutions(self.funds, until):
            d = self.decisions.get(fund.decision)
            self._commit(F.dissolve(fund, d.decided_by if d is not None else ""))

    def _effect_establish_partnership(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, A.EstablishPartnershipEffect)
        ts = d.effective_ts
        for s in e.supporters:
            m = self.members.get(s)
            if m is None or not m.supporter or m.is_removed(ts):
                raise IllegalMoveError(R.EFFECT_APPLIES, f"{self._name(s)} is not a supporter")
        for _skill, learner in e.skills:
            if not self._is_member_at(learner, ts):
                raise IllegalMoveError(R.EFFECT_APPLIES, f"{self._name(learner)} is not a member")
        if e.fund is not None:
            self._fund(e.fund)
        p = P.establish(d.id, self._effect_index(d, e), ts, e)
        self.partnerships[p.id] = p
        if p.sunset_ts is not None:
            self._standing_to(p, None, p.sunset_ts)
        return f"partnership {p.name!r} adopted; {P.describe_sunset(p)}"

    def _effect_move_sunset(self, d: Decision, e: A.Effect) -> str:
        assert isinstance(e, (A.ShortenPartnershipEffect, A.RenewPartnershipEffect))
        renew = isinstance(e, A.RenewPartnershipEffect)
        old = self._partnership(e.partnership)
        p = P.move_sunset(old, d.effective_ts, d.id, e.sunset, renew=renew)
        self.partnerships[p.id] = p
        assert p.sunset_ts is not None
        self._standing_to(p, old.sunset_ts, p.sunset_ts, renew=renew)
        return f"partnership {p.name!r}: {P.describe_sunset(p)}"

    def _standing_to(
        self, p: P.Partnership, old: int | None, new: int, *, renew: bool = True
    ) -> None:
        """The standing the agreement gives its supporters follows its sunset: raised to it
        (when it is adopted or renewed), or ended with it (shortened) where it ended at the
        old sunset."""
        for s in p.supporters:
            m = self.members.get(s)
            if m is None or not m.supporter or m.removed_ts is not None:
                continue
            until = m.standing_until
            if (renew and (until is None or until < new)) or (not renew and until == old):
                until = new
            self.members[s] = dataclasses.replace(m, standing_until=until)


__all__ = ["FUND_ACTS", "SUPPORTER_FUND_ACTS", "FundFolding", "check_version_effects"]
