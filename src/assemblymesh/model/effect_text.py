"""Effects written as text, as a person types them (``grant-role:Ben:facilitator:90``):
the one parser the command line and the screens share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from assemblymesh.errors import UsageError
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.state import AssemblyState

__all__ = [
    "EFFECT_FORMS",
    "EFFECT_HELP",
    "ROLE_NAMES",
    "RULE_UNITS",
    "effect_as_text",
    "parse_effect",
]

ROLE_NAMES = {
    "facilitator": R.FACILITATOR,
    "note-taker": R.NOTE_TAKER,
    "steward": R.STEWARD,
}

EFFECT_HELP = (
    "What the decision does when it takes effect (repeatable): grant-role:MEMBER:ROLE:DAYS,"
    " end-role:MEMBER:ROLE, rule:NAME=VALUE (cooling-off-hours, quorum, review-days,"
    " block-threshold), admit-supporter:MEMBER:YYYY-MM-DD, end-supporter:MEMBER, remove:MEMBER,"
    " rotate-secret."
)
# The forms alone, for a hint beside a field where effects are typed.
EFFECT_FORMS = EFFECT_HELP.split(": ", 1)[1]
RULE_UNITS = {
    "cooling-off-hours": ("cooling_off_ms", 3600 * 1000),
    "quorum": ("quorum", 1),
    "review-days": ("review_period_ms", R.DAY_MS),
    "block-threshold": ("block_threshold", 1),
}


def parse_effect(state: AssemblyState, text: str) -> A.Effect:
    """One ``--effect`` argument as the effect it names (members by name or id prefix)."""
    kind, _, rest = text.partition(":")
    parts = rest.split(":") if rest else []
    make = _EFFECT_PARSERS.get((kind, len(parts)))
    if make is None:
        raise UsageError(f"effect {text!r} is not one of: {EFFECT_HELP.split(': ', 1)[1]}")
    try:
        return make(state, parts)
    except (KeyError, ValueError) as exc:
        raise UsageError(f"effect {text!r}: {exc}") from exc


def effect_as_text(state: AssemblyState, effect: A.Effect) -> str:
    """``effect`` in the form ``parse_effect`` reads: what a person edits when amending."""
    member = getattr(effect, "member", "")
    who = _member_ref(state, member)
    if isinstance(effect, A.GrantRoleEffect):
        return f"grant-role:{who}:{_role_name(effect.role)}:{effect.term_days}"
    if isinstance(effect, A.EndRoleEffect):
        return f"end-role:{who}:{_role_name(effect.role)}"
    if isinstance(effect, A.SetRuleEffect):
        for name, (rule, unit) in RULE_UNITS.items():
            if rule == effect.rule:
                return f"rule:{name}={effect.value // unit}"
        return f"rule:{effect.rule}={effect.value}"
    if isinstance(effect, A.AdmitSupporterEffect):
        day = dt.datetime.fromtimestamp(effect.until / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
        return f"admit-supporter:{who}:{day}"
    if isinstance(effect, A.EndSupporterEffect):
        return f"end-supporter:{who}"
    if isinstance(effect, A.RemoveMemberEffect):
        return f"remove:{who}"
    if isinstance(effect, A.RotateSecretEffect):
        return "rotate-secret"
    return effect.KIND


def _member_ref(state: AssemblyState, member: str) -> str:
    """The name when it finds this member again, else the id (names can repeat)."""
    m = state.members.get(member)
    if m is None or ":" in m.name:
        return member
    same = [o for o in state.members.values() if o.name.casefold() == m.name.casefold()]
    return m.name if len(same) == 1 else member


def _role_name(role: str) -> str:
    return next((name for name, value in ROLE_NAMES.items() if value == role), role)


def _rule_effect(_state: AssemblyState, parts: list[str]) -> A.Effect:
    name, _, value = parts[0].partition("=")
    rule, unit = RULE_UNITS[name]
    return A.SetRuleEffect(rule=rule, value=int(value) * unit)


def _date_ms(text: str) -> int:
    day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    return int(day.timestamp() * 1000)


_EFFECT_PARSERS: dict[tuple[str, int], Callable[[AssemblyState, list[str]], A.Effect]] = {
    ("grant-role", 3): lambda s, p: A.GrantRoleEffect(
        member=s.find_member(p[0]).id, role=ROLE_NAMES[p[1]], term_days=int(p[2])
    ),
    ("end-role", 2): lambda s, p: A.EndRoleEffect(
        member=s.find_member(p[0]).id, role=ROLE_NAMES[p[1]]
    ),
    ("rule", 1): _rule_effect,
    ("admit-supporter", 2): lambda s, p: A.AdmitSupporterEffect(
        member=s.find_member(p[0]).id, until=_date_ms(p[1])
    ),
    ("end-supporter", 1): lambda s, p: A.EndSupporterEffect(member=s.find_member(p[0]).id),
    ("remove", 1): lambda s, p: A.RemoveMemberEffect(member=s.find_member(p[0]).id),
    ("rotate-secret", 0): lambda _s, _p: A.RotateSecretEffect(),
}
