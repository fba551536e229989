"""Effects written as text, as a person types them (``grant-role:Ben:facilitator:90``):
the one parser the command line and the screens share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from assemblymesh.errors import UsageError
from assemblymesh.i18n import N_, _
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model import vocabulary as V
from assemblymesh.model.state import AssemblyState
from assemblymesh.utc import DAY_FORMAT, parse_utc

__all__ = [
    "EFFECT_FORMS",
    "EFFECT_HELP",
    "ROLE_NAMES",
    "RULE_UNITS",
    "effect_as_text",
    "parse_effect",
    "role_id",
]

ROLE_NAMES = {
    "facilitator": R.FACILITATOR,
    "note-taker": R.NOTE_TAKER,
    "steward": R.STEWARD,
}

# Marked for the catalogue: ``--help`` shows it in the chosen language (``cli.helptext``).
EFFECT_HELP = N_(
    "What the decision does when it takes effect (repeatable): grant-role:MEMBER:ROLE:DAYS,"
    " end-role:MEMBER:ROLE, rule:NAME=VALUE (cooling-off-hours, quorum, review-days,"
    " block-threshold, meeting-quorum, agenda-order, absence-lookback),"
    " admit-supporter:MEMBER:YYYY-MM-DD, end-supporter:MEMBER, remove:MEMBER,"
    " establish-fund:NAME:UNIT:DISSOLVES:THRESHOLD:STEWARD+STEWARD:TERM-DAYS:REMAINDER:PURPOSE"
    " (REMAINDER: return, or give=RECIPIENT), shorten-fund:FUND:YYYY-MM-DD,"
    " lengthen-fund:FUND:YYYY-MM-DD (alone in its proposal), disburse:FUND:AMOUNT:TO,"
    " fund-stewards:FUND:STEWARD+STEWARD:TERM-DAYS,"
    " establish-partnership:NAME:SUPPORTER+SUPPORTER:SUNSET:FUND:SKILL@MEMBER+...:PROVIDES"
    " (SUNSET YYYY-MM-DD or none, FUND or -, skills or -), shorten-partnership:NAME:YYYY-MM-DD,"
    " renew-partnership:NAME:YYYY-MM-DD, rotate-secret,"
    " words:LANG:TERM=LABEL,TERM=LABEL (LANG defaults to en; TERM: proposal, round, objection,"
    " a phase, a position kind, a role or a meeting kind), add-role:ID:LABEL:LONGEST-TERM-DAYS,"
    " round-shape:PHASE+PHASE:KIND+KIND[:KIND+KIND needing a reason, default object]."
)
# The forms alone, for a hint beside a field where effects are typed.
EFFECT_FORMS = EFFECT_HELP.split(": ", 1)[1]
RULE_UNITS = {
    "cooling-off-hours": ("cooling_off_ms", 3600 * 1000),
    "quorum": ("quorum", 1),
    "review-days": ("review_period_ms", R.DAY_MS),
    "block-threshold": ("block_threshold", 1),
    "meeting-quorum": ("meeting_quorum", 1),
    "agenda-order": ("agenda_order", 1),  # 0: most supported first, 1: oldest first
    "absence-lookback": ("absence_lookback", 1),
}


def parse_effect(state: AssemblyState, text: str) -> A.Effect:
    """One ``--effect`` argument as the effect it names (members by name or id prefix)."""
    kind, _colon, rest = text.partition(":")
    if kind == "words" and rest:
        try:
            return A.Effect.from_doc(_words_effect(state, rest).to_doc())
        except ValueError as exc:
            raise UsageError(
                _("effect {effect!r}: {problem}").format(effect=text, problem=exc)
            ) from exc
    parts = rest.split(":") if rest else []
    if kind in _FREE_TAIL and len(parts) > _FREE_TAIL[kind]:
        # The last field is free text (a purpose, what is provided): it may hold colons.
        keep = _FREE_TAIL[kind] - 1
        parts = [*parts[:keep], ":".join(parts[keep:])]
    make = _EFFECT_PARSERS.get((kind, len(parts)))
    if make is None:
        raise UsageError(
            _("effect {effect!r} is not one of: {forms}").format(effect=text, forms=EFFECT_FORMS)
        )
    try:
        effect = make(state, parts)
    except KeyError as exc:
        raise UsageError(
            _("effect {effect!r}: {name} is not one of: {known}").format(
                effect=text, name=exc, known=", ".join(_known_names(kind))
            )
        ) from exc
    except ValueError as exc:
        raise UsageError(
            _("effect {effect!r}: {problem}").format(effect=text, problem=exc)
        ) from exc
    # Read back as another node would read it: what it could not read is never written.
    return A.Effect.from_doc(effect.to_doc())


def _known_names(kind: str) -> list[str]:
    """What a name in an effect of ``kind`` may be, for the error when it is none of them."""
    return sorted(RULE_UNITS) if kind == "rule" else sorted(ROLE_NAMES)


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
    return _vocabulary_text(effect) or _practice_text(state, effect)


def _vocabulary_text(effect: A.Effect) -> str:
    """The text of an effect on the assembly's words, roles or rounds ('' for another)."""
    if isinstance(effect, A.WordsEffect):
        pairs = ",".join(f"{term}={label}" for term, label in effect.labels.items())
        return f"words:{effect.lang}:{pairs}"
    if isinstance(effect, A.AddRoleEffect):
        return f"add-role:{effect.role}:{effect.label}:{effect.term_days}"
    if isinstance(effect, A.RoundShapeEffect):
        kinds = "+".join(k.replace("_", "-") for k in effect.kinds)
        reasoned = "+".join(k.replace("_", "-") for k in effect.reasoned)
        return f"round-shape:{'+'.join(effect.phases)}:{kinds}:{reasoned}"
    return ""


