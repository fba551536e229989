"""Nobody rewrites the record: the attacks on time, ids and terms, each reproduced.

Every test here failed on the fold that trusted the writer's ``ts`` and ids: the attacks
are the ones a member (or a holder of a seen invite code) carried out against real nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import Stamp, commands, fold, needs_refold
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.state import Rules
from tests.helpers import Clock, act_ids, exchange
from tests.model.helpers import TERM, World, founded, ignored_rules, last_entry

HOUR = 3600 * 1000
DAY = 24 * HOUR


class SetClock:
    """A clock its owner sets: a forged device clock reads whatever the attacker wants."""

    def __init__(self, clock: Clock) -> None:
        self.real = clock
        self.forged: int | None = None

    def __call__(self) -> int:
        if self.forged is not None:
            self.forged += 1
            return self.forged
        return self.real()


def two_homes(tmp_path: Path) -> tuple[Clock, SetClock, Home, Home]:
    clock = Clock()
    forged = SetClock(clock)
    return clock, forged, Home(tmp_path / "amara", forged), Home(tmp_path / "ben", clock)


def forge(
    local: LocalAssembly, command: Any, ts: int, seen: tuple[str, ...] | None, *args: Any
) -> str:
    """Write an act as a modified client would: any ``ts``, and the context it chooses to
    report (``None``: what it really saw). Returns the act's ref."""
    state = local.state()
    context = commands.context_of(state) if seen is None else seen
    stamp = Stamp(local.member_id, local.device_id, ts, local.new_id(), context)
    act = command(state, stamp, *args)
    with local.replica.transact() as doc:
        doc.array("acts").append(act.to_doc())
    return str(act.ref(local.member_id))


def instant_adoption(tmp_path: Path, quorum: int, report_context: bool) -> tuple[Any, ...]:
    """Four days late, the facilitator writes open, advance, advance, consent and close, all
    dated 1-5 ms after the proposal; Carol consented when the round was really open."""
    clock = Clock()
    rules = Rules(cooling_off_ms=3 * DAY, quorum=quorum, review_period_ms=90 * DAY)
    amara = Home(tmp_path / "amara", clock).create("R", "Amara", rules=rules, new_id=act_ids("a"))
    others = []
    for name in ("Ben", "Carol"):
        node = Home(tmp_path / name, clock).join(
            amara.issue_invite().encode(), name, act_ids(name[0].lower())
        )
        exchange(amara, node)
        others.append(node)
    ben, carol = others
    exchange(amara, ben, carol)
    pid = ben.act(commands.propose, "Dues", "Dues stay as they are.").ref
    t0 = clock.now
    exchange(amara, ben, carol)
    clock.now += 4 * DAY
    seen = None if report_context else ()
    rid = forge(amara, commands.open_round, t0 + 1, seen, pid)
    forge(amara, commands.advance_round, t0 + 2, seen, rid)
    forge(amara, commands.advance_round, t0 + 3, seen, rid)
    exchange(amara, ben, carol)
    carol.act(commands.position, rid, R.CONSENT, "")
    exchange(amara, ben, carol)
    forge(amara, commands.position, t0 + 4, seen, rid, R.CONSENT, "")
    close = forge(amara, commands.close_round, t0 + 5, seen, rid)
    exchange(amara, ben, carol)
    return clock, amara, ben, pid, rid, close, t0


def test_instant_adoption_a_forger_reporting_what_it_saw_is_placed_after_it(
    tmp_path: Path,
) -> None:
    _, amara, ben, pid, rid, close, t0 = instant_adoption(tmp_path, 1, report_context=True)
    d = ben.state().decisions[close]
    assert d.decided_ts > t0 + 4 * DAY  # after everything the facilitator had seen
    assert d.status == R.PENDING
    ben.act(commands.position, rid, R.OBJECT, "we never discussed it")  # an honest objection
    exchange(amara, ben)
    assert amara.state().decisions[close].status == R.DECISION_RETURNED
    assert amara.state().proposals[pid].state == R.RETURNED


