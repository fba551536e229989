"""Supporters against random sequences of acts: a state machine over one assembly.

Members and supporters (with standing, without, and one whose standing runs out) write acts
step by step: plausible ones built by the local commands from ``legal_moves``, hand-made
ones the rules refuse, and malformed or forged ones. The clock moves past cooling-off
periods, review dates and the end of a standing. After every step the fold must hold:

- no supporter ever holds a role, facilitates a round or closes one;
- a supporter's position is advisory: folding without the supporters' positions gives every
  round the same outcome and every decision the same status (no block, no quorum, no late
  objection that returns a decision);
- a supporter stays a supporter and a member stays a member;
- a supporter's accepted acts are acts supporters may write, placed while its standing
  (as the decisions that took effect set it) lasted;
- every logged act has one audit entry, and the fold does not depend on document order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from assemblymesh.errors import IllegalMoveError, UsageError
from assemblymesh.model import AssemblyState, fold
from assemblymesh.model import acts as A
from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from assemblymesh.model.commands import Stamp, context_of
from assemblymesh.model.fold import SUPPORTER_ACTS
from assemblymesh.model.queries import Move, legal_moves
from tests.model.helpers import COOLING, REVIEW, B, World, snapshot_of

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

MEMBERS = ("ana", "bob", "cara")
SUPPORTERS = ("olga", "pia", "quinn")  # standing; never any; standing until QUINN_END
EVERYONE = MEMBERS + SUPPORTERS
QUINN_END = 12_000
FAR = 10**9
people = st.sampled_from(EVERYONE)
# Mostly the facilitators, so that rounds move; sometimes anyone.
chairs = st.sampled_from(("ana", "bob", "ana", "bob", *EVERYONE))
supporters = st.sampled_from(SUPPORTERS)
indexes = st.integers(0, 5)
kinds = st.sampled_from(R.POSITION_KINDS)
reasons = st.sampled_from(("because", "", "  "))
roles = st.sampled_from(R.ROLES)
EFFECTS = ("none", "grant", "end_role", "admit", "end_supporter", "set_rule", "remove")


def pick(items: list[str], index: int) -> str | None:
    """One of the newest items (the likeliest to be live), or None if there are none."""
    if not items:
        return None
    return items[-1 - index % min(len(items), 3)]


class SupporterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World()
        self.t = 3_000
        self.proposals: list[str] = []
        self.rounds: list[str] = []
        self.supporter_ids: set[str] = set()
        self.cached: tuple[tuple[int, int], AssemblyState] | None = None

    @initialize(quorum=st.integers(0, 2), threshold=st.integers(1, 2))
    def found(self, quorum: int, threshold: int) -> None:
        """Ana founds, bob (a facilitator) and cara join; olga and quinn get standing."""
        w = self.w = World(quorum=quorum, block_threshold=threshold)
        w.create(1_000)
        w.join("bob", 1_100)
        w.join("cara", 1_101)
        w.grant("ana", 1_150, "bob", R.FACILITATOR)
        for i, name in enumerate(SUPPORTERS):
            w.supporter(name, 1_300 + i)
        w.decide(
            1_900,
            A.AdmitSupporterEffect(member=w.mid("olga"), until=FAR),
            A.AdmitSupporterEffect(member=w.mid("quinn"), until=QUINN_END),
            voters=("bob", "cara"),
        )
        self.supporter_ids = {w.mid(n) for n in SUPPORTERS}
        # A live round from the first step: olga's proposal, in the positions phase.
        self.tick()
        self.proposals.append(w.propose("olga", self.tick(), "From olga"))
        self.to_positions("bob", 0)

    # --- writing ---------------------------------------------------------------------------

    def tick(self, by: int = 7) -> int:
        self.t += by
        return self.t

    def write(self, who: str, act: Any) -> None:
        self.w.add(who, act)

    def state(self) -> AssemblyState:
        """The fold of everything written so far, at the clock's time."""
        key = (self.t, sum(len(d) for d in self.w.docs.values()))
        if self.cached is None or self.cached[0] != key:
            self.cached = (key, self.w.fold(now=self.t))
        return self.cached[1]

    def effect(self, kind: str, target: str, role: str) -> A.Effect | None:
        member = self.w.mid(target)
        made: dict[str, Callable[[], A.Effect]] = {
            "grant": lambda: A.GrantRoleEffect(member=member, role=role, term_days=30),
            "end_role": lambda: A.EndRoleEffect(member=member, role=role),
            "admit": lambda: A.AdmitSupporterEffect(member=member, until=self.t + 4 * COOLING),
            "end_supporter": lambda: A.EndSupporterEffect(member=member),
            "set_rule": lambda: A.SetRuleEffect(rule="quorum", value=len(role) % 3),
            "remove": lambda: A.RemoveMemberEffect(member=member),
        }
        if kind not in made or (kind == "admit" and target == "quinn"):
            return None  # quinn's standing is never extended
        if kind == "remove" and target in ("ana", "bob"):
            return None  # the facilitators stay, so rounds keep moving
        return made[kind]()

    # --- rules -----------------------------------------------------------------------------

    @rule(who=people, kind=st.sampled_from(EFFECTS), whom=people, role=roles)
    def propose(self, who: str, kind: str, whom: str, role: str) -> None:
        effect = self.effect(kind, whom, role)
        effects = () if effect is None else (effect,)
        self.proposals.append(self.w.propose(who, self.tick(), f"{kind} {whom}", effects))

    @rule(who=people, i=indexes)
    def amend(self, who: str, i: int) -> None:
        pid = pick(self.proposals, i)
        if pid is not None:
            self.w.amend(who, self.tick(), pid)

    @rule(who=chairs, i=indexes)
    def open_round(self, who: str, i: int) -> None:
        pid = pick(self.proposals, i)
        if pid is not None:
            p = self.state().proposals.get(pid)
            version = 1 if p is None else p.latest.number
            self.rounds.append(self.w.open_round(who, self.tick(), pid, version))

    @rule(who=chairs, i=indexes, to=st.sampled_from(R.PHASES))
    def advance(self, who: str, i: int, to: str) -> None:
        rid = pick(self.rounds, i)
        if rid is not None:
            self.w.advance(who, self.tick(), rid, to)

    @rule(who=chairs, i=indexes)
    def to_positions(self, who: str, i: int) -> None:
        """A round opened on a proposal and moved to positions in one go."""
        pid = pick(self.proposals, i)
        if pid is not None:
            p = self.state().proposals.get(pid)
            rid = self.w.open_round(who, self.tick(), pid, 1 if p is None else p.latest.number)
            self.rounds.append(rid)
            self.w.to_positions(who, self.tick(), rid)
            self.tick()

    @rule(who=people, i=indexes, kind=kinds, reason=reasons, proxy=st.none() | people)
    def position(self, who: str, i: int, kind: str, reason: str, proxy: str | None) -> None:
        rid = pick(self.rounds, i)
        if rid is not None:
            self.w.position(who, self.tick(), rid, kind, reason, for_member=proxy)

    @rule(
        who=chairs,
        i=indexes,
        votes=st.lists(st.tuples(people, kinds), max_size=5),
        closes=st.booleans(),
    )
    def meeting(self, who: str, i: int, votes: list[tuple[str, str]], closes: bool) -> None:
        """A whole round in one step: opened, positions taken, closed (or left open)."""
        author = EVERYONE[i % len(EVERYONE)]
        self.proposals.append(self.w.propose(author, self.tick(), "On the agenda"))
        self.to_positions(who, 0)
        rid = self.rounds[-1]
        for voter, kind in votes:
            self.w.position(voter, self.tick(), rid, kind, "because")
        if closes:
            self.w.close(who, self.tick(), rid)

    @rule(who=supporters, i=indexes, kind=kinds)
    def supporter_takes_position(self, who: str, i: int, kind: str) -> None:
        rid = pick(self.rounds, i)
        if rid is not None:
            self.w.position(who, self.tick(), rid, kind, "as an ally")

    @rule(who=chairs, i=indexes)
    def close(self, who: str, i: int) -> None:
        rid = pick(self.rounds, i)
        if rid is not None:
            self.w.close(who, self.tick(), rid)

    @rule(who=people, whom=people, role=roles, end=st.booleans(), cite=st.booleans())
    def role_by_act(self, who: str, whom: str, role: str, end: bool, cite: bool) -> None:
        """Roles granted or ended directly, sometimes citing a decision."""
        w, ts = self.w, self.tick()
        decision = next(iter(self.state().decisions), None) if cite else None
        if end:
            self.write(who, B.end_role(w.next_id(), ts, w.dev(who), member=w.mid(whom),
                                       role=role, decision=decision))  # fmt: skip
        else:
            w.grant(who, ts, whom, role, decision=decision)

    @rule(who=people, i=indexes, kind=kinds, data=st.data())
    def legal_move(self, who: str, i: int, kind: str, data: st.DataObject) -> None:
        """A move the rule book allows now, built by the local command as a node would."""
        pid = pick(self.proposals, i)
        if pid is None:
            return
        self.tick()
        state = self.state()
        mid, dev = self.w.mid(who), self.w.dev(who)
        moves = sorted(legal_moves(state, mid, dev, pid))
        if not moves:
            return
        move = data.draw(st.sampled_from(moves))
        stamp = Stamp(mid, dev, self.t, self.w.next_id(), context_of(state))
        try:
            act = command(state, stamp, move, pid, kind)
        except (IllegalMoveError, UsageError):
            return  # allowed at the fold's clock, not at the stamp's: skip it
        if move is Move.OPEN_ROUND:
            self.rounds.append(act.ref(mid))
        self.write(who, {**act.to_doc(), "device": dev})

    @rule(jump=st.sampled_from((COOLING, COOLING + 1, REVIEW + 1, QUINN_END)))
    def wait(self, jump: int) -> None:
        """Time passes: cooling-off periods, review dates and quinn's standing end."""
        self.tick(jump)

    @rule(who=people, how=st.integers(0, 6), i=indexes)
    def forged(self, who: str, how: int, i: int) -> None:
        """An act the fold must ignore without failing."""
        self.write(who, self.forgery(who, how, pick(self.rounds, i) or "00" * 8))

    def forgery(self, who: str, how: int, rid: str) -> Any:
        w, ts = self.w, self.tick()
        dev = w.dev(who, 1)
        forgeries: list[Callable[[], Any]] = [
            lambda: {"type": "position", "id": w.next_id(), "ts": ts, "round": rid, "kind": "veto"},
            lambda: {"type": "propose", "id": w.next_id(), "ts": ts + 0.5, "title": "t"},
            lambda: {**B.propose(w.next_id(), ts, dev, title="t", body="b"),
                     "effects": [{"effect": "grant_role", "member": w.mid("olga")}]},
            lambda: B.close_round(w.next_id(), ts + 10**9, dev, round_=rid),  # far future
            lambda: B.position(w.next_id(), ts, dev, round_=rid, kind=R.OBJECT, reason="x",
                               for_member=w.mid(who), seen=("ab" * 8,)),  # names nothing here
            lambda: {"type": "nonsense", "id": w.next_id(), "ts": ts, "device": dev},
            lambda: B.position(str(w.docs[w.mid(who)][0]["id"]) if w.docs.get(w.mid(who))
                               else w.next_id(), ts, dev, round_=rid, kind=R.OBJECT,
                               reason="reused id"),
        ]  # fmt: skip
        return forgeries[how % len(forgeries)]()

    @rule(squat=st.booleans())
    def new_supporter(self, squat: bool) -> None:
        """Someone joins with a supporter invite; a member may have recorded its key first."""
        w = self.w
        name = f"s{len(self.supporter_ids)}"
        invite, secret = w.make_invite("ana", label=f"supporter-{name}")
        if squat:
            key, expires = invite.invite_key.hex(), invite.expires_ms
            record = B.invite(w.next_id(), self.tick(), w.dev("bob"), invite_key=key,
                              expires=expires, kind=R.MEMBER_INVITE)  # fmt: skip
            self.write("bob", record)
        w.record_invite(invite, self.tick(), R.SUPPORTER_INVITE)
        w.join(name, self.tick(), invite=(invite, secret))
        self.supporter_ids.add(w.mid(name))

    @rule(who=supporters)
    def supporter_joins_as_member(self, who: str) -> None:
        """A supporter writes a second join, with a genuine member invite of its own."""
        invite, secret = self.w.make_invite("ana", label=f"member-for-{who}-{self.t}")
        self.w.join(who, self.tick(), invite=(invite, secret))

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def every_act_is_audited_once(self) -> None:
        s = self.state()
        assert len(s.audit) == sum(len(d) for d in self.w.docs.values())

    @invariant()
    def supporters_hold_no_role_and_stay_supporters(self) -> None:
        s = self.state()
        for mid, m in s.members.items():
            assert m.supporter == (mid in self.supporter_ids), m.name
            if m.supporter:
                assert m.roles == (), f"{m.name} holds {m.roles}"
        for r in s.rounds.values():
            assert r.facilitator not in self.supporter_ids
            if r.outcome != R.OUTCOME_WITHDRAWN:
                assert r.closed_by not in self.supporter_ids
            for p in r.positions.values():
                assert p.advisory == (p.member in self.supporter_ids)
                assert p.recorded_by == p.member or p.member not in self.supporter_ids

    @invariant()
    def supporters_positions_change_no_outcome(self) -> None:
        s = self.state()
        without = fold(snapshot_of(self.w.assembly_id, self.docs_without_supporter_positions()),
                       self.t)  # fmt: skip
        assert outcomes(without) == outcomes(s)
        for d in s.decisions.values():
            assert all(o.member not in self.supporter_ids for o in d.late_objections)

    @invariant()
    def supporters_act_only_within_their_standing(self) -> None:
        s = self.state()
        standing = standing_changes(s)
        for e in s.accepted():
            if e.member not in self.supporter_ids or e.act_type == A.Join.TYPE:
                continue
            assert A.ACT_TYPES[e.act_type] in SUPPORTER_ACTS, e
            assert has_standing(standing.get(e.member, []), e.ts), e
            removed = s.members[e.member].removed_ts
            assert removed is None or e.ts < removed, e

    @invariant()
    def the_fold_does_not_depend_on_document_order(self) -> None:
        docs = dict(reversed(list(self.w.docs.items())))
        shuffled = fold(snapshot_of(self.w.assembly_id, docs), self.t)
        assert shuffled == self.state()
        assert repr(shuffled) == repr(self.state())

    def docs_without_supporter_positions(self) -> dict[str, list[Any]]:
        """Every document, minus the supporters' well-formed position acts; acts that named
        them name the rest (they were placed after them anyway, so nothing moves)."""
        removed: set[str] = set()
        docs: dict[str, list[Any]] = {}
        for mid, doc in self.w.docs.items():
            kept = []
            for act in doc:
                if mid in self.supporter_ids and is_position(act):
                    removed.add(A.act_ref(mid, act["id"]))
                else:
                    kept.append(act)
            docs[mid] = kept
        return {m: [without_seen(a, removed) for a in d] for m, d in docs.items()}