def _practice_text(state: AssemblyState, effect: A.Effect) -> str:
    """The text of a fund's or a partnership's effect."""
    if isinstance(effect, A.EstablishFundEffect):
        rest = "return" if effect.remainder == R.REMAINDER_RETURN else f"give={effect.remainder_to}"
        stewards = "+".join(_member_ref(state, m) for m in effect.stewards)
        return (
            f"establish-fund:{effect.name}:{effect.unit}:{_day(effect.dissolves)}"
            f":{effect.threshold}:{stewards}:{effect.term_days}:{rest}:{effect.purpose}"
        )
    fund = getattr(effect, "fund", None)
    name = _fund_ref(state, fund) if isinstance(fund, str) else "-"
    if isinstance(effect, A.ShortenFundEffect):
        return f"shorten-fund:{name}:{_day(effect.dissolves)}"
    if isinstance(effect, A.LengthenFundEffect):
        return f"lengthen-fund:{name}:{_day(effect.dissolves)}"
    if isinstance(effect, A.DisburseEffect):
        return f"disburse:{name}:{effect.amount}:{effect.to}"
    if isinstance(effect, A.FundStewardsEffect):
        stewards = "+".join(_member_ref(state, m) for m in effect.stewards)
        return f"fund-stewards:{name}:{stewards}:{effect.term_days}"
    return _partnership_text(state, effect, name)


def _partnership_text(state: AssemblyState, effect: A.Effect, name: str) -> str:
    if isinstance(effect, A.EstablishPartnershipEffect):
        supporters = "+".join(_member_ref(state, m) for m in effect.supporters)
        skills = "+".join(f"{k}@{_member_ref(state, m)}" for k, m in effect.skills) or "-"
        sunset = "none" if effect.sunset is None else _day(effect.sunset)
        return (
            f"establish-partnership:{effect.name}:{supporters}:{sunset}:{name}:{skills}"
            f":{effect.provides}"
        )
    if isinstance(effect, (A.ShortenPartnershipEffect, A.RenewPartnershipEffect)):
        p = state.partnerships.get(effect.partnership)
        which = p.name if p is not None and ":" not in p.name else effect.partnership
        verb = "renew" if isinstance(effect, A.RenewPartnershipEffect) else "shorten"
        return f"{verb}-partnership:{which}:{_day(effect.sunset)}"
    return effect.KIND


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def _fund_ref(state: AssemblyState, fund: str) -> str:
    f = state.funds.get(fund)
    if f is None or ":" in f.name:
        return fund
    return f.name if state.find_fund(f.name).id == f.id else fund


