"""What a member publishes: items built from the record, with nothing private unless chosen.

Private, by default left out of every item: the names of members (and supporters) who have
not agreed to be named (``allow_naming``), the reasons given for positions, supporters'
names, and minutes. A ``Disclosure`` is the publisher's explicit choice to include some of
them; even then a name appears only if its member agreed. ``draft_publication`` returns the
items with a list of what private content they include and what they leave out, so the
publisher sees it before anything is written (``preview_lines``).

Item kinds built from the record register in ``RECORD_KINDS`` (kind -> builder of an item
from a ref): ``decision`` and ``proposal`` here; the funds, meetings and metrics practices
add ``fund_report``, ``minutes`` and ``metric`` the same way (``--record KIND:ID`` on the
command line reaches them), and ``FIELD_HOOKS`` add fields to any record item (a decision's
metrics, say). Lessons and experiments are
written by the publisher (``text_item``). Any kind reads back on import: a reader that does
not know a kind shows its title, body and fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from assemblymesh.crdt.identity import DeviceCertificate, InvalidSignature, Invite, SigningKey
from assemblymesh.errors import IllegalMoveError, UsageError
from assemblymesh.i18n import N_, _, label, ngettext
from assemblymesh.model import acts as A
from assemblymesh.model import library
from assemblymesh.model import rules as R
from assemblymesh.model.publication import (
    ADOPTION,
    MAX_CHAIN,
    Attribution,
    Header,
    Item,
    Publication,
    item_id,
    seal,
)
from assemblymesh.model.snapshot import LoggedAct
from assemblymesh.model.state import AssemblyState, Decision, Member, Proposal

TEXT_KINDS: Final = ("lesson", "experiment")
# The kinds readers name in words; others show as their kind.
KIND_LABELS: Final[Mapping[str, str]] = {
    "decision": N_("Decision"),
    "proposal": N_("Proposal"),
    "lesson": N_("Lesson"),
    "experiment": N_("Experiment"),
    ADOPTION: N_("Adoption note"),
    "fund_report": N_("Fund report"),
    "minutes": N_("Minutes"),
    "metric": N_("Metrics"),
}
WITHHELD_MEMBER: Final = "a member"
WITHHELD_SUPPORTER: Final = "a supporter"


@dataclass(frozen=True)
class Disclosure:
    """The publisher's explicit choices of private content to include."""

    names: bool = False  # names of members who agreed to be named
    supporter_names: bool = False  # names of supporters who agreed to be named
    reasons: bool = False  # the reasons given for positions
    minutes: bool = False  # the minutes kept with a decision's round


class Context:
    """What an item builder reads: the state, the choices, the minutes; it notes every piece
    of private content it includes or leaves out, for the preview."""

    def __init__(
        self,
        state: AssemblyState,
        disclosure: Disclosure,
        minutes: Callable[[str], str] = lambda key: "",
    ) -> None:
        self.state = state
        self.disclosure = disclosure
        self.minutes = minutes
        self.included: list[str] = []
        self.withheld: list[str] = []

    def name(self, member: str) -> str:
        """``member``'s name if it may be published, else a word for their standing."""
        m = self.state.members.get(member)
        if m is None:
            return WITHHELD_MEMBER
        chosen = self.disclosure.supporter_names if m.supporter else self.disclosure.names
        if chosen and m.allows_naming:
            _note(self.included, _("the name of {name}").format(name=m.name))
            return m.name
        if not chosen:
            if m.supporter:
                note = _("supporters' names (not chosen: {option})").format(
                    option="--supporter-names"
                )
            else:
                note = _("names (not chosen: {option})").format(option="--names")
            _note(self.withheld, note)
        else:
            _note(
                self.withheld, _("the name of {name} (not agreed to be named)").format(name=m.name)
            )
        return WITHHELD_SUPPORTER if m.supporter else WITHHELD_MEMBER

    def reason(self, text: str) -> str | None:
        if not text.strip():
            return None
        if self.disclosure.reasons:
            _note(self.included, _("the reasons given for positions"))
            return text
        _note(
            self.withheld,
            _("the reasons given for positions (not chosen: {option})").format(option="--reasons"),
        )
        return None


def _note(lines: list[str], line: str) -> None:
    if line not in lines:
        lines.append(line)


# --- items from the record --------------------------------------------------------------------


