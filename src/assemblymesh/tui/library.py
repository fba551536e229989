"""Library: other assemblies' publications taken in, item by item, with their provenance;
put one forward here as a proposal that keeps its origin."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from assemblymesh.model import commands
from assemblymesh.model import library as lib
from assemblymesh.model.publication import Publication, PublishedItem
from assemblymesh.model.publish import KIND_LABELS
from assemblymesh.publication_page import item_fields, provenance
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.view import Digest
from assemblymesh.tui.widgets import PagedTable


def item_text(pub: Publication, item: PublishedItem) -> Text:
    """One library item as the screen shows it: what, from whom, by which hops, the text."""
    h = pub.header
    label = KIND_LABELS.get(item.item.kind, item.item.kind)
    text = Text()
    text.append(f"{label}: {item.item.title}\n", style="bold")
    text.append(f"{provenance(item, pub)}\n")
    signer = h.publisher_name or "a member"
    text.append(f"In {h.title!r}, verified: signed for {h.assembly_name} by {signer}\n")
    text.append(f"Item {item.id}\n\n", style="dim")
    if item.item.body.strip():
        text.append(item.item.body.strip() + "\n\n")
    for label, value in item_fields(item.item.fields):
        text.append(f"{label}: ", style="bold")
        text.append(f"{value}\n")
    return text


class LibraryScreen(AssemblyScreen):
    MODE = "library"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "propose_here", "Propose here"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Static("", id="library-summary", markup=False)
        with Horizontal(id="library-body"):
            yield PagedTable(
                ("Kind", "Title", "From"),
                id="library-items",
                empty="(none yet)",
            )
            with VerticalScroll(id="library-scroll"):
                yield Static("Choose an item.", id="library-item", markup=False)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.query_one("#library-items", PagedTable).border_title = "Library"

    def show(self, digest: Digest) -> None:
        state = digest.state
        shelf = lib.items(state.library)
        rows = [
            (ident, (KIND_LABELS.get(i.item.kind, i.item.kind), i.item.title, i.origin_name))
            for ident, (_, i) in shelf.items()
        ]
        table = self.query_one("#library-items", PagedTable)
        table.set_rows(rows)
        counts = lib.replication(state)
        hint = "" if shelf else " 'assemblymesh publication import FILE' takes one in."
        self.query_one("#library-summary", Static).update(
            f"{len(state.library)} publication(s), {len(shelf)} item(s).{hint} Adopted here"
            f" from others: {counts['adopted_from_others']}; adopted by others from here:"
            f" {counts['adopted_by_others']}"
        )
        self._draw(table.current_key)

    def _draw(self, key: str | None) -> None:
        d = self.am.digest
        if d is None or key is None:
            return
        found = lib.items(d.state.library).get(key)
        if found is not None:
            entry, item = found
            self.query_one("#library-item", Static).update(item_text(entry.publication, item))

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        self._draw(message.key)

    def action_propose_here(self) -> None:
        d = self.am.digest
        key = self.query_one("#library-items", PagedTable).current_key
        found = lib.items(d.state.library).get(key) if d is not None and key else None
        if found is None:
            self.notify("Choose a library item first.", severity="warning")
            return
        entry, item = found
        body = (
            f"{item.item.body.strip()}\n\n(From {item.origin_name}'s publication, item {item.id}.)"
        )
        recorded = self.am.write(commands.propose, item.item.title, body.strip(), (), item.id)
        if recorded is not None:
            self.am.selected = recorded.ref
            self.notify(
                f"Proposed {item.item.title!r} here, from {entry.publication.header.assembly_name}."
            )