def _member_ref(state: AssemblyState, member: str) -> str:
    """The name when it finds this member again, else the id (names can repeat)."""
    m = state.members.get(member)
    if m is None or ":" in m.name:
        return member
    same = [o for o in state.members.values() if o.name.casefold() == m.name.casefold()]
    return m.name if len(same) == 1 else member


def _role_name(role: str) -> str:
    return next((name for name, value in ROLE_NAMES.items() if value == role), role)


def role_id(state: AssemblyState, text: str) -> str:
    """The role ``text`` names: a usual role, or one of the assembly's own by id or label.
    An id the assembly lacks goes through, for the rule that refuses it to name itself."""
    if text in ROLE_NAMES:
        return ROLE_NAMES[text]
    found = V.Words(state.vocabulary).find_role(text)
    if found is not None:
        return found
    role = text.strip().lower().replace("-", "_")
    if not V.ID_PATTERN.fullmatch(role):
        raise ValueError(_("{text!r} is not a role").format(text=text))
    return role


def _term_id(state: AssemblyState, text: str) -> str:
    term = text.strip().lower().replace("-", "_")
    if term not in state.vocabulary.terms():
        known = ", ".join(state.vocabulary.terms())
        raise ValueError(
            _("{text!r} is not a term (one of: {known})").format(text=text, known=known)
        )
    return term


def _words_effect(state: AssemblyState, text: str) -> A.Effect:
    """``words:[LANG:]TERM=LABEL,TERM=LABEL``: a label may hold colons, not commas."""
    lang, _colon, pairs = text.partition(":")
    if "=" in lang:
        lang, pairs = "en", text
    if not V.LANG_PATTERN.fullmatch(lang):
        raise ValueError(_("{lang!r} is not a language code like es or pt_BR").format(lang=lang))
    labels: dict[str, str] = {}
    for pair in pairs.split(","):
        term, sep, label = pair.partition("=")
        if not sep or not label.strip():
            raise ValueError(_("a label is TERM=LABEL, not {pair!r}").format(pair=pair))
        labels[_term_id(state, term)] = label.strip()
    return A.WordsEffect(lang=lang, labels=labels)


