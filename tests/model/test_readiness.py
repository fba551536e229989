"""The withdrawal-readiness report against small hand-built histories: every line it should
give, and nothing else."""

from __future__ import annotations

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.readiness import Finding, report
from tests.model.fund_world import DAY, T0, FundWorld
from tests.model.helpers import COOLING

START = T0 + COOLING
NOW = START + 5 * DAY


def lines(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.kind, f.orphaned) for f in findings]


def test_an_assembly_that_runs_on_its_members_has_nothing_to_report() -> None:
    w = FundWorld("bob", "cai")
    fund = w.establish(stewards=("bob", "cai"))
    w.contribute("cai", START + 10, fund, 50)
    w.write("bob", A.Pledge, START + 20, fund=fund, amount=5, every_days=7)
    assert report(w.fold(now=NOW)) == []


def test_an_assembly_without_a_facilitator_is_told_how_to_get_one() -> None:
    w = FundWorld("bob")
    state = w.fold(now=1_000 + 701 * DAY)  # the founder's term ran out
    (finding,) = report(state)
    assert (finding.kind, finding.subject) == ("role", R.FACILITATOR)
    assert finding.orphaned == "no member holds the facilitator role"
    assert finding.fix == "propose --effect grant-role:MEMBER:facilitator:DAYS for a member"


def reliant_world() -> tuple[FundWorld, dict[str, str]]:
    """An assembly leaning on its supporter Olga in every way the report looks for."""
    w = FundWorld("bob", "cai", "dee", supporters=("olga",))
    w.grant("ana", 1_200, "cai", R.NOTE_TAKER)  # while founding; ended below
    w.add("cai", {**A.EndRole(id=w.next_id(), ts=1_300, member=w.mid("cai"),
                               role=R.NOTE_TAKER).to_doc(), "device": w.dev("cai")})  # fmt: skip
    w.decide(T0 - 3_000, A.AdmitSupporterEffect(member=w.mid("olga"), until=T0 + 300 * DAY))
    seed = w.establish(T0, stewards=("bob",), dissolves=T0 + 60 * DAY)
    tools = w.establish(T0 + 1_000, stewards=("dee",), name="Tools")
    w.decide(START + 1_500, A.RemoveMemberEffect(member=w.mid("dee")))
    solar = w.partnership(
        START + 2_000,
        A.EstablishPartnershipEffect(
            name="Solar co-op", supporters=(w.mid("olga"),), provides="panels",
            skills=(("fit panels", w.mid("bob")), ("size an array", w.mid("cai"))),
            sunset=T0 + 90 * DAY, fund=seed,
        ),
    )  # fmt: skip
    w.partnership(
        START + 3_000,
        A.EstablishPartnershipEffect(
            name="Legal help", supporters=(w.mid("olga"),), provides="advice", sunset=None
        ),
    )
    # Olga's proposal, adopted; and a members' proposal that heard her advice.
    pid = w.propose("olga", START + 4_000, "Olga's idea")
    rid = w.open_round("ana", START + 4_100, pid)
    w.to_positions("ana", START + 4_200, rid)
    w.position("bob", START + 4_300, rid)
    olgas = w.ref("ana", w.close("ana", START + 4_400, rid))
    pid = w.propose("ana", START + 5_000, "Paint the shed")
    rid = w.open_round("ana", START + 5_100, pid)
    w.to_positions("ana", START + 5_200, rid)
    w.position("bob", START + 5_300, rid)
    w.position("olga", START + 5_310, rid, R.CONCERN, "use the green")
    advised = w.ref("ana", w.close("ana", START + 5_400, rid))
    w.write("cai", A.ConfirmSkill, START + 6_000, partnership=solar, skill="size an array")
    w.contribute("olga", START + 6_100, seed, 500)
    w.write("olga", A.Pledge, START + 6_200, fund=seed, amount=50, every_days=30)
    return w, {"seed": seed, "tools": tools, "solar": solar, "olgas": olgas, "advised": advised}


