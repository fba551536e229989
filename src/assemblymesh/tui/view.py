"""What the screens show, computed once per fold: pure functions over ``AssemblyState``.

Folding is the expensive step, so everything a key press needs (sorted rows, groupings,
the audit trail per proposal) is derived here, in the same worker as the fold, and the
widgets only page through these lists.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from rich.cells import cell_len, set_cell_size

from assemblymesh.i18n import N_, _, format_date, format_datetime, label, ngettext
from assemblymesh.model import (
    AssemblyState,
    AuditEntry,
    Decision,
    Proposal,
    Round,
)
from assemblymesh.model import rules as R
from assemblymesh.model.queries import deadline_near, rounds_waiting_for
from assemblymesh.model.vocabulary import Words

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
# A decision whose review date falls within this window (or has passed) is listed as due.
REVIEW_WINDOW_MS: Final = 14 * R.DAY_MS
# How long every screen says that an outcome changed after its close.
CHANGED_NOTICE_MS: Final = 7 * R.DAY_MS
RECENT_DECISIONS: Final = 6

# The order the agenda lists proposals in: what needs the meeting first.
STATE_ORDER: Final = (
    R.IN_ROUND,
    R.OPEN,
    R.RETURNED,
    R.ADOPTED_PENDING,
    R.ADOPTED,
    R.REJECTED,
    R.WITHDRAWN,
)
# What a meeting works on; a decision in cooling-off can still be returned by an objection.
AGENDA_STATES: Final = frozenset({R.IN_ROUND, R.OPEN, R.RETURNED, R.ADOPTED_PENDING})
STATE_LABELS: Final[Mapping[str, str]] = {
    R.IN_ROUND: N_("in round"),
    R.OPEN: N_("open"),
    R.RETURNED: N_("returned"),
    R.ADOPTED_PENDING: N_("cooling-off"),
    R.ADOPTED: N_("adopted"),
    R.REJECTED: N_("rejected"),
    R.WITHDRAWN: N_("withdrawn"),
}
# An adopted proposal whose decision has reached its review date, with no review round yet:
# shown in place of "adopted" wherever proposals are listed.
REVIEW_DUE_LABEL: Final = N_("review due")
KIND_LABELS: Final[Mapping[str, str]] = {
    R.CONSENT: N_("consent"),
    R.CONCERN: N_("concern"),
    R.STAND_ASIDE: N_("stand aside"),
    R.OBJECT: N_("OBJECT"),
}
OUTCOME_LABELS: Final[Mapping[str, str]] = {
    R.OUTCOME_ADOPTED: N_("adopted"),
    R.OUTCOME_OBJECTIONS: N_("returned with objections"),
    R.OUTCOME_NO_QUORUM: N_("no quorum: back to open"),
    R.OUTCOME_WITHDRAWN: N_("withdrawn by the author"),
}


def outcome_label(outcome: str | None, default: str | None = None) -> str:
    """A round's outcome in the chosen language (``default``, else the id, if unknown)."""
    label = OUTCOME_LABELS.get(outcome or "")
    if label is None:
        return default if default is not None else (outcome or "")
    return _(label)


# --- formatting ------------------------------------------------------------------------------


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return format_datetime(ms)


