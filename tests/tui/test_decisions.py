"""Decisions that do what they say, on the screens: reviews due, supporters, typed effects."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TextArea

from assemblymesh.model import acts as A
from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.model.effect_text import EFFECT_FORMS, effect_as_text, parse_effect
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.dialogs import TextDialog
from assemblymesh.tui.render import consent_loop, position_note, proposal_header
from assemblymesh.tui.view import digest, member_label, rows_for
from tests.model.helpers import founded
from tests.tui.conftest import DAY, Trio, proposal_in_positions, settle, shown


def text_of(app: AssemblyApp, selector: str) -> str:
    return shown(app, selector)


def notice_of(app: AssemblyApp) -> str:
    notice = app.screen.query_one(".notice", Static)
    return str(notice.render()) if notice.display else ""


def adopted(trio: Trio) -> str:
    """Compost bins adopted by all three; the clock is where it takes effect."""
    pid, rid = proposal_in_positions(trio)
    for name in ("Rosa", "Kofi", "Amara"):
        trio.act(name, commands.position, rid, R.CONSENT, "", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.clock.advance(3 * DAY + 1)  # cooling-off over: the decision is in effect
    return pid


async def test_a_due_review_shows_on_every_screen_and_the_facilitator_opens_it(
    trio: Trio,
) -> None:
    pid = adopted(trio)
    trio.clock.advance(30 * DAY)  # the review period (make_trio's rules) has passed
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert "1 decision due for review" in notice_of(app)
        rows = app.screen.query_one("#proposals", DataTable)
        assert str(rows.get_row_at(0)[0]) == "review due"
        for key in ("3", "4", "5"):
            await pilot.press(key)
            await pilot.pause()
            assert "1 decision due for review" in notice_of(app), key
        assert "review due" in str(app.screen.query_one("#hist-proposals", DataTable).get_row_at(0))
        assert "DUE FOR REVIEW since" in text_of(app, "#loop")

        await pilot.press("2")
        await pilot.pause()
        assert app.selected == pid  # back on the agenda
        assert "DUE FOR REVIEW since" in text_of(app, "#m-title")
        assert "Due for review since" in text_of(app, "#m-outcome")
        await pilot.press("o")
        await settle(app, pilot)
        assert ">QUESTIONS<" in text_of(app, "#m-title")
        assert not notice_of(app)
        assert any("review round opened" in n.message for n in app._notifications)

    p = trio.reopen().proposals[pid]
    assert p.state == R.IN_ROUND and len(p.rounds) == 2


async def test_a_review_round_not_due_yet_is_refused_with_the_date(trio: Trio) -> None:
    pid = adopted(trio)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert not notice_of(app)
        await pilot.press("2")
        await pilot.pause()
        app.selected = pid
        await pilot.press("o")
        await settle(app, pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert "due for review on" in errors[0].message
        assert "\n" not in errors[0].message
    assert len(trio.reopen().proposals[pid].rounds) == 1


async def test_only_a_facilitator_opens_a_due_review(trio: Trio) -> None:
    pid = adopted(trio)
    trio.clock.advance(30 * DAY)
    app = trio.app("Kofi")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert "1 decision due for review" in notice_of(app)
        await pilot.press("2")
        await pilot.pause()
        app.selected = pid
        await pilot.press("o")
        await settle(app, pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and errors[-1].message.startswith("Only a facilitator opens a review round")
    assert len(trio.reopen("Kofi").proposals[pid].rounds) == 1


async def test_effects_typed_in_the_propose_form_are_checked_then_carried(trio: Trio) -> None:
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        assert str(dialog.query_one("#effects-hint", Static).render()) == EFFECT_FORMS
        await pilot.press(*"Kofi facilitates", "enter", *"Kofi takes the chair.")
        effects = dialog.query_one("#effects", TextArea)
        effects.load_text("grant-role:Kofi:facilitator:90\ngrant-role:Zed:facilitator:90")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # nothing is put to the assembly with a bad effect
        error = shown(app, "#error")
        assert error.startswith("Effect on line 2 (grant-role:Zed:facilitator:90): no member")
        assert "\n" not in error
        effects.load_text("grant-role:Kofi:facilitator:90\n\nrule:quorum=3")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, TextDialog)

        detail = text_of(app, "#me-detail")
        assert "When it takes effect:" in detail
        assert "- Kofi becomes facilitator for 90 days" in detail
        # The amend form starts from the effects as text; what is typed replaces them.
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        effects = dialog.query_one("#effects", TextArea)
        assert effects.text == "grant-role:Kofi:facilitator:90\nrule:quorum=3"
        effects.load_text("rule:review-days=60")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("5")
        await pilot.pause()
        loop = text_of(app, "#loop")
        assert "effect: Kofi becomes facilitator for 90 days" in loop
        assert "effect: rule review_period_ms becomes" in loop

    state = trio.reopen("Amara")
    (p,) = state.proposals.values()
    kofi = state.find_member("Kofi").id
    assert p.versions[0].effects == (
        A.GrantRoleEffect(member=kofi, role=R.FACILITATOR, term_days=90),
        A.SetRuleEffect(rule="quorum", value=3),
    )
    assert p.latest.effects == (A.SetRuleEffect(rule="review_period_ms", value=60 * DAY),)


async def test_an_amendment_left_with_its_effects_keeps_them_exactly(trio: Trio) -> None:
    state = trio.rosa.state()
    until = 1_800_000_123_456  # not a whole day: typed back as a date it would move
    effect = A.AdmitSupporterEffect(member=state.find_member("Kofi").id, until=until)
    pid = str(trio.act("Rosa", commands.propose, "Guest", "Kofi advises.", (effect,)).ref)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        assert dialog.query_one("#effects", TextArea).text == "admit-supporter:Kofi:2027-01-15"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert trio.reopen().proposals[pid].latest.effects == (effect,)


def test_effects_read_back_as_the_text_they_are_typed_in() -> None:
    w = founded("bob")
    state = w.fold()
    for text in (
        "grant-role:bob:note-taker:30",
        "end-role:bob:steward",
        "rule:cooling-off-hours=48",
        "rule:block-threshold=2",
        "admit-supporter:bob:2030-05-01",
        "end-supporter:bob",
        "remove:bob",
    ):
        assert effect_as_text(state, parse_effect(state, text)) == text


async def test_supporters_are_marked_and_their_positions_advisory(trio: Trio) -> None:
    """The screens draw what the digest holds: one with a supporter, put in directly
    (supporters join with invites only the model's helpers write here)."""
    w = founded("bob")
    w.supporter("olga", 1_300)
    w.decide(1_900, A.AdmitSupporterEffect(member=w.mid("olga"), until=R.DAY_MS * 400))
    pid = w.propose("olga", 5_000, "Open the workshop to neighbours")
    rid = w.open_round("ana", 5_100, pid)
    w.to_positions("ana", 5_200, rid)
    w.position("olga", 5_300, rid, R.OBJECT, "Neighbours need a key")
    w.position("bob", 5_400, rid)
    quiet = w.propose("ana", 5_500, "Paint the door")
    quiet_round = w.open_round("ana", 5_600, quiet)
    w.to_positions("ana", 5_700, quiet_round)
    d = digest(w.fold(now=10_000), w.mid("ana"))
    p = d.state.proposals[pid]

    assert member_label(d.state, w.mid("olga")) == "olga (supporter, standing until 1971-02-05)"
    assert rows_for(d.state, [p])[0][1][3] == "olga (supporter)"
    assert "by olga (supporter, standing until" in str(proposal_header(d, p, None))
    pos = d.state.rounds[rid].positions[w.mid("olga")]
    assert position_note(d.state, pos).endswith(": advisory, does not count")
    assert any("by olga (supporter, standing" in str(r) for r in consent_loop(d, p).renderables)
    ended = digest(w.fold(now=R.DAY_MS * 401), w.mid("ana"))
    assert member_label(ended.state, w.mid("olga")) == "olga (supporter, standing ended)"

    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        app.selected = pid
        app._apply(d)
        await pilot.pause()
        table = app.screen.query_one("#m-positions", DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        olga = rows["olga (supporter, standing until 1971-02-05)"]
        assert str(olga[1]) == "OBJECT" and "advisory" in str(olga[3])
        outcome = text_of(app, "#m-outcome")
        assert "1 of 2 positions" in outcome and "1 advisory from supporters" in outcome
        assert "olga (OBJECT, advisory): Neighbours need a key" in outcome
        assert "objection(s) stand" not in outcome

        # Where nobody has spoken, members are awaited and a supporter is not.
        app.selected = quiet
        app._apply(digest(w.fold(now=10_000), w.mid("ana")))
        await pilot.pause()
        table = app.screen.query_one("#m-positions", DataTable)
        notes = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[3]) for i in range(3)}
        assert notes == {
            "ana": "waiting",
            "bob": "waiting",
            "olga (supporter, standing until 1971-02-05)": "advisory",
        }
