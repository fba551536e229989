"""Rich text for the panels. Text objects, never markup: titles and reasons are user input."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from assemblymesh.i18n import _
from assemblymesh.model import AssemblyState, Decision, Position, Proposal, Round
from assemblymesh.model import rules as R
from assemblymesh.model.acts import (
    AddRoleEffect,
    AdmitSupporterEffect,
    Effect,
    EndRoleEffect,
    EndSupporterEffect,
    GrantRoleEffect,
    RemoveMemberEffect,
    RoundShapeEffect,
    SetRuleEffect,
    WordsEffect,
)
from assemblymesh.model.queries import deadline_near, tally, waiting_on
from assemblymesh.model.thread import ThreadEntry, thread_of
from assemblymesh.model.vocabulary import Words
from assemblymesh.tui.peers import PeerInfo
from assemblymesh.tui.view import (
    OUTCOME_LABELS,
    Digest,
    ago,
    announced_change,
    deadline_label,
    kind_label,
    member_label,
    name_of,
    name_of_proposal,
    phase_track,
    round_phases,
    span,
    state_label,
    supporter_note,
    version_diff,
    when,
)


def heading(text: str) -> Text:
    return Text(text, style="bold underline")


def position_note(state: AssemblyState, p: Position) -> str:
    notes = []
    if p.provisional:
        notes.append(f"provisional, recorded by {name_of(state, p.recorded_by)}")
    if p.late:
        notes.append("late objection")
    if p.advisory:
        notes.append(f"{supporter_note(state, p.member) or 'supporter'}: advisory, does not count")
    return "; ".join(notes)


def decision_line(d: Digest, dec: Decision) -> Text:
    state = d.state
    p = state.proposals.get(dec.proposal)
    title = p.title if p is not None else dec.proposal[:8]
    line = Text(f"{title}: ")
    if dec.status == R.PENDING:
        line.append(f"cooling-off, {span(dec.effective_ts - d.now_ms)} left", style="bold")
    elif dec.status == R.IN_EFFECT:
        line.append(f"in effect since {when(dec.effective_ts)}")
    else:
        line.append(f"returned ({len(dec.late_objections)} late objection(s))", style="bold")
    if dec.statement:
        line.append(f"\n  {dec.statement.splitlines()[0]}", style="italic")
    return line


def changed_lines(d: Digest, seen: Sequence[str]) -> list[RenderableType]:
    """Outcomes that changed after their round closed: seen while the app ran, then the
    decisions late objections reached (from the record, so they outlive a restart)."""
    lines: list[RenderableType] = [Text(f"! {line}", style="bold") for line in seen[:4]]
    lines += [Text(announced_change(d.state, r)) for r in d.rounds_changed_since_close[:4]]
    for dec in d.changed_since_close[:4]:
        p = d.state.proposals.get(dec.proposal)
        names = ", ".join(name_of(d.state, o.member) for o in dec.late_objections)
        what = "returned" if dec.status == R.DECISION_RETURNED else "still stands"
        lines.append(
            Text(
                f"{p.title if p else dec.proposal[:8]}: {what} after a late objection from {names}"
            )
        )
    if not lines:
        return []
    return [heading("Changed since close"), *lines, Text("")]


def home_side(d: Digest, peers: list[PeerInfo], seen: Sequence[str] = ()) -> list[RenderableType]:
    state = d.state

    def title(ref: str) -> str:
        p = state.proposals.get(ref)
        return p.title if p else ref[:8]

    parts: list[RenderableType] = changed_lines(d, seen)
    parts += waiting_lines(d)
    words = d.words
    rounds: list[RenderableType] = [
        Text(f"{title(r.proposal)}: {words.phase(r.phase)}, {len(r.positions)} positions")
        for r in d.open_rounds[:8]
    ]
    heading_ = _("Open {rounds} ({count})").format(
        rounds=words.term("rounds"), count=len(d.open_rounds)
    )
    parts += _section(heading_, rounds, "none")
    cooling: list[RenderableType] = [decision_line(d, dec) for dec in d.cooling_off[:6]]
    parts += _section(f"Cooling-off ({len(d.cooling_off)})", cooling, "none")
    recent: list[RenderableType] = [decision_line(d, dec) for dec in d.recent_decisions]
    parts += _section("Recent decisions", recent, "none yet")
    reviews: list[RenderableType] = []
    for dec in d.reviews_due[:6]:
        due = dec.review_ts - d.now_ms
        label = f"overdue by {span(-due)}" if due < 0 else f"due in {span(due)}"
        reviews.append(Text(f"{title(dec.proposal)}: {label}"))
    parts += _section(f"Reviews due or near ({len(d.reviews_due)})", reviews, "none")
    connected = sum(1 for p in peers if p.state in ("connected", "syncing"))
    lines: list[RenderableType] = [
        Text(f"{peer.name} [{peer.transport}] {peer.state}, {ago(d.now_ms, peer.last_sync_ms)}")
        for peer in peers[:10]
    ]
    heading_text = f"Peers ({connected} of {len(peers)} connected)"
    parts += _section(heading_text, lines, "no peers seen (no network node running)", last=True)
    return parts


def waiting_lines(d: Digest) -> list[RenderableType]:
    """ "Waiting for you (N)": the rounds that wait for my position, with their deadlines
    (bold when near or passed); nothing when none wait."""
    if not d.waiting_for_me:
        return []
    lines: list[RenderableType] = []
    for r in d.waiting_for_me[:8]:
        text = Text(name_of_proposal(d.state, r.proposal))
        label = deadline_label(r, d.now_ms)
        if label:
            text.append(f": {label}", style="bold" if deadline_near(r, d.now_ms) else "")
        lines.append(text)
    return _section(f"Waiting for you ({len(d.waiting_for_me)})", lines, "")


def _section(
    title: str, lines: Sequence[RenderableType], empty: str, last: bool = False
) -> list[RenderableType]:
    parts: list[RenderableType] = [heading(title), *lines]
    if not lines:
        parts.append(Text(empty))
    if not last:
        parts.append(Text(""))
    return parts


def proposal_header(d: Digest, p: Proposal, r: Round | None) -> Text:
    state = d.state
    text = Text()
    text.append(p.title, style="bold")
    due = d.review_due_of(p)
    label = state_label(p, frozenset({p.id}) if due is not None else frozenset())
    text.append(
        f"\n{label} · version {p.latest.number} · by {member_label(state, p.author)} · {p.id[:8]}"
    )
    if due is not None:
        text.append(
            f"\nDUE FOR REVIEW since {when(due.review_ts)}: a facilitator opens a review"
            " round (o in the meeting).",
            style="bold",
        )
    if r is not None:
        words = d.words
        text.append(
            "\n"
            + _("{round} {id} on v{version}: ").format(
                round=words.term("round"), id=r.id[:8], version=r.version
            )
        )
        text.append(phase_track(r.phase, words, round_phases(r)), style="bold")
    else:
        text.append("\nno round yet")
    return text


def diff_text(d: Digest, p: Proposal) -> Text:
    previous = d.previous_body(p)
    text = Text()
    if previous is not None and p.latest.note:
        text.append(f"note: {p.latest.note}\n", style="italic")
    for line in version_diff(previous, p.latest.body):
        if line.tag == "+":
            text.append(f"+ {line.text}\n", style="green")
        elif line.tag == "-":
            text.append(f"- {line.text}\n", style="red strike")
        elif line.tag == "@":
            text.append(f"{line.text}\n", style="dim")
        else:
            text.append(f"  {line.text}\n")
    if p.latest.effects:
        text.append("\nWhen it takes effect:\n", style="bold")
        for effect in p.latest.effects:
            text.append(f"  - {effect_line(d.state, effect)}\n")
    text.rstrip()
    return text


OPEN_HINT = "Open a round (o) when the assembly is ready to consider it."
NO_ROUND_YET = "No round yet: a facilitator opens one in the meeting (2)."


def outcome_text(d: Digest, p: Proposal, r: Round | None, no_round: str = OPEN_HINT) -> Text:
    """The round's state or outcome; ``no_round`` is what to say before the first round
    (the key to open one exists only in the meeting)."""
    if r is None:
        return Text(no_round)
    if r.phase != R.CLOSED:
        return _open_round_text(d, r)
    text = Text()
    state = d.state
    text.append("Outcome: ", style="bold")
    text.append(OUTCOME_LABELS.get(r.outcome or "", r.outcome or "-"), style="bold")
    text.append(f" (closed by {name_of(state, r.closed_by)} {when(r.closed_ts)})\n")
    dec = state.decisions.get(r.decision) if r.decision else None
    if dec is not None:
        _decision_dates(text, d, dec)
    if r.statement:
        text.append("Statement: ", style="bold")
        text.append(f"{r.statement}\n")
    _reasons(text, state, r)
    text.rstrip()
    return text


def _deadline_and_waiting(text: Text, d: Digest, r: Round) -> None:
    """An open round's deadline (bold when near or passed) and who has no position yet."""
    state = d.state
    label = deadline_label(r, d.now_ms)
    if label:
        near = deadline_near(r, d.now_ms)
        text.append(
            f"\n{label[0].upper()}{label[1:]}; a facilitator closes the round.",
            style="bold" if near else "",
        )
    waiting = waiting_on(state, r)
    if waiting:
        text.append("\nNo position yet: " + ", ".join(name_of(state, m) for m in waiting))


