"""The worked example of docs/metrics.md, act by act: the Garden co-op, January to April 2026."""

from __future__ import annotations

import datetime as dt

from assemblymesh.model import AssemblyState
from assemblymesh.model import acts as A
from assemblymesh.model import metrics as M
from assemblymesh.model import rules as R
from tests.model.helpers import NONCE, B, World, act_doc

YEAR_MS = 365 * R.DAY_MS


def at(month: int, day: int, hour: int = 12) -> int:
    """A moment of 2026 in ms (UTC)."""
    return int(dt.datetime(2026, month, day, hour, tzinfo=dt.UTC).timestamp() * 1000)


NOW = at(4, 15)
ORIGIN = "ab" * 16  # the published item of another assembly the seed library came from


def _create(w: World, ts: int) -> None:
    """Genesis with a facilitator term that lasts the whole story."""
    w.add(
        w.founder,
        B.create(
            w.next_id(), ts, w.dev(w.founder), name="Garden co-op", charter="We garden.",
            founder_name="ana", nonce=NONCE.hex(),
            rules_={"cooling_off_ms": 1_000, "quorum": 1, "review_period_ms": YEAR_MS},
            term_end=ts + YEAR_MS,
        ),
    )  # fmt: skip


def _round(w: World, opened: int, proposal: str, stances: list[tuple[str, str]]) -> str:
    """Ana runs a round: opens it, moves it to positions, each (name, kind) states a position
    an hour apart, and she closes it the next day; returns the close's ref."""
    rid = w.open_round("ana", opened, proposal, _version(w, proposal))
    w.to_positions("ana", opened + 60_000, rid)
    for n, (name, kind) in enumerate(stances):
        w.position(name, opened + (n + 1) * 3_600_000, rid, kind, "because")
    return w.ref("ana", w.close("ana", opened + R.DAY_MS, rid))


def _version(w: World, proposal: str) -> int:
    amended = sum(
        1 for doc in w.docs.values() for act in doc if act.get("proposal") == proposal
        and act.get("type") == A.Amend.TYPE
    )  # fmt: skip
    return 1 + amended


def _join(w: World, name: str, ts: int, kind: str = R.MEMBER_INVITE) -> None:
    """``name`` joins with an invite of Ana's that lasts the whole story."""
    invite = w.make_invite("ana", expires=ts + YEAR_MS, label=f"{kind}-{name}")
    w.record_invite(invite[0], ts - 1, kind)
    w.join(name, ts, invite=invite)


def garden() -> World:
    """The record of docs/metrics.md's worked example (without its meetings, which
    ``GARDEN_MEETINGS`` gives)."""
    w = World(founder="ana")
    _create(w, at(1, 5))
    _join(w, "bob", at(1, 6))
    _join(w, "cy", at(1, 6, 13))
    _join(w, "sam", at(1, 7), R.SUPPORTER_INVITE)
    standing = A.AdmitSupporterEffect(member=w.mid("sam"), until=at(12, 31))
    p1 = w.propose("ana", at(1, 10, 9), "Give Sam standing", effects=(standing,))
    _round(w, at(1, 10, 10), p1, [("bob", R.CONSENT)])
    p2 = w.propose("bob", at(1, 20), "Buy a shed")
    _join(w, "dee", at(2, 2))
    p3 = w.propose("sam", at(2, 3), "Compost bins")
    _round(w, at(2, 5, 10), p2, [("cy", R.OBJECT), ("dee", R.CONSENT)])
    w.amend("bob", at(2, 15), p2, "a smaller shed")
    _round(w, at(2, 20, 10), p2, [("cy", R.CONSENT), ("sam", R.CONSENT)])
    _round(w, at(3, 4, 10), p3, [("bob", R.CONSENT)])
    _join(w, "eve", at(3, 1))
    seeds = w.add(
        "dee",
        act_doc(A.Propose, w.next_id(), at(3, 8), w.dev("dee"), title="Seed library",
                body="As the Hill assembly did.", origin=ORIGIN),
    )  # fmt: skip
    p4 = w.ref("dee", seeds)
    w.propose("sam", at(3, 8, 13), "Bee hotel")
    w.propose("ana", at(3, 9), "Rota")
    _round(w, at(3, 10, 10), p4, [("bob", R.CONSENT)])
    w.propose("cy", at(4, 2), "Paint the gate")
    return w


def garden_meetings(w: World) -> list[M.HeldMeeting]:
    """The meetings of the worked example, as the metrics read them."""
    seeds = next(p.id for p in fold_garden(w).proposals.values() if p.title == "Seed library")
    held = [
        (at(1, 14), "ana", ()),
        (at(1, 28), "ana", ()),
        (at(2, 11), "bob", (("bob", at(2, 11, 13)), ("cy", at(2, 11, 14)))),
        (at(2, 25), "ana", ()),
        (at(3, 11), "cy", (("eve", at(3, 11, 13)),)),
        (at(3, 25), "dee", ()),
        (at(4, 8), "bob", ()),
    ]
    return [
        M.HeldMeeting(
            id=f"{n:016x}",
            held_ts=ts,
            facilitator=w.mid(who),
            speakers=tuple((w.mid(s), t) for s, t in speakers),
            heard_on={seeds: (w.mid("sam"),)} if ts == at(3, 11) else {},
        )
        for n, (ts, who, speakers) in enumerate(held)
    ]


def fold_garden(w: World) -> AssemblyState:
    return w.fold(now=NOW)
