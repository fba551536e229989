"""Rich text for the panels. Text objects, never markup: titles and reasons are user input."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from assemblymesh.i18n import N_, _, format_number, ngettext
from assemblymesh.model import AssemblyState, AuditEntry, Decision, Position, Proposal, Round
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
from assemblymesh.model.vocabulary import Words, capitalised
from assemblymesh.tui.peers import PeerInfo, peer_state_label, peer_transport_label
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
    outcome_label,
    phase_track,
    round_phases,
    span,
    state_label,
    supporter_note,
    version_diff,
    when,
)


def pad_cells(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal cells (longer text is kept whole)."""
    return text + " " * max(0, width - cell_len(text))


def heading(text: str) -> Text:
    return Text(text, style="bold underline")


def position_note(state: AssemblyState, p: Position) -> str:
    notes = []
    if p.provisional:
        recorder = name_of(state, p.recorded_by)
        notes.append(_("provisional, recorded by {name}").format(name=recorder))
    if p.late:
        notes.append(_("late objection"))
    if p.advisory:
        who = supporter_note(state, p.member) or _("supporter")
        notes.append(_("{supporter}: advisory, does not count").format(supporter=who))
    return _("; ").join(notes)


def decision_line(d: Digest, dec: Decision) -> Text:
    state = d.state
    p = state.proposals.get(dec.proposal)
    title = p.title if p is not None else dec.proposal[:8]
    line = Text(_("{title}: ").format(title=title))
    if dec.status == R.PENDING:
        left = span(dec.effective_ts - d.now_ms)
        line.append(_("cooling-off, {time} left").format(time=left), style="bold")
    elif dec.status == R.IN_EFFECT:
        line.append(_("in effect since {date}").format(date=when(dec.effective_ts)))
    else:
        count = len(dec.late_objections)
        returned = ngettext(
            "returned ({count} late objection)", "returned ({count} late objections)", count
        )
        line.append(returned.format(count=count), style="bold")
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
        title = p.title if p else dec.proposal[:8]
        what = (
            _("{title}: returned after a late objection from {names}")
            if dec.status == R.DECISION_RETURNED
            else _("{title}: still stands after a late objection from {names}")
        )
        lines.append(Text(what.format(title=title, names=names)))
    if not lines:
        return []
    return [heading(_("Changed since close")), *lines, Text("")]


def home_side(d: Digest, peers: list[PeerInfo], seen: Sequence[str] = ()) -> list[RenderableType]:
    state = d.state

    def title(ref: str) -> str:
        p = state.proposals.get(ref)
        return p.title if p else ref[:8]

    parts: list[RenderableType] = changed_lines(d, seen)
    parts += waiting_lines(d)
    words = d.words
    rounds: list[RenderableType] = [
        _open_round_line(d, r, title(r.proposal)) for r in d.open_rounds[:8]
    ]
    heading_ = _("Open {rounds} ({count})").format(
        rounds=words.term("rounds"), count=len(d.open_rounds)
    )
    none = _("none")
    parts += _section(heading_, rounds, none)
    cooling: list[RenderableType] = [decision_line(d, dec) for dec in d.cooling_off[:6]]
    parts += _section(_("Cooling-off ({count})").format(count=len(d.cooling_off)), cooling, none)
    recent: list[RenderableType] = [decision_line(d, dec) for dec in d.recent_decisions]
    parts += _section(_("Recent decisions"), recent, _("none yet"))
    reviews: list[RenderableType] = []
    for dec in d.reviews_due[:6]:
        due = dec.review_ts - d.now_ms
        label = (
            _("{title}: overdue by {time}") if due < 0 else _("{title}: due in {time}")
        ).format(title=title(dec.proposal), time=span(abs(due)))
        reviews.append(Text(label))
    reviews_heading = _("Reviews due or near ({count})").format(count=len(d.reviews_due))
    parts += _section(reviews_heading, reviews, none)
    parts += _peer_lines(d, peers)
    return parts


def _open_round_line(d: Digest, r: Round, title: str) -> Text:
    count = len(r.positions)
    line = ngettext(
        "{title}: {phase}, {count} position", "{title}: {phase}, {count} positions", count
    )
    return Text(line.format(title=title, phase=d.words.phase(r.phase), count=count))