def _open_round_text(d: Digest, r: Round) -> Text:
    state = d.state
    text = Text()
    count = tally(state, r.id)
    quorum = (r.rules or state.assembly.rules).quorum if state.assembly else 1
    members = sum(1 for m in state.members.values() if m.counts(d.now_ms))
    from_members = sum(1 for pos in r.positions.values() if not pos.advisory)
    text.append(f"{from_members} of {members} positions; ")
    text.append(f"{count.taking_part} count towards a quorum of {quorum}. ")
    advisory = len(r.positions) - from_members
    if advisory:
        text.append(f"{advisory} advisory from supporters. ")
    if count.objections:
        stand = _("{count} {objections} stand.").format(
            count=len(count.objections), objections=d.words.term("objections")
        )
        text.append(stand, style="bold")
    for pos in r.positions.values():
        if pos.reason:
            who = name_of(state, pos.member)
            kind = kind_label(pos.kind, state) + (", advisory" if pos.advisory else "")
            text.append(f"\n  - {who} ({kind}): {pos.reason}")
    _deadline_and_waiting(text, d, r)
    return text


def _decision_dates(text: Text, d: Digest, dec: Decision) -> None:
    if dec.status == R.PENDING:
        text.append(
            f"Takes effect {when(dec.effective_ts)} "
            f"(in {span(dec.effective_ts - d.now_ms)}); an objection until then returns it.\n"
        )
    elif dec.status == R.IN_EFFECT:
        text.append(f"In effect since {when(dec.effective_ts)}.\n")
    if dec.review_due(d.now_ms):
        text.append(f"Due for review since {when(dec.review_ts)}.\n", style="bold")
    else:
        text.append(f"Review by {when(dec.review_ts)}.\n")