def decision_item(ctx: Context, ref: str) -> Item:
    """A decision: the adopted text, the statement, the effects, the positions (counts; who
    and why only as chosen) and, if chosen, the minutes of its round."""
    state = ctx.state
    d = state.find_decision(ref)
    p = state.proposals[d.proposal]
    r = state.rounds[d.round]
    positions = []
    for pos in r.positions.values():
        entry: dict[str, Any] = {"kind": pos.kind, "by": ctx.name(pos.member)}
        if pos.advisory:
            entry["advisory"] = True
        reason = ctx.reason(pos.reason)
        if reason is not None:
            entry["reason"] = reason
        positions.append(entry)
    fields: dict[str, Any] = {
        "outcome": d.outcome,
        "status": d.status,
        "version": d.version,
        "decided_ms": d.decided_ts,
        "effective_ms": d.effective_ts,
        "statement": d.statement,
        "effects": [_effect_text(ctx, e) for e in d.effects],
        "tally": _tally(r.positions.values()),
        "positions": positions,
        "proposed_by": ctx.name(p.author),
        "facilitated_by": ctx.name(d.decided_by),
    }
    _minutes(ctx, fields, (d.round, d.proposal))
    return Item("decision", p.title, p.versions[d.version - 1].body, _origin(p, fields))


def proposal_item(ctx: Context, ref: str) -> Item:
    """A proposal as it stands: its latest text, state and effects."""
    p = ctx.state.find_proposal(ref)
    fields: dict[str, Any] = {
        "state": p.state,
        "versions": len(p.versions),
        "created_ms": p.created_ts,
        "rounds": len(p.rounds),
        "effects": [_effect_text(ctx, e) for e in p.latest.effects],
        "proposed_by": ctx.name(p.author),
    }
    _minutes(ctx, fields, (*p.rounds, p.id))
    return Item("proposal", p.title, p.latest.body, _origin(p, fields))


def _origin(p: Proposal, fields: dict[str, Any]) -> dict[str, Any]:
    if p.origin is not None:
        fields["origin_item"] = p.origin
    return fields


def _minutes(ctx: Context, fields: dict[str, Any], refs: Sequence[str]) -> None:
    for ref in refs:
        text = ctx.minutes(f"minutes/{ref}")
        if not text.strip():
            continue
        if ctx.disclosure.minutes:
            _note(ctx.included, _("minutes (free text: check them for names)"))
            fields["minutes"] = text
        else:
            _note(ctx.withheld, _("minutes (not chosen: {option})").format(option="--minutes"))
        return


def _tally(positions: Any) -> dict[str, int]:
    counts = dict.fromkeys(R.POSITION_KINDS, 0)
    for pos in positions:
        if not pos.advisory:
            counts[pos.kind] += 1
    return counts


def _effect_text(ctx: Context, effect: A.Effect) -> str:
    parts = []
    for f in dataclasses.fields(effect):
        value = getattr(effect, f.name)
        parts.append(f"{f.name}={ctx.name(value) if f.name == 'member' else value}")
    return f"{effect.KIND}: {', '.join(parts)}"


RecordBuilder = Callable[[Context, str], Item]
# kind -> how an item of that kind is built from a ref in the record. Practices add theirs.
RECORD_KINDS: dict[str, RecordBuilder] = {
    "decision": decision_item,
    "proposal": proposal_item,
}
# Extra fields for an item built from the record: (context, kind, ref) -> fields to add, e.g.
# a metrics practice adds a decision's metrics. Each hook notes private content it includes
# or leaves out on the context, as the builders do.
FieldHook = Callable[[Context, str, str], Mapping[str, Any]]
FIELD_HOOKS: list[FieldHook] = []


def record_item(ctx: Context, kind: str, ref: str) -> Item:
    """The item of ``kind`` for ``ref``, with every field hook's additions."""
    build = RECORD_KINDS.get(kind)
    if build is None:
        raise UsageError(
            _("no item kind {kind!r} here: one of {kinds}").format(
                kind=kind, kinds=", ".join(RECORD_KINDS)
            )
        )
    item = build(ctx, ref)
    extra: dict[str, Any] = {}
    for hook in FIELD_HOOKS:
        extra.update(hook(ctx, kind, ref))
    return dataclasses.replace(item, fields={**item.fields, **extra}) if extra else item


def text_item(kind: str, text: str) -> Item:
    """A lesson or an experiment the publisher writes: the first line is the title."""
    if kind not in TEXT_KINDS:
        raise UsageError(_("a written item is one of: {kinds}").format(kinds=", ".join(TEXT_KINDS)))
    title, _newline, body = text.strip().partition("\n")
    if not title.strip():
        raise UsageError(_("a {kind} needs a title (its first line)").format(kind=kind))
    return Item(kind, title.strip(), body.strip())


