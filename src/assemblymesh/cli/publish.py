"""``assemblymesh publish ...`` and ``assemblymesh publication ...``: publications between
assemblies.

``publish preview`` / ``publish write FILE`` choose decisions, proposals, lessons and
experiments (and library items to carry on), show what private content is in and out, and
write a signed publication with a Markdown and an HTML rendering beside it. ``publication
import FILE`` verifies another assembly's file and takes it into the library (a signed act);
``list``, ``show``, ``propose`` (a new proposal that keeps its origin) and ``adopt-note``
(publish back that an item was adopted here) work from the library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from assemblymesh import publication_page
from assemblymesh.cli import Context, _write_atomically, pass_ctx, short
from assemblymesh.errors import UsageError
from assemblymesh.home import LocalAssembly
from assemblymesh.i18n import _, label, ngettext
from assemblymesh.minutes import when
from assemblymesh.model import commands
from assemblymesh.model import library as lib
from assemblymesh.model.acts import MAX_PUBLICATION_BYTES
from assemblymesh.model.publication import Publication, read_publication
from assemblymesh.model.publish import KIND_LABELS, Disclosure, Draft, Selection, preview_lines
from assemblymesh.publication_page import provenance

F = TypeVar("F", bound=Callable[..., Any])


def disclosure_options(f: F) -> F:
    """The explicit choices of private content; without them, none leaves."""
    for option in reversed(
        [
            click.option("--names", is_flag=True,
                         help="Name the members who agreed to be named ('publish naming allow')."),
            click.option("--supporter-names", is_flag=True,
                         help="Also name the supporters who agreed to be named."),
            click.option("--reasons", is_flag=True,
                         help="Include the reasons given for positions."),
            click.option("--minutes", is_flag=True, help="Include the minutes kept with rounds."),
        ]
    ):  # fmt: skip
        f = option(f)
    return f


def selection_options(f: F) -> F:
    for option in reversed(
        [
            click.option("--decision", "decisions", multiple=True, metavar="ID",
                         help="A decision (repeatable)."),
            click.option("--proposal", "proposals", multiple=True, metavar="ID",
                         help="A proposal as it stands (repeatable)."),
            click.option("--record", "records", multiple=True, metavar="KIND:ID",
                         help="Any kind of record item, like decision:ID (repeatable)."),
            click.option("--lesson", "lessons", multiple=True, metavar="TEXT",
                         help="A lesson learnt: first line the title, then the text."),
            click.option("--experiment", "experiments", multiple=True, metavar="TEXT",
                         help="An experiment: first line the title, then the text."),
            click.option("--item", "items", multiple=True, metavar="ID",
                         help="A library item to carry on, with its provenance (repeatable)."),
        ]
    ):  # fmt: skip
        f = option(f)
    return disclosure_options(f)


def _selection(opts: dict[str, Any]) -> tuple[Selection, Disclosure]:
    records = [("decision", d) for d in opts.pop("decisions")]
    records += [("proposal", p) for p in opts.pop("proposals")]
    for text in opts.pop("records"):
        kind, sep, ref = text.partition(":")
        if not sep or not ref:
            raise UsageError(
                _("{option} {given!r}: give KIND:ID, like {example}").format(
                    option="--record", given=text, example="decision:1a2b"
                )
            )
        records.append((kind, ref))
    texts = [("lesson", t) for t in opts.pop("lessons")]
    texts += [("experiment", t) for t in opts.pop("experiments")]
    selection = Selection(records, texts, list(opts.pop("items")))
    disclosure = Disclosure(
        names=opts.pop("names"),
        supporter_names=opts.pop("supporter_names"),
        reasons=opts.pop("reasons"),
        minutes=opts.pop("minutes"),
    )
    return selection, disclosure


def _assembly_name(local: LocalAssembly) -> str:
    a = local.state().assembly
    return a.name if a is not None else "?"


def _confirm(yes: bool, question: str, nothing: str | None = None) -> None:
    """Ask before writing; no answer (end of input) is no."""
    if yes:
        return
    try:
        answer = click.confirm(question, default=False, err=True)
    except click.Abort:
        answer = False
        click.echo(err=True)
    if not answer:
        raise UsageError(
            _("{nothing} (answer y, or give {option})").format(
                nothing=nothing or _("nothing written"), option="--yes"
            )
        )


def _write(
    local: LocalAssembly, draft: Draft, path: Path, title: str, note: str, opts: dict[str, Any]
) -> Publication:
    """Seal ``draft`` into ``path`` and write its Markdown and HTML beside it."""
    data = local.seal_publication(draft, title, note)
    publication = read_publication(data)
    _write_atomically(path, lambda out: out.write(data))
    md = opts["markdown"] or path.with_suffix(".md")
    page = opts["html"] or path.with_suffix(".html")
    _write_atomically(md, lambda out: out.write(publication_page.markdown(publication).encode()))
    _write_atomically(page, lambda out: out.write(publication_page.page(publication).encode()))
    click.echo(
        _("wrote {path} ({size} bytes, signed), {markdown} and {html}").format(
            path=path, size=f"{len(data):,}", markdown=md, html=page
        )
    )
    return publication


def render_options(f: F) -> F:
    f = click.option("--html", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Where the HTML page goes (default: FILE with .html).")(f)  # fmt: skip
    f = click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Where the Markdown goes (default: FILE with .md).")(f)  # fmt: skip
    f = click.option("--yes", is_flag=True, help="Write without asking (for scripts).")(f)
    f = click.option("--note", default="", help="A few words for the readers.")(f)
    return f


# --- publish --------------------------------------------------------------------------------


@click.group()
def publish() -> None:
    """Publish decisions, proposals, lessons and experiments for other assemblies."""


@publish.command(name="preview")
@selection_options
@pass_ctx
def publish_preview(ctx: Context, /, **opts: Any) -> None:
    """Show what a publication of these items would include and leave out; write nothing."""
    selection, disclosure = _selection(opts)
    with ctx.open() as local:
        draft = local.draft_publication(selection, disclosure)
        name = _assembly_name(local)
    for line in preview_lines(draft, name):
        click.echo(line)


@publish.command(name="write")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="The publication's title.")
@render_options
@selection_options
@pass_ctx
def publish_write(
    ctx: Context, /, path: Path, title: str, note: str, yes: bool, **opts: Any
) -> None:
    """Show what will be included, ask, then write the signed publication FILE with a
    Markdown and an HTML rendering beside it. Prints the publication id last."""
    render = {"markdown": opts.pop("markdown"), "html": opts.pop("html")}
    selection, disclosure = _selection(opts)
    with ctx.open() as local:
        draft = local.draft_publication(selection, disclosure)
        for line in preview_lines(draft, _assembly_name(local)):
            click.echo(line)
        _confirm(yes, _("Write this publication to {path}?").format(path=path))
        publication = _write(local, draft, path, title, note, render)
    click.echo(publication.id)


@publish.command(name="naming")
@click.argument("choice", type=click.Choice(["allow", "refuse"]))
@pass_ctx
def publish_naming(ctx: Context, choice: str) -> None:
    """Whether publications may name you (they never do unless the publisher also chooses)."""
    with ctx.open() as local:
        recorded = local.act(commands.allow_naming, choice == "allow")
    click.echo(
        _("publications may name you") if choice == "allow" else _("publications will not name you")
    )
    click.echo(recorded.ref)


# --- publication: the library ----------------------------------------------------------------


@click.group()
def publication() -> None:
    """Other assemblies' publications: import, browse, put forward, answer with a note."""


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_PUBLICATION_BYTES:
            raise UsageError(_("{path} is larger than a publication can be").format(path=path))
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)
        ) from exc