def _ids(text: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    out = tuple(t.strip().lower().replace("-", "_") for t in text.split("+") if t.strip())
    wrong = [t for t in out if t not in choices]
    if wrong:
        raise ValueError(
            _("{text!r} is not one of: {known}").format(text=wrong[0], known=", ".join(choices))
        )
    return out


def _round_shape(_state: AssemblyState, p: list[str]) -> A.Effect:
    kinds = _ids(p[1], R.POSITION_KINDS)
    return A.RoundShapeEffect(
        phases=_ids(p[0], V.SHAPE_PHASES),
        kinds=kinds,
        reasoned=_ids(p[2], R.POSITION_KINDS) if len(p) > 2 else V.DEFAULT_REASONED,
    )


def _rule_effect(_state: AssemblyState, parts: list[str]) -> A.Effect:
    name, _equals, value = parts[0].partition("=")
    rule, unit = RULE_UNITS[name]
    return A.SetRuleEffect(rule=rule, value=int(value) * unit)


def _date_ms(text: str) -> int:
    day = parse_utc(text, DAY_FORMAT)
    if day is None:
        raise ValueError(
            _("{given!r} is not a date like {example}").format(given=text, example="2026-05-01")
        )
    return day


def _members(state: AssemblyState, text: str) -> tuple[str, ...]:
    return tuple(state.find_member(name).id for name in text.split("+") if name.strip())


def _establish_fund(state: AssemblyState, p: list[str]) -> A.Effect:
    name, unit, dissolves, threshold, stewards, term, rest, purpose = p
    remainder, _equals, to = rest.partition("=")
    if remainder not in R.REMAINDER_KINDS or (remainder == R.REMAINDER_GIVE) != bool(to.strip()):
        raise ValueError(
            _("the remainder is '{returned}' or '{given}'").format(
                returned="return", given="give=RECIPIENT"
            )
        )
    return A.EstablishFundEffect(
        name=name,
        purpose=purpose,
        unit=unit,
        dissolves=_date_ms(dissolves),
        remainder=remainder,
        remainder_to=to.strip(),
        threshold=int(threshold),
        stewards=_members(state, stewards),
        term_days=int(term),
    )


def _establish_partnership(state: AssemblyState, p: list[str]) -> A.Effect:
    name, supporters, sunset, fund, skills, provides = p
    pairs = []
    for item in skills.split("+") if skills.strip() not in ("", "-") else []:
        skill, _at, member = item.rpartition("@")
        if not skill.strip():
            raise ValueError(_("a skill is SKILL@MEMBER, not {given!r}").format(given=item))
        pairs.append((skill.strip(), state.find_member(member).id))
    return A.EstablishPartnershipEffect(
        name=name,
        supporters=tuple(state.find_supporter(s).id for s in supporters.split("+") if s.strip()),
        provides=provides,
        skills=tuple(pairs),
        sunset=None if sunset.strip().lower() in ("", "none") else _date_ms(sunset),
        fund=None if fund.strip() in ("", "-") else state.find_fund(fund).id,
    )


# Kinds whose last field is free text, with their number of fields.
_FREE_TAIL = {"establish-fund": 8, "establish-partnership": 6, "disburse": 3}

_EFFECT_PARSERS: dict[tuple[str, int], Callable[[AssemblyState, list[str]], A.Effect]] = {
    ("grant-role", 3): lambda s, p: A.GrantRoleEffect(
        member=s.find_member(p[0]).id, role=role_id(s, p[1]), term_days=int(p[2])
    ),
    ("end-role", 2): lambda s, p: A.EndRoleEffect(
        member=s.find_member(p[0]).id, role=role_id(s, p[1])
    ),
    ("add-role", 3): lambda _s, p: A.AddRoleEffect(
        role=p[0].strip().lower().replace("-", "_"), label=p[1].strip(), term_days=int(p[2])
    ),
    ("round-shape", 2): _round_shape,
    ("round-shape", 3): _round_shape,
    ("rule", 1): _rule_effect,
    ("admit-supporter", 2): lambda s, p: A.AdmitSupporterEffect(
        member=s.find_member(p[0]).id, until=_date_ms(p[1])
    ),
    ("end-supporter", 1): lambda s, p: A.EndSupporterEffect(member=s.find_member(p[0]).id),
    ("remove", 1): lambda s, p: A.RemoveMemberEffect(member=s.find_member(p[0]).id),
    ("establish-fund", 8): _establish_fund,
    ("shorten-fund", 2): lambda s, p: A.ShortenFundEffect(
        fund=s.find_fund(p[0]).id, dissolves=_date_ms(p[1])
    ),
    ("lengthen-fund", 2): lambda s, p: A.LengthenFundEffect(
        fund=s.find_fund(p[0]).id, dissolves=_date_ms(p[1])
    ),
    ("disburse", 3): lambda s, p: A.DisburseEffect(
        fund=s.find_fund(p[0]).id, amount=int(p[1]), to=p[2]
    ),
    ("fund-stewards", 3): lambda s, p: A.FundStewardsEffect(
        fund=s.find_fund(p[0]).id, stewards=_members(s, p[1]), term_days=int(p[2])
    ),
    ("establish-partnership", 6): _establish_partnership,
    ("shorten-partnership", 2): lambda s, p: A.ShortenPartnershipEffect(
        partnership=s.find_partnership(p[0]).id, sunset=_date_ms(p[1])
    ),
    ("renew-partnership", 2): lambda s, p: A.RenewPartnershipEffect(
        partnership=s.find_partnership(p[0]).id, sunset=_date_ms(p[1])
    ),
    ("rotate-secret", 0): lambda _s, _p: A.RotateSecretEffect(),
}