def test_instant_adoption_a_forger_hiding_what_it_saw_cannot_count_later_positions(
    tmp_path: Path,
) -> None:
    """With a quorum of two, the facilitator's early-dated close is placed before Carol's
    consent: it counts only what is placed before it, and adopts nothing."""
    clock, _, ben, _, rid, close, _ = instant_adoption(tmp_path, 2, report_context=False)
    state = ben.state(clock.now + 30 * DAY)
    assert close not in state.decisions
    assert state.rounds[rid].outcome == R.OUTCOME_NO_QUORUM


def test_retroactive_veto_a_newcomer_cannot_date_a_join_back(tmp_path: Path) -> None:
    """A newcomer back-dated their join, then objected inside the cooling-off window of a
    decision made three months earlier. The decision must stand, and so must what cites it."""
    clock, forged, _, _ = two_homes(tmp_path)
    amara = Home(tmp_path / "amara", clock).create(
        "R", "Amara", rules=Rules(3 * DAY, 1, 180 * DAY), new_id=act_ids("a")
    )
    ben = Home(tmp_path / "ben", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )
    exchange(amara, ben)
    pid = amara.act(commands.propose, "Quiet hours", "No drilling after 8pm.").ref
    rid = amara.act(commands.open_round, pid).ref
    amara.act(commands.advance_round, rid)
    amara.act(commands.advance_round, rid)
    exchange(amara, ben)
    ben.act(commands.position, rid, R.CONSENT, "")
    exchange(amara, ben)
    decided_at = clock.now
    decision = amara.act(commands.close_round, rid).ref
    clock.now += 90 * DAY
    code = amara.issue_invite().encode()
    forged.forged = decided_at + 1  # the newcomer's clock, three months back
    dave = Home(tmp_path / "dave", forged).join(code, "Dave", new_id=act_ids("d"))
    exchange(amara, ben, dave)
    forged.forged = None
    objection = A.TakePosition(
        id=dave.new_id(), ts=decided_at + 2, round=rid, kind=R.OBJECT, reason="I was not here"
    )  # a modified client writes what its own node would refuse
    with dave.replica.transact() as doc:
        doc.array("acts").append(objection.to_doc())
    exchange(amara, ben, dave)
    state = amara.state()
    assert state.members[dave.member_id].joined_ts > decided_at + 90 * DAY
    assert state.decisions[decision].status == R.IN_EFFECT
    assert state.proposals[pid].state == R.ADOPTED
    objection = next(e for e in reversed(state.audit) if e.member == dave.member_id)
    assert objection.rule == R.LATE_OBJECTION_WINDOW


def test_invite_theft_a_back_dated_join_loses_to_the_invitee(tmp_path: Path) -> None:
    """Someone who had seen an invite code joined with a back-dated timestamp. The real
    invitee, whom the inviter's node admitted first, stays the member; the thief is refused."""
    clock, forged, _, _ = two_homes(tmp_path)
    amara = Home(tmp_path / "amara", clock).create("R", "Amara", new_id=act_ids("a"))
    issued_at = clock.now
    code = amara.issue_invite().encode()
    clock.now += HOUR
    ben = Home(tmp_path / "ben", clock).join(code, "Ben", new_id=act_ids("b"))
    exchange(amara, ben)
    assert amara.admit_joins() == 1  # the inviter's node admits the join it first sees
    forged.forged = issued_at + 1
    thief = Home(tmp_path / "thief", forged).join(code, "Mallory", new_id=act_ids("c"))
    exchange(amara, ben, thief)
    assert amara.admit_joins() == 0  # the inviter's word is given once
    exchange(amara, ben, thief)
    for node in (amara, ben, thief):
        state = node.state(clock.now)
        assert ben.member_id in state.members
        assert thief.member_id not in state.members
    entry = next(e for e in amara.state().audit if e.member == thief.member_id)
    assert entry.rule == R.INVITE_CONTESTED


