"""Fund and partnership effects as typed after --effect and in the UI's forms: read back
exactly as written, with the free-text last field allowed its colons."""

from __future__ import annotations

import pytest

from assemblymesh.errors import UsageError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.effect_text import EFFECT_HELP, effect_as_text, parse_effect
from tests.model.fund_world import T0, FundWorld
from tests.model.helpers import COOLING


def world() -> tuple[FundWorld, str, str]:
    w = FundWorld("bob", "cai", supporters=("olga",))
    fund = w.establish()
    p = w.partnership(
        T0 + 2_000,
        A.EstablishPartnershipEffect(
            name="Solar", supporters=(w.mid("olga"),), provides="", sunset=None
        ),
    )
    return w, fund, p


def test_every_fund_and_partnership_effect_reads_back_from_its_text() -> None:
    w, fund, p = world()
    state = w.fold(now=T0 + 10 * COOLING)
    day = 1_800_000_000_000 - 1_800_000_000_000 % R.DAY_MS
    effects: list[A.Effect] = [
        A.EstablishFundEffect(
            name="Tools", purpose="Shared: saws, drills", unit="hours", dissolves=day,
            remainder=R.REMAINDER_GIVE, remainder_to="The library", threshold=5,
            stewards=(w.mid("bob"), w.mid("cai")), term_days=30,
        ),
        A.EstablishFundEffect(
            name="Seeds", purpose="", unit="bags", dissolves=day, remainder=R.REMAINDER_RETURN,
            threshold=0, stewards=(w.mid("cai"),), term_days=1,
        ),
        A.ShortenFundEffect(fund=fund, dissolves=day),
        A.LengthenFundEffect(fund=fund, dissolves=day),
        A.DisburseEffect(fund=fund, amount=12, to="Hire: a van"),
        A.FundStewardsEffect(fund=fund, stewards=(w.mid("cai"), w.mid("bob")), term_days=9),
        A.EstablishPartnershipEffect(
            name="Bees", supporters=(w.mid("olga"),), provides="hives: two",
            skills=(("keep bees", w.mid("bob")), ("harvest", w.mid("cai"))), sunset=day,
            fund=fund,
        ),
        A.EstablishPartnershipEffect(
            name="Legal", supporters=(w.mid("olga"),), provides="", skills=(), sunset=None,
        ),
        A.ShortenPartnershipEffect(partnership=p, sunset=day),
        A.RenewPartnershipEffect(partnership=p, sunset=day),
    ]  # fmt: skip
    for effect in effects:
        text = effect_as_text(state, effect)
        assert parse_effect(state, text) == effect, text
    assert effect_as_text(state, effects[2]).startswith("shorten-fund:Seed fund:")
    assert "lengthen-fund:FUND:YYYY-MM-DD (alone in its proposal)" in EFFECT_HELP


def test_badly_typed_fund_effects_say_what_is_wrong() -> None:
    w, _, _ = world()
    state = w.fold(now=T0 + 10 * COOLING)
    with pytest.raises(UsageError, match="'return' or 'give=RECIPIENT'"):
        parse_effect(state, "establish-fund:X:EUR:2030-01-01:5:bob:7:keep:purpose")
    with pytest.raises(UsageError, match="SKILL@MEMBER"):
        parse_effect(state, "establish-partnership:P:olga:none:-:@bob:x")
    with pytest.raises(UsageError, match="not a supporter"):
        parse_effect(state, "establish-partnership:P:bob:none:-:-:x")
    with pytest.raises(UsageError, match="no fund"):
        parse_effect(state, "disburse:Nothing:5:x")
    with pytest.raises(UsageError, match="is not one of"):
        parse_effect(state, "shorten-fund:Seed fund")
