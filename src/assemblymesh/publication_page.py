"""A publication as people read it: Markdown and a standalone HTML page.

Both are rendered from the verified file (``model.publication.read_publication``), so they
show exactly what was signed, and no more.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from typing import Any

from assemblymesh import i18n
from assemblymesh.i18n import N_, _, format_date, label
from assemblymesh.model.publication import Publication, PublishedItem
from assemblymesh.model.publish import KIND_LABELS
from assemblymesh.model.rules import POSITION_KINDS

# Fields shown in words, in this order; the rest follow under their own names.
_FIELD_LABELS = {
    "statement": N_("Statement"),
    "outcome": N_("Outcome"),
    "status": N_("Status"),
    "state": N_("State"),
    "decided_ms": N_("Decided"),
    "effective_ms": N_("In effect from"),
    "created_ms": N_("Proposed"),
    "proposed_by": N_("Proposed by"),
    "facilitated_by": N_("Facilitated by"),
    "tally": N_("Positions"),
    "effects": N_("Effects"),
    "positions": N_("Positions in full"),
    "minutes": N_("Minutes"),
    "origin_title": N_("Adopted from"),
}


def _day(ms: object) -> str:
    if not isinstance(ms, int) or isinstance(ms, bool):
        return str(ms)
    return format_date(ms)


def provenance(item: PublishedItem, pub: Publication) -> str:
    """Who first published an item and which assemblies carried it on, in words."""
    if not item.via:
        return _("first published by {assembly}").format(assembly=pub.header.assembly_name)
    hops = [f"{s.assembly_name} ({_day(s.created_ms)})" for s in item.via]
    return _("first published by {assembly}; carried on by {others}").format(
        assembly=hops[0], others=", ".join([*hops[1:], pub.header.assembly_name])
    )


def item_fields(fields: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    ordered = [k for k in _FIELD_LABELS if k in fields]
    ordered += sorted(k for k in fields if k not in _FIELD_LABELS)
    for key in ordered:
        value = fields[key]
        if value in ("", [], {}, None):
            continue
        label = (
            _(_FIELD_LABELS[key]) if key in _FIELD_LABELS else key.replace("_", " ").capitalize()
        )
        yield label, _value(key, value)


def _value(key: str, value: object) -> str:
    if key.endswith("_ms"):
        return _day(value)
    if key == "tally" and isinstance(value, Mapping):
        order = [k for k in POSITION_KINDS if k in value] + sorted(set(value) - set(POSITION_KINDS))
        return ", ".join(f"{k.replace('_', ' ')} {value[k]}" for k in order)
    if key == "positions" and isinstance(value, list):
        return "; ".join(_position(p) for p in value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _position(p: object) -> str:
    if not isinstance(p, Mapping):
        return str(p)
    text = f"{p.get('by', 'a member')}: {str(p.get('kind', '')).replace('_', ' ')}"
    if p.get("advisory"):
        text += " " + _("(advisory)")
    if p.get("reason"):
        text += f" - {p['reason']}"
    return text


def _signed_by(pub: Publication) -> str:
    h = pub.header
    return _("{name} (member key {member}, device {device})").format(
        name=h.publisher_name or _("a member"),
        member=h.member.hex()[:16],
        device=h.proof.certificate.device.hex()[:16],
    )


# The line under the title, in Markdown and in HTML (the fields carry the markup).
PUBLISHED_BY = N_("Published by {assembly} (assembly {id}) on {date}, signed by {signer}.")


def markdown(pub: Publication) -> str:
    h = pub.header
    lines = [f"# {h.title}", ""]
    lines.append(
        _(PUBLISHED_BY).format(
            assembly=f"**{h.assembly_name}**", id=f"`{h.assembly.hex()}`",
            date=_day(h.created_ms), signer=_signed_by(pub),
        )
    )  # fmt: skip
    lines.append(_("Publication {id}.").format(id=f"`{pub.id}`"))
    if h.note.strip():
        lines += ["", h.note.strip()]
    for item in pub.items:
        kind = label(KIND_LABELS, item.item.kind)
        lines += ["", f"## {kind}: {item.item.title}", ""]
        about = _("Item {id}, {provenance}.").format(
            id=f"`{item.id}`", provenance=provenance(item, pub)
        )
        lines.append(f"*{about}*")
        if item.item.body.strip():
            lines += ["", item.item.body.strip()]
        fields = list(item_fields(item.item.fields))
        if fields:
            lines.append("")
            lines += [f"- **{label}:** {value}" for label, value in fields]
    return "\n".join(lines) + "\n"


def page(pub: Publication) -> str:
    """A standalone HTML page (no scripts, no outside resources)."""
    h = pub.header
    e = html.escape
    direction = ' dir="rtl"' if i18n.is_right_to_left() else ""
    published = _(PUBLISHED_BY).format(
        assembly=f"<strong>{e(h.assembly_name)}</strong>", id=f"<code>{h.assembly.hex()}</code>",
        date=_day(h.created_ms), signer=e(_signed_by(pub)),
    )  # fmt: skip
    publication = _("Publication {id}.").format(id=f"<code>{pub.id}</code>")
    out = [
        "<!doctype html>",
        f'<html lang="{i18n.language()}"{direction}><head><meta charset="utf-8">',
        f"<title>{e(h.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}"
        "code{font-size:.85em}.meta{color:#555}</style></head><body>",
        f"<h1>{e(h.title)}</h1>",
        f'<p class="meta">{published} {publication}</p>',
    ]
    if h.note.strip():
        out.append(f"<p>{e(h.note.strip())}</p>")
    for item in pub.items:
        kind = label(KIND_LABELS, item.item.kind)
        out.append(f"<section><h2>{e(kind)}: {e(item.item.title)}</h2>")
        about = _("Item {id}, {provenance}.").format(
            id=f"<code>{item.id}</code>", provenance=e(provenance(item, pub))
        )
        out.append(f'<p class="meta">{about}</p>')
        for para in item.item.body.strip().split("\n\n"):
            if para.strip():
                out.append(f"<p>{e(para.strip())}</p>")
        fields = list(item_fields(item.item.fields))
        if fields:
            out.append("<dl>")
            out += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in fields]
            out.append("</dl>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


__all__ = ["item_fields", "markdown", "page", "provenance"]
