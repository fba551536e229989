"""The Funds screen (key 6): a fund's ledger, balance plot, steward rotation and countdown;
the Partnerships tab; the Readiness tab; contributing and disbursing from the screen."""

from __future__ import annotations

from textual.widgets import Input, Label, Sparkline, TabbedContent

from assemblymesh.model import acts as A
from assemblymesh.model import commands, fund_commands
from assemblymesh.model import rules as R
from assemblymesh.tui.dialogs import ConfirmDialog
from assemblymesh.tui.funds import AmountDialog, DateDialog, FundsScreen
from tests.tui.conftest import DAY, START, Trio, settle, shown


def decide(trio: Trio, *effects: A.Effect) -> None:
    """Rosa proposes, Rosa and Kofi consent, Rosa closes; the cooling-off passes."""
    pid = str(trio.act("Rosa", commands.propose, "Decide", "...", list(effects)).ref)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.position, rid, R.CONSENT, "", None)
    trio.act("Kofi", commands.position, rid, R.CONSENT, "", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.clock.advance(3 * DAY + 1)


def established_fund(trio: Trio, name: str = "Seed", purpose: str = "Tools") -> str:
    """A fund in EUR, stewarded by Rosa and Kofi in 7-day terms, established by decision."""
    effect = A.EstablishFundEffect(
        name=name, purpose=purpose, unit="EUR", dissolves=START + 40 * DAY,
        remainder=R.REMAINDER_RETURN, threshold=50,
        stewards=(trio.member("Rosa"), trio.member("Kofi")), term_days=7,
    )  # fmt: skip
    decide(trio, effect)
    (fund,) = trio.rosa.state().funds
    return str(fund)


def seed_fund(trio: Trio) -> str:
    fund = established_fund(trio)
    trio.act("Kofi", fund_commands.contribute, fund, 120, "plant sale")
    trio.clock.advance(DAY)
    trio.act("Rosa", fund_commands.disburse, fund, 30, "Spades")
    return fund


async def test_the_funds_screen_shows_ledger_plot_rotation_and_countdown(trio: Trio) -> None:
    seed_fund(trio)
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, FundsScreen)
        summary = shown(app, "#fund-summary")
        assert "Balance: 90 EUR" in summary and "threshold: 50 EUR" in summary
        assert "Stewards, 7-day terms: Rosa -> Kofi" in summary
        assert "Steward now: Rosa" in summary and "Next steward: Kofi from" in summary
        assert "Dissolves in 36 days" in summary
        ledger = shown(app, "#fund-ledger")
        assert "Ledger (2 entries)" in ledger and "plant sale" in ledger and "-> Spades" in ledger
        plot = app.screen.query_one("#fund-plot", Sparkline)
        assert plot.data is not None and max(plot.data) == 120 and plot.data[-1] == 90
        label = app.screen.query_one("#fund-plot-label", Label)
        assert "Balance over time, 0 to 120 EUR, from" in str(label.content)
        assert "6 Funds" in shown(app, ".nav")


async def test_contributing_and_a_refused_disbursement_from_the_screen(trio: Trio) -> None:
    fund = seed_fund(trio)
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6", "c")
        await pilot.pause()
        assert isinstance(app.screen, AmountDialog)
        await pilot.press(*"15", "enter", *"raffle", "enter")
        await settle(app, pilot)
        assert "Balance: 105 EUR" in shown(app, "#fund-summary")
        # Above the threshold: refused before anything is written, with the rule.
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"80", "enter", *"Greenhouse", "enter")
        await settle(app, pilot)
        assert any(R.FUND_THRESHOLD in n.message for n in app._notifications), [
            n.message for n in app._notifications
        ]
    entries = trio.reopen().funds[fund].ledger
    assert [(e.kind, e.amount, e.note) for e in entries][-1] == ("contribution", 15, "raffle")
    assert len(entries) == 3


