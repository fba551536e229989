"""One proposal, round or decision in full: what ``assemblymesh show REF`` prints.

Everything here is read from the folded state, so every node that holds the same acts
shows the same thing.
"""

from __future__ import annotations

from typing import Any

from assemblymesh.errors import NotFoundError, UsageError
from assemblymesh.i18n import N_, _, format_datetime
from assemblymesh.model import AssemblyState, Decision, Position, Proposal, Round
from assemblymesh.model import rules as R
from assemblymesh.model.acts import Effect
from assemblymesh.model.effect_text import effect_as_text
from assemblymesh.model.thread import ThreadEntry, thread_of
from assemblymesh.model.vocabulary import Words

Item = Proposal | Round | Decision
ITEM_KINDS = {"proposal": N_("a proposal"), "round": N_("a round"), "decision": N_("a decision")}


def find_item(state: AssemblyState, ref: str) -> tuple[str, Item]:
    """The one proposal, round or decision whose id starts with ``ref``."""
    if not ref.strip():
        raise UsageError(_("give the id (or a unique prefix) of a proposal, round or decision"))
    hits: list[tuple[str, Item]] = []
    for kind, find in (
        ("proposal", state.find_proposal),
        ("round", state.find_round),
        ("decision", state.find_decision),
    ):
        try:
            hits.append((kind, find(ref)))
        except NotFoundError:
            continue
    if not hits:
        raise NotFoundError(
            _("no proposal, round or decision has an id starting {prefix!r}").format(
                prefix=ref.strip()
            )
        )
    if len(hits) > 1:
        kinds = _(" and ").join(_(ITEM_KINDS[kind]) for kind, _item in hits)
        raise UsageError(
            _("id {prefix!r} is ambiguous ({kinds} match); give more").format(
                prefix=ref.strip(), kinds=kinds
            )
        )
    return hits[0]


def item_data(state: AssemblyState, item: Item) -> dict[str, Any]:
    if isinstance(item, Proposal):
        return proposal_data(state, item)
    if isinstance(item, Round):
        return round_data(state, item)
    return decision_data(state, item)


def _name(state: AssemblyState, member: str | None) -> str:
    """A member's name, marked when they are a supporter; ``?`` when not yet received."""
    m = state.members.get(member) if member is not None else None
    if m is None:
        return "?" if member is None else member[:8]
    # English whatever the language: this name goes into ``show --json`` too.
    return f"{m.name} (supporter)" if m.supporter else m.name


def _effects(state: AssemblyState, effects: tuple[Effect, ...]) -> dict[str, Any]:
    return {
        "effects": [e.to_doc() for e in effects],
        "effects_text": [effect_as_text(state, e) for e in effects],
    }


def proposal_data(state: AssemblyState, p: Proposal) -> dict[str, Any]:
    rounds = [state.rounds[rid] for rid in p.rounds if rid in state.rounds]
    return {
        "kind": "proposal",
        "id": p.id,
        "title": p.title,
        "state": p.state,
        "author": p.author,
        "author_name": _name(state, p.author),
        "by_supporter": p.by_supporter,
        "closing_note": p.closing_note,
        "decision": p.decision,
        "versions": [
            {
                "number": v.number,
                "author": v.author,
                "author_name": _name(state, v.author),
                "ts": v.ts,
                "note": v.note,
                "body": v.body,
                **_effects(state, v.effects),
            }
            for v in p.versions
        ],
        "rounds": [
            {
                "id": r.id,
                "version": r.version,
                "phase": r.phase,
                "phase_label": Words(state.vocabulary).phase(r.phase),
                "outcome": r.outcome,
                "decision": r.decision,
            }
            for r in rounds
        ],
    }


def _position(state: AssemblyState, pos: Position) -> dict[str, Any]:
    return {
        "member": pos.member,
        "name": _name(state, pos.member),
        "kind": pos.kind,
        "kind_label": Words(state.vocabulary).kind(pos.kind),
        "reason": pos.reason,
        "provisional": pos.provisional,
        "advisory": pos.advisory,
        "late": pos.late,
        "recorded_by": pos.recorded_by,
        "ts": pos.ts,
    }