# --- the draft of a publication ------------------------------------------------------------


@dataclass(frozen=True)
class DraftItem:
    item: Item
    via: tuple[bytes, ...] = ()  # publication ids it came through (re-published items)
    data: bytes = b""  # its bytes as first published (re-published items), else encoded here

    @property
    def encoded(self) -> bytes:
        return self.data or self.item.encode()

    @property
    def ident(self) -> bytes:
        return item_id(self.encoded)


@dataclass
class Selection:
    """What a member chose to publish."""

    records: list[tuple[str, str]] = field(default_factory=list)  # (kind, ref)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    items: list[str] = field(default_factory=list)  # library items to re-publish


@dataclass(frozen=True)
class Draft:
    """A publication about to be written: its items, the earlier publications they name, the
    publisher's name (empty unless named), and the preview's included/withheld lists."""

    items: tuple[DraftItem, ...]
    hops: Mapping[bytes, tuple[bytes, bytes]]
    publisher_name: str
    included: tuple[str, ...]
    withheld: tuple[str, ...]


def draft_publication(
    ctx: Context, selection: Selection, publisher: str, extra: Sequence[DraftItem] = ()
) -> Draft:
    """The items ``selection`` names, built with ``ctx``'s choices."""
    drafted: list[DraftItem] = list(extra)
    hops: dict[bytes, tuple[bytes, bytes]] = {}
    for kind, ref in selection.records:
        drafted.append(DraftItem(record_item(ctx, kind, ref)))
    drafted.extend(DraftItem(text_item(kind, text)) for kind, text in selection.texts)
    for ref in selection.items:
        entry, published = library.find_item(ctx.state, ref)
        via = (*(bytes.fromhex(s.publication) for s in published.via), bytes.fromhex(entry.id))
        data = entry.publication.item_bytes[published.id]
        drafted.append(DraftItem(published.item, via, data))
        hops.update(carried_hops(entry.publication, via))
    if not drafted:
        raise UsageError(_("choose something to publish (a decision, proposal, lesson, ...)"))
    if len({d.ident for d in drafted}) != len(drafted):
        raise UsageError(_("an item is chosen twice"))
    me = ctx.state.members.get(publisher)
    name = ctx.name(publisher) if me is not None else ""
    if name in (WITHHELD_MEMBER, WITHHELD_SUPPORTER):
        name = ""
    return Draft(tuple(drafted), hops, name, tuple(ctx.included), tuple(ctx.withheld))


def carried_hops(
    publication: Publication, via: Sequence[bytes]
) -> dict[bytes, tuple[bytes, bytes]]:
    """The signed headers a file must carry for provenance ``via`` ending at ``publication``."""
    out = {}
    for pub in via:
        if pub.hex() == publication.id:
            out[pub] = (publication.header_bytes, publication.signature)
        else:
            out[pub] = publication.hops[pub]
    return out


def adoption_item(
    state: AssemblyState, proposal: str
) -> tuple[DraftItem, dict[bytes, tuple[bytes, bytes]]]:
    """The adoption note of an adopted proposal put forward from a library item: what was
    adopted here, naming the item and the publication it came in (carried in the file)."""
    p = state.find_proposal(proposal)
    if p.origin is None:
        raise UsageError(
            _("{title!r} was not put forward from a library item").format(title=p.title)
        )
    if p.state != R.ADOPTED or p.decision is None:
        raise UsageError(_("{title!r} is not adopted (in effect) yet").format(title=p.title))
    entry, published = library.items(state.library)[p.origin]
    d: Decision = state.decisions[p.decision]
    item = Item(
        ADOPTION,
        p.title,
        p.versions[d.version - 1].body,
        {
            "origin_item": published.id,
            "origin_publication": entry.id,
            "origin_assembly": published.origin_assembly,
            "origin_title": published.item.title,
            "effective_ms": d.effective_ts,
            "statement": d.statement,
            "versions": len(p.versions),
        },
    )
    pub = bytes.fromhex(entry.id)
    via = (*(bytes.fromhex(s.publication) for s in published.via), pub)
    return DraftItem(item), carried_hops(entry.publication, via)