def command(state: AssemblyState, stamp: Stamp, move: Move, pid: str, kind: str) -> A.Act:
    """The act the local command for ``move`` writes on proposal ``pid``."""
    r = state.open_round_of(pid)
    rid = r.id if r is not None else ""
    build: dict[Move, Callable[[], A.Act]] = {
        Move.OPEN_ROUND: lambda: C.open_round(state, stamp, pid),
        Move.AMEND: lambda: C.amend(state, stamp, pid, "integrated", "note"),
        Move.WITHDRAW: lambda: C.withdraw(state, stamp, pid),
        Move.REJECT: lambda: C.reject(state, stamp, pid, "no"),
        Move.ADVANCE: lambda: C.advance_round(state, stamp, rid),
        Move.POSITION: lambda: C.position(state, stamp, rid, kind, "because"),
        Move.CLOSE: lambda: C.close_round(state, stamp, rid),
    }
    return build[move]()


def is_position(act: Any) -> bool:
    return (
        isinstance(act, dict)
        and act.get("type") == A.TakePosition.TYPE
        and A.is_hex(act.get("id"))
        and 8 <= len(act["id"]) <= 64
    )


def without_seen(act: Any, removed: set[str]) -> Any:
    if not isinstance(act, dict) or not isinstance(act.get("seen"), list):
        return act
    return {**act, "seen": [ref for ref in act["seen"] if ref not in removed]}