def round_data(state: AssemblyState, r: Round) -> dict[str, Any]:
    p = state.proposals.get(r.proposal)
    d = state.decisions.get(r.decision) if r.decision is not None else None
    positions = list(r.positions.values())
    if d is not None:
        positions += [o for o in d.late_objections if o not in positions]
    return {
        "kind": "round",
        "id": r.id,
        "proposal": r.proposal,
        "title": p.title if p is not None else None,
        "version": r.version,
        "phase": r.phase,
        "phase_label": Words(state.vocabulary).phase(r.phase),
        "facilitator": r.facilitator,
        "facilitator_name": _name(state, r.facilitator),
        "opened_ts": r.opened_ts,
        "closed_by": r.closed_by,
        "closed_ts": r.closed_ts,
        "outcome": r.outcome,
        "announced": r.announced,
        "decision": r.decision,
        "statement": r.statement,
        "positions": [_position(state, pos) for pos in positions],
        "thread": thread_data(state, r),
    }


def _comment(state: AssemblyState, c: ThreadEntry) -> dict[str, Any]:
    return {
        "id": c.ref,
        "kind": c.kind,
        "text": c.text,
        "author": c.author,
        "name": _name(state, c.author),
        "recorded_by": c.recorded_by,
        "recorded_by_name": _name(state, c.recorded_by),
        "supporter": c.by_supporter,
        "phase": c.phase,
        "ts": c.ts,
    }


def thread_data(state: AssemblyState, r: Round) -> list[dict[str, Any]]:
    """The round's questions and reactions in order, each question with its answers."""
    return [
        {**_comment(state, s.entry), "answers": [_comment(state, a) for a in s.answers]}
        for s in thread_of(state.comments, r.id)
    ]


def decision_data(state: AssemblyState, d: Decision) -> dict[str, Any]:
    p = state.proposals.get(d.proposal)
    return {
        "kind": "decision",
        "id": d.id,
        "proposal": d.proposal,
        "title": p.title if p is not None else None,
        "round": d.round,
        "version": d.version,
        "status": d.status,
        "decided_by": d.decided_by,
        "decided_by_name": _name(state, d.decided_by),
        "decided_ts": d.decided_ts,
        "effective_ts": d.effective_ts,
        "review_ts": d.review_ts,
        "statement": d.statement,
        "late_objections": [_position(state, o) for o in d.late_objections],
        **_effects(state, d.effects),
    }


# --- for people --------------------------------------------------------------------------------


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return format_datetime(ms) + " UTC"


def _indented(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in text.splitlines()] or [prefix + _("(empty)")]


def proposal_lines(data: dict[str, Any], words: Words) -> list[str]:
    lines = [
        _("{proposal} {id}: {title}").format(
            proposal=words.title("proposal"), id=data["id"][:8], title=data["title"]
        ),
        "  "
        + _("state: {state}; put by {name}").format(state=data["state"], name=data["author_name"]),
    ]
    if data["closing_note"]:
        lines.append("  " + _("rejected because: {note}").format(note=data["closing_note"]))
    for v in data["versions"]:
        head = _("Version {number} by {name}, {when}").format(
            number=v["number"], name=v["author_name"], when=_when(v["ts"])
        )
        note = f": {v['note']}" if v["note"] else ""
        lines.append(f"\n  {head}{note}")
        lines += _indented(v["body"])
        lines += ["    " + _("does: {effect}").format(effect=e) for e in v["effects_text"]]
    heading = _("{rounds} ({count}):").format(
        rounds=words.title("rounds"), count=len(data["rounds"])
    )
    lines.append(f"\n  {heading}")
    for r in data["rounds"]:
        outcome = r["outcome"] or _("open")
        decision = "; " + _("decision {id}").format(id=r["decision"][:8]) if r["decision"] else ""
        lines.append(
            f"    {r['id'][:8]}  v{r['version']}  {r['phase_label']:<10} {outcome}{decision}"
        )
    return lines


