"""Causal time: where each act of the record stands in the one global order.

A writer chooses its act's ``ts``, so ``ts`` alone would let anyone date an act before what
it depends on. Each act is therefore placed at its *causal time* ``eff``:

    eff = max(ts, eff of the same device's previous act,
              eff + 1 of every act it names in ``seen`` (what its writer had seen),
              eff + 1 of the act it needs by construction (a join: the invite's record))

An act waits, and takes no part in the fold, while an act it names is not here, while it is
dated more than ``MAX_FUTURE_SKEW_MS`` after the folding node's clock, or while anything
before it in its device's chain waits. Acts are then sorted by
``(eff, member, device, seq, pos)``: the device's chain keeps its order, an act comes after
everything it names, and the rest is a deterministic tie-break on data every node has.

What remains possible is documented in ``docs/protocol.md`` (threat model): a device that
hides what it saw can date an act as early as just after the newest act it names or needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from assemblymesh.crdt.identity import Invite
from assemblymesh.errors import IllegalMoveError, RemoteError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.snapshot import AssemblySnapshot, LoggedAct


@dataclass(slots=True)
class Placed:
    """One logged act: where it stands, and what it holds."""

    member: str
    device: str
    seq: int
    pos: int
    raw: object
    act: A.Act | None  # None when the value is not a well-formed act of a known type
    problem: IllegalMoveError | None = None
    ref: str | None = None
    eff: int = 0
    waits: tuple[str, str] | None = None  # (rule, detail) while it cannot be placed
    deps: list[Placed] = field(default_factory=list)  # acts it names or needs
    pred: Placed | None = None  # the same device's previous act

    @property
    def key(self) -> tuple[int, str, str, int, int]:
        return (self.eff, self.member, self.device, self.seq, self.pos)

    @property
    def ts(self) -> int | None:
        if self.act is not None:
            return self.act.ts
        raw_ts = self.raw.get("ts") if isinstance(self.raw, dict) else None
        return A.as_int(raw_ts)


@dataclass(frozen=True)
class Ordering:
    placed: tuple[Placed, ...]  # in the global order
    waiting: tuple[Placed, ...]  # with ``waits`` set, in document order
    eff_of: dict[str, int]  # ref -> causal time, for placed acts
    frontier: tuple[str, ...]  # refs of placed acts that no placed act names
    wake_ms: int | None  # when the earliest future-dated act stops waiting


def order_acts(snapshot: AssemblySnapshot, now_ms: int) -> Ordering:
    """Every logged act of ``snapshot``, placed or waiting (see the module docstring)."""
    entries = list(_entries(snapshot))
    by_ref: dict[str, Placed] = {}
    for e in entries:
        if e.ref is not None:
            by_ref.setdefault(e.ref, e)
    invites = _invite_records(entries)
    for e in entries:
        _link(e, by_ref, invites)
    wake = _place(entries, now_ms)
    placed = sorted((e for e in entries if e.waits is None), key=lambda e: e.key)
    return Ordering(
        placed=tuple(placed),
        waiting=tuple(e for e in entries if e.waits is not None),
        eff_of={e.ref: e.eff for e in placed if e.ref is not None},
        frontier=_frontier(placed),
        wake_ms=wake,
    )


def _frontier(placed: list[Placed]) -> tuple[str, ...]:
    """Refs of the placed acts that no placed act names or follows in its chain."""
    named: set[int] = set()
    for e in placed:
        named.update(id(d) for d in e.deps)
        if e.pred is not None:
            named.add(id(e.pred))
    return tuple(e.ref for e in placed if e.ref is not None and id(e) not in named)


def _entries(snapshot: AssemblySnapshot) -> Iterator[Placed]:
    for member in sorted(snapshot.acts, key=str):
        logged = snapshot.acts[member]
        own = A.is_hex(member, A.KEY_HEX_LEN)
        chain: dict[str, Placed] = {}
        for item in sorted(logged, key=_log_key):
            entry = _entry(member, item, own)
            entry.pred = chain.get(entry.device)
            chain[entry.device] = entry
            yield entry


def _log_key(item: LoggedAct) -> tuple[str, int, int]:
    return (item.device, item.seq, item.pos)


def _entry(member: str, item: LoggedAct, own: bool) -> Placed:
    entry = Placed(member, item.device, item.seq, item.pos, item.value, None)
    if not own:
        entry.problem = IllegalMoveError(
            R.WELL_FORMED, "the document does not belong to a member key"
        )
        return entry
    try:
        entry.act = A.Act.from_doc(item.value)
    except IllegalMoveError as exc:
        entry.problem = exc
        return entry
    entry.ref = entry.act.ref(member)
    return entry


def _invite_records(entries: list[Placed]) -> dict[tuple[str, str], Placed]:
    """(inviter, invite key) -> the first act recording that invite."""
    found: dict[tuple[str, str], Placed] = {}
    for e in entries:
        if isinstance(e.act, A.RecordInvite):
            found.setdefault((e.member, e.act.invite_key), e)
    return found


def _link(e: Placed, by_ref: dict[str, Placed], invites: dict[tuple[str, str], Placed]) -> None:
    """Resolve what ``e`` names and needs; mark it waiting if something is not here."""
    if e.act is None:
        return
    for ref in e.act.seen:
        dep = by_ref.get(ref)
        if dep is None or dep is e:
            e.waits = (R.CONTEXT_PRESENT, f"waits for act {ref[:8]}, which is not here yet")
            return
        e.deps.append(dep)
    if isinstance(e.act, A.Join):
        key = invited_key(e.act)
        if key is not None:
            record = invites.get(key)
            if record is None:
                e.waits = (R.INVITE_RECORDED_FIRST, "waits for the inviter's record of the invite")
                return
            e.deps.append(record)


def invited_key(join: A.Join) -> tuple[str, str] | None:
    """(inviter, invite key) of a join's invite, if it decodes."""
    try:
        invite = Invite.decode(bytes.fromhex(join.invite))
    except (RemoteError, ValueError):
        return None
    return invite.inviter.hex(), invite.invite_key.hex()


