"""Library: other assemblies' publications taken in, item by item, with their provenance;
put one forward here as a proposal that keeps its origin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from assemblymesh.i18n import N_, _, format_number, label, ngettext
from assemblymesh.model import commands
from assemblymesh.model import library as lib
from assemblymesh.model.publication import Publication, PublishedItem
from assemblymesh.model.publish import KIND_LABELS
from assemblymesh.publication_page import item_fields, provenance
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import BidiLines, display
from assemblymesh.tui.view import Digest
from assemblymesh.tui.widgets import PagedTable


def item_text(pub: Publication, item: PublishedItem) -> Text:
    """One library item as the screen shows it: what, from whom, by which hops, the text."""
    h = pub.header
    kind = label(KIND_LABELS, item.item.kind)
    text = Text()
    text.append(_("{kind}: {title}").format(kind=kind, title=item.item.title) + "\n", style="bold")
    text.append(f"{provenance(item, pub)}\n")
    signer = h.publisher_name or _("a member")
    verified = _("In '{publication}', verified: signed for {assembly} by {signer}")
    text.append(
        verified.format(publication=h.title, assembly=h.assembly_name, signer=signer) + "\n"
    )
    text.append(_("Item {id}").format(id=item.id) + "\n\n", style="dim")
    if item.item.body.strip():
        text.append(item.item.body.strip() + "\n\n")
    for field, value in item_fields(item.item.fields):
        text.append(_("{label}: ").format(label=_(field)), style="bold")
        text.append(f"{value}\n")
    return text


def library_summary(publications: int, items: int, counts: Mapping[str, int]) -> str:
    """How much the library holds, and how much was adopted each way."""
    held = ngettext("{count} publication", "{count} publications", publications).format(
        count=format_number(publications)
    )
    shelved = ngettext("{count} item", "{count} items", items).format(count=format_number(items))
    line = _("{publications}, {items}.").format(publications=held, items=shelved)
    if not items:
        line += " " + _("'assemblymesh publication import FILE' takes one in.")
    adopted = _(
        "Adopted here from others: {from_others}; adopted by others from here: {by_others}"
    ).format(
        from_others=format_number(counts["adopted_from_others"]),
        by_others=format_number(counts["adopted_by_others"]),
    )
    return f"{line} {adopted}"


class LibraryScreen(AssemblyScreen):
    MODE = "library"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "propose_here", N_("Propose here")),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Static("", id="library-summary", markup=False)
        with Horizontal(id="library-body"):
            yield PagedTable(
                (_("Kind"), _("Title"), _("From")),
                id="library-items",
                empty=_("(none yet)"),
            )
            with VerticalScroll(id="library-scroll"):
                yield Static(_("Choose an item."), id="library-item", markup=False)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.query_one("#library-items", PagedTable).border_title = display(_("Library"))

    def show(self, digest: Digest) -> None:
        state = digest.state
        shelf = lib.items(state.library)
        rows = [
            (ident, (label(KIND_LABELS, i.item.kind), i.item.title, i.origin_name))
            for ident, (_entry, i) in shelf.items()
        ]
        table = self.query_one("#library-items", PagedTable)
        table.set_rows(rows)
        counts = lib.replication(state)
        self.query_one("#library-summary", Static).update(
            BidiLines(Text(library_summary(len(state.library), len(shelf), counts)))
        )
        self._draw(table.current_key)

    def _draw(self, key: str | None) -> None:
        d = self.am.digest
        if d is None or key is None:
            return
        found = lib.items(d.state.library).get(key)
        if found is not None:
            entry, item = found
            self.query_one("#library-item", Static).update(
                BidiLines(item_text(entry.publication, item))
            )

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        self._draw(message.key)

    def action_propose_here(self) -> None:
        d = self.am.digest
        key = self.query_one("#library-items", PagedTable).current_key
        found = lib.items(d.state.library).get(key) if d is not None and key else None
        if found is None:
            self.notify(_("Choose a library item first."), severity="warning")
            return
        entry, item = found
        # The proposal's own text, recorded and signed: it names its origin in English, as
        # the record does, whatever the language of this screen.
        body = (
            f"{item.item.body.strip()}\n\n(From {item.origin_name}'s publication, item {item.id}.)"
        )
        recorded = self.am.write(commands.propose, item.item.title, body.strip(), (), item.id)
        if recorded is not None:
            self.am.selected = recorded.ref
            self.notify(
                _("Proposed '{title}' here, from {assembly}.").format(
                    title=item.item.title, assembly=entry.publication.header.assembly_name
                )
            )