def _position_line(pos: dict[str, Any]) -> str:
    marks = [
        _(mark)
        for mark, on in (
            (N_("provisional"), pos["provisional"]),
            (N_("advisory"), pos["advisory"]),
            (N_("late"), pos["late"]),
        )
        if on
    ]
    marked = f" [{', '.join(marks)}]" if marks else ""
    reason = f": {pos['reason']}" if pos["reason"] else ""
    return f"    {pos['kind_label']:<8} {pos['name']}{marked}{reason}"


_MARK = {R.QUESTION: "Q", R.REACTION: "R", R.ANSWER: "A"}


def comment_line(c: dict[str, Any], indent: str = "    ") -> list[str]:
    """One comment: 'Q 1a2b3c4d Kofi (recorded by Rosa): text', more lines indented."""
    who = _("{name} (supporter)").format(name=c["name"]) if c["supporter"] else c["name"]
    if c["recorded_by"] != c["author"]:
        who += " " + _("(recorded by {name})").format(name=c["recorded_by_name"])
    first, *rest = c["text"].splitlines() or [""]
    head = f"{indent}{_MARK.get(c['kind'], '?')} {c['id'][:8]} {who}: {first}"
    return [head, *(f"{indent}  {line}" for line in rest)]


def thread_lines(thread: list[dict[str, Any]]) -> list[str]:
    count = sum(1 + len(s["answers"]) for s in thread)
    lines = ["\n  " + _("Questions and reactions ({count}):").format(count=count)]
    for strand in thread:
        lines += comment_line(strand)
        for answer in strand["answers"]:
            lines += comment_line(answer, "        ")
    if not thread:
        lines.append("    " + _("none yet"))
    return lines


def round_lines(data: dict[str, Any], words: Words) -> list[str]:
    lines = [
        _("{round} {id} on {title} (version {version})").format(
            round=words.title("round"),
            id=data["id"][:8],
            title=data["title"] or "?",
            version=data["version"],
        ),
        "  "
        + _("phase: {phase}; facilitator {name}; opened {when}").format(
            phase=data["phase_label"], name=data["facilitator_name"], when=_when(data["opened_ts"])
        ),
        "\n  " + _("Positions ({count}):").format(count=len(data["positions"])),
    ]
    lines += [_position_line(pos) for pos in data["positions"]]
    lines += thread_lines(data["thread"])
    if data["outcome"] is not None:
        lines.append(
            "\n  "
            + _("outcome: {outcome} (closed {when})").format(
                outcome=data["outcome"], when=_when(data["closed_ts"])
            )
        )
        if data["announced"] not in (None, data["outcome"]):
            lines.append(
                "  "
                + _(
                    "announced at close: {announced}; positions from members out of range "
                    "arrived afterwards"
                ).format(announced=data["announced"])
            )
    if data["decision"]:
        lines.append("  " + _("decision: {id}").format(id=data["decision"][:8]))
    if data["statement"]:
        lines.append("  " + _("statement:"))
        lines += _indented(data["statement"])
    return lines


def decision_lines(data: dict[str, Any], words: Words) -> list[str]:
    lines = [
        _("Decision {id} on {title} (version {version})").format(
            id=data["id"][:8], title=data["title"] or "?", version=data["version"]
        ),
        "  "
        + _("status: {status}; closed by {name} {when}").format(
            status=data["status"], name=data["decided_by_name"], when=_when(data["decided_ts"])
        ),
        "  "
        + _("effective {effective}; review by {review}").format(
            effective=_when(data["effective_ts"]), review=_when(data["review_ts"])
        ),
    ]
    if data["statement"]:
        lines.append("  " + _("statement:"))
        lines += _indented(data["statement"])
    lines += ["  " + _("does: {effect}").format(effect=e) for e in data["effects_text"]]
    late = _("late {objection}: {position}")
    lines += [
        "  " + late.format(objection=words.term("objection"), position=_position_line(o).strip())
        for o in data["late_objections"]
    ]
    return lines


def item_lines(data: dict[str, Any], words: Words | None = None) -> list[str]:
    """``data`` for people, in the assembly's words (``words``, else the default ones)."""
    words = words if words is not None else Words()
    kind = data["kind"]
    if kind == "proposal":
        return proposal_lines(data, words)
    if kind == "round":
        return round_lines(data, words)
    return decision_lines(data, words)
