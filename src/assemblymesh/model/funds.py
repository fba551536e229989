"""Community seed funds: the records the fold keeps, and pure computations over them.

A fund is established by a decision's ``establish_fund`` effect and lives until its
dissolution date. Its ledger holds every entry in the fold's global order: contributions,
pledges and their pauses, disbursements (by the current steward up to the threshold, above
it by a decision's ``disburse`` effect), refused entries with the rule that refused them, and
the dissolution with what became of the balance. The balance never goes below zero: an entry
that would take it there is refused where the global order puts it, on every node alike.

The steward is computed from the record and the clock: each rotation (the establishing
decision's, or a later ``fund_stewards`` effect's) starts when its decision takes effect, and
every ``term`` the next member in the order who is still a member takes over. A steward who
is no longer a member mid-term is stood in for by the next one in the order until the term
ends.

The fold calls the functions below with the causal time of the act or of the decision taking
effect; each returns the fund as it is after, or raises ``IllegalMoveError`` naming the rule.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from assemblymesh.errors import IllegalMoveError
from assemblymesh.i18n import N_, label
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R

FUND_CONTEXT: Final = b"assemblymesh/fund/v1\x00"
PARTNERSHIP_CONTEXT: Final = b"assemblymesh/partnership/v1\x00"

# Ledger entry kinds.
CONTRIBUTION: Final = "contribution"
DISBURSEMENT: Final = "disbursement"
PLEDGE: Final = "pledge"
PAUSE: Final = "pause"
RESUME: Final = "resume"
RETURN: Final = "return"  # a contributor's share of the balance left at dissolution
DISSOLUTION: Final = "dissolution"
REFUSED: Final = "refused"
SUNSET: Final = "dissolution-date"  # the dissolution date moved, by decision
STEWARDS: Final = "stewards"  # a new rotation, by decision

# What each kind is called where it is shown (the record and --json keep the kinds).
ENTRY_LABELS: Final = {
    CONTRIBUTION: N_("contribution"),
    DISBURSEMENT: N_("disbursement"),
    PLEDGE: N_("pledge"),
    PAUSE: N_("pause"),
    RESUME: N_("resume"),
    RETURN: N_("return"),
    DISSOLUTION: N_("dissolution"),
    REFUSED: N_("refused"),
    SUNSET: N_("dissolution date"),
    STEWARDS: N_("stewards"),
}


def entry_label(kind: str) -> str:
    """The kind of a ledger entry in the chosen language (an unknown kind as itself)."""
    return label(ENTRY_LABELS, kind)


# Whether a participant is a member (not a supporter, not removed) at a time.
IsMember = Callable[[str, int], bool]


def derived_id(context: bytes, decision: str, index: int) -> str:
    """The id of the fund or partnership the ``index``-th effect of ``decision`` makes."""
    data = context + decision.encode("ascii") + index.to_bytes(2, "big")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a fund's ledger: who, when, what, and the balance after it."""

    ts: int  # causal time: its place in the global order
    kind: str
    member: str  # who wrote it (or, for a decision's entry, its facilitator)
    amount: int
    balance: int  # the balance after the entry (unchanged by a refused one)
    ref: str  # the act's ref, or the decision's id
    device: str = ""  # the signing device, for entries written by an act
    to: str = ""  # the recipient of a disbursement or of the balance at dissolution
    note: str = ""
    rule: str | None = None  # a refused entry: the rule that refused it
    detail: str = ""
    decision: str | None = None  # the decision the entry comes from, if any

    @property
    def accepted(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class PledgeRecord:
    member: str
    amount: int
    every_days: int
    since_ts: int
    ref: str
    paused_ts: int | None = None  # paused from then on (None: running)

    def running_at(self, ts: int) -> bool:
        return self.paused_ts is None or ts < self.paused_ts


@dataclass(frozen=True)
class Rotation:
    """Stewards taking turns of ``term_ms`` each, from ``start_ts``, in ``order``."""

    start_ts: int
    term_ms: int
    order: tuple[str, ...]
    decision: str


@dataclass(frozen=True)
class Fund:
    id: str
    name: str
    purpose: str
    unit: str
    decision: str  # the decision that established it
    established_ts: int
    dissolves_ts: int
    remainder: str
    remainder_to: str
    threshold: int
    rotations: tuple[Rotation, ...]
    # Every entry, in the global order. While the fold runs it keeps the entries beside the
    # record (appending to a tuple would copy it each time); the folded state has them all.
    ledger: tuple[LedgerEntry, ...] = ()
    pledges: Mapping[str, PledgeRecord] = field(default_factory=dict)
    dissolved_ts: int | None = None
    balance: int = 0
    given: Mapping[str, int] = field(default_factory=dict)  # participant -> contributed in all

    def open_at(self, ts: int) -> bool:
        return self.dissolved_ts is None and self.established_ts <= ts < self.dissolves_ts

    def accepted(self) -> tuple[LedgerEntry, ...]:
        return tuple(e for e in self.ledger if e.accepted)

    def refused(self) -> tuple[LedgerEntry, ...]:
        return tuple(e for e in self.ledger if not e.accepted)

    def contributions(self) -> tuple[LedgerEntry, ...]:
        return tuple(e for e in self.ledger if e.accepted and e.kind == CONTRIBUTION)

    def running_pledges(self, ts: int) -> tuple[PledgeRecord, ...]:
        return tuple(p for p in self.pledges.values() if p.running_at(ts))


# --- the steward -------------------------------------------------------------------------------


def _turns(rotation: Rotation, until: int, is_member: IsMember) -> Iterable[tuple[int, str]]:
    """(start of term, holder) for each term of ``rotation`` that starts by ``until``: at each
    start the next member in the order who is still a member then takes over."""
    at = -1
    start = rotation.start_ts
    n = len(rotation.order)
    while start <= until:
        nxt = next(
            (
                (at + step) % n
                for step in range(1, n + 1)
                if is_member(rotation.order[(at + step) % n], start)
            ),
            None,
        )
        if nxt is None:
            return
        at = nxt
        yield start, rotation.order[at]
        start += rotation.term_ms


def _rotation_at(fund: Fund, ts: int) -> Rotation | None:
    current = None
    for rotation in fund.rotations:
        if rotation.start_ts <= ts:
            current = rotation
    return current


def steward_at(fund: Fund, ts: int, is_member: IsMember) -> str | None:
    """The fund's steward at ``ts``: the term's holder, or (if they are no longer a member)
    the next member in the order standing in until the term ends; None if there is none."""
    if not fund.open_at(ts):
        return None
    rotation = _rotation_at(fund, ts)
    if rotation is None:
        return None
    holder = None
    for _start, who in _turns(rotation, ts, is_member):
        holder = who
    if holder is None:
        return None
    if is_member(holder, ts):
        return holder
    at = rotation.order.index(holder)
    n = len(rotation.order)
    return next(
        (
            rotation.order[(at + s) % n]
            for s in range(1, n)
            if is_member(rotation.order[(at + s) % n], ts)
        ),
        None,
    )


@dataclass(frozen=True)
class Handover:
    ts: int
    steward: str


def next_handover(fund: Fund, ts: int, is_member: IsMember) -> Handover | None:
    """When the current term ends and who takes over then (judged on who is a member at
    ``ts``); None if the fund dissolves first or the order has no member left."""
    rotation = _rotation_at(fund, ts)
    if rotation is None or not fund.open_at(ts):
        return None
    terms = (ts - rotation.start_ts) // rotation.term_ms + 1
    ends = rotation.start_ts + terms * rotation.term_ms
    later = [r.start_ts for r in fund.rotations if r.start_ts > ts]
    if later:
        ends = min(ends, later[0])
    if ends >= fund.dissolves_ts:
        return None
    who = steward_at(fund, ends, lambda m, t: is_member(m, min(t, ts)))
    return Handover(ends, who) if who is not None else None


# --- what the fold does to a fund -----------------------------------------------------------


def establish(d_id: str, index: int, ts: int, effect: A.EstablishFundEffect) -> Fund:
    """The fund ``effect`` of decision ``d_id`` establishes when it takes effect at ``ts``
    (the caller checked the stewards)."""
    if effect.dissolves <= ts:
        raise IllegalMoveError(R.FUND_OPEN, "the dissolution date has passed")
    if effect.dissolves - ts > R.MAX_FUND_LIFE_MS:
        years = R.MAX_FUND_LIFE_MS // (365 * R.DAY_MS)
        raise IllegalMoveError(R.FUND_LIFE_CAPPED, f"a fund lives at most {years} years")
    if effect.remainder == R.REMAINDER_GIVE and not effect.remainder_to.strip():
        raise IllegalMoveError(R.EFFECT_APPLIES, "a fund that gives its balance names to whom")
    rotation = Rotation(ts, effect.term_days * R.DAY_MS, effect.stewards, d_id)
    return Fund(
        id=derived_id(FUND_CONTEXT, d_id, index),
        name=effect.name,
        purpose=effect.purpose,
        unit=effect.unit,
        decision=d_id,
        established_ts=ts,
        dissolves_ts=effect.dissolves,
        remainder=effect.remainder,
        remainder_to=effect.remainder_to,
        threshold=effect.threshold,
        rotations=(rotation,),
    )


def require_open(fund: Fund, ts: int) -> None:
    if not fund.open_at(ts):
        raise IllegalMoveError(
            R.FUND_OPEN, f"fund {fund.name!r} dissolved on {_day(fund.dissolves_ts)}"
        )


@dataclass(frozen=True)
class Step:
    """What one act or effect does to a fund: the record after it, and its ledger entries."""

    fund: Fund
    entries: tuple[LedgerEntry, ...]


def _entry(fund: Fund, *entries: LedgerEntry) -> Step:
    return Step(dataclasses.replace(fund, balance=entries[-1].balance), entries)


def contribute(fund: Fund, ts: int, who: tuple[str, str, str], act: A.Contribute) -> Step:
    """``who`` is (member, act ref, device)."""
    require_open(fund, ts)
    member, ref, device = who
    balance = fund.balance + act.amount
    given = {**fund.given, member: fund.given.get(member, 0) + act.amount}
    return _entry(
        dataclasses.replace(fund, given=given),
        LedgerEntry(ts, CONTRIBUTION, member, act.amount, balance, ref, device, note=act.note),
    )


def pledge(fund: Fund, ts: int, who: tuple[str, str, str], act: A.Pledge) -> Step:
    require_open(fund, ts)
    member, ref, device = who
    record = PledgeRecord(member, act.amount, act.every_days, ts, ref)
    note = f"every {act.every_days} days" + (f": {act.note}" if act.note else "")
    fund = dataclasses.replace(fund, pledges={**fund.pledges, member: record})
    return _entry(
        fund, LedgerEntry(ts, PLEDGE, member, act.amount, fund.balance, ref, device, note=note)
    )


def pause_pledge(fund: Fund, ts: int, who: tuple[str, str, str], act: A.PausePledge) -> Step:
    require_open(fund, ts)
    member, ref, device = who
    record = fund.pledges.get(member)
    if record is None:
        raise IllegalMoveError(R.PLEDGE_EXISTS, f"no pledge of this participant to {fund.name!r}")
    if act.paused == (record.paused_ts is not None):
        state = "paused" if act.paused else "running"
        raise IllegalMoveError(R.PLEDGE_EXISTS, f"the pledge to {fund.name!r} is already {state}")
    record = dataclasses.replace(record, paused_ts=ts if act.paused else None)
    fund = dataclasses.replace(fund, pledges={**fund.pledges, member: record})
    kind = PAUSE if act.paused else RESUME
    return _entry(fund, LedgerEntry(ts, kind, member, record.amount, fund.balance, ref, device))


def disburse(
    fund: Fund,
    ts: int,
    who: tuple[str, str, str],
    act: A.Disburse,
    is_member: IsMember,
) -> Step:
    """A disbursement by the current steward, at or below the threshold."""
    require_open(fund, ts)
    member, ref, device = who
    steward = steward_at(fund, ts, is_member)
    if member != steward:
        raise IllegalMoveError(
            R.FUND_STEWARD_ONLY, f"only the current steward of {fund.name!r} disburses"
        )
    if act.amount > fund.threshold:
        raise IllegalMoveError(
            R.FUND_THRESHOLD,
            f"{act.amount} {fund.unit} is above the threshold of {fund.threshold}:"
            " it needs a decision with a disburse effect",
        )
    _check_balance(fund, act.amount)
    entry = LedgerEntry(
        ts, DISBURSEMENT, member, act.amount, fund.balance - act.amount, ref, device,
        to=act.to, note=act.note,
    )  # fmt: skip
    return _entry(fund, entry)


def _check_balance(fund: Fund, amount: int) -> None:
    if amount > fund.balance:
        raise IllegalMoveError(
            R.FUND_NEVER_NEGATIVE,
            f"{amount} {fund.unit} is more than the balance of {fund.balance}",
        )


def refused(
    fund: Fund, ts: int, who: tuple[str, str, str], act: A.Act, rule: str, detail: str
) -> Step:
    """The fund with a refused entry for ``act`` (shown with its reason on every node)."""
    member, ref, device = who
    amount = getattr(act, "amount", 0)
    kind = {A.Contribute: CONTRIBUTION, A.Disburse: DISBURSEMENT, A.Pledge: PLEDGE}.get(
        type(act), PAUSE
    )
    entry = LedgerEntry(
        ts, REFUSED, member, amount if isinstance(amount, int) else 0, fund.balance, ref,
        device, to=str(getattr(act, "to", "")), note=kind, rule=rule, detail=detail,
    )  # fmt: skip
    return _entry(fund, entry)


def disburse_by_decision(
    fund: Fund, ts: int, decided_by: str, d_id: str, e: A.DisburseEffect
) -> Step:
    """A decision's ``disburse`` effect: any amount the balance allows. Refused, it is a
    refused entry in the ledger and the fund is otherwise unchanged."""
    try:
        require_open(fund, ts)
        _check_balance(fund, e.amount)
    except IllegalMoveError as exc:
        entry = LedgerEntry(
            ts, REFUSED, decided_by, e.amount, fund.balance, d_id, to=e.to,
            note=DISBURSEMENT, rule=exc.rule, detail=exc.detail, decision=d_id,
        )  # fmt: skip
        raise _Refused(_entry(fund, entry), exc) from exc
    entry = LedgerEntry(
        ts, DISBURSEMENT, decided_by, e.amount, fund.balance - e.amount, d_id, to=e.to,
        note="by decision", decision=d_id,
    )  # fmt: skip
    return _entry(fund, entry)


class _Refused(Exception):
    """A decision's effect refused, with the refused entry for the ledger."""

    def __init__(self, step: Step, error: IllegalMoveError) -> None:
        super().__init__(error.detail)
        self.step = step
        self.error = error


Refused = _Refused


def move_dissolution(
    fund: Fund, ts: int, decided_by: str, d_id: str, dissolves: int, *, lengthen: bool
) -> Step:
    """A decision moves the dissolution date: ``shorten_fund`` only earlier (a date passed by
    the time it takes effect dissolves the fund then), ``lengthen_fund`` only later."""
    require_open(fund, ts)
    old = fund.dissolves_ts
    if lengthen:
        if dissolves <= old:
            raise IllegalMoveError(R.EFFECT_APPLIES, "lengthen_fund needs a later date")
        if dissolves - ts > R.MAX_FUND_LIFE_MS:
            raise IllegalMoveError(R.FUND_LIFE_CAPPED, "the new date is too far off")
        new = dissolves
    else:
        if dissolves >= old:
            raise IllegalMoveError(
                R.FUND_SHORTEN_ONLY,
                "shorten_fund only brings the date forward; lengthening needs its own"
                " decision with a lengthen_fund effect",
            )
        new = max(dissolves, ts)
    what = "lengthened" if lengthen else "shortened"
    entry = LedgerEntry(
        ts, SUNSET, decided_by, 0, fund.balance, d_id,
        note=f"{what}: dissolves {_day(new)} (was {_day(old)})", decision=d_id,
    )  # fmt: skip
    return _entry(dataclasses.replace(fund, dissolves_ts=new), entry)


def new_rotation(fund: Fund, ts: int, decided_by: str, d_id: str, e: A.FundStewardsEffect) -> Step:
    require_open(fund, ts)
    rotation = Rotation(ts, e.term_days * R.DAY_MS, e.stewards, d_id)
    entry = LedgerEntry(
        ts, STEWARDS, decided_by, 0, fund.balance, d_id,
        note=f"{len(e.stewards)} stewards, {e.term_days}-day terms", decision=d_id,
    )  # fmt: skip
    return _entry(dataclasses.replace(fund, rotations=(*fund.rotations, rotation)), entry)


def due_dissolutions(funds: Mapping[str, Fund], until: int) -> list[Fund]:
    """The funds that dissolve by ``until`` and have not yet, in the order they do."""
    due = [f for f in funds.values() if f.dissolved_ts is None and f.dissolves_ts <= until]
    return sorted(due, key=lambda f: (f.dissolves_ts, f.id))


def dissolve(fund: Fund, decided_by: str) -> Step:
    """The fund at its dissolution date: the balance goes as the fund says (back to the
    contributors in proportion, or to the named recipient), each move in the ledger."""
    ts = fund.dissolves_ts
    left = fund.balance
    entries: list[LedgerEntry] = []
    balance = left
    if left and fund.remainder == R.REMAINDER_RETURN:
        for member, share in return_shares(fund):
            balance -= share
            entries.append(
                LedgerEntry(ts, RETURN, member, share, balance, fund.decision, to=member)
            )
    to = fund.remainder_to if fund.remainder == R.REMAINDER_GIVE else ""
    note = (
        f"balance of {left} {fund.unit} "
        + (f"given to {to}" if to else "returned to the contributors")
        if left
        else "nothing left"
    )
    entries.append(
        LedgerEntry(ts, DISSOLUTION, decided_by, left, 0, fund.decision, to=to, note=note)
    )
    return _entry(dataclasses.replace(fund, dissolved_ts=ts), *entries)


def return_shares(fund: Fund) -> list[tuple[str, int]]:
    """The balance split among the contributors in proportion to what each put in (whole
    units; the units rounding leaves go one each to the largest contributors first)."""
    given = fund.given
    total = sum(given.values())
    left = fund.balance
    if not total or not left:
        return []
    shares = {m: left * g // total for m, g in given.items()}
    spare = left - sum(shares.values())
    for m in sorted(given, key=lambda m: (-given[m], m))[:spare]:
        shares[m] += 1
    return [(m, s) for m, s in shares.items() if s]


# --- views -------------------------------------------------------------------------------------


def balance_series(fund: Fund) -> list[tuple[int, int]]:
    """(time, balance) after each accepted entry, from establishment: the plot's points."""
    points = [(fund.established_ts, 0)]
    points += [(e.ts, e.balance) for e in fund.accepted()]
    return points


def days_left(fund: Fund, now_ms: int) -> int:
    """Whole days until dissolution (rounded up); 0 once dissolved."""
    if fund.dissolved_ts is not None or now_ms >= fund.dissolves_ts:
        return 0
    return -(-(fund.dissolves_ts - now_ms) // R.DAY_MS)


def income_by(fund: Fund) -> dict[str, int]:
    """Participant -> what they contributed in all."""
    return dict(fund.given)


def _day(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def day(ms: int) -> str:
    return _day(ms)


__all__ = [
    "Fund",
    "Handover",
    "LedgerEntry",
    "PledgeRecord",
    "Refused",
    "Rotation",
    "Step",
    "balance_series",
    "contribute",
    "day",
    "days_left",
    "derived_id",
    "disburse",
    "disburse_by_decision",
    "dissolve",
    "due_dissolutions",
    "establish",
    "income_by",
    "move_dissolution",
    "new_rotation",
    "next_handover",
    "pause_pledge",
    "pledge",
    "refused",
    "require_open",
    "return_shares",
    "steward_at",
]