def _peer_lines(d: Digest, peers: list[PeerInfo]) -> list[RenderableType]:
    connected = sum(1 for p in peers if p.state in ("connected", "syncing"))
    lines: list[RenderableType] = [
        Text(
            _("{name} [{transport}] {state}, {synced}").format(
                name=peer.name,
                transport=peer_transport_label(peer.transport),
                state=peer_state_label(peer.state),
                synced=ago(d.now_ms, peer.last_sync_ms),
            )
        )
        for peer in peers[:10]
    ]
    heading_text = _("Peers ({connected} of {count} connected)").format(
        connected=connected, count=len(peers)
    )
    empty = _("no peers seen (no network node running)")
    return _section(heading_text, lines, empty, last=True)


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
            text.append(
                _(": {deadline}").format(deadline=label),
                style="bold" if deadline_near(r, d.now_ms) else "",
            )
        lines.append(text)
    return _section(_("Waiting for you ({count})").format(count=len(d.waiting_for_me)), lines, "")


def _section(
    title: str, lines: Sequence[RenderableType], empty: str, last: bool = False
) -> list[RenderableType]:
    parts: list[RenderableType] = [heading(capitalised(title)), *lines]
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
    about = _("{state} · version {number} · by {author} · {id}").format(
        state=_(label), number=p.latest.number, author=member_label(state, p.author), id=p.id[:8]
    )
    text.append("\n" + about)
    if due is not None:
        review = _(
            "DUE FOR REVIEW since {date}: a facilitator opens a review round (o in the meeting)."
        )
        text.append("\n" + review.format(date=when(due.review_ts)), style="bold")
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
        text.append("\n" + _("no round yet"))
    return text


def diff_text(d: Digest, p: Proposal) -> Text:
    previous = d.previous_body(p)
    text = Text()
    if previous is not None and p.latest.note:
        text.append(_("note: {note}").format(note=p.latest.note) + "\n", style="italic")
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
        text.append("\n" + _("When it takes effect:") + "\n", style="bold")
        for effect in p.latest.effects:
            text.append(f"  - {effect_line(d.state, effect)}\n")
    text.rstrip()
    return text


OPEN_HINT = N_("Open a round (o) when the assembly is ready to consider it.")
NO_ROUND_YET = N_("No round yet: a facilitator opens one in the meeting (2).")


def outcome_text(d: Digest, p: Proposal, r: Round | None, no_round: str = OPEN_HINT) -> Text:
    """The round's state or outcome; ``no_round`` is what to say before the first round
    (the key to open one exists only in the meeting)."""
    if r is None:
        return Text(_(no_round))
    if r.phase != R.CLOSED:
        return _open_round_text(d, r)
    text = Text()
    state = d.state
    text.append(_("Outcome: "), style="bold")
    text.append(_(OUTCOME_LABELS.get(r.outcome or "", r.outcome or "-")), style="bold")
    closed = _(" (closed by {name} {date})").format(
        name=name_of(state, r.closed_by), date=when(r.closed_ts)
    )
    text.append(closed + "\n")
    dec = state.decisions.get(r.decision) if r.decision else None
    if dec is not None:
        _decision_dates(text, d, dec)
    if r.statement:
        text.append(_("Statement: "), style="bold")
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
        closes = _("{deadline}; a facilitator closes the round.").format(
            deadline=f"{label[0].upper()}{label[1:]}"
        )
        text.append("\n" + closes, style="bold" if near else "")
    waiting = waiting_on(state, r)
    if waiting:
        names = ", ".join(name_of(state, m) for m in waiting)
        text.append("\n" + _("No position yet: {names}").format(names=names))


def _open_round_text(d: Digest, r: Round) -> Text:
    state = d.state
    text = Text()
    count = tally(state, r.id)
    quorum = (r.rules or state.assembly.rules).quorum if state.assembly else 1
    members = sum(1 for m in state.members.values() if m.counts(d.now_ms))
    from_members = sum(1 for pos in r.positions.values() if not pos.advisory)
    text.append(_("{given} of {members} positions; ").format(given=from_members, members=members))
    text.append(
        _("{count} count towards a quorum of {quorum}. ").format(
            count=count.taking_part, quorum=quorum
        )
    )
    advisory = len(r.positions) - from_members
    if advisory:
        text.append(_("{count} advisory from supporters. ").format(count=advisory))
    if count.objections:
        stand = _("{count} {objections} stand.").format(
            count=len(count.objections), objections=d.words.term("objections")
        )
        text.append(stand, style="bold")
    for pos in r.positions.values():
        if pos.reason:
            who = name_of(state, pos.member)
            kind = kind_label(pos.kind, state)
            if pos.advisory:
                kind = _("{kind}, advisory").format(kind=kind)
            reason = _("{name} ({kind}): {reason}").format(name=who, kind=kind, reason=pos.reason)
            text.append(f"\n  - {reason}")
    _deadline_and_waiting(text, d, r)
    return text


