"""The assembly's own words on the screens: a decision renames the terms, the screens show
them, and the folded record keeps its ids."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import DataTable

from assemblymesh import i18n
from assemblymesh.model import acts as A
from assemblymesh.model import commands
from assemblymesh.model import rules as R
from assemblymesh.tui.render import consent_loop, proposal_header
from assemblymesh.tui.view import digest
from tests.tui.conftest import DAY, Trio, proposal_in_positions, settle, shown

OUR_WORDS = (
    A.WordsEffect(
        labels={
            "round": "circle",
            "rounds": "circles",
            "positions": "voices",
            "object": "block",
            "objections": "blocks",
            "facilitator": "host",
        }
    ),
    A.WordsEffect(lang="es", labels={"round": "ronda", "object": "bloqueo"}),
)


def renamed(trio: Trio) -> tuple[str, str]:
    """A decision giving the assembly its words, in effect; then a round on a new
    proposal with Kofi's block. Returns (proposal, round)."""
    pid = str(trio.act("Rosa", commands.propose, "Our words", "Plain words.", OUR_WORDS).ref)
    rid = str(trio.act("Rosa", commands.open_round, pid, None).ref)
    trio.act("Rosa", commands.advance_round, rid)
    trio.act("Rosa", commands.advance_round, rid)
    for name in ("Rosa", "Kofi", "Amara"):
        trio.act(name, commands.position, rid, R.CONSENT, "", None)
    trio.act("Rosa", commands.close_round, rid)
    trio.clock.advance(3 * DAY + 1)
    pid, rid = proposal_in_positions(trio)
    trio.act("Kofi", commands.position, rid, R.OBJECT, "the bins smell", None)
    return pid, rid


async def test_the_screens_show_the_assemblys_words(trio: Trio) -> None:
    pid, rid = renamed(trio)
    kofi = trio.member("Kofi")
    app = trio.app()
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(app, pilot)
        assert app.sub_title == "you: Rosa (host)"
        rows = app.screen.query_one("#proposals", DataTable)
        assert "voices" in [str(c) for c in rows.get_row(pid)]  # the phase, in our words
        await pilot.press("3")
        await settle(app, pilot)
        titles = [str(w.border_title) for w in app.screen.query(DataTable)]
        assert "Circles waiting for me" in titles
        await pilot.press("2")
        await settle(app, pilot)
        assert app.selected == pid  # the one proposal in a round
        title = shown(app, "#m-title")
        assert f"circle {rid[:8]} on v1" in title
        assert "questions - reactions - >VOICES< - closed" in title
        outcome = shown(app, "#m-outcome")
        assert "1 blocks stand." in outcome and "Kofi (BLOCK): the bins smell" in outcome
        cells = [str(c) for c in app.screen.query_one("#m-positions", DataTable).get_row(kofi)]
        assert "BLOCK" in cells
    # The record holds the stable ids whatever the screens show.
    state = trio.reopen()
    assert [p.kind for p in state.rounds[rid].objections] == [R.OBJECT]
    assert state.rounds[rid].phase == R.POSITIONS


def test_two_nodes_show_the_same_state_in_their_own_words(trio: Trio) -> None:
    pid, rid = renamed(trio)
    rosa, kofi = trio.reopen("Rosa"), trio.reopen("Kofi")
    assert rosa.rounds == kofi.rounds and rosa.vocabulary == kofi.vocabulary
    p, r = rosa.proposals[pid], rosa.rounds[rid]

    def header(lang: str) -> str:
        i18n.set_language(lang)
        try:
            d = digest(kofi if lang == "es" else rosa, trio.member("Kofi"))
            console = Console(width=200, record=True, file=io.StringIO())
            console.print(proposal_header(d, p, r), consent_loop(d, p))
            return console.export_text()
        finally:
            i18n.set_language("en")

    english, spanish = header("en"), header("es")
    assert "circle" in english and ">VOICES<" in english and "ronda" not in english
    # Spanish: the assembly's Spanish label, else the catalogue's word for the term.
    assert f"ronda {rid[:8]}" in spanish and ">POSICIONES<" in spanish
    assert "circle" not in spanish
