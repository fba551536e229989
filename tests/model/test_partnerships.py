"""Partnerships with outside supporters: adopted by decision, skills confirmed by their
learners, and a sunset that ends the supporters' standing unless a decision renews it."""

from __future__ import annotations

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from tests.model.fund_world import DAY, T0, FundWorld
from tests.model.helpers import COOLING

START = T0 + COOLING
SUNSET = T0 + 30 * DAY


def agreement(w: FundWorld, sunset: int | None = SUNSET, fund: str | None = None) -> A.Effect:
    return A.EstablishPartnershipEffect(
        name="Solar co-op",
        supporters=(w.mid("olga"),),
        provides="Panels, and training on fitting them",
        skills=(("fit panels", w.mid("bob")), ("size an array", w.mid("cai"))),
        sunset=sunset,
        fund=fund,
    )


def test_a_partnership_gives_its_supporters_standing_until_the_sunset() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    pid = w.partnership(T0, agreement(w))
    state = w.fold(now=START + DAY)
    p = state.partnerships[pid]
    assert (p.name, p.provides, p.sunset_ts, p.supporters) == (
        "Solar co-op", "Panels, and training on fitting them", SUNSET, (w.mid("olga"),),
    )  # fmt: skip
    assert [(s.skill, s.member, s.confirmed_ts) for s in p.skills] == [
        ("fit panels", w.mid("bob"), None), ("size an array", w.mid("cai"), None),
    ]  # fmt: skip
    olga = state.members[w.mid("olga")]
    assert olga.standing_until == SUNSET and olga.has_standing(SUNSET - 1)
    assert p.in_force(SUNSET - 1) and not p.in_force(SUNSET)
    # At the sunset the standing under the agreement ends: her acts are refused from then.
    w.write("olga", A.Contribute, SUNSET + 10, fund="00" * 8, amount=1)
    state = w.fold(now=SUNSET + DAY)
    assert not state.members[w.mid("olga")].has_standing(SUNSET)
    assert state.ignored().__next__().rule == R.SUPPORTER_STANDING
    assert state.find_partnership("solar CO-OP").id == pid


def test_only_the_named_member_confirms_a_skill_and_only_once() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    pid = w.partnership(T0, agreement(w))
    w.write("cai", A.ConfirmSkill, START + 10, partnership=pid, skill="fit panels")
    w.write("bob", A.ConfirmSkill, START + 20, partnership=pid, skill="Fit panels")
    w.write("bob", A.ConfirmSkill, START + 30, partnership=pid, skill="fit panels")
    w.write("bob", A.ConfirmSkill, START + 40, partnership=pid, skill="weld")
    w.write("olga", A.ConfirmSkill, START + 50, partnership=pid, skill="size an array")
    state = w.fold(now=START + DAY)
    p = state.partnerships[pid]
    assert [(s.skill, s.confirmed_ts) for s in p.skills] == [
        ("fit panels", START + 20), ("size an array", None),
    ]  # fmt: skip
    assert [e.rule for e in state.ignored()] == [
        R.SKILL_BY_LEARNER, R.SKILL_CONFIRMED_ONCE, R.PARTNERSHIP_EXISTS, R.SUPPORTER_MAY_NOT,
    ]  # fmt: skip


def test_the_sunset_shortens_by_decision_and_the_standing_follows() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    pid = w.partnership(T0, agreement(w))
    w.decide(START + 1_000, A.ShortenPartnershipEffect(partnership=pid, sunset=SUNSET + DAY))
    state = w.fold(now=START + DAY)
    assert state.partnerships[pid].sunset_ts == SUNSET
    assert state.effect_log[-1].rule == R.PARTNERSHIP_SHORTEN_ONLY
    assert "renew_partnership" in state.effect_log[-1].detail
    w.decide(START + 2_000, A.ShortenPartnershipEffect(partnership=pid, sunset=T0 + 10 * DAY))
    state = w.fold(now=START + DAY)
    assert state.partnerships[pid].sunset_ts == T0 + 10 * DAY
    assert state.members[w.mid("olga")].standing_until == T0 + 10 * DAY
    (change,) = state.partnerships[pid].history
    assert (change.old, change.new, change.kind) == (SUNSET, T0 + 10 * DAY, "shortened")


def test_a_new_decision_renews_the_agreement_and_the_standing_with_it() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    pid = w.partnership(T0, agreement(w, sunset=T0 + 5 * DAY))
    later = T0 + 10 * DAY
    assert not w.fold(now=later).members[w.mid("olga")].has_standing(later)
    # Renewed after it ended: the agreement, and her standing, run to the new sunset.
    w.decide(START + 2_000, A.RenewPartnershipEffect(partnership=pid, sunset=T0 + 4 * DAY))
    state = w.fold(now=later)
    assert state.effect_log[-1].rule == R.EFFECT_APPLIES  # not later than the sunset
    w.decide(START + 3_000, A.RenewPartnershipEffect(partnership=pid, sunset=T0 + 40 * DAY))
    state = w.fold(now=later)
    assert state.partnerships[pid].in_force(later)
    assert state.members[w.mid("olga")].has_standing(later)


def test_an_agreement_without_a_sunset_gives_no_standing() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    pid = w.partnership(T0, agreement(w, sunset=None))
    state = w.fold(now=START + DAY)
    assert state.partnerships[pid].in_force(10**13)
    assert state.members[w.mid("olga")].standing_until is None


def test_an_agreement_names_supporters_and_members_as_they_are() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    wrong = A.EstablishPartnershipEffect(
        name="Backwards", supporters=(w.mid("bob"),), provides="", skills=(), sunset=SUNSET
    )
    also = A.EstablishPartnershipEffect(
        name="Learner", supporters=(w.mid("olga"),), provides="",
        skills=(("fit", w.mid("olga")),), sunset=SUNSET,
    )  # fmt: skip
    w.decide(T0, wrong, also)
    state = w.fold(now=START + DAY)
    assert state.partnerships == {}
    assert [e.rule for e in state.effect_log] == [R.EFFECT_APPLIES, R.EFFECT_APPLIES]
    assert state.members[w.mid("olga")].standing_until is None