def _decision_dates(text: Text, d: Digest, dec: Decision) -> None:
    if dec.status == R.PENDING:
        takes = _("Takes effect {date} (in {time}); an objection until then returns it.")
        text.append(
            takes.format(date=when(dec.effective_ts), time=span(dec.effective_ts - d.now_ms)) + "\n"
        )
    elif dec.status == R.IN_EFFECT:
        text.append(_("In effect since {date}.").format(date=when(dec.effective_ts)) + "\n")
    if dec.review_due(d.now_ms):
        due = _("Due for review since {date}.").format(date=when(dec.review_ts))
        text.append(due + "\n", style="bold")
    else:
        text.append(_("Review by {date}.").format(date=when(dec.review_ts)) + "\n")


def _reasons(text: Text, state: AssemblyState, r: Round) -> None:
    objections = [pos for pos in r.positions.values() if pos.kind == R.OBJECT]
    if objections:
        words = Words(state.vocabulary)
        heading_ = _("{objections} to integrate:").format(objections=words.title("objections"))
        text.append(heading_ + "\n", style="bold")
        for pos in objections:
            who = name_of(state, pos.member)
            if pos.late:
                who = _("{name} (late)").format(name=who)
            if pos.advisory:
                who = _("{name} (supporter: advisory, does not block)").format(name=who)
            text.append("  - " + _("{name}: {reason}").format(name=who, reason=pos.reason) + "\n")
        text.append(_("Amend the proposal (e) to integrate them, then open a new round.") + "\n")
    others = [pos for pos in r.positions.values() if pos.reason and pos.kind != R.OBJECT]
    if others:
        text.append(_("Reasons given:") + "\n", style="bold")
        for pos in others:
            reason = _("{name} ({kind}): {reason}").format(
                name=name_of(state, pos.member), kind=kind_label(pos.kind, state), reason=pos.reason
            )
            text.append(f"  - {reason}\n")


def effect_line(state: AssemblyState, effect: Effect) -> str:
    """An effect in words, as a decision will carry it out."""
    member = getattr(effect, "member", None)
    who = name_of(state, member) if isinstance(member, str) else ""
    words = Words(state.vocabulary)
    if isinstance(effect, GrantRoleEffect):
        return ngettext(
            "{name} becomes {role} for {days} day", "{name} becomes {role} for {days} days",
            effect.term_days,
        ).format(name=who, role=words.role(effect.role), days=effect.term_days)  # fmt: skip
    if isinstance(effect, EndRoleEffect):
        return _("{name} is no longer {role}").format(name=who, role=words.role(effect.role))
    if isinstance(effect, SetRuleEffect):
        return _("rule {rule} becomes {value}").format(rule=effect.rule, value=effect.value)
    if isinstance(effect, AdmitSupporterEffect):
        return _("supporter {name} has standing until {date}").format(
            name=who, date=when(effect.until)
        )
    if isinstance(effect, EndSupporterEffect):
        return _("supporter {name}'s standing ends").format(name=who)
    if isinstance(effect, RemoveMemberEffect):
        return _("{name} is removed").format(name=who)
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
    parts: list[RenderableType] = [
        heading(_("Versions ({count})").format(count=format_number(len(p.versions))))
    ]
    for v in p.versions:
        line = Text(
            _("v{number} {date} by {author}").format(
                number=format_number(v.number),
                date=when(v.ts),
                author=member_label(state, v.author),
            )
        )
        if v.note:
            line.append(_(": {note}").format(note=v.note))
        parts.append(line)
        parts.extend(
            Text("  " + _("effect: {effect}").format(effect=effect_line(state, e)))
            for e in v.effects
        )
    parts.append(Text(""))
    return parts


