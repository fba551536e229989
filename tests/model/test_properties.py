"""Property tests: the fold depends on document content only, and commands agree with it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import apply_act, fold
from assemblymesh.model import rules as R
from tests.model.helpers import B, World, logged, snapshot_of

# Deterministic: the same examples on every run, and no example database on disk.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NAMES = ("ana", "bob", "cara", "dan", "zoe")  # zoe never joins
# Small id pools make acts refer to each other, and sometimes collide. Each act draws from
# them until ids have been written, then from those.
PIDS = tuple(f"{0x100 + i:016x}" for i in range(3))
RIDS = tuple(f"{0x200 + i:016x}" for i in range(3))
DIDS = tuple(f"{0x300 + i:016x}" for i in range(3))
# Weighted towards the acts that move a round along, so most examples reach outcomes.
KINDS = (
    ("propose",) * 3
    + ("amend", "withdraw", "reject", "end_role", "invite", "revoke", "junk")
    + ("open_round",) * 3
    + ("advance",) * 4
    + ("position",) * 8
    + ("close",) * 3
    + ("grant",) * 2
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def random_act(draw: st.DrawFn, w: World, who: str, ts: int, seen: dict[str, list[str]]) -> Any:
    """One act, valid or not; ``seen`` collects the proposal and round ids written so far."""
    kind = draw(st.sampled_from(KINDS))
    # Refer to what exists: a round needs a proposal, a position needs a round.
    if kind in ("advance", "position", "close") and not seen["r"]:
        kind = "open_round"
    if kind in ("amend", "withdraw", "open_round", "reject") and not seen["p"]:
        kind = "propose"
    dev = w.dev(who, draw(st.sampled_from((0, 0, 0, 1))))
    fresh = w.next_id()
    member = w.mid(draw(st.sampled_from(NAMES[:4])))
    # Recent ids are the likeliest to be live, as in a real meeting.
    pid = draw(st.sampled_from(seen["p"][-2:] or PIDS))
    rid = draw(st.sampled_from(seen["r"][-2:] or RIDS))
    if kind == "propose":
        # Mostly a new id; sometimes one already used, which the fold must refuse.
        new = draw(st.sampled_from((fresh, fresh, fresh, pid)))
        seen["p"].append(new)
        return B.propose(new, ts, dev, title="t", body="b")
    if kind == "amend":
        return B.amend(fresh, ts, dev, proposal=pid, body="b2", note="n")
    if kind == "withdraw":
        return B.withdraw(fresh, ts, dev, proposal=pid)
    if kind == "open_round":
        version = draw(st.sampled_from((1, 1, 1, 2)))
        seen["r"].append(fresh)
        return B.open_round(fresh, ts, dev, proposal=pid, version=version)
    if kind == "advance":
        to = draw(st.sampled_from((R.REACTIONS, R.POSITIONS, R.POSITIONS, R.CLOSED)))
        return B.advance_round(fresh, ts, dev, round_=rid, to=to)
    if kind == "position":
        return B.position(
            fresh,
            ts,
            dev,
            round_=rid,
            kind=draw(st.sampled_from(R.POSITION_KINDS)),
            reason=draw(st.sampled_from(("", "because"))),
            for_member=draw(st.sampled_from((None, None, None, member))),
        )
    if kind == "close":
        seen["d"].append(fresh)
        return B.close_round(fresh, ts, dev, round_=rid)
    if kind == "reject":
        return B.reject(fresh, ts, dev, proposal=pid, reason="r")
    decision = draw(st.sampled_from((None, *(seen["d"] or DIDS))))
    role = draw(st.sampled_from(R.ROLES))
    if kind == "grant":
        term = ts + draw(st.integers(-10, 500))
        return B.grant_role(
            fresh, ts, dev, member=member, role=role, term_end=term, decision=decision
        )
    if kind == "end_role":
        return B.end_role(fresh, ts, dev, member=member, role=role, decision=decision)
    if kind == "revoke":
        # The revoking node keeps what it holds of the device: nothing it has folded is undone.
        revoked = w.dev(who, 1)
        held = [e.seq for e in logged(w.docs.get(w.mid(who), [])) if e.device == revoked]
        keep = max(held, default=0)
        return B.revoke_device(
            fresh, ts, dev, revoked=revoked, keep=keep,
            signature=w.revocation(who, revoked, keep),
        )  # fmt: skip
    if kind == "invite":
        return B.invite(
            fresh, ts, dev, invite_key=draw(st.sampled_from(("ab", "cd"))) * 32, expires=ts + 9
        )
    junk = draw(
        st.dictionaries(st.sampled_from(("id", "type", "ts", "device", "round")), json_values)
    )
    return draw(st.sampled_from((junk, {**junk, "type": "position"}, [junk], None)))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A scripted meeting - proposals, rounds, positions, closes - with noise in between.

    Ana founds; bob, cara and dan usually join; bob is usually a second facilitator. The
    script's clock advances with jitter, so members' acts interleave, tie and sometimes
    arrive in an order that makes them illegal (a close before the last position, two
    facilitators closing one round, a late objection); random acts, valid or not, are
    mixed in.
    """
    w = World(quorum=draw(st.integers(0, 2)))
    w.create(1_000)
    for name in ("bob", "cara", "dan"):
        if draw(st.integers(0, 9)):
            w.join(name, draw(st.integers(1_001, 1_010)))
    if draw(st.integers(0, 3)):
        w.grant("ana", 1_012, "bob", R.FACILITATOR)
    seen = w.refs
    clock = 1_020

    def tick() -> int:
        nonlocal clock
        clock += draw(st.integers(0, 40))
        return clock + draw(st.integers(-10, 10))

    def noise() -> None:
        for _ in range(draw(st.integers(0, 3))):
            who = draw(st.sampled_from(NAMES))
            w.add(who, draw(random_act(w, who, tick(), seen)))

    facilitators = st.sampled_from(("ana", "ana", "bob"))
    for _ in range(draw(st.integers(1, 3))):
        author = draw(st.sampled_from(NAMES[:4]))
        pid = w.propose(author, tick())
        seen["p"].append(pid)
        version = 1
        for _ in range(draw(st.integers(1, 2))):
            fac = draw(facilitators)
            rid = w.open_round(fac, tick(), pid, version)
            seen["r"].append(rid)
            w.advance(fac, tick(), rid, R.REACTIONS)
            w.advance(draw(facilitators), tick(), rid, R.POSITIONS)
            noise()
            for voter in draw(st.lists(st.sampled_from(NAMES), max_size=5)):
                proxy = draw(st.integers(0, 5)) == 0
                w.position(
                    draw(facilitators) if proxy else voter,
                    tick(),
                    rid,
                    draw(
                        st.sampled_from((R.CONSENT, R.CONSENT, R.CONCERN, R.STAND_ASIDE, R.OBJECT))
                    ),
                    draw(st.sampled_from(("because", "because", ""))),
                    for_member=voter if proxy else None,
                    device=draw(st.integers(0, 1)),
                )
            for closer in draw(st.lists(facilitators, min_size=1, max_size=2)):
                seen["d"].append(w.ref(closer, w.close(closer, tick(), rid)))
            if draw(st.integers(0, 3)) == 0:
                w.position(draw(st.sampled_from(NAMES)), tick(), rid, R.OBJECT, "late")
            noise()
            if draw(st.booleans()):
                w.amend(author, tick(), pid)
                version += 1
    return w


