"""A meeting's minutes for people: the text the note-taker writes from, what changed since
it was sealed, and the minutes as Markdown or as a self-contained HTML page.

The minutes are the sealed text (a signed act, ``seal_minutes``) when there is one, else the
shared text as it stands (marked not sealed). Around it the record gives what every node
agrees on: date, place, kind, roles, attendance, the agenda in order with each item's
outcome and the decisions linked to it.
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

from assemblymesh import i18n
from assemblymesh.i18n import N_, _, format_date, format_datetime, label
from assemblymesh.model import AssemblyState
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import Meeting, agenda, meeting_decisions, minutes_hash
from assemblymesh.model.vocabulary import Words

# Marked for the catalogue: translate where shown, with ``_(KIND_LABELS[kind])``.
KIND_LABELS = {
    R.REGULAR: N_("regular"),
    R.REFLECTION: N_("reflection"),
    R.ABSENCE: N_("strategic absence"),
}
ITEM_LABELS = {
    R.ITEM_PROPOSAL: N_("proposal"),
    R.ITEM_TOPIC: N_("topic"),
    R.ITEM_REPORT: N_("report back"),
    R.ITEM_QUESTION: N_("question"),
}
STATE_LABELS = {
    R.SCHEDULED: N_("scheduled"),
    R.IN_SESSION: N_("in session"),
    R.ENDED: N_("ended"),
    R.CANCELLED: N_("cancelled"),
}
OUTCOME_LABELS = {
    R.DISCUSSED: N_("discussed"),
    R.DECIDED: N_("decided"),
    R.DEFERRED: N_("deferred"),
    R.DROPPED: N_("dropped"),
}


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{format_datetime(ms)} UTC"


def name_of(state: AssemblyState, member: str | None) -> str:
    if member is None:
        return "-"
    m = state.members.get(member)
    return m.name if m is not None else member[:8]


def template(state: AssemblyState, m: Meeting) -> str:
    """A starting text for the note-taker: one heading per agenda item, in order, with its
    ref, so each paragraph of the minutes is linked to the item it records."""
    heading = _("Minutes: {title} ({day})").format(
        title=m.title or _("meeting"), day=format_date(m.starts)
    )
    lines = [f"# {heading}", ""]
    for item in agenda(state, m):
        ref = _("[item {id}]").format(id=item.id[:8])
        lines += [f"## {item.title} {ref}", "", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class MinutesText:
    """What the minutes say now, and whether and how that differs from the sealed text."""

    text: str  # the sealed text if sealed, else the shared text
    sealed: bool
    seal_hash: str | None
    current: str  # the shared text as it stands
    changes: tuple[str, ...]  # a unified diff from the sealed text to the current one

    @property
    def changed_since_seal(self) -> bool:
        return bool(self.changes)


def minutes_text(m: Meeting, current: str) -> MinutesText:
    seal = m.sealed
    if seal is None:
        return MinutesText(current, False, None, current, ())
    diff = difflib.unified_diff(
        seal.text.splitlines(),
        current.splitlines(),
        _("sealed {hash}").format(hash=seal.hash[:12]),
        _("current"),
        lineterm="",
    )
    changes = () if minutes_hash(current) == seal.hash else tuple(diff)
    return MinutesText(seal.text, True, seal.hash, current, changes)


def _item_lines(state: AssemblyState, m: Meeting) -> list[str]:
    lines = []
    for n, item in enumerate(agenda(state, m), 1):
        outcome = label(OUTCOME_LABELS, item.outcome) if item.outcome else None
        outcome = outcome or (_("stalled") if m.over else _("open"))
        about = _("{kind}, added by {name}, {count} in support").format(
            kind=label(ITEM_LABELS, item.kind), name=name_of(state, item.added_by),
            count=len(item.backers),
        )  # fmt: skip
        lines.append(f"{n}. **{item.title}** ({about}): {outcome}")
        if item.outcome_note:
            lines.append(f"   {item.outcome_note}")
        if item.decision is not None and item.decision in state.decisions:
            d = state.decisions[item.decision]
            decided = _("decision {id}: {title}").format(
                id=d.id[:8], title=state.proposals[d.proposal].title
            )
            lines.append(f"   {decided}")
    return lines


def markdown(state: AssemblyState, m: Meeting, current: str) -> str:
    """The minutes as Markdown."""
    text = minutes_text(m, current)
    present = [name_of(state, who) for who in m.attendance]
    words = Words(state.vocabulary)
    lines = [
        "# " + (m.title or _("Meeting")),
        "",
        "- " + _("Date: {when}").format(when=when(m.starts)),
        "- " + _("Place: {place}").format(place=m.place or "-"),
        "- " + _("Kind: {kind}").format(kind=words.meeting_kind(m.kind)),
        f"- {words.title(R.FACILITATOR)}: {name_of(state, m.facilitator)}",
        f"- {words.title(R.NOTE_TAKER)}: {name_of(state, m.note_taker)}",
        "- "
        + _("Present ({count}): {names}").format(
            count=len(present), names=", ".join(present) or "-"
        ),
        "",
        "## " + _("Agenda"),
        "",
        *(_item_lines(state, m) or [_("(no items)")]),
        "",
        "## " + _("Decisions"),
        "",
    ]
    for did in meeting_decisions(state, m):
        d = state.decisions[did]
        lines.append(f"- {d.id[:8]} {state.proposals[d.proposal].title} ({d.status})")
    if not meeting_decisions(state, m):
        lines.append(_("(none)"))
    seal = (
        _("Sealed by {name}, BLAKE2b-256 {hash}").format(
            name=name_of(state, m.note_taker), hash=text.seal_hash
        )
        if text.sealed
        else _("Not sealed yet: the shared text as it stands.")
    )
    lines += ["", "## " + _("Minutes"), "", seal, "", text.text.rstrip(), ""]
    if text.changed_since_seal:
        changed = "## " + _("Changed since sealed")
        lines += [changed, "", "```diff", *text.changes, "```", ""]
    return "\n".join(lines)


def page(state: AssemblyState, m: Meeting, current: str) -> str:
    """The minutes as one self-contained HTML page (no scripts, no outside resources)."""
    source = markdown(state, m, current)
    body: list[str] = []
    in_code = False
    for line in source.splitlines():
        if line.startswith("```"):
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
        elif in_code:
            body.append(html.escape(line))
        else:
            body.append(_html_line(line))
    title = html.escape(m.title or _("Meeting"))
    direction = ' dir="rtl"' if i18n.is_right_to_left() else ""
    return (
        f'<!doctype html>\n<html lang="{i18n.language()}"{direction}><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:46em;"
        "margin:2em auto;line-height:1.4}pre{background:#f4f4f4;padding:.5em}</style>"
        "</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _html_line(line: str) -> str:
    escaped = html.escape(line)
    for mark in ("**",):
        while escaped.count(mark) >= 2:
            escaped = escaped.replace(mark, "<strong>", 1).replace(mark, "</strong>", 1)
    if line.startswith("## "):
        return f"<h2>{escaped[3:]}</h2>"
    if line.startswith("# "):
        return f"<h1>{escaped[2:]}</h1>"
    if line.startswith(("- ", "1", "2", "3", "4", "5", "6", "7", "8", "9")):
        return f'<p class="item">{escaped}</p>'
    return f"<p>{escaped}</p>" if line.strip() else ""


__all__ = ["MinutesText", "markdown", "minutes_text", "page", "template"]