def _reasons(text: Text, state: AssemblyState, r: Round) -> None:
    objections = [pos for pos in r.positions.values() if pos.kind == R.OBJECT]
    if objections:
        words = Words(state.vocabulary)
        heading_ = _("{objections} to integrate:").format(objections=words.title("objections"))
        text.append(heading_ + "\n", style="bold")
        for pos in objections:
            late = " (late)" if pos.late else ""
            advisory = " (supporter: advisory, does not block)" if pos.advisory else ""
            text.append(f"  - {name_of(state, pos.member)}{late}{advisory}: {pos.reason}\n")
        text.append("Amend the proposal (e) to integrate them, then open a new round.\n")
    others = [pos for pos in r.positions.values() if pos.reason and pos.kind != R.OBJECT]
    if others:
        text.append("Reasons given:\n", style="bold")
        for pos in others:
            text.append(
                f"  - {name_of(state, pos.member)} ({kind_label(pos.kind, state)}): {pos.reason}\n"
            )


def effect_line(state: AssemblyState, effect: Effect) -> str:
    """An effect in words, as a decision will carry it out."""
    member = getattr(effect, "member", None)
    who = name_of(state, member) if isinstance(member, str) else ""
    words = Words(state.vocabulary)
    if isinstance(effect, GrantRoleEffect):
        return f"{who} becomes {words.role(effect.role)} for {effect.term_days} days"
    if isinstance(effect, EndRoleEffect):
        return f"{who} is no longer {words.role(effect.role)}"
    if isinstance(effect, SetRuleEffect):
        return f"rule {effect.rule} becomes {effect.value}"
    if isinstance(effect, AdmitSupporterEffect):
        return f"supporter {who} has standing until {when(effect.until)}"
    if isinstance(effect, EndSupporterEffect):
        return f"supporter {who}'s standing ends"
    if isinstance(effect, RemoveMemberEffect):
        return f"{who} is removed"
    return _vocabulary_effect_line(words, effect) or effect.KIND


def _vocabulary_effect_line(words: Words, effect: Effect) -> str:
    """An effect on the assembly's words, roles or rounds, in words ('' for another)."""
    if isinstance(effect, WordsEffect):
        named = ", ".join(f"{term} -> {label}" for term, label in effect.labels.items())
        return _("the assembly's words in {lang}: {named}").format(lang=effect.lang, named=named)
    if isinstance(effect, AddRoleEffect):
        return _("a role of the assembly's own: {label}, terms of at most {days} days").format(
            label=effect.label, days=effect.term_days
        )
    if isinstance(effect, RoundShapeEffect):
        return _("{rounds} go through {phases} and take {kinds}").format(
            rounds=words.term("rounds"),
            phases=", ".join(words.phase(p) for p in effect.phases),
            kinds=", ".join(words.kind(k) for k in effect.kinds),
        )
    return ""