def test_act_id_squatting_a_newcomer_cannot_take_an_adopted_proposals_id() -> None:
    """A newcomer wrote a propose act reusing an adopted proposal's id, with an earlier
    timestamp. The decision must still point to the text that was adopted."""
    w = founded("bob")
    pid = w.propose("ana", 2_000, "Quiet hours")
    rid = w.open_round("ana", 2_100, pid)
    w.to_positions("ana", 2_200, rid)
    w.position("bob", 2_300, rid)
    w.close("ana", 2_400, rid)
    w.join("dave", 2_500)
    local_id = next(a["id"] for a in w.docs[w.mid("ana")] if a["type"] == "propose")
    w.add("dave", {"id": local_id, "type": "propose", "ts": 1_999, "device": w.dev("dave"),
                   "title": "Dave may play drums all night; dues double", "body": ""})  # fmt: skip
    s = w.fold()
    d = next(iter(s.decisions.values()))
    assert s.proposals[d.proposal].title == "Quiet hours"
    assert [p.title for p in s.proposals.values() if p.author == w.mid("dave")] == [
        "Dave may play drums all night; dues double"
    ]


def test_a_role_term_is_capped() -> None:
    """A facilitator made itself facilitator "for ever" with a term_end of 2**53."""
    w = founded("bob")
    w.add("ana", {**_grant(w, 5_000, "bob", 2**53)})
    s = w.fold()
    assert not s.members[w.mid("bob")].has_role(R.FACILITATOR, 6_000)
    assert ignored_rules(s) == [R.ROLE_TERM_CAPPED]


def _grant(w: World, ts: int, member: str, term_end: int) -> dict[str, object]:
    from tests.model.helpers import B

    return B.grant_role(
        w.next_id(), ts, w.dev("ana"), member=w.mid(member), role=R.FACILITATOR, term_end=term_end
    )


def test_an_act_dated_in_the_future_waits_for_its_time() -> None:
    w = founded("bob")
    ahead = 10_000 + R.MAX_FUTURE_SKEW_MS + 1_000  # beyond the folding node's clock + skew
    pid = w.propose("bob", ahead)
    s = w.fold(now=10_000)
    assert pid not in s.proposals
    entry = last_entry(s, pid)
    assert entry.waiting and entry.rule == R.NOT_IN_FUTURE
    assert needs_refold(s, ahead - R.MAX_FUTURE_SKEW_MS)
    assert not needs_refold(s, 10_500)
    assert pid in w.fold(now=ahead).proposals


def test_an_act_naming_what_is_not_here_waits() -> None:
    w = founded("bob")
    w.add("bob", {**_propose_doc(w, 3_000), "seen": ["00000000000000ff"]})
    s = w.fold()
    assert ignored_rules(s) == [R.CONTEXT_PRESENT]
    assert s.audit[-1].waiting


def _propose_doc(w: World, ts: int) -> dict[str, object]:
    from tests.model.helpers import B

    return B.propose(w.next_id(), ts, w.dev("bob"), title="Shed", body="")


# --- a member who picks any timestamps ---------------------------------------------------------

SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip


@SETTINGS
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30 * TERM)), min_size=3, max_size=24))
def test_whatever_timestamps_a_member_picks_the_record_keeps_its_order(
    steps: list[tuple[bool, int]],
) -> None:
    """Members write one after another, each having seen everything before (the acts carry
    that context, as the real software writes it). ``bob`` picks any timestamp he likes. The
    global order is then exactly the order of writing, so no act of his lands before what he
    had seen, and no cooling-off runs from a time before he saw the round."""
    w = founded("bob", "cara")
    written: list[str] = []
    now = 10_000
    for by_bob, forged_ts in steps:
        state = w.fold(now=10**12)
        who = "bob" if by_bob else "cara"
        now += 1_000
        ts = forged_ts if by_bob else now
        stamp = Stamp(w.mid(who), w.dev(who), ts, w.next_id(), commands.context_of(state))
        act = commands.propose(state, stamp, f"idea {len(written)}", "")
        w.add(who, {**act.to_doc(), "device": stamp.device})
        written.append(act.ref(stamp.member))
    s = fold(w.snapshot(), 10**12)
    placed = [e.ref for e in s.audit if e.ref in written]
    assert placed == written
    times = [e.ts for e in s.audit if e.ref in written]
    assert times == sorted(times) and len(set(times)) == len(times)