def _place(entries: list[Placed], now_ms: int) -> int | None:
    """Give every entry its causal time, in dependency order (Kahn's algorithm); what is
    never reached waits (a cycle, or something before it waits). Returns the wake time."""
    after: dict[int, list[Placed]] = {}
    missing: dict[int, int] = {}
    ready: deque[Placed] = deque()
    for e in entries:
        needs = [*e.deps, *([e.pred] if e.pred is not None else [])]
        missing[id(e)] = len(needs)
        for need in needs:
            after.setdefault(id(need), []).append(e)
        if not needs:
            ready.append(e)
    wake: int | None = None
    horizon = now_ms + R.MAX_FUTURE_SKEW_MS
    while ready:
        e = ready.popleft()
        if e.waits is None:
            wake = _time(e, horizon, wake)
        for nxt in after.get(id(e), ()):
            if e.waits is not None and nxt.waits is None:
                nxt.waits = (e.waits[0], f"follows an act that waits: {e.waits[1]}")
            missing[id(nxt)] -= 1
            if missing[id(nxt)] == 0:
                ready.append(nxt)
    for e in entries:
        if missing[id(e)] > 0 and e.waits is None:
            e.waits = (R.CONTEXT_PRESENT, "names acts that name it back (a cycle)")
    return wake


def _time(e: Placed, horizon: int, wake: int | None) -> int | None:
    ts = e.ts
    eff = max(0 if ts is None else ts, 0 if e.pred is None else e.pred.eff)
    for dep in e.deps:
        eff = max(eff, dep.eff + 1)
    e.eff = eff
    if ts is not None and ts > horizon:
        e.waits = (R.NOT_IN_FUTURE, f"dated {ts - horizon + R.MAX_FUTURE_SKEW_MS} ms ahead")
        due = ts - R.MAX_FUTURE_SKEW_MS
        return due if wake is None else min(wake, due)
    return wake


__all__ = ["Ordering", "Placed", "invited_key", "order_acts"]
