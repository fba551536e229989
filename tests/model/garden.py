"""The worked example of docs/metrics.md, act by act: the Garden co-op, January to April 2026."""

from __future__ import annotations

import datetime as dt
from typing import Any

from assemblymesh.crdt.identity import DeviceCertificate
from assemblymesh.model import AssemblyState, publish
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.meetings import minutes_hash
from tests.model.helpers import NONCE, B, World, act_doc, key_for

YEAR_MS = 365 * R.DAY_MS


def at(month: int, day: int, hour: int = 12) -> int:
    """A moment of 2026 in ms (UTC)."""
    return int(dt.datetime(2026, month, day, hour, tzinfo=dt.UTC).timestamp() * 1000)


NOW = at(4, 15)


def hill_publication() -> tuple[bytes, str]:
    """The Hill assembly's publication of its seed library (a real signed file, founder
    ``hil``), and the id of its one item, from which the Garden's seed library is put."""
    hill = World(founder="hil")
    hill.create(at(1, 1, 9), name="hil")
    state = hill.fold(at(2, 1))
    device = key_for("hil/device/0")
    cert = DeviceCertificate.issue(key_for("hil"), hill.assembly_id, device.public, at(1, 1))
    proof = publish.attribution(state, hill.snapshot().acts, cert)
    item = publish.DraftItem(publish.text_item("experiment", "Seed library\nLend seeds."))
    draft = publish.Draft((item,), {}, "", (), ())
    return publish.seal_draft(draft, state, proof, "Seeds", "", at(2, 1), device), item.ident.hex()


PUBLICATION, ORIGIN = hill_publication()


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


def put(w: World, name: str, cls: type[A.Act], ts: int, **fields: Any) -> str:
    """Write one act of ``cls`` in ``name``'s document; returns its ref."""
    return w.ref(name, w.add(name, act_doc(cls, w.next_id(), ts, w.dev(name), **fields)))


MINUTES = "Eve spoke for the first time. Sam answered questions on the seed library."


def _meeting(
    w: World,
    when: int,
    facilitator: str,
    speakers: tuple[str, ...] = (),
    seeds: str | None = None,
) -> str:
    """Ana schedules a meeting the day before ``when``; ``facilitator`` opens it at
    ``when``, gives each speaker the floor an hour apart and ends it three hours in. With
    ``seeds``, Dee puts the seed library on the agenda, the facilitator asks Sam about it
    and Ana, taking the notes, seals the minutes."""
    note_taker = "bob" if facilitator == "ana" else "ana"
    mid = put(
        w, "ana", A.ScheduleMeeting, when - R.DAY_MS, title=f"Meeting of {day_label(when)}",
        starts=when, place="The shed", facilitator=w.mid(facilitator),
        note_taker=w.mid(note_taker),
    )  # fmt: skip
    item = None
    if seeds is not None:
        item = put(w, "dee", A.AddAgendaItem, when - R.DAY_MS + 3_600_000, meeting=mid,
                   kind=R.ITEM_PROPOSAL, title="Seed library", proposal=seeds)  # fmt: skip
    put(w, facilitator, A.AdvanceMeeting, when, meeting=mid, to=R.IN_SESSION)
    for n, speaker in enumerate(speakers):
        put(w, facilitator, A.GiveFloor, when + (n + 1) * 3_600_000, meeting=mid,
            member=w.mid(speaker))  # fmt: skip
    if item is not None:
        put(w, facilitator, A.AskClarification, when + 5_400_000, meeting=mid,
            supporter=w.mid("sam"), item=item, question="Where from?")  # fmt: skip
        put(w, note_taker, A.SealMinutes, when + 6_600_000, meeting=mid, text=MINUTES,
            hash=minutes_hash(MINUTES))  # fmt: skip
    put(w, facilitator, A.AdvanceMeeting, when + 3 * 3_600_000, meeting=mid, to=R.ENDED)
    return mid


def day_label(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%d %b")


def garden() -> World:
    """The record of docs/metrics.md's worked example, written in the order it happened
    (each device's acts in its own order, as a real device writes them)."""
    w = World(founder="ana")
    _create(w, at(1, 5))
    _join(w, "bob", at(1, 6))
    _join(w, "cy", at(1, 6, 13))
    _join(w, "sam", at(1, 7), R.SUPPORTER_INVITE)
    standing = A.AdmitSupporterEffect(member=w.mid("sam"), until=at(12, 31))
    p1 = w.propose("ana", at(1, 10, 9), "Give Sam standing", effects=(standing,))
    _round(w, at(1, 10, 10), p1, [("bob", R.CONSENT)])
    _meeting(w, at(1, 14), "ana")
    p2 = w.propose("bob", at(1, 20), "Buy a shed")
    _meeting(w, at(1, 28), "ana")
    _join(w, "dee", at(2, 2))
    p3 = w.propose("sam", at(2, 3), "Compost bins")
    _round(w, at(2, 5, 10), p2, [("cy", R.OBJECT), ("dee", R.CONSENT)])
    _meeting(w, at(2, 11), "bob", ("bob", "cy"))
    w.amend("bob", at(2, 15), p2, "a smaller shed")
    _round(w, at(2, 20, 10), p2, [("cy", R.CONSENT), ("sam", R.CONSENT)])
    _meeting(w, at(2, 25), "ana")
    _join(w, "eve", at(3, 1))
    _round(w, at(3, 4, 10), p3, [("bob", R.CONSENT)])
    put(w, "dee", A.ImportPublication, at(3, 7), publication=PUBLICATION)
    seeds = w.add(
        "dee",
        act_doc(A.Propose, w.next_id(), at(3, 8), w.dev("dee"), title="Seed library",
                body="As the Hill assembly did.", origin=ORIGIN),
    )  # fmt: skip
    p4 = w.ref("dee", seeds)
    w.propose("sam", at(3, 8, 13), "Bee hotel")
    w.propose("ana", at(3, 9), "Rota")
    _meeting(w, at(3, 11), "cy", ("eve",), seeds=p4)
    _round(w, at(3, 11, 16), p4, [("bob", R.CONSENT)])
    _meeting(w, at(3, 25), "dee")
    w.propose("cy", at(4, 2), "Paint the gate")
    _meeting(w, at(4, 8), "bob")
    return w


def fold_garden(w: World) -> AssemblyState:
    return w.fold(now=NOW)
