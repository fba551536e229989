"""The Library screen (key 8): another assembly's publication, item by item, with its
provenance; one key puts an item forward here as a proposal that keeps its origin."""

from __future__ import annotations

from textual.widgets import DataTable

from assemblymesh.home import Home
from assemblymesh.model.publish import Disclosure, Selection
from tests.tui.conftest import Trio, settle, shown


def bakery_publication(trio: Trio) -> bytes:
    """A publication by the Bakery, a neighbouring assembly: one lesson, one experiment."""
    ben = Home(trio.root / "ben", trio.clock).create("Bakery", "Ben", new_id=trio.ids("Ben"))
    try:
        selection = Selection(
            texts=[("lesson", "Ask first\nWe asked the neighbours before building."),
                   ("experiment", "Sourdough Fridays\nOne bake a week, shared.")]
        )  # fmt: skip
        draft = ben.draft_publication(selection, Disclosure())
        return ben.seal_publication(draft, "Bakery notes")
    finally:
        ben.close()


async def test_the_library_lists_items_and_puts_one_forward(trio: Trio) -> None:
    trio.rosa.import_publication(bakery_publication(trio))
    trio.sync()
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 36), notifications=False) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await pilot.pause()
        assert app.screen.MODE == "library"
        table = app.screen.query_one("#library-items", DataTable)
        assert table.row_count == 2
        assert "2 items" in shown(app, "#library-summary")
        detail = shown(app, "#library-item")
        assert "Lesson: Ask first" in detail and "first published by Bakery" in detail
        assert "We asked the neighbours" in detail
        await pilot.press("down")
        await pilot.pause()
        assert "Experiment: Sourdough Fridays" in shown(app, "#library-item")
        await pilot.press("n")
        await settle(app, pilot)
    state = trio.reopen("Rosa")
    (proposal,) = state.proposals.values()
    assert proposal.title == "Sourdough Fridays" and proposal.origin is not None
    assert proposal.origin in {i.id for e in state.library.values() for i in e.publication.items}


async def test_an_empty_library_says_how_to_fill_it(trio: Trio) -> None:
    app = trio.app("Rosa")
    async with app.run_test(size=(120, 36), notifications=False) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await pilot.pause()
        assert "0 publications" in shown(app, "#library-summary")
        await pilot.press("n")
        await pilot.pause()
        assert any("Choose a library item" in n.message for n in app._notifications)
    assert trio.reopen("Rosa").proposals == {}