def span(ms: int) -> str:
    """A duration in the two largest units that matter: '2d 4h', '3h 10m', '45s'."""
    ms = max(0, ms)
    days, rest = divmod(ms, R.DAY_MS)
    hours, rest = divmod(rest, HOUR_MS)
    minutes, rest = divmod(rest, MINUTE_MS)
    if days:
        # TRANSLATORS: a duration of days and hours, short: "2d 4h".
        return _("{days}d {hours}h").format(days=days, hours=hours)
    if hours:
        # TRANSLATORS: a duration of hours and minutes, short: "3h 10m".
        return _("{hours}h {minutes}m").format(hours=hours, minutes=minutes)
    if minutes:
        return _("{minutes}m").format(minutes=minutes)
    return _("{seconds}s").format(seconds=rest // 1000)


def deadline_label(r: Round, now_ms: int) -> str:
    """'deadline 2026-05-01 18:00 (in 3h 0m)' or '... (passed 2h 0m ago)'; '' without one."""
    if r.deadline is None:
        return ""
    left = r.deadline - now_ms
    if left > 0:
        return _("deadline {when} UTC (in {span})").format(when=when(r.deadline), span=span(left))
    return _("deadline {when} UTC (passed {span} ago)").format(
        when=when(r.deadline), span=span(-left)
    )


def ago(now_ms: int, ms: int | None) -> str:
    if ms is None:
        return _("never")
    if ms > now_ms:
        return _("just now")
    return _("{span} ago").format(span=span(now_ms - ms))


def clip(text: str, width: int) -> str:
    """The first line of ``text`` in at most ``width`` terminal cells (a CJK character or an
    emoji takes two), with "…" when something was cut."""
    line = text.splitlines()[0] if text else ""
    if cell_len(line) <= width and line == text:
        return line
    return set_cell_size(line, width - 1) + "…"


def name_of(state: AssemblyState, member: str | None) -> str:
    if member is None:
        return "-"
    m = state.members.get(member)
    return m.name if m is not None else member[:8]


def supporter_note(state: AssemblyState, member: str | None) -> str:
    """'supporter, standing until ...' for an outside supporter, '' for a member: supporters
    are never members, and whoever reads a name should see which one it is."""
    m = state.members.get(member) if member is not None else None
    if m is None or not m.supporter:
        return ""
    if m.standing_until is None:
        return _("supporter, no standing yet")
    if m.has_standing(state.now_ms):
        return _("supporter, standing until {day}").format(day=format_date(m.standing_until))
    return _("supporter, standing ended")


def member_label(state: AssemblyState, member: str | None) -> str:
    """A name, with a supporter's standing after it, or "(no device)" for a member a
    facilitator records for."""
    note = supporter_note(state, member)
    m = state.members.get(member) if member is not None else None
    if not note and m is not None and m.deviceless and m.current:
        note = _("no device")
    return f"{name_of(state, member)} ({note})" if note else name_of(state, member)


def phase_track(phase: str, words: Words | None = None, phases: Sequence[str] = R.PHASES) -> str:
    """The round's phases with the current one marked in words, not only in colour."""
    words = words if words is not None else Words()
    parts = []
    for p in phases:
        label = words.phase(p)
        parts.append(f">{label.upper()}<" if p == phase else label)
    return " - ".join(parts)


def round_phases(r: Round) -> tuple[str, ...]:
    """The phases ``r`` goes through, closed last."""
    return (*r.shape.phases, R.CLOSED)


def kind_label(kind: str, state: AssemblyState | None = None) -> str:
    """A position kind in the assembly's words (the default ones without ``state``), in the
    chosen language; the blocking kind stands out in capitals."""
    label = (Words(state.vocabulary) if state is not None else Words()).kind(kind)
    return label.upper() if kind == R.OBJECT else label


@dataclass(frozen=True)
class DiffLine:
    tag: str  # "+", "-", " " or "@"
    text: str


def version_diff(old: str | None, new: str) -> list[DiffLine]:
    """Line diff from the previous version; the whole text as unchanged when there is none."""
    if old is None:
        return [DiffLine(" ", line) for line in new.splitlines()]
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), "previous", "this version", n=2, lineterm=""
    ):
        if line.startswith(("---", "+++")):
            continue
        tag = line[:1] if line[:1] in "+-@" else " "
        lines.append(DiffLine(tag, line[1:] if tag != "@" else line))
    return lines or [DiffLine(" ", _("(text unchanged)"))]