def outcomes(s: AssemblyState) -> tuple[dict[str, str | None], dict[str, str]]:
    """What counting decides: each round's outcome and each decision's status."""
    return (
        {rid: r.outcome for rid, r in s.rounds.items()},
        {did: d.status for did, d in s.decisions.items()},
    )


def standing_changes(s: AssemblyState) -> dict[str, list[tuple[int, int]]]:
    """Supporter -> (when, until) of each standing the decisions in effect set, in order,
    read from the effect log and the decisions' own effects."""
    ran: dict[str, int] = {}
    changes: dict[str, list[tuple[int, int]]] = {}
    for entry in s.effect_log:
        n = ran.get(entry.ref, 0)
        ran[entry.ref] = n + 1
        effect = s.decisions[entry.ref].effects[n]
        if not entry.accepted:
            continue
        if isinstance(effect, A.AdmitSupporterEffect):
            changes.setdefault(effect.member, []).append((entry.ts, effect.until))
        elif isinstance(effect, A.EndSupporterEffect):
            changes.setdefault(effect.member, []).append((entry.ts, entry.ts))
    return changes


def has_standing(changes: list[tuple[int, int]], at: int) -> bool:
    """Whether the last standing set by ``at`` (a decision takes effect before any act
    placed at or after its time) still runs at ``at``."""
    until = None
    for when, end in changes:
        if when <= at:
            until = end
    return until is not None and at < until


def test_supporters_never_block_facilitate_count_or_become_members() -> None:
    run_state_machine_as_test(SupporterMachine, settings=SETTINGS)