def test_every_line_of_a_reliant_assembly_names_what_is_orphaned_and_the_fix() -> None:
    w, ids = reliant_world()
    findings = report(w.fold(now=NOW))
    assert lines(findings) == [
        ("role", "no member holds the note-taker role"),
        ("stewardship", "fund 'Seed fund' has one steward (bob): if they leave, nobody disburses"),
        ("fund", "fund 'Tools' has no steward who is still a member"),
        ("skill", "'fit panels' (partnership 'Solar co-op') is not yet transferred to bob"),
        ("income", "fund 'Seed fund' has income only from supporters (olga)"),
        ("decision", "decision on \"Olga's idea\" needed a supporter's input (proposed by olga)"),
        ("decision", "decision on 'Paint the shed' needed a supporter's input (advice of olga)"),
        (
            "partnership",
            "partnership 'Solar co-op' runs past fund 'Seed fund''s dissolution"
            " (1970-04-01 after 1970-03-02)",
        ),
        ("partnership", "partnership 'Legal help' has no sunset: nothing ends the reliance on it"),
    ]
    fixes = [f.fix for f in findings]
    assert fixes[0] == "propose --effect grant-role:MEMBER:note-taker:DAYS for a member"
    assert "fund-stewards:Seed fund:MEMBER+MEMBER:DAYS" in fixes[1]
    assert fixes[2] == "propose --effect fund-stewards:Tools:MEMBER+MEMBER:DAYS"
    assert fixes[3] == "bob confirms once they can do it themselves:" + (
        " partnership confirm 'Solar co-op' 'fit panels'"
    )
    assert "fund contribute 'Seed fund' AMOUNT" in fixes[4]
    assert fixes[7] == "propose --effect shorten-partnership:Solar co-op:1970-03-02"
    assert fixes[8] == "propose --effect shorten-partnership:Legal help:YYYY-MM-DD"
    subjects = [f.subject for f in findings]
    assert subjects[1:8] == [
        ids["seed"], ids["tools"], ids["solar"], ids["seed"], ids["olgas"], ids["advised"],
        ids["solar"],
    ]  # fmt: skip


def test_the_lines_go_as_the_assembly_fixes_them() -> None:
    w, ids = reliant_world()
    w.contribute("bob", START + 7_000, ids["seed"], 10)  # members' income too
    w.write("bob", A.ConfirmSkill, START + 7_100, partnership=ids["solar"], skill="fit panels")
    w.decide(
        START + 8_000,
        A.FundStewardsEffect(fund=ids["seed"], stewards=(w.mid("bob"), w.mid("cai")), term_days=7),
    )
    w.decide(
        START + 9_000,
        A.ShortenPartnershipEffect(partnership=ids["solar"], sunset=T0 + 50 * DAY),
    )
    kinds = [f.kind for f in report(w.fold(now=NOW))]
    assert kinds == ["role", "fund", "decision", "decision", "partnership"]
    # Decisions older than the period no longer count against the assembly.
    later = report(w.fold(now=NOW + 100 * DAY), period_ms=30 * DAY)
    assert "decision" not in [f.kind for f in later]


def test_a_skill_whose_learner_left_says_another_member_must_be_named() -> None:
    w = FundWorld("bob", "cai", supporters=("olga",))
    w.partnership(
        T0,
        A.EstablishPartnershipEffect(
            name="Bees", supporters=(w.mid("olga"),), provides="hives",
            skills=(("keep bees", w.mid("cai")),), sunset=T0 + 20 * DAY,
        ),
    )  # fmt: skip
    w.decide(START + 1_000, A.RemoveMemberEffect(member=w.mid("cai")))
    (finding,) = report(w.fold(now=NOW))
    assert finding.orphaned == (
        "'keep bees' (partnership 'Bees') is not yet transferred to cai, who is no longer a member"
    )
    assert finding.fix == "a new partnership decision names another member to learn it"
