"""The library: other assemblies' publications this assembly took in, and what came of them.

Each entry is an ``import_publication`` act of some member, whose file every node verifies
(``model.publication``) when it folds: the library is part of the record, the same on every
node. It is bounded (``MAX_ENTRIES``, and each file by ``acts.MAX_PUBLICATION_BYTES``).

The queries here are pure functions of the folded state: the items on the shelf, and the
replication both ways - proposals put forward from another assembly's item and adopted here
(``adoptions_from_others``), and adoption notes from other assemblies about items this
assembly first published (``adoptions_by_others``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from assemblymesh.errors import IllegalMoveError, PublicationError
from assemblymesh.model import rules as R
from assemblymesh.model.publication import Publication, PublishedItem, read_publication
from assemblymesh.model.state import AssemblyState, by_prefix

MAX_ENTRIES: Final = 256


@dataclass(frozen=True)
class LibraryEntry:
    """A publication in the library: verified, with who took it in and when."""

    id: str  # the publication's id (hex)
    publication: Publication
    imported_by: str
    imported_ts: int  # causal time of the import act
    ref: str  # the import act's ref


def entry_for(
    library: Mapping[str, LibraryEntry],
    assembly_id: bytes,
    data: bytes,
    member: str,
    ts: int,
    ref: str,
) -> LibraryEntry:
    """The library entry an import act makes, or ``IllegalMoveError`` naming the rule."""
    try:
        publication = read_publication(data)
    except PublicationError as exc:
        # The English detail: the fold records it the same on every node, whatever the language.
        raise IllegalMoveError(R.PUBLICATION_VERIFIES, exc.detail) from exc
    if publication.header.assembly == assembly_id:
        raise IllegalMoveError(
            R.PUBLICATION_FROM_ELSEWHERE, "this publication is this assembly's own"
        )
    if publication.id in library:
        raise IllegalMoveError(
            R.LIBRARY_ONCE, f"publication {publication.id[:8]} is already in the library"
        )
    if len(library) >= MAX_ENTRIES:
        raise IllegalMoveError(R.LIBRARY_BOUNDED, f"the library holds {MAX_ENTRIES} publications")
    return LibraryEntry(publication.id, publication, member, ts, ref)


def items(library: Mapping[str, LibraryEntry]) -> dict[str, tuple[LibraryEntry, PublishedItem]]:
    """Every item on the shelf by id, with the first entry that brought it."""
    out: dict[str, tuple[LibraryEntry, PublishedItem]] = {}
    for entry in library.values():
        for item in entry.publication.items:
            out.setdefault(item.id, (entry, item))
    return out


def check_origin(library: Mapping[str, LibraryEntry], origin: str | None) -> None:
    """A proposal's origin names an item of the library as it stands when it is proposed."""
    if origin is None:
        return
    if not any(i.id == origin for e in library.values() for i in e.publication.items):
        raise IllegalMoveError(R.ORIGIN_IN_LIBRARY, f"item {origin[:8]} is not in the library")


def find_item(state: AssemblyState, prefix: str) -> tuple[LibraryEntry, PublishedItem]:
    """A library item by unique id prefix (``NotFoundError`` / ``UsageError``)."""
    return by_prefix("library item", items(state.library), prefix)


def find_entry(state: AssemblyState, prefix: str) -> LibraryEntry:
    return by_prefix("publication", state.library, prefix)


# --- replication, both ways -----------------------------------------------------------------


@dataclass(frozen=True)
class Adoption:
    """One initiative replicated: an item first published by ``origin_assembly`` adopted by
    ``adopting_assembly``."""

    item: str  # the adopted item's id (hex)
    title: str
    origin_assembly: str  # hex
    adopting_assembly: str  # hex
    adopting_name: str
    ts: int  # when the decision took effect (here), or the note's publication time (there)
    proposal: str = ""  # the proposal here, for adoptions from others
    note: str = ""  # the adoption note's publication id, for adoptions by others


def adoptions_from_others(state: AssemblyState) -> tuple[Adoption, ...]:
    """Proposals put forward from another assembly's item and adopted here, in effect."""
    shelf = items(state.library)
    out = []
    for p in state.proposals.values():
        if p.origin is None or p.state != R.ADOPTED or p.origin not in shelf:
            continue
        decision = state.decisions.get(p.decision) if p.decision is not None else None
        _, item = shelf[p.origin]
        out.append(
            Adoption(
                item=item.id,
                title=p.title,
                origin_assembly=item.origin_assembly,
                adopting_assembly=state.assembly_id.hex(),
                adopting_name=state.assembly.name if state.assembly is not None else "",
                ts=decision.effective_ts if decision is not None else p.created_ts,
                proposal=p.id,
            )
        )
    return tuple(out)


def adoptions_by_others(state: AssemblyState) -> tuple[Adoption, ...]:
    """Adoption notes in the library about items this assembly first published."""
    mine = state.assembly_id.hex()
    out = []
    seen: set[tuple[str, str]] = set()
    for entry in state.library.values():
        header = entry.publication.header
        for item in entry.publication.items:
            if item.adopts is None or item.adopts_from != mine:
                continue
            key = (item.adopts, header.assembly.hex())
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Adoption(
                    item=item.adopts,
                    title=item.item.title,
                    origin_assembly=mine,
                    adopting_assembly=header.assembly.hex(),
                    adopting_name=header.assembly_name,
                    ts=header.created_ms,
                    note=entry.id,
                )
            )
    return tuple(out)


def replication(state: AssemblyState) -> dict[str, int]:
    """The counts the initiative-replication metric reads: adopted here from others, and
    adopted elsewhere from this assembly (each adopting assembly and item once)."""
    return {
        "adopted_from_others": len(adoptions_from_others(state)),
        "adopted_by_others": len(adoptions_by_others(state)),
    }


def entry_data(entry: LibraryEntry) -> dict[str, Any]:
    """One library entry as plain data (``status --json``, ``publication show --json``)."""
    h = entry.publication.header
    return {
        "id": entry.id,
        "title": h.title,
        "note": h.note,
        "assembly": h.assembly.hex(),
        "assembly_name": h.assembly_name,
        "publisher": h.publisher_name,
        "publisher_member": h.member.hex(),
        "publisher_device": h.proof.certificate.device.hex(),
        "created_ms": h.created_ms,
        "imported_by": entry.imported_by,
        "imported_ms": entry.imported_ts,
        "items": [
            {
                "id": i.id,
                "kind": i.item.kind,
                "title": i.item.title,
                "body": i.item.body,
                "fields": dict(i.item.fields),
                "origin_assembly": i.origin_assembly,
                "origin_name": i.origin_name,
                "via": [dataclasses.asdict(s) for s in i.via],
                "adopts": i.adopts,
            }
            for i in entry.publication.items
        ],
    }


def as_data(state: AssemblyState) -> dict[str, Any]:
    """The library and the replication both ways, as plain data."""
    return {
        "entries": [entry_data(e) for e in state.library.values()],
        "replication": replication(state),
        "adoptions_from_others": [dataclasses.asdict(a) for a in adoptions_from_others(state)],
        "adoptions_by_others": [dataclasses.asdict(a) for a in adoptions_by_others(state)],
    }


__all__ = [
    "MAX_ENTRIES",
    "Adoption",
    "LibraryEntry",
    "adoptions_by_others",
    "adoptions_from_others",
    "as_data",
    "check_origin",
    "entry_data",
    "entry_for",
    "find_entry",
    "find_item",
    "items",
    "replication",
]