def consent_loop(d: Digest, p: Proposal) -> Group:
    """The whole life of a proposal: versions, rounds with positions, decision, audit."""
    state = d.state
    current = state.open_round_of(p.id) or d.last_round(p)
    parts: list[RenderableType] = [proposal_header(d, p, current), Text("")]
    parts += _versions(state, p)
    parts += _rounds(state, p)
    parts += _decision(d, p)
    parts += _audit(d, p)
    return Group(*parts)


def _versions(state: AssemblyState, p: Proposal) -> list[RenderableType]:
    parts: list[RenderableType] = [heading(f"Versions ({len(p.versions)})")]
    for v in p.versions:
        line = Text(f"v{v.number} {when(v.ts)} by {member_label(state, v.author)}")
        if v.note:
            line.append(f": {v.note}")
        parts.append(line)
        parts.extend(Text(f"  effect: {effect_line(state, e)}") for e in v.effects)
    parts.append(Text(""))
    return parts


def _rounds(state: AssemblyState, p: Proposal) -> list[RenderableType]:
    words = Words(state.vocabulary)
    rounds = _("{rounds} ({count})").format(rounds=words.title("rounds"), count=len(p.rounds))
    parts: list[RenderableType] = [heading(rounds)]
    for rid in p.rounds:
        r = state.rounds[rid]
        outcome = OUTCOME_LABELS.get(r.outcome or "", words.phase(r.phase))
        parts.append(
            Text(
                _("{round} {id} on v{version}, opened {when} by {facilitator}: {outcome}").format(
                    round=words.term("round"),
                    id=rid[:8],
                    version=r.version,
                    when=when(r.opened_ts),
                    facilitator=name_of(state, r.facilitator),
                    outcome=outcome,
                ),
                style="bold",
            )
        )
        for pos in sorted(r.positions.values(), key=lambda x: name_of(state, x.member)):
            line = Text(f"  {name_of(state, pos.member)}: {kind_label(pos.kind, state)}")
            if pos.reason:
                line.append(f" ({pos.reason})")
            note = position_note(state, pos)
            if note:
                line.append(f" [{note}]", style="italic")
            parts.append(line)
        for strand in thread_of(state.comments, rid):
            parts.append(Text(f"  {strand.entry.kind}: {_said(state, strand.entry)}"))
            parts.extend(Text(f"    answer: {_said(state, a)}") for a in strand.answers)
    return parts


def _said(state: AssemblyState, c: ThreadEntry) -> str:
    who = name_of(state, c.author) + (" (supporter)" if c.by_supporter else "")
    if c.proxy:
        who += f", recorded by {name_of(state, c.recorded_by)}"
    return f"{who}: {c.text}"


def _decision(d: Digest, p: Proposal) -> list[RenderableType]:
    state = d.state
    parts: list[RenderableType] = []
    if p.decision or p.closing_note:
        parts += [Text(""), heading("Decision")]
    if p.decision and p.decision in state.decisions:
        dec = state.decisions[p.decision]
        parts.append(decision_line(d, dec))
        parts.append(
            Text(
                f"decided {when(dec.decided_ts)} by {name_of(state, dec.decided_by)}; "
                f"effective {when(dec.effective_ts)}; review {when(dec.review_ts)}"
            )
        )
        if dec.statement:
            parts.append(Text(f"statement: {dec.statement}"))
        for pos in dec.late_objections:
            late = _("late {objection} from {name}: {reason}").format(
                objection=Words(state.vocabulary).term("objection"),
                name=name_of(state, pos.member),
                reason=pos.reason,
            )
            parts.append(Text(f"  {late}"))
        for e in state.effect_log:
            if e.ref == dec.id:
                done = "done" if e.accepted else f"NOT APPLIED ({e.rule}: {e.detail})"
                parts.append(Text(f"  effect {done}: {e.summary}"))
    if p.closing_note:
        parts.append(Text(f"rejected: {p.closing_note}"))
    return parts


def _audit(d: Digest, p: Proposal) -> list[RenderableType]:
    state = d.state
    entries = d.audit_by_proposal.get(p.id, ())
    parts: list[RenderableType] = [Text(""), heading(f"Audit trail ({len(entries)} acts)")]
    for e in entries:
        line = Text(f"{when(e.ts)}  {name_of(state, e.member):<12} {e.act_type:<13} ")
        if e.accepted:
            line.append("verified, accepted  ")
        else:
            line.append(f"IGNORED ({e.rule})  ", style="bold")
        line.append(e.summary)
        if e.detail:
            line.append(f" - {e.detail}", style="dim")
        parts.append(line)
    return parts
