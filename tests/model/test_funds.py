"""Seed funds folded from signed acts: establishment, the ledger, the steward's threshold,
a balance that never goes below zero (across partitions too), the rotation of stewards,
moving the dissolution date, pledges, supporters without a say, and dissolution."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.model import acts as A
from assemblymesh.model import fold
from assemblymesh.model import funds as F
from assemblymesh.model import rules as R
from assemblymesh.model.fund_queries import handover, not_counted, steward_now
from tests.model.fund_world import DAY, T0, FundWorld, ledger
from tests.model.helpers import COOLING, snapshot_of

START = T0 + COOLING  # when the fund's decision takes effect
NOW = START + 3 * DAY


def test_a_decision_establishes_a_fund_with_everything_it_states() -> None:
    w = FundWorld("bob", "cai")
    fund_id = w.establish(remainder=R.REMAINDER_GIVE, remainder_to="the tool library")
    assert fund_id not in w.fold(now=START - 1).funds  # not before the decision takes effect
    state = w.fold(now=NOW)
    fund = state.funds[fund_id]
    assert (fund.name, fund.purpose, fund.unit, fund.threshold) == (
        "Seed fund", "Tools for the garden", "EUR", 100,
    )  # fmt: skip
    assert (fund.established_ts, fund.dissolves_ts) == (START, T0 + 60 * DAY)
    assert (fund.remainder, fund.remainder_to) == (R.REMAINDER_GIVE, "the tool library")
    assert fund.balance == 0 and fund.ledger == ()
    assert steward_now(state, fund) == w.mid("bob")
    nxt = handover(state, fund)
    assert nxt is not None and (nxt.ts, nxt.steward) == (START + 7 * DAY, w.mid("cai"))
    assert F.days_left(fund, NOW) == -(-(fund.dissolves_ts - NOW) // DAY)
    assert state.find_fund("seed FUND").id == fund_id and state.find_fund(fund_id[:6]) is fund


def test_contributions_and_a_stewards_disbursement_are_signed_and_attributed() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    fund = w.establish()
    ref = w.contribute("cai", START + 10, fund, 80)
    w.contribute("ana", START + 20, fund, 30)
    out = w.disburse("bob", START + 30, fund, 50)
    state = w.fold(now=NOW)
    assert ledger(state, fund) == [
        ("contribution", 80, 80, None), ("contribution", 30, 110, None),
        ("disbursement", 50, 60, None),
    ]  # fmt: skip
    first, _, paid = state.funds[fund].ledger
    assert (first.member, first.ref, first.device) == (w.mid("cai"), ref, w.dev("cai"))
    assert (paid.member, paid.ref, paid.to) == (w.mid("bob"), out, "Hardware")
    assert state.funds[fund].balance == 60
    assert F.balance_series(state.funds[fund]) == [
        (START, 0), (START + 10, 80), (START + 20, 110), (START + 30, 60),
    ]  # fmt: skip


def test_only_the_current_steward_disburses_and_a_refusal_stays_in_the_ledger() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish()
    w.contribute("ana", START + 10, fund, 80)
    w.disburse("cai", START + 20, fund, 10)  # cai's term has not begun
    state = w.fold(now=NOW)
    (refusal,) = state.funds[fund].refused()
    assert (refusal.rule, refusal.member, refusal.amount) == (
        R.FUND_STEWARD_ONLY, w.mid("cai"), 10,
    )  # fmt: skip
    assert state.funds[fund].balance == 80
    assert R.FUND_STEWARD_ONLY in [e.rule for e in state.ignored()]


def test_a_disbursement_above_the_threshold_needs_a_decision() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish(threshold=100)
    w.contribute("ana", START + 10, fund, 500)
    w.disburse("bob", START + 20, fund, 101)
    state = w.fold(now=START + 100)
    assert ledger(state, fund)[-1] == ("refused", 101, 500, R.FUND_THRESHOLD)
    assert "needs a decision with a disburse effect" in state.funds[fund].ledger[-1].detail
    # The same amount, by decision, is paid when the decision takes effect.
    decided = w.decide(START + 1_000, A.DisburseEffect(fund=fund, amount=300, to="Greenhouse"))
    state = w.fold(now=NOW)
    entry = state.funds[fund].ledger[-1]
    assert (entry.kind, entry.amount, entry.balance, entry.decision) == (
        "disbursement", 300, 200, decided,
    )  # fmt: skip
    assert entry.ts == START + 1_000 + COOLING


def test_a_decision_cannot_disburse_more_than_the_balance_and_says_why_on_record() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish()
    w.contribute("ana", START + 10, fund, 40)
    w.decide(START + 1_000, A.DisburseEffect(fund=fund, amount=41, to="Greenhouse"))
    state = w.fold(now=NOW)
    assert ledger(state, fund)[-1] == ("refused", 41, 40, R.FUND_NEVER_NEGATIVE)
    assert [(e.act_type, e.rule) for e in state.effect_log][-1] == (
        "effect:disburse", R.FUND_NEVER_NEGATIVE,
    )  # fmt: skip


def test_a_double_spend_across_a_partition_is_decided_by_the_global_order() -> None:
    """The steward's laptop and phone each spend 70 of 100 while apart: each side accepts
    its own; once both sides hold everything, the earlier in the global order is paid and the
    other is refused, with the same ledger on every node."""
    w = FundWorld("bob", "cai")
    fund = w.establish()
    w.contribute("ana", START + 10, fund, 100)
    base = {m: list(d) for m, d in w.docs.items()}
    w.disburse("bob", START + 500, fund, 70, device=0)
    laptop = {m: list(d) for m, d in w.docs.items()}
    w.docs = {m: list(d) for m, d in base.items()}
    w.disburse("bob", START + 400, fund, 70, device=1)
    phone = {m: list(d) for m, d in w.docs.items()}
    for side in (laptop, phone):
        alone = fold(snapshot_of(w.assembly_id, side), NOW)
        assert alone.funds[fund].balance == 30 and not alone.funds[fund].refused()
    bob = w.mid("bob")
    merged = {**laptop, bob: [*laptop[bob], phone[bob][-1]]}
    reordered = {**phone, bob: [*phone[bob], laptop[bob][-1]]}
    one = fold(snapshot_of(w.assembly_id, merged), NOW)
    other = fold(snapshot_of(w.assembly_id, reordered), NOW)
    assert one.funds[fund] == other.funds[fund]
    assert [(e.kind, e.device, e.rule) for e in one.funds[fund].ledger[1:]] == [
        ("disbursement", w.dev("bob", 1), None),  # the phone's came first in causal time
        ("refused", w.dev("bob", 0), R.FUND_NEVER_NEGATIVE),
    ]
    assert one.funds[fund].balance == 30


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 120)), min_size=1, max_size=12))
def test_the_balance_never_goes_below_zero_whatever_is_spent(moves: list[tuple[bool, int]]) -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish(threshold=120)
    for i, (spend, amount) in enumerate(moves):
        if spend:
            w.disburse("bob", START + 10 + i, fund, amount)
        else:
            w.contribute("cai", START + 10 + i, fund, amount)
    state = w.fold(now=NOW)
    balance = 0
    for e in state.funds[fund].ledger:
        assert e.balance >= 0
        if e.accepted:
            balance += e.amount if e.kind == F.CONTRIBUTION else -e.amount
        assert e.balance == balance
        assert e.accepted or e.rule == R.FUND_NEVER_NEGATIVE


def test_the_steward_rotates_at_the_end_of_a_term_and_skips_a_member_who_left() -> None:
    w = FundWorld("bob", "cai", "dee")
    fund = w.establish(stewards=("bob", "cai", "dee"), term_days=7)

    def steward(at: int) -> str | None:
        state = w.fold(now=at)
        return steward_now(state, state.funds[fund])

    assert steward(START) == w.mid("bob")
    assert steward(START + 7 * DAY - 1) == w.mid("bob")
    assert steward(START + 7 * DAY) == w.mid("cai")
    assert steward(START + 14 * DAY) == w.mid("dee")
    assert steward(START + 21 * DAY) == w.mid("bob")
    # Cai leaves (removed by a decision) during bob's first term: the rotation passes over.
    w.decide(START + 2_000, A.RemoveMemberEffect(member=w.mid("cai")), voters=("bob", "dee"))
    assert steward(START + 7 * DAY) == w.mid("dee")
    assert steward(START + 14 * DAY) == w.mid("bob")
    state = w.fold(now=START + 3 * DAY)
    nxt = handover(state, state.funds[fund])
    assert nxt is not None and nxt.steward == w.mid("dee")
    # Only the steward of the day disburses: dee, in her term, and not bob.
    w.contribute("ana", START + 7 * DAY + 5, fund, 50)
    w.disburse("bob", START + 7 * DAY + 10, fund, 5)
    w.disburse("dee", START + 7 * DAY + 20, fund, 5)
    assert [k for k, *_ in ledger(w.fold(now=START + 8 * DAY), fund)] == [
        "contribution", "refused", "disbursement",
    ]  # fmt: skip


def test_a_steward_who_leaves_mid_term_is_stood_in_for_until_the_term_ends() -> None:
    w = FundWorld("bob", "cai", "dee")
    fund = w.establish(stewards=("bob", "cai", "dee"), term_days=7)
    w.decide(START + 2_000, A.RemoveMemberEffect(member=w.mid("bob")), voters=("cai",))
    state = w.fold(now=START + DAY)
    assert steward_now(state, state.funds[fund]) == w.mid("cai")
    state = w.fold(now=START + 7 * DAY)
    assert steward_now(state, state.funds[fund]) == w.mid("cai")  # cai's own term
    state = w.fold(now=START + 14 * DAY)
    assert steward_now(state, state.funds[fund]) == w.mid("dee")


def test_shortening_the_dissolution_date_takes_a_decision_and_never_lengthens() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish(dissolves=T0 + 60 * DAY)
    w.decide(START + 1_000, A.ShortenFundEffect(fund=fund, dissolves=T0 + 90 * DAY))
    state = w.fold(now=NOW)
    assert state.funds[fund].dissolves_ts == T0 + 60 * DAY  # a later date is not applied
    assert state.effect_log[-1].rule == R.FUND_SHORTEN_ONLY
    assert "lengthen_fund" in state.effect_log[-1].detail
    w.decide(START + 2_000, A.ShortenFundEffect(fund=fund, dissolves=T0 + 30 * DAY))
    state = w.fold(now=NOW)
    assert state.funds[fund].dissolves_ts == T0 + 30 * DAY
    moved = state.funds[fund].ledger[-1]
    assert moved.kind == F.SUNSET and "shortened" in moved.note


def test_lengthening_needs_a_decision_of_its_own() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish(dissolves=T0 + 60 * DAY)
    longer = A.LengthenFundEffect(fund=fund, dissolves=T0 + 90 * DAY)
    # Carried beside another effect, the proposal itself is refused.
    pid = w.propose("ana", START + 900, "Two things", effects=(longer, A.SetRuleEffect(
        rule="quorum", value=1)))  # fmt: skip
    state = w.fold(now=NOW)
    assert pid not in state.proposals
    assert R.FUND_LENGTHEN_ALONE in [e.rule for e in state.ignored()]
    # Alone in its proposal, adopted in its own round, it lengthens.
    w.decide(START + 2_000, longer)
    state = w.fold(now=NOW)
    assert state.funds[fund].dissolves_ts == T0 + 90 * DAY
    assert "lengthened" in state.funds[fund].ledger[-1].note
    # An earlier date by lengthen_fund is refused too: each effect moves one way only.
    w.decide(START + 3_000, A.LengthenFundEffect(fund=fund, dissolves=T0 + 70 * DAY))
    state = w.fold(now=NOW)
    assert state.funds[fund].dissolves_ts == T0 + 90 * DAY
    assert state.effect_log[-1].rule == R.EFFECT_APPLIES


def test_a_supporters_pledge_pauses_and_resumes() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    w.decide(T0 - 2_000, A.AdmitSupporterEffect(member=w.mid("olga"), until=T0 + 300 * DAY))
    fund = w.establish()
    w.write("olga", A.Pledge, START + 10, fund=fund, amount=25, every_days=30)
    w.write("olga", A.Contribute, START + 20, fund=fund, amount=25)
    w.write("olga", A.PausePledge, START + 30, fund=fund, paused=True)
    w.write("olga", A.PausePledge, START + 40, fund=fund, paused=True)  # already paused
    w.write("cai", A.PausePledge, START + 50, fund=fund, paused=True)  # cai pledged nothing
    state = w.fold(now=START + 45)
    f = state.funds[fund]
    assert f.pledges[w.mid("olga")].paused_ts == START + 30
    assert f.running_pledges(START + 45) == ()
    assert [(e.kind, e.rule) for e in f.ledger] == [
        ("pledge", None), ("contribution", None), ("pause", None),
        ("refused", R.PLEDGE_EXISTS), ("refused", R.PLEDGE_EXISTS),
    ]  # fmt: skip
    assert "already paused" in f.ledger[3].detail and "no pledge" in f.ledger[4].detail
    w.write("olga", A.PausePledge, START + 60, fund=fund, paused=False)
    state = w.fold(now=NOW)
    f = state.funds[fund]
    assert [p.member for p in f.running_pledges(NOW)] == [w.mid("olga")]
    assert [e.kind for e in f.ledger][-2:] == ["refused", "resume"]
    assert f.balance == 25


def test_a_supporters_objection_to_a_fund_decision_is_not_counted_and_says_why() -> None:
    w = FundWorld("bob", supporters=("olga",))
    w.decide(T0 - 2_000, A.AdmitSupporterEffect(member=w.mid("olga"), until=T0 + 300 * DAY))
    pid = w.propose("ana", T0 - 500, "Seed fund", effects=(w.fund_effect(("bob",)),))
    rid = w.open_round("ana", T0 - 400, pid)
    w.to_positions("ana", T0 - 300, rid)
    w.position("bob", T0 - 200, rid)
    w.position("olga", T0 - 100, rid, R.OBJECT, "we want a say over the money")
    close = w.close("ana", T0, rid)
    state = w.fold(now=NOW)
    decision = w.ref("ana", close)
    assert state.rounds[rid].outcome == R.OUTCOME_ADOPTED
    assert state.decisions[decision].status == R.IN_EFFECT
    assert len(state.funds) == 1
    (ignored,) = not_counted(state, decision)
    assert (ignored.name, ignored.kind, ignored.reason) == (
        "olga", R.OBJECT, "we want a say over the money",
    )  # fmt: skip
    assert R.SUPPORTER_MAY_NOT in ignored.why and "advisory" in ignored.why


def test_a_supporter_contributes_but_never_disburses_nor_stewards() -> None:
    w = FundWorld("bob", supporters=("olga",))
    w.decide(T0 - 2_000, A.AdmitSupporterEffect(member=w.mid("olga"), until=T0 + 300 * DAY))
    refused = w.decide(T0 + 500, w.fund_effect(("olga",), name="Olga's"))
    fund = w.establish(T0 + 1_000, stewards=("bob",))
    w.contribute("olga", START + 2_000, fund, 10)
    w.disburse("olga", START + 2_010, fund, 5)
    state = w.fold(now=NOW)
    assert [e.rule for e in state.effect_log if e.ref == refused] == [R.SUPPORTER_NO_ROLE]
    assert [(e.kind, e.rule) for e in state.funds[fund].ledger] == [
        ("contribution", None), ("refused", R.SUPPORTER_MAY_NOT),
    ]  # fmt: skip


def test_at_its_dissolution_date_the_fund_closes_and_returns_the_balance() -> None:
    w = FundWorld("bob", "cai")
    end = T0 + 20 * DAY
    fund = w.establish(dissolves=end)
    w.contribute("ana", START + 10, fund, 30)
    w.contribute("cai", START + 20, fund, 70)
    w.disburse("bob", START + 30, fund, 33)
    before = w.fold(now=end - 1)
    assert before.funds[fund].open_at(end - 1) and before.funds[fund].dissolved_ts is None
    # Moved forward in time without a refold, the fund dissolves as a fold would have it.
    from assemblymesh.model import at_time

    assert at_time(before, end + DAY).funds[fund] == w.fold(now=end + DAY).funds[fund]
    w.contribute("cai", end + 5, fund, 10)  # too late
    state = w.fold(now=end + DAY)
    f = state.funds[fund]
    assert f.dissolved_ts == end and not f.open_at(end) and f.balance == 0
    returns = [(e.member, e.amount) for e in f.ledger if e.kind == F.RETURN]
    assert returns == [(w.mid("ana"), 20), (w.mid("cai"), 47)]  # 67 left, in proportion
    assert [(e.kind, e.rule) for e in f.ledger][-2:] == [
        ("dissolution", None), ("refused", R.FUND_OPEN),
    ]  # fmt: skip
    assert steward_now(state, f) is None and F.days_left(f, end) == 0


def test_a_fund_that_gives_its_balance_names_the_recipient_in_the_ledger() -> None:
    w = FundWorld("bob", "cai")
    end = T0 + 20 * DAY
    fund = w.establish(dissolves=end, remainder=R.REMAINDER_GIVE, remainder_to="Tool library")
    w.contribute("cai", START + 20, fund, 70)
    f = w.fold(now=end).funds[fund]
    last = f.ledger[-1]
    assert (last.kind, last.amount, last.to, last.balance) == ("dissolution", 70, "Tool library", 0)
    assert "given to Tool library" in last.note


def test_a_shortened_date_already_passed_dissolves_the_fund_when_it_takes_effect() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish()
    w.contribute("cai", START + 20, fund, 70)
    d = w.decide(START + 1_000, A.ShortenFundEffect(fund=fund, dissolves=START))
    f = w.fold(now=NOW).funds[fund]
    assert f.dissolved_ts == START + 1_000 + COOLING
    assert [e.kind for e in f.ledger][-3:] == ["dissolution-date", "return", "dissolution"]
    assert f.ledger[-3].decision == d


def test_bad_fund_acts_are_audited_never_raised() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish()
    w.write("bob", A.Disburse, START + 10, fund="00" * 8, amount=5, to="x")
    doc = A.Contribute(id=w.next_id(), ts=START + 20, fund=fund, amount=1).to_doc()
    w.add("bob", {**doc, "amount": 0, "device": w.dev("bob")})
    w.add("bob", {**doc, "id": w.next_id(), "fund": "zz", "device": w.dev("bob")})
    state = w.fold(now=NOW)
    rules = [e.rule for e in state.ignored()]
    assert rules.count(R.FUND_EXISTS) == 1 and rules.count(R.WELL_FORMED) == 2
    assert state.funds[fund].ledger == ()


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(("ana", "bob", "cai")), st.booleans(), st.integers(1, 90)),
        min_size=1,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_every_node_folds_the_same_ledger_whatever_order_the_documents_come_in(
    moves: list[tuple[str, bool, int]], rnd: object
) -> None:
    """Partitions heal into one record: whatever order a node holds the member documents
    in, the fund's ledger (accepted and refused entries alike) is the same."""
    import random

    assert isinstance(rnd, random.Random)
    w = FundWorld("bob", "cai")
    fund = w.establish(threshold=60)
    for i, (who, spend, amount) in enumerate(moves):
        if spend:
            w.disburse(who, START + 10 + 7 * i, fund, amount, device=i % 2)
        else:
            w.contribute(who, START + 10 + 7 * i, fund, amount, device=i % 2)
    items = list(w.docs.items())
    rnd.shuffle(items)
    one = fold(snapshot_of(w.assembly_id, dict(items)), NOW).funds[fund]
    other = fold(snapshot_of(w.assembly_id, dict(reversed(items))), NOW).funds[fund]
    assert one == other
    assert all(e.balance >= 0 for e in one.ledger)
