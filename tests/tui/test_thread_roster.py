"""The meeting screen's thread (ask, react, answer; a facilitator recording for someone),
closing times set when opening or advancing, members without a device (added, recorded for,
given a claim code) and roles (directly while founding, else a drafted decision)."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable, Input, Select, Static, TextArea

from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.model.acts import GrantRoleEffect
from assemblymesh.model.thread import thread_of
from assemblymesh.tui.app import AssemblyApp
from assemblymesh.tui.dialogs import PositionDialog, TextDialog
from assemblymesh.tui.forms import CommentDialog, DeadlineDialog, NameDialog, RoleDialog
from assemblymesh.tui.sync import InviteScreen
from tests.tui.conftest import Trio, settle, shown

HOUR = 3_600_000


def text_of(app: AssemblyApp, selector: str) -> str:
    return shown(app, selector)


def notes(app: AssemblyApp) -> str:
    return "\n".join(n.message for n in app._notifications)


def row_of(app: AssemblyApp, name: str) -> int:
    table = app.screen.query_one("#m-positions", DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    return names.index(name)


async def test_ask_answer_and_react_from_the_meeting_with_one_recorded_for_someone(
    trio: Trio,
) -> None:
    pid = str(trio.act("Kofi", commands.propose, "Compost bins", "Two bins by the shed.").ref)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    amara = trio.member("Amara")
    app = trio.app()
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        assert "No questions or reactions yet" in text_of(app, "#m-thread")
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, CommentDialog)
        await pilot.press(*"Who empties them?", "enter")
        await settle(app, pilot)
        await pilot.press("k")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CommentDialog)
        await pilot.press(*"Do they smell?")
        dialog.query_one("#for", Select).value = amara  # Amara asked aloud; no phone
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("y")
        await pilot.pause()
        answer = app.screen
        assert isinstance(answer, CommentDialog)
        choices = answer.query_one("#question", Select)
        assert [str(label) for label, _ in choices._options] == [
            "Q1 Rosa: Who empties them?",
            "Q2 Amara: Do they smell?",
        ]
        thread = thread_of(app.digest.state.comments, rid)  # type: ignore[union-attr]
        choices.value = thread[1].entry.ref
        await pilot.press(*"Not if they are turned weekly.", "enter")
        await settle(app, pilot)
        shown = text_of(app, "#m-thread")
        assert "Q1 Rosa: Who empties them?" in shown
        assert "Q2 Amara (recorded by Rosa): Do they smell?" in shown
        assert "↳ Rosa: Not if they are turned weekly." in shown
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Good idea.", "enter")
        await settle(app, pilot)
        assert "R1 Rosa: Good idea." in text_of(app, "#m-thread")
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("k")
        await pilot.pause()
        assert not isinstance(app.screen, CommentDialog)
        assert "questions and reactions came before" in notes(app)
    state = trio.reopen()
    strands = thread_of(state.comments, rid)
    assert [s.entry.kind for s in strands] == [R.QUESTION, R.QUESTION, R.REACTION]
    assert strands[1].entry.author == amara and strands[1].entry.proxy
    assert [a.parent for a in strands[1].answers] == [strands[1].entry.ref]


async def test_a_closing_time_is_set_when_opening_and_changed_when_advancing(
    trio: Trio,
) -> None:
    pid = str(trio.act("Kofi", commands.propose, "Compost bins", "Two bins by the shed.").ref)
    app = trio.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("O")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DeadlineDialog)
        await pilot.press(*"tomorrow", "enter")
        await pilot.pause()
        assert app.screen is dialog  # refused under the field, nothing written
        assert "is not a closing time" in shown(app, "#error")
        dialog.query_one("#deadline", Input).value = "48h"
        await pilot.press("enter")
        await settle(app, pilot)
        (r,) = app.digest.state.rounds.values()  # type: ignore[union-attr]
        assert r.deadline is not None and abs(r.deadline - r.opened_ts - 48 * HOUR) < 60_000
        assert "Deadline " in text_of(app, "#m-outcome")
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DeadlineDialog)
        assert "Now: deadline " in str(dialog.query_one("#current", Static).render())
        await pilot.press(*"2030-01-01 12:00", "enter")
        await settle(app, pilot)
    (r,) = trio.reopen().rounds.values()
    assert r.phase == R.REACTIONS and r.proposal == pid
    assert r.deadline == int(dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC).timestamp() * 1000)


async def test_a_member_without_a_device_is_added_recorded_for_and_given_a_claim_code(
    trio: Trio,
) -> None:
    pid = str(trio.act("Kofi", commands.propose, "Compost bins", "Two bins by the shed.").ref)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    app = trio.app()
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NameDialog)
        await pilot.press(*"Grandmother Ama", "enter")
        await settle(app, pilot)
        table = app.screen.query_one("#m-positions", DataTable)
        table.move_cursor(row=row_of(app, "Grandmother Ama (no device)"))
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PositionDialog)
        await pilot.press("tab", *"said so", "enter")
        await settle(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InviteScreen)
        assert "One-time code for Grandmother Ama" in text_of(app, "#invite-about")
        code = screen.code
        await pilot.press("escape")
    state = trio.reopen()
    elder = state.find_member("Grandmother Ama")
    assert elder.deviceless
    assert state.rounds[rid].positions[elder.id].provisional
    assert any(rec.claim == elder.id for rec in state.invites.values())
    joiner = trio.homes["Amara"].root.parent / "ama"
    from assemblymesh.home import Home
    from assemblymesh.sim.memory import pump

    ama = Home(joiner, trio.clock).join(code, "Ama")
    rosa = trio.homes["Rosa"].open()
    try:
        for _ in range(2):
            pump(ama.replica, rosa.replica)
            pump(rosa.replica, ama.replica)
        after = ama.state()
        me = after.members[ama.member_id]
        assert me.claimed_from == elder.id
        assert after.rounds[rid].positions[ama.member_id].reason == "said so"
    finally:
        ama.close()
        rosa.close()


async def test_a_role_is_granted_while_founding_and_drafted_as_a_decision_after(
    trio: Trio,
) -> None:
    kofi, amara = trio.member("Kofi"), trio.member("Amara")
    app = trio.app()
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        # No proposal chosen yet: the member list is there all the same.
        table = app.screen.query_one("#m-positions", DataTable)
        table.move_cursor(row=row_of(app, "Kofi"))
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, RoleDialog)
        await pilot.press("ctrl+s")  # facilitator, granted for 90 days
        await settle(app, pilot)
        assert app.digest.state.members[kofi].has_role(  # type: ignore[union-attr]
            R.FACILITATOR,
            app.digest.now_ms,  # type: ignore[union-attr]
        )
        # The first decision ends the founding period: roles change by decision from then.
        local = app.local
        assert local is not None
        pid = local.act(commands.propose, "Rota", "Weekly.").ref
        rid = local.act(commands.open_round, pid, None).ref
        local.act(commands.advance_round, rid)
        local.act(commands.advance_round, rid)
        local.act(commands.position, rid, R.CONSENT, "", None)
        local.act(commands.position, rid, R.CONSENT, "", kofi)
        local.act(commands.close_round, rid, "")
        await settle(app, pilot)
        assert not app.digest.state.founding_period  # type: ignore[union-attr]
        table = app.screen.query_one("#m-positions", DataTable)
        table.move_cursor(row=row_of(app, "Amara"))
        await pilot.press("g")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        dialog.query_one("#days", Input).value = "30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        draft = app.screen
        assert isinstance(draft, TextDialog)
        assert draft.query_one("#title", Input).value == "Amara as facilitator for 30 days"
        assert draft.query_one("#effects", TextArea).text == "grant-role:Amara:facilitator:30"
        assert "role-by-decision" in notes(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    state = trio.reopen()
    (drafted,) = [p for p in state.proposals.values() if p.title.startswith("Amara as")]
    assert drafted.latest.effects == (
        GrantRoleEffect(member=amara, role=R.FACILITATOR, term_days=30),
    )
    assert not state.members[amara].has_role(R.FACILITATOR, state.now_ms)