# --- the digest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """Everything the screens list, precomputed from one folded state."""

    state: AssemblyState
    me: str
    proposals: tuple[Proposal, ...]  # every proposal, in STATE_ORDER, newest first per state
    agenda: tuple[Proposal, ...]  # in round, open, returned, cooling-off
    counts: Mapping[str, int]
    open_rounds: tuple[Round, ...]
    cooling_off: tuple[Decision, ...]
    recent_decisions: tuple[Decision, ...]
    reviews_due: tuple[Decision, ...]  # due, or due within REVIEW_WINDOW_MS
    members: tuple[str, ...]  # member ids, by name
    proposal_rows: tuple[tuple[str, tuple[str, ...]], ...] = ()
    agenda_rows: tuple[tuple[str, tuple[str, ...]], ...] = ()
    audit_by_proposal: Mapping[str, tuple[AuditEntry, ...]] = field(default_factory=dict)
    # Decisions late objections reached after their close, newest first (from the record).
    changed_since_close: tuple[Decision, ...] = ()
    # Closed rounds whose outcome is not the one announced at close, newest first (from the
    # record: positions from members out of range arrived afterwards).
    rounds_changed_since_close: tuple[Round, ...] = ()
    # Decisions whose review date has passed and whose review round is not open yet.
    due_for_review: tuple[Decision, ...] = ()
    # Rounds in the positions phase still waiting for my position, soonest deadline first.
    waiting_for_me: tuple[Round, ...] = ()

    @property
    def now_ms(self) -> int:
        return self.state.now_ms

    @property
    def words(self) -> Words:
        """The assembly's words in the language in use."""
        return Words(self.state.vocabulary)

    @property
    def name(self) -> str:
        a = self.state.assembly
        return a.name if a is not None else ""

    def admitted(self) -> bool:
        return self.state.is_member(self.me)

    def can_facilitate(self) -> bool:
        m = self.state.members.get(self.me)
        return m is not None and m.can_facilitate(self.now_ms)

    def review_due_of(self, proposal: Proposal) -> Decision | None:
        """The decision on ``proposal`` that is due for review now, if any."""
        for dec in self.due_for_review:
            if dec.proposal == proposal.id:
                return dec
        return None

    def review_notice(self) -> str:
        """The line every screen shows while decisions wait for their review round."""
        count = len(self.due_for_review)
        if not count:
            return ""
        return ngettext(
            "{count} decision due for review", "{count} decisions due for review", count
        ).format(count=count)

    def changed_notice(self) -> str:
        """The line every screen shows for a week after a round closed whose outcome is not
        the one announced at close (the home screen lists them all)."""
        recent = [
            r
            for r in self.rounds_changed_since_close
            if (r.closed_ts or 0) >= self.now_ms - CHANGED_NOTICE_MS
        ]
        if not recent:
            return ""
        return ngettext(
            "{count} outcome changed after its close",
            "{count} outcomes changed after their close",
            len(recent),
        ).format(count=len(recent))

    def deadline_reminder(self) -> str:
        """The line every screen shows while a round waiting for me nears or passes its
        deadline (within ``DEADLINE_REMINDER_MS``); empty otherwise."""
        near = [r for r in self.waiting_for_me if deadline_near(r, self.now_ms)]
        if not near:
            return ""
        first = near[0]
        title = name_of_proposal(self.state, first.proposal)
        deadline = deadline_label(first, self.now_ms)
        if len(near) > 1:
            return ngettext(
                "{title} waits for your position: {deadline} (and {count} more)",
                "{title} waits for your position: {deadline} (and {count} more)",
                len(near) - 1,
            ).format(title=repr(title), deadline=deadline, count=len(near) - 1)
        return _("{title} waits for your position: {deadline}").format(
            title=repr(title), deadline=deadline
        )

    def my_pending_rounds(self) -> list[Round]:
        """Open rounds, those still waiting for my position first."""
        waiting = [r for r in self.open_rounds if self.me not in r.positions]
        stated = [r for r in self.open_rounds if self.me in r.positions]
        return waiting + stated

    def my_proposals(self) -> list[Proposal]:
        return [p for p in self.proposals if p.author == self.me]

    def previous_body(self, proposal: Proposal, version: int | None = None) -> str | None:
        number = proposal.latest.number if version is None else version
        for v in proposal.versions:
            if v.number == number - 1:
                return v.body
        return None

    def last_round(self, proposal: Proposal) -> Round | None:
        return self.state.rounds[proposal.rounds[-1]] if proposal.rounds else None


