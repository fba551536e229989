"""Round deadlines on screen: the reminder while a round waiting for me nears its deadline,
the home screen's "waiting for you", and the meeting's deadline and who has not spoken."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.app import AssemblyApp
from tests.tui.conftest import Trio, settle, shown

HOUR = 3_600_000


def round_with_deadline(trio: Trio, title: str, hours: int) -> tuple[str, str]:
    """Kofi's proposal ``title`` in the positions phase, closing ``hours`` from now."""
    pid = str(trio.act("Kofi", commands.propose, title, "Details.").ref)
    deadline = trio.clock.now + hours * HOUR
    rid = str(trio.act("Rosa", commands.open_round, pid, None, deadline).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    return pid, rid


def notice_of(app: AssemblyApp) -> str:
    notice = app.screen.query_one(".notice", Static)
    return str(notice.render()) if notice.display else ""


async def test_a_near_deadline_reminds_the_member_it_waits_for_on_every_screen(
    trio: Trio,
) -> None:
    round_with_deadline(trio, "Compost bins", 20)
    round_with_deadline(trio, "Rain barrel", 30)
    trio.act("Rosa", commands.position, _round_of(trio, "Compost bins"), R.CONSENT, "", None)
    app = trio.app("Amara")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        notice = notice_of(app)
        assert "'Compost bins' waits for your position" in notice and "in 19h" in notice
        assert "Rain barrel" not in notice
        side = shown(app, "#side-panel")
        assert "Waiting for you (2)" in side and "Compost bins: deadline" in side
        await pilot.press("3")
        await settle(app, pilot)
        assert "'Compost bins' waits for your position" in notice_of(app)
        rounds = app.screen.query_one("#my-rounds", DataTable)
        assert [str(rounds.get_row_at(i)[0]) for i in range(2)] == ["Compost bins", "Rain barrel"]
        assert [str(rounds.get_row_at(i)[1]) for i in range(2)] == ["in 19h 59m", "in 1d 5h"]
        app.selected = _proposal_of(app, "Compost bins")
        await pilot.press("2")
        await settle(app, pilot)
        outcome = shown(app, "#m-outcome")
        assert "Deadline " in outcome and "a facilitator closes the round" in outcome
        assert "No position yet: Amara, Kofi" in outcome


async def test_the_closing_time_fits_beside_the_rounds_waiting_for_me(trio: Trio) -> None:
    round_with_deadline(trio, "Compost bins", 20)
    app = trio.app("Amara")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        rounds = app.screen.query_one("#my-rounds", DataTable)
        columns = list(rounds.columns.values())
        assert [str(c.label) for c in columns][:2] == ["Proposal", "Closes"]
        # Seen without scrolling: the title and the closing time fit in the left pane.
        shown_width = sum(c.get_render_width(rounds) for c in columns[:2])
        assert shown_width <= rounds.scrollable_content_region.width


async def test_no_reminder_while_the_deadline_is_far_or_my_position_is_in(trio: Trio) -> None:
    round_with_deadline(trio, "Compost bins", 30)
    _, near = round_with_deadline(trio, "Rain barrel", 2)
    trio.act("Kofi", commands.position, near, R.CONSENT, "", None)
    app = trio.app("Kofi")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert notice_of(app) == ""
        side = shown(app, "#side-panel")
        assert "Waiting for you (1)" in side and "Compost bins" in side


def _round_of(trio: Trio, title: str) -> str:
    state = trio.rosa.state()
    (p,) = [p for p in state.proposals.values() if p.title == title]
    return p.rounds[-1]


def _proposal_of(app: AssemblyApp, title: str) -> str:
    assert app.digest is not None
    (p,) = [p for p in app.digest.state.proposals.values() if p.title == title]
    return p.id