async def test_the_amount_dialog_says_what_is_missing(trio: Trio) -> None:
    seed_fund(trio)
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6", "d")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AmountDialog)
        await pilot.press(*"5", "enter", "enter")
        await pilot.pause()
        assert "who or what is paid" in shown(app, "#error")
        dialog.query_one("#amount", Input).value = "0"
        await pilot.press("enter")
        await pilot.pause()
        assert "at least 1" in shown(app, "#error")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FundsScreen)


def with_supporter(trio: Trio) -> str:
    code = trio.rosa.issue_invite(kind=R.SUPPORTER_INVITE).encode()
    trio.locals["Olga"] = (
        trio.homes["Rosa"]
        .__class__(trio.root / "olga", trio.clock)
        .join(code, "Olga", trio.ids("Olga"))
    )
    trio.sync()
    return trio.member("Olga")


async def test_the_partnerships_tab_shows_supporters_skills_and_sunset(trio: Trio) -> None:
    fund = seed_fund(trio)
    olga = with_supporter(trio)
    decide(
        trio,
        A.EstablishPartnershipEffect(
            name="Solar", supporters=(olga,), provides="panels",
            skills=(("fit panels", trio.member("Amara")),), sunset=START + 60 * DAY, fund=fund,
        ),
    )  # fmt: skip
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6", "p")
        await pilot.pause()
        tabs = app.screen.query_one("#funds-tabs", TabbedContent)
        assert tabs.active == "partnerships-tab"
        text = shown(app, "#partnerships")
        assert "Solar: in force, sunset" in text and "supporters: Olga" in text
        assert "skill 'fit panels' -> Amara: not yet" in text and "for the fund: Seed" in text


async def test_the_readiness_tab_names_what_would_be_orphaned_and_the_fix(trio: Trio) -> None:
    fund = seed_fund(trio)
    olga = with_supporter(trio)
    decide(
        trio,
        A.EstablishPartnershipEffect(
            name="Legal", supporters=(olga,), provides="advice", sunset=None, fund=fund
        ),
    )
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6", "r")
        await pilot.pause()
        text = shown(app, "#readiness")
        assert "If the supporters withdrew tomorrow, 1 thing would be left without a member" in (
            text
        )
        assert "PARTNERSHIP: partnership 'Legal' has no sunset" in text
        assert "fix: propose --effect shorten-partnership:Legal:YYYY-MM-DD" in text
        await pilot.press("f")
        await pilot.pause()
        assert app.screen.query_one("#funds-tabs", TabbedContent).active == "funds-tab"


async def test_shortening_is_a_proposal_and_lengthening_asks_twice(trio: Trio) -> None:
    fund = seed_fund(trio)
    app = trio.app()
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("6", "s")
        await pilot.pause()
        assert isinstance(app.screen, DateDialog)
        await pilot.press(*"2099-01-01", "enter")  # later: not a shortening
        await settle(app, pilot)
        assert any("press l" in n.message for n in app._notifications)
        await pilot.press("s", *"2023-12-01", "enter")
        await settle(app, pilot)
        await pilot.press("l", *"2024-02-01", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "This LENGTHENS the life of Seed by" in shown(app, "#warning")
        await pilot.press("y")  # not yet: the box must be ticked
        await pilot.pause()
        assert app.screen is dialog and "Tick" in shown(app, "#error")
        dialog.query_one("#anyway").focus()
        await pilot.press("space", "y")
        await settle(app, pilot)
    proposals = list(trio.reopen().proposals.values())[-2:]
    assert [p.title for p in proposals] == ["Dissolve Seed earlier", "LENGTHEN Seed to 2024-02-01"]
    assert [type(p.latest.effects[0]) for p in proposals] == [
        A.ShortenFundEffect, A.LengthenFundEffect,
    ]  # fmt: skip
    assert all(p.latest.effects[0].fund == fund for p in proposals)  # type: ignore[attr-defined]