def digest(state: AssemblyState, me: str) -> Digest:
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    ordered = sorted(
        state.proposals.values(), key=lambda p: (rank.get(p.state, 99), -p.created_ts, p.id)
    )
    counts: dict[str, int] = dict.fromkeys(STATE_ORDER, 0)
    for p in ordered:
        counts[p.state] = counts.get(p.state, 0) + 1
    decisions = sorted(state.decisions.values(), key=lambda d: d.decided_ts, reverse=True)
    due = tuple(sorted(state.reviews_due(), key=lambda d: (d.review_ts, d.id)))
    due_ids = frozenset(d.proposal for d in due)
    # A decision due for review is back on the agenda: the meeting opens its review round.
    agenda = tuple(p for p in ordered if p.state in AGENDA_STATES or p.id in due_ids)
    return Digest(
        state=state,
        me=me,
        proposals=tuple(ordered),
        agenda=agenda,
        counts=counts,
        open_rounds=tuple(
            sorted(
                (r for r in state.rounds.values() if r.phase != R.CLOSED),
                key=lambda r: (r.opened_ts, r.id),
            )
        ),
        cooling_off=tuple(d for d in decisions if d.status == R.PENDING),
        recent_decisions=tuple(decisions[:RECENT_DECISIONS]),
        reviews_due=_reviews_due(state, decisions),
        members=_members_by_name(state),
        proposal_rows=tuple(rows_for(state, ordered, due_ids)),
        agenda_rows=tuple(rows_for(state, agenda, due_ids)),
        audit_by_proposal=_audit_by_proposal(state),
        changed_since_close=tuple(
            sorted(
                (d for d in decisions if d.late_objections),
                key=lambda d: max(o.ts for o in d.late_objections),
                reverse=True,
            )
        ),
        rounds_changed_since_close=_rounds_changed(state),
        due_for_review=due,
        waiting_for_me=rounds_waiting_for(state, me),
    )


def _rounds_changed(state: AssemblyState) -> tuple[Round, ...]:
    changed = (r for r in state.rounds.values() if r.changed_since_close)
    return tuple(sorted(changed, key=lambda r: (r.closed_ts or 0, r.id), reverse=True))


def announced_change(state: AssemblyState, r: Round) -> str:
    """What a round whose outcome changed since its close says, in one line."""
    return _(
        "{title}: closed as {announced}, now {outcome}: positions from members out of range "
        "arrived after the close"
    ).format(
        title=name_of_proposal(state, r.proposal),
        announced=outcome_label(r.announced),
        outcome=outcome_label(r.outcome),
    )


def _members_by_name(state: AssemblyState) -> tuple[str, ...]:
    """Member ids by name; a deviceless membership a key has claimed is listed once, as
    its claimant."""
    current = (m for m in state.members if state.members[m].current)
    return tuple(sorted(current, key=lambda m: (state.members[m].name.casefold(), m)))


def _reviews_due(state: AssemblyState, decisions: Sequence[Decision]) -> tuple[Decision, ...]:
    """Decisions in effect whose review is due, or will be within the window."""
    horizon = state.now_ms + REVIEW_WINDOW_MS
    due = (d for d in decisions if d.status == R.IN_EFFECT and d.review_ts <= horizon)
    return tuple(sorted(due, key=lambda d: d.review_ts))


def _audit_by_proposal(state: AssemblyState) -> dict[str, tuple[AuditEntry, ...]]:
    audit: dict[str, list[AuditEntry]] = {}
    for entry in state.audit:
        if entry.proposal:
            audit.setdefault(entry.proposal, []).append(entry)
    return {k: tuple(v) for k, v in audit.items()}