def preview_lines(draft: Draft, assembly_name: str) -> list[str]:
    """What will be written, in words: every item, then what private content is in and out."""
    count = len(draft.items)
    lines = [
        ngettext(
            "A publication of {name!r} with {count} item:",
            "A publication of {name!r} with {count} items:",
            count,
        ).format(name=assembly_name, count=count)
    ]
    for d in draft.items:
        kind = label(KIND_LABELS, d.item.kind)
        hops = (
            " "
            + ngettext(
                "(re-published, {count} earlier hop)", "(re-published, {count} earlier hops)",
                len(d.via),
            ).format(count=len(d.via))
            if d.via
            else ""
        )  # fmt: skip
        lines.append(f"  {kind}: {d.item.title}{hops}")
    signer = draft.publisher_name or _("a member (your name is withheld)")
    lines.append(_("Signed as: {name}").format(name=signer))
    included = ", ".join(draft.included) or _("none")
    lines.append(_("Private content included: {items}").format(items=included))
    withheld = ", ".join(draft.withheld) or _("nothing private was found")
    lines.append(_("Left out: {items}").format(items=withheld))
    return lines


def seal_draft(
    draft: Draft,
    state: AssemblyState,
    proof: Attribution,
    title: str,
    note: str,
    now_ms: int,
    device_key: SigningKey,
) -> bytes:
    """The signed publication file of ``draft``."""
    if state.assembly is None:
        raise UsageError(_("the assembly's record is not here yet"))
    for text, what, line in ((title, _("the title"), True), (note, _("the note"), False)):
        problem = A.text_problem(text, line=line)
        if problem is not None or len(text) > (A.MAX_LINE_LEN if line else A.MAX_TEXT_LEN):
            raise UsageError(
                _("{what} {problem}").format(what=what, problem=problem or _("is too long"))
            )
    if not title.strip():
        raise UsageError(_("a publication needs a title"))
    header = Header(
        assembly=state.assembly_id,
        assembly_name=state.assembly.name,
        created_ms=now_ms,
        title=title.strip(),
        note=note,
        publisher_name=draft.publisher_name,
        items=tuple((d.ident, d.via) for d in draft.items),
        proof=proof,
    )
    return seal(header, [d.encoded for d in draft.items], draft.hops, device_key)


def member_line(m: Member) -> str:
    return f"{m.name} ({'agreed' if m.allows_naming else 'not agreed'} to be named)"


def attribution(
    state: AssemblyState, acts: Mapping[str, Sequence[LoggedAct]], certificate: DeviceCertificate
) -> Attribution:
    """The proof that ``certificate``'s device writes for a member of this assembly: the
    founder's key and nonce, and the invites (with proofs) from the founder down to it."""
    member = certificate.member.hex()
    m = state.members.get(member)
    if state.assembly is None or m is None or not m.counts(state.now_ms):
        raise UsageError(_("only a member of the assembly publishes for it (not a supporter)"))
    chain: list[tuple[bytes, bytes]] = []
    while not m.is_founder:
        if m.invited_by is None or m.invited_by not in state.members or len(chain) >= MAX_CHAIN:
            raise UsageError(
                _("no chain of invites leads from the founder to {name}").format(name=m.name)
            )
        chain.append(_join_proof(acts.get(m.id, ()), m))
        m = state.members[m.invited_by]
    return Attribution(
        bytes.fromhex(state.assembly.founder),
        bytes.fromhex(state.assembly.nonce),
        tuple(reversed(chain)),
        certificate,
    )


def _join_proof(logged: Sequence[LoggedAct], m: Member) -> tuple[bytes, bytes]:
    """The invite and proof of the join that admitted ``m``, from their own log."""
    for entry in logged:
        try:
            act = A.Act.from_doc(entry.value)
        except IllegalMoveError:
            continue
        if not isinstance(act, A.Join):
            continue
        invite = bytes.fromhex(act.invite)
        try:
            key = Invite.decode(invite).invite_key.hex()
        except InvalidSignature:
            continue
        if key == m.invite_key:
            return invite, bytes.fromhex(act.proof)
    raise UsageError(_("the join of {name} is not here").format(name=m.name))


__all__ = [
    "FIELD_HOOKS",
    "KIND_LABELS",
    "RECORD_KINDS",
    "TEXT_KINDS",
    "Context",
    "Disclosure",
    "Draft",
    "DraftItem",
    "Selection",
    "adoption_item",
    "attribution",
    "carried_hops",
    "decision_item",
    "draft_publication",
    "preview_lines",
    "proposal_item",
    "record_item",
    "seal_draft",
    "text_item",
]
