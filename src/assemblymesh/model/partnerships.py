"""Partnerships with outside supporters: agreements adopted by a decision, that say what the
supporters provide, which skills pass to which members, and when the agreement ends.

An agreement gives its supporters standing until its sunset; at the sunset that standing
ends (``Member.standing_until``) unless a new decision renews the agreement (a
``renew_partnership`` effect) or gives them standing by other means (``admit_supporter``).
The sunset moves earlier by a ``shorten_partnership`` effect, and a supporter whose standing
ended at the old sunset (the standing the agreement gave) has it end at the new one. An
agreement with no sunset gives no standing at all. A member confirms, by an act of their own,
that they can now do a skill themselves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.funds import PARTNERSHIP_CONTEXT, day, derived_id


@dataclass(frozen=True)
class SkillTransfer:
    skill: str
    member: str  # who is to learn it
    confirmed_ts: int | None = None
    ref: str = ""  # the confirming act


@dataclass(frozen=True)
class SunsetChange:
    ts: int
    old: int | None
    new: int
    decision: str
    kind: str  # "shortened" or "renewed"


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    decision: str
    established_ts: int
    supporters: tuple[str, ...]
    provides: str
    skills: tuple[SkillTransfer, ...]
    sunset_ts: int | None
    fund: str | None = None
    history: tuple[SunsetChange, ...] = ()

    def in_force(self, ts: int) -> bool:
        return self.established_ts <= ts and (self.sunset_ts is None or ts < self.sunset_ts)

    def pending_skills(self) -> tuple[SkillTransfer, ...]:
        return tuple(s for s in self.skills if s.confirmed_ts is None)


def establish(d_id: str, index: int, ts: int, e: A.EstablishPartnershipEffect) -> Partnership:
    """The partnership ``e`` of decision ``d_id`` adopts at ``ts`` (the caller checked who
    the supporters and the learners are)."""
    if e.sunset is not None and e.sunset <= ts:
        raise IllegalMoveError(R.EFFECT_APPLIES, "the sunset has passed")
    return Partnership(
        id=derived_id(PARTNERSHIP_CONTEXT, d_id, index),
        name=e.name,
        decision=d_id,
        established_ts=ts,
        supporters=e.supporters,
        provides=e.provides,
        skills=tuple(SkillTransfer(skill, member) for skill, member in e.skills),
        sunset_ts=e.sunset,
        fund=e.fund,
    )


def move_sunset(p: Partnership, ts: int, d_id: str, sunset: int, *, renew: bool) -> Partnership:
    """``shorten_partnership`` only earlier (a date passed by then ends it then);
    ``renew_partnership`` only later, and also after an agreement has ended."""
    old = p.sunset_ts
    if renew:
        if sunset <= ts or (old is not None and sunset <= old):
            raise IllegalMoveError(R.EFFECT_APPLIES, "renew_partnership needs a later sunset")
        new = sunset
    else:
        if not p.in_force(ts):
            raise IllegalMoveError(R.PARTNERSHIP_EXISTS, f"{p.name!r} has ended")
        if old is not None and sunset >= old:
            raise IllegalMoveError(
                R.PARTNERSHIP_SHORTEN_ONLY,
                "shorten_partnership only brings the sunset forward; renewing needs a"
                " decision with a renew_partnership effect",
            )
        new = max(sunset, ts)
    change = SunsetChange(ts, old, new, d_id, "renewed" if renew else "shortened")
    return dataclasses.replace(p, sunset_ts=new, history=(*p.history, change))


def confirm(p: Partnership, ts: int, member: str, ref: str, act: A.ConfirmSkill) -> Partnership:
    """``member`` confirms they can now do ``act.skill`` themselves."""
    mine = [s for s in p.skills if s.skill.casefold() == act.skill.casefold()]
    if not mine:
        raise IllegalMoveError(R.PARTNERSHIP_EXISTS, f"{p.name!r} transfers no skill {act.skill!r}")
    if not any(s.member == member for s in mine):
        raise IllegalMoveError(
            R.SKILL_BY_LEARNER, f"{act.skill!r} is to be learnt by another member: they confirm it"
        )
    if any(s.member == member and s.confirmed_ts is not None for s in mine):
        raise IllegalMoveError(R.SKILL_CONFIRMED_ONCE, f"{act.skill!r} was already confirmed")
    skills = tuple(
        dataclasses.replace(s, confirmed_ts=ts, ref=ref) if s in mine and s.member == member else s
        for s in p.skills
    )
    return dataclasses.replace(p, skills=skills)


def describe_sunset(p: Partnership) -> str:
    return "no sunset" if p.sunset_ts is None else f"sunset {day(p.sunset_ts)}"


__all__ = [
    "Partnership",
    "SkillTransfer",
    "SunsetChange",
    "confirm",
    "describe_sunset",
    "establish",
    "move_sunset",
]