def _summary(pub: Publication) -> list[str]:
    h = pub.header
    fields = {
        "title": h.title, "assembly": h.assembly_name, "id": h.assembly.hex()[:12],
        "when": when(h.created_ms), "device": short(h.proof.certificate.device.hex()),
        "member": short(h.member.hex()), "name": h.publisher_name, "count": len(h.proof.chain),
    }  # fmt: skip
    if h.publisher_name:
        verified = ngettext(
            "verified: signed by device {device} of member {member} ({name}), {count} invite"
            " from the founder",
            "verified: signed by device {device} of member {member} ({name}), {count} invites"
            " from the founder",
            len(h.proof.chain),
        )
    else:
        verified = ngettext(
            "verified: signed by device {device} of member {member}, {count} invite from the"
            " founder",
            "verified: signed by device {device} of member {member}, {count} invites from the"
            " founder",
            len(h.proof.chain),
        )
    lines = [
        _("{title!r}, published by {assembly} [{id}] on {when}").format(**fields),
        verified.format(**fields),
    ]
    for item in pub.items:
        kind = label(KIND_LABELS, item.item.kind)
        lines.append(f"  {item.id[:12]}  {kind}: {item.item.title} ({provenance(item, pub)})")
    return lines


@publication.command(name="import")
@click.argument(
    "path", metavar="FILE", type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option("--yes", is_flag=True, help="Import without asking (for scripts).")
@pass_ctx
def publication_import(ctx: Context, path: Path, yes: bool) -> None:
    """Verify another assembly's publication FILE and take it into the library (every
    member's node receives and verifies it too). Prints the publication id last."""
    data = _read_file(path)
    with ctx.open() as local:
        pub = local.read_publication(data)
        if pub.id in local.state().library:
            raise UsageError(
                _("publication {id} is already in the library: nothing changed").format(
                    id=pub.id[:8]
                )
            )
        for line in _summary(pub):
            click.echo(line)
        _confirm(yes, _("Take it into the library?"), _("nothing imported"))
        local.import_publication(data)
    click.echo(pub.id)


@publication.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def publication_list(ctx: Context, as_json: bool) -> None:
    """The library: each publication with its items, and the replication both ways."""
    with ctx.open() as local:
        state = local.state()
    data = lib.as_data(state)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not data["entries"]:
        click.echo(
            _("The library is empty: '{command}' takes a publication in.").format(
                command="publication import FILE"
            )
        )
    for e in data["entries"]:
        click.echo(
            _("{id}  {title}  from {assembly} ({when})").format(
                id=short(e["id"]), title=e["title"], assembly=e["assembly_name"],
                when=when(e["created_ms"]),
            )
        )  # fmt: skip
        for item in e["items"]:
            kind = label(KIND_LABELS, item["kind"])
            click.echo(f"    {item['id'][:12]}  {kind}: {item['title']}")
    r = data["replication"]
    click.echo(
        _("Adopted here from others: {here}; adopted by others from here: {others}").format(
            here=r["adopted_from_others"], others=r["adopted_by_others"]
        )
    )


@publication.command(name="show")
@click.argument("ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def publication_show(ctx: Context, ref: str, as_json: bool) -> None:
    """One publication of the library in full (Markdown), by publication id prefix."""
    with ctx.open() as local:
        entry = lib.find_entry(local.state(), ref)
    if as_json:
        click.echo(json.dumps(lib.entry_data(entry), indent=2, sort_keys=True))
        return
    click.echo(publication_page.markdown(entry.publication), nl=False)


@publication.command(name="propose")
@click.argument("ref", metavar="ITEM")
@click.option("--title", default=None, help="The proposal's title (default: the item's).")
@click.option("--body", default=None, help="The proposal's text (default: the item's).")
@pass_ctx
def publication_propose(ctx: Context, ref: str, title: str | None, body: str | None) -> None:
    """Put a library item forward as a new proposal that keeps a link to its origin.
    Prints the proposal id last."""
    with ctx.open() as local:
        entry, item = lib.find_item(local.state(), ref)
        text = item.item.body if body is None else body
        if body is None:
            text += "\n\n" + _("(From {assembly}'s publication {title!r}, item {id}.)").format(
                assembly=entry.publication.header.assembly_name,
                title=entry.publication.header.title,
                id=item.id,
            )
        recorded = local.act(commands.propose, title or item.item.title, text.strip(), (), item.id)
    click.echo(
        _("proposed {title!r}, from {origin}").format(
            title=title or item.item.title, origin=item.origin_name
        )
    )
    click.echo(recorded.ref)


@publication.command(name="adopt-note")
@click.argument("proposal")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", default=None, help="The publication's title (default: Adopted: ...).")
@render_options
@disclosure_options
@pass_ctx
def publication_adopt_note(
    ctx: Context, /, proposal: str, path: Path, title: str | None, note: str, yes: bool, **opts: Any
) -> None:
    """Publish that PROPOSAL, put forward from a library item, was adopted here: import the
    note at the origin assembly and its replication counts it. Prints the id last."""
    render = {"markdown": opts.pop("markdown"), "html": opts.pop("html")}
    _nothing, disclosure = _selection({**opts, "decisions": (), "proposals": (), "records": (),
                                "lessons": (), "experiments": (), "items": ()})  # fmt: skip
    with ctx.open() as local:
        p = local.state().find_proposal(proposal)
        draft = local.draft_publication(Selection(), disclosure, adoption_of=p.id)
        for line in preview_lines(draft, _assembly_name(local)):
            click.echo(line)
        _confirm(yes, _("Write this adoption note to {path}?").format(path=path))
        default_title = _("Adopted: {title}").format(title=p.title)
        publication = _write(local, draft, path, title or default_title, note, render)
    click.echo(publication.id)