@dataclass(frozen=True)
class OutcomeChange:
    text: str
    in_record: bool  # the record says so itself (``Digest.changed_since_close``)


def outcome_changes(old: Digest, new: Digest) -> list[OutcomeChange]:
    """What changed in closed rounds' outcomes between two folds: a late objection that
    returned a decision, or positions from a partition that changed how a round ended."""
    changes = []
    for rid, r in new.state.rounds.items():
        before = old.state.rounds.get(rid)
        if before is None or before.phase != R.CLOSED or r.phase != R.CLOSED:
            continue
        title = name_of_proposal(new.state, r.proposal)
        if before.outcome != r.outcome:
            if r.changed_since_close:  # the close said what it counted: the record tells
                changes.append(OutcomeChange(announced_change(new.state, r), in_record=True))
                continue
            text = _(
                "{title}: the outcome is now {now} (was {then}):"
                " positions arrived from members out of range"
            ).format(title=title, now=outcome_label(r.outcome), then=outcome_label(before.outcome))
            changes.append(OutcomeChange(text, in_record=False))
    for did, d in new.state.decisions.items():
        prior = old.state.decisions.get(did)
        if prior is not None and prior.status != d.status and d.status == R.DECISION_RETURNED:
            names = ", ".join(name_of(new.state, o.member) for o in d.late_objections)
            title = name_of_proposal(new.state, d.proposal)
            text = _("{title}: the decision was returned by a late objection from {names}").format(
                title=title, names=names
            )
            changes.append(OutcomeChange(text, in_record=True))
    return changes


def name_of_proposal(state: AssemblyState, proposal: str) -> str:
    p = state.proposals.get(proposal)
    return p.title if p is not None else proposal[:8]


def state_label(p: Proposal, due_for_review: frozenset[str] = frozenset()) -> str:
    if p.id in due_for_review:
        return _(REVIEW_DUE_LABEL)
    return label(STATE_LABELS, p.state)


def rows_for(
    state: AssemblyState,
    proposals: Sequence[Proposal],
    due_for_review: frozenset[str] = frozenset(),
) -> list[tuple[str, tuple[str, ...]]]:
    """Table rows (key, cells) for a proposals list, built with the fold, off the UI thread."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for p in proposals:
        r = state.open_round_of(p.id)
        author = name_of(state, p.author)
        if state.members.get(p.author) is not None and state.members[p.author].supporter:
            # The standing is on the proposal's own screen.
            author = _("{name} (supporter)").format(name=author)
        rows.append(
            (
                p.id,
                (
                    state_label(p, due_for_review),
                    p.title,
                    f"v{p.latest.number}",
                    author,
                    Words(state.vocabulary).phase(r.phase) if r is not None else "",
                ),
            )
        )
    return rows


def open_round_refusal(d: Digest, p: Proposal) -> str | None:
    """Why this person cannot open a round on ``p`` now, in one line (None: they can).

    Only the cases the screens can explain better than the model's rule name: who may
    facilitate, and when an adopted decision reopens for review."""
    if not d.can_facilitate():
        if p.state == R.ADOPTED:
            return _(
                "Only a facilitator opens a review round ({rule}): you are not one now."
            ).format(rule="facilitator-only")
        return _("Only a facilitator opens a round ({rule}): you are not one now.").format(
            rule="facilitator-only"
        )
    if p.state == R.ADOPTED and d.review_due_of(p) is None:
        dec = d.state.decisions.get(p.decision) if p.decision else None
        if dec is None or dec.status != R.IN_EFFECT:
            return _("This decision is not in effect: there is nothing to review yet.")
        return _(
            "This decision is due for review on {when} (in {span}):"
            " its review round opens from then."
        ).format(when=when(dec.review_ts), span=span(dec.review_ts - d.now_ms))
    if p.state == R.ADOPTED_PENDING:
        return _("This decision is still in cooling-off: it can be reviewed once in effect.")
    return None