@SETTINGS
@given(worlds(), st.data())
def test_fold_is_independent_of_document_order(w: World, data: st.DataObject) -> None:
    now = data.draw(st.integers(1_000, 5_000))
    base = fold(snapshot_of(w.assembly_id, w.docs), now)
    order = data.draw(st.permutations(list(w.docs)))
    shuffled = fold(snapshot_of(w.assembly_id, {m: w.docs[m] for m in order}), now)
    assert shuffled == base
    assert repr(shuffled) == repr(base)  # same iteration order too


@SETTINGS
@given(worlds(), st.data())
def test_partial_delivery_is_deterministic_and_converges(w: World, data: st.DataObject) -> None:
    members = list(w.docs)
    chosen = data.draw(st.lists(st.sampled_from(members), unique=True))
    cut = {m: w.docs[m][: data.draw(st.integers(0, len(w.docs[m])))] for m in chosen}
    one = fold(snapshot_of(w.assembly_id, cut), 3_000)
    other = fold(snapshot_of(w.assembly_id, dict(reversed(list(cut.items())))), 3_000)
    assert one == other
    # Every act is accounted for in the audit, accepted or ignored.
    assert len(one.audit) == sum(len(d) for d in cut.values())
    full = fold(snapshot_of(w.assembly_id, w.docs), 3_000)
    assert fold(snapshot_of(w.assembly_id, {**cut, **w.docs}), 3_000) == full


@SETTINGS
@given(worlds(), st.data())
def test_validate_agrees_with_the_fold_for_the_next_act(w: World, data: st.DataObject) -> None:
    # Folded at the time the next act is written, as a node does before writing it: every
    # decision whose cooling-off ended by then has taken effect before the act.
    first = fold(snapshot_of(w.assembly_id, w.docs), 3_000)
    who = data.draw(st.sampled_from(NAMES))
    after_all = max(first.device_last.values()) + 1
    state = fold(snapshot_of(w.assembly_id, w.docs), after_all)
    act = data.draw(random_act(w, who, after_all, w.refs))
    ts = A.as_int(act.get("ts")) if isinstance(act, dict) else None
    device = act.get("device") if isinstance(act, dict) else None
    try:
        typed: A.Act | None = A.Act.from_doc(act)
    except IllegalMoveError:
        typed = None  # the fold ignores it wherever it stands
    # Only an act whose ts puts it after every other act is the fold's next act.
    comes_last = typed is not None and isinstance(device, str) and ts is not None
    comes_last = comes_last and ts >= after_all
    previewed = (
        apply_act(state, w.mid(who), str(device), typed)
        if comes_last and typed is not None
        else None
    )
    w.add(who, act)
    refolded = fold(snapshot_of(w.assembly_id, w.docs), after_all)
    if previewed is not None:
        assert previewed == refolded


FIELDS = "id type ts device round proposal kind reason for member role term_end decision"
field_names = st.sampled_from((*FIELDS.split(), "name", "invite", "proof", "nonce", "rules", "to"))
act_types = st.sampled_from([*sorted(A.ACT_TYPES), "nonsense"])


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            act_types,
            st.dictionaries(field_names, json_values | st.sampled_from(("ab" * 32, "00" * 8))),
        ),
        max_size=30,
    )
)
def test_arbitrary_fields_never_crash_the_fold(junk: list[tuple[str, str, dict[str, Any]]]) -> None:
    w = World()
    w.create(1_000)
    w.join("bob", 1_001)
    for who, act_type, fields in junk:
        w.add(who, {"type": act_type, **fields})
    s = w.fold()
    assert len(s.audit) == sum(len(d) for d in w.docs.values())