def _rounds(state: AssemblyState, p: Proposal) -> list[RenderableType]:
    words = Words(state.vocabulary)
    rounds = _("{rounds} ({count})").format(rounds=words.title("rounds"), count=len(p.rounds))
    parts: list[RenderableType] = [heading(rounds)]
    for rid in p.rounds:
        r = state.rounds[rid]
        outcome = outcome_label(r.outcome, words.phase(r.phase))
        opened = _("{round} {id} on v{version}, opened {when} by {facilitator}: {outcome}").format(
            round=words.term("round"),
            id=rid[:8],
            version=r.version,
            when=when(r.opened_ts),
            facilitator=name_of(state, r.facilitator),
            outcome=outcome,
        )
        parts.append(Text(opened, style="bold"))
        for pos in sorted(r.positions.values(), key=lambda x: name_of(state, x.member)):
            parts.append(_position_line(state, pos))
        for strand in thread_of(state.comments, rid):
            said = _("{kind}: {said}").format(
                kind=_(strand.entry.kind), said=_said(state, strand.entry)
            )
            parts.append(Text(f"  {said}"))
            parts.extend(
                Text("    " + _("answer: {said}").format(said=_said(state, a)))
                for a in strand.answers
            )
    return parts


def _position_line(state: AssemblyState, pos: Position) -> Text:
    line = Text("  " + _("{name}: {kind}").format(
        name=name_of(state, pos.member), kind=kind_label(pos.kind, state)
    ))  # fmt: skip
    if pos.reason:
        line.append(f" ({pos.reason})")
    note = position_note(state, pos)
    if note:
        line.append(f" [{note}]", style="italic")
    return line


def _said(state: AssemblyState, c: ThreadEntry) -> str:
    who = name_of(state, c.author)
    if c.by_supporter:
        who = _("{name} (supporter)").format(name=who)
    if c.proxy:
        who = _("{name}, recorded by {recorder}").format(
            name=who, recorder=name_of(state, c.recorded_by)
        )
    return _("{name}: {text}").format(name=who, text=c.text)


def _decision(d: Digest, p: Proposal) -> list[RenderableType]:
    state = d.state
    parts: list[RenderableType] = []
    if p.decision or p.closing_note:
        parts += [Text(""), heading(_("Decision"))]
    if p.decision and p.decision in state.decisions:
        dec = state.decisions[p.decision]
        parts.append(decision_line(d, dec))
        decided = _("decided {date} by {name}; effective {effective}; review {review}").format(
            date=when(dec.decided_ts),
            name=name_of(state, dec.decided_by),
            effective=when(dec.effective_ts),
            review=when(dec.review_ts),
        )
        parts.append(Text(decided))
        if dec.statement:
            parts.append(Text(_("statement: {statement}").format(statement=dec.statement)))
        for pos in dec.late_objections:
            late = _("late {objection} from {name}: {reason}").format(
                objection=Words(state.vocabulary).term("objection"),
                name=name_of(state, pos.member),
                reason=pos.reason,
            )
            parts.append(Text(f"  {late}"))
        parts += [Text(f"  {_effect_done(e)}") for e in state.effect_log if e.ref == dec.id]
    if p.closing_note:
        parts.append(Text(_("rejected: {note}").format(note=p.closing_note)))
    return parts


def _effect_done(e: AuditEntry) -> str:
    if e.accepted:
        return _("effect done: {summary}").format(summary=e.summary)
    return _("effect NOT APPLIED ({rule}: {detail}): {summary}").format(
        rule=e.rule, detail=e.detail, summary=e.summary
    )


def _audit(d: Digest, p: Proposal) -> list[RenderableType]:
    state = d.state
    entries = d.audit_by_proposal.get(p.id, ())
    count = len(entries)
    trail = ngettext("Audit trail ({count} act)", "Audit trail ({count} acts)", count)
    parts: list[RenderableType] = [Text(""), heading(trail.format(count=count))]
    for e in entries:
        # Padded by terminal cells: a name in CJK or with an emoji keeps the columns.
        name = pad_cells(name_of(state, e.member), 12)
        line = Text(f"{when(e.ts)}  {name} {e.act_type:<13} ")
        if e.accepted:
            line.append(_("verified, accepted") + "  ")
        else:
            line.append(_("IGNORED ({rule})").format(rule=e.rule) + "  ", style="bold")
        line.append(e.summary)
        if e.detail:
            line.append(f" - {e.detail}", style="dim")
        parts.append(line)
    return parts
