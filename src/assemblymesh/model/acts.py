"""Act types: one frozen dataclass per act, shared by the builders, the fold, the process
tables, the CLI and the UI (h11's events are the model).

An act is what a member's device appends to that member's document: a mapping of plain
values (``docs/protocol.md`` §2.5 gives the document schema, ``docs/process.md`` the fields).
Every act has

- ``id``: chosen by the writer, lowercase hex of 8 to 64 digits, unique within the writer's
  document. Other acts never refer to it alone: an act's *ref* is ``act_ref(member, id)``, a
  hash of the writer's member key and the id, so no member can take another member's id.
- ``type``: which class below reads the rest.
- ``ts``: the writer's clock, in ms since the epoch. The fold never trusts it alone: see
  ``model.order`` for the causal time an act is placed at.
- ``seen``: refs of the newest acts the writer had seen (its causal context), at most
  ``MAX_SEEN``. The act is placed after all of them.

``Act.from_doc`` does every reader's work (types, limits, defaults, integers that the storage
engine hands back as floats) and raises ``IllegalMoveError(WELL_FORMED | KNOWN_TYPE)``;
``to_doc`` writes the mapping. Adding an act type means one class here, one row in
``model.rules`` and one handler in ``model.fold``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Self

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import rules
from assemblymesh.model import vocabulary as V

KEY_HEX_LEN: Final = 64
SIGNATURE_HEX_LEN: Final = 128
REF_HEX_LEN: Final = 16
ORIGIN_HEX_LEN: Final = 32
MIN_ID_LEN: Final = 8
MAX_ID_LEN: Final = 64
MAX_TEXT_LEN: Final = 200_000  # bodies, charters, reasons, notes
MAX_LINE_LEN: Final = 200  # titles and names: one line
MAX_SEEN: Final = 32
MAX_INT: Final = 2**53
# A publication file recorded in the library (docs/protocol.md §10): at most this many bytes.
MAX_PUBLICATION_BYTES: Final = 147_456
MAX_EPOCH: Final = 2**32 - 1
REF_CONTEXT: Final = b"assemblymesh/act-ref/v1\x00"
_HEX_DIGITS: Final = frozenset("0123456789abcdef")
# Characters that reorder or hide text on screen: a title could read as something it is not.
BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bad(detail: str) -> IllegalMoveError:
    return IllegalMoveError(rules.WELL_FORMED, detail)


def is_hex(value: object, length: int | None = None) -> bool:
    """Lowercase hex of whole bytes (and of ``length`` characters, if given)."""
    if not isinstance(value, str) or not value or len(value) % 2:
        return False
    if length is not None and len(value) != length:
        return False
    return set(value) <= _HEX_DIGITS


def as_int(value: object) -> int | None:
    """``value`` as an int if it is one (or an integral float, as pycrdt returns); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def act_ref(member: str, act_id: str) -> str:
    """The ref other acts use for act ``act_id`` of ``member``: BLAKE2b-64 of the context,
    the member key and the id's ASCII. Scoped by construction: another member writing the same
    id gets another ref."""
    digest = hashlib.blake2b(
        REF_CONTEXT + bytes.fromhex(member) + act_id.encode("ascii"), digest_size=8
    )
    return digest.hexdigest()


DEVICELESS_CONTEXT: Final = b"assemblymesh/deviceless-member/v1\x00"


def deviceless_id(facilitator: str, act_id: str) -> str:
    """The member id of the member an ``add_member`` act adds: BLAKE2b-256 of the context, the
    facilitator's member key and the act id. A hash, not a key anyone holds, so no device is
    ever certified for it."""
    digest = hashlib.blake2b(
        DEVICELESS_CONTEXT + bytes.fromhex(facilitator) + act_id.encode("ascii"), digest_size=32
    )
    return digest.hexdigest()


def text_problem(value: str, *, line: bool) -> str | None:
    """Why ``value`` cannot be stored as a title (``line``) or a body; None if it can."""
    for char in value:
        if char in BIDI_CONTROLS:
            return f"contains the direction control U+{ord(char):04X}"
        if unicodedata.category(char) == "Cc" and (line or char not in "\n\t"):
            return f"contains the control character U+{ord(char):04X}"
    return None


# --- field specs: how one field is read and described ------------------------------------------


class Spec:
    """How one act field is read from a document mapping and described in docs/process.md."""

    optional = False
    default: Any = dataclasses.MISSING  # the field's value when the mapping lacks it

    def read(self, raw: Mapping[str, Any], key: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def write(self, value: Any) -> Any:
        return value


class Text(Spec):
    """Text; ``optional`` text may be left out of a document (read as empty, and an empty
    value is left out when written), so acts written before the field existed still read."""

    def __init__(
        self, *, required: bool = False, line: bool = False, optional: bool = False
    ) -> None:
        self.required = required
        self.line = line
        self.limit = MAX_LINE_LEN if line else MAX_TEXT_LEN
        if optional:
            self.optional = True
            self.default = ""

    def read(self, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key, None if self.required else "")
        if not isinstance(value, str):
            raise _bad(f"field {key!r} must be text")
        if self.required and not value.strip():
            raise _bad(f"field {key!r} must not be empty")
        if len(value) > self.limit:
            raise _bad(f"field {key!r} is too long: the limit is {self.limit:,} characters")
        problem = text_problem(value, line=self.line)
        if problem is not None:
            raise _bad(f"field {key!r} {problem}")
        return value

    def describe(self) -> str:
        kind = "one line of text" if self.line else "text"
        need = ", required" if self.required else ", may be left out" if self.optional else ""
        return f"{kind}, at most {self.limit:,} characters{need}"


class Hex(Spec):
    def __init__(self, length: int | None = None, what: str = "hex") -> None:
        self.length = length
        self.what = what

    def read(self, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key)
        if not is_hex(value, self.length):
            size = f"{self.length} digits of " if self.length else ""
            raise _bad(f"field {key!r} must be {size}lowercase hex")
        assert isinstance(value, str)
        return value

    def describe(self) -> str:
        return f"{self.what} ({self.length} hex digits)" if self.length else self.what


class Int(Spec):
    def __init__(self, *, minimum: int = 0, maximum: int = MAX_INT) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def read(self, raw: Mapping[str, Any], key: str) -> int:
        value = as_int(raw.get(key))
        if value is None:
            raise _bad(f"field {key!r} must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise _bad(f"field {key!r} must be in {self.minimum}..{self.maximum}")
        return value

    def describe(self) -> str:
        return f"integer {self.minimum}..{self.maximum}"


class Flag(Spec):
    def read(self, raw: Mapping[str, Any], key: str) -> bool:
        value = raw.get(key)
        if not isinstance(value, bool):
            raise _bad(f"field {key!r} must be true or false")
        return value

    def describe(self) -> str:
        return "true or false"


class Choice(Spec):
    def __init__(self, choices: tuple[str, ...], default: str | None = None) -> None:
        self.choices = choices
        if default is not None:
            self.default = default

    def read(self, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key, None if self.default is dataclasses.MISSING else self.default)
        if not isinstance(value, str) or value not in self.choices:
            raise _bad(f"field {key!r} must be one of {', '.join(self.choices)}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(f"`{c}`" for c in self.choices)


class Optional(Spec):
    """The inner spec, or absent/null (read as None)."""

    optional = True
    default = None

    def __init__(self, inner: Spec) -> None:
        self.inner = inner

    def read(self, raw: Mapping[str, Any], key: str) -> Any:
        return None if raw.get(key) is None else self.inner.read(raw, key)

    def describe(self) -> str:
        return self.inner.describe() + " or null"


class Refs(Spec):
    """A list of act refs (the causal context)."""

    optional = True
    default = ()

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > self.limit:
            raise _bad(f"field {key!r} must be a list of at most {self.limit} refs")
        if not all(is_hex(v, REF_HEX_LEN) for v in value):
            raise _bad(f"field {key!r} must hold act refs ({REF_HEX_LEN} hex digits)")
        return tuple(value)

    def write(self, value: Any) -> Any:
        return list(value)

    def describe(self) -> str:
        return f"list of at most {self.limit} act refs"


class Base64(Spec):
    """Bytes as standard base64 text (with padding), at most ``limit`` bytes once decoded;
    read back as the bytes."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what

    def read(self, raw: Mapping[str, Any], key: str) -> bytes:
        value = raw.get(key)
        if not isinstance(value, str) or len(value) > 4 * ((self.limit + 2) // 3):
            raise _bad(f"field {key!r} must be base64 text of at most {self.limit:,} bytes")
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as exc:
            raise _bad(f"field {key!r} is not base64") from exc
        if not data or base64.b64encode(data).decode("ascii") != value:
            raise _bad(f"field {key!r} is not canonical base64")
        return data

    def write(self, value: Any) -> Any:
        return base64.b64encode(value).decode("ascii")

    def describe(self) -> str:
        return f"{self.what} (standard base64 with padding, at most {self.limit:,} bytes)"


class RulesMap(Spec):
    """The process parameters a genesis act fixes; missing keys take the defaults and unknown
    keys are ignored, so a newer peer may add rules."""

    KEYS: Final = {
        "cooling_off_ms": (rules.DEFAULT_COOLING_OFF_MS, 0),
        "quorum": (rules.DEFAULT_QUORUM, 0),
        "review_period_ms": (rules.DEFAULT_REVIEW_PERIOD_MS, 1),
        "block_threshold": (rules.DEFAULT_BLOCK_THRESHOLD, 1),
        "meeting_quorum": (rules.DEFAULT_MEETING_QUORUM, 0),
        "agenda_order": (rules.DEFAULT_AGENDA_ORDER, 0),
        "absence_lookback": (rules.DEFAULT_ABSENCE_LOOKBACK, 1),
    }

    def read(self, raw: Mapping[str, Any], key: str) -> dict[str, int]:
        value = raw.get(key) or {}
        if not isinstance(value, Mapping):
            raise _bad(f"field {key!r} must be a mapping")
        out: dict[str, int] = {}
        for name, (default, minimum) in self.KEYS.items():
            out[name] = Int(minimum=minimum).read(value, name) if name in value else default
        return out

    def write(self, value: Any) -> Any:
        return dict(value)

    def describe(self) -> str:
        return "{" + ", ".join(f"`{k}`" for k in self.KEYS) + "} (integers; defaults apply)"


MAX_LISTED: Final = 32  # members named in one effect (stewards, supporters, learners)


class Members(Spec):
    """A list of distinct member ids (at least one), in the order given."""

    def __init__(self, limit: int = MAX_LISTED) -> None:
        self.limit = limit

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if not isinstance(value, list) or not 1 <= len(value) <= self.limit:
            raise _bad(f"field {key!r} must be a list of 1 to {self.limit} member ids")
        if not all(is_hex(v, KEY_HEX_LEN) for v in value) or len(set(value)) != len(value):
            raise _bad(f"field {key!r} must hold distinct member ids ({KEY_HEX_LEN} hex digits)")
        return tuple(value)

    def write(self, value: Any) -> Any:
        return list(value)

    def describe(self) -> str:
        return f"list of 1 to {self.limit} distinct member ids, in order"


class Skills(Spec):
    """Skills to transfer: a list of ``{skill, to}`` (one line of text, a member id)."""

    optional = True
    default = ()

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_LISTED:
            raise _bad(f"field {key!r} must be a list of at most {MAX_LISTED} skills")
        out = []
        for item in value:
            if not isinstance(item, Mapping):
                raise _bad(f"field {key!r} must hold {{skill, to}} mappings")
            skill = Text(required=True, line=True).read(item, "skill")
            out.append((skill, Hex(KEY_HEX_LEN, "member id").read(item, "to")))
        if len(set(out)) != len(out):
            raise _bad(f"field {key!r} names the same skill for the same member twice")
        return tuple(out)

    def write(self, value: Any) -> Any:
        return [{"skill": skill, "to": to} for skill, to in value]

    def describe(self) -> str:
        return f"list of at most {MAX_LISTED} `{{skill, to}}` (one line of text, a member id)"


MAX_SEALS: Final = 1024
BOX_HEX_LEN: Final = 160  # a sealed box of a 32-byte secret: 80 bytes


class Seals(Spec):
    """The secret of an epoch sealed to devices: a list of ``[device key, box]`` pairs (hex),
    each device at most once."""

    optional = True
    default = ()

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_SEALS:
            raise _bad(f"field {key!r} must be a list of at most {MAX_SEALS} sealed secrets")
        out: list[tuple[str, str]] = []
        for pair in value:
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and is_hex(pair[0], KEY_HEX_LEN)
                and is_hex(pair[1], BOX_HEX_LEN)
            ):
                raise _bad(f"field {key!r} must hold [device key, sealed box] pairs")
            out.append((pair[0], pair[1]))
        if len({device for device, _ in out}) != len(out):
            raise _bad(f"field {key!r} names a device twice")
        return tuple(out)

    def write(self, value: Any) -> Any:
        return [[device, box] for device, box in value]

    def describe(self) -> str:
        return (
            f"list of at most {MAX_SEALS} `[device key, sealed box]` pairs (64 and"
            f" {BOX_HEX_LEN} hex digits), each device once"
        )


class Ident(Spec):
    """A term's, a role's or a language's id: lowercase ASCII as ``pattern`` allows."""

    def __init__(self, pattern: Any = V.ID_PATTERN, what: str = "id", default: str = "") -> None:
        self.pattern = pattern
        self.what = what
        if default:
            self.default = default

    def read(self, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key, None if self.default is dataclasses.MISSING else self.default)
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise _bad(f"field {key!r} must be a {self.what} like {self.pattern.pattern}")
        return value

    def describe(self) -> str:
        default = f", default `{self.default}`" if isinstance(self.default, str) else ""
        return f"{self.what} (`{self.pattern.pattern}`){default}"


class Choices(Spec):
    """A list of distinct values, each one of ``choices``."""

    def __init__(self, choices: tuple[str, ...], default: tuple[str, ...] | None = None) -> None:
        self.choices = choices
        if default is not None:
            self.default = default

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None and self.default is not dataclasses.MISSING:
            return tuple(self.default)
        if not isinstance(value, list) or len(value) > len(self.choices):
            raise _bad(f"field {key!r} must be a list of {', '.join(self.choices)}")
        if not all(v in self.choices for v in value) or len(set(value)) != len(value):
            raise _bad(f"field {key!r} must hold distinct values of {', '.join(self.choices)}")
        return tuple(value)

    def write(self, value: Any) -> Any:
        return list(value)

    def describe(self) -> str:
        return "list of distinct values of " + ", ".join(f"`{c}`" for c in self.choices)


class Labels(Spec):
    """Term id -> label: 1 to ``MAX_LABELS`` one-line texts of at most ``MAX_LABEL_LEN``."""

    def read(self, raw: Mapping[str, Any], key: str) -> dict[str, str]:
        value = raw.get(key)
        if not isinstance(value, Mapping) or not 1 <= len(value) <= V.MAX_LABELS:
            raise _bad(f"field {key!r} must map 1 to {V.MAX_LABELS} term ids to labels")
        out: dict[str, str] = {}
        for term in value:
            if not isinstance(term, str) or not V.ID_PATTERN.fullmatch(term):
                raise _bad(f"field {key!r} must map term ids to labels")
            label = Text(required=True, line=True).read(value, term)
            if len(label) > V.MAX_LABEL_LEN:
                raise _bad(f"a label is at most {V.MAX_LABEL_LEN} characters")
            out[term] = label
        return out

    def write(self, value: Any) -> Any:
        return dict(value)

    def describe(self) -> str:
        return (
            f"map of 1 to {V.MAX_LABELS} term ids to labels (one line of text, at most"
            f" {V.MAX_LABEL_LEN} characters)"
        )


def spec(s: Spec, key: str | None = None) -> Any:
    """A dataclass field read by ``s`` (from document key ``key``, default: the field name);
    an optional field takes its spec's default."""
    if s.default is not dataclasses.MISSING:
        return field(default=s.default, metadata={"spec": s, "key": key})
    return field(metadata={"spec": s, "key": key})


# --- effects: what a decision does when it takes effect ---------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """One structured effect a proposal carries in its version. It is part of what is
    consented to, and the fold runs it exactly when the decision takes effect."""

    KIND: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""

    @classmethod
    def from_doc(cls, raw: object) -> Effect:
        if not isinstance(raw, Mapping):
            raise _bad("an effect must be a mapping")
        kind = EFFECT_KINDS.get(raw.get("effect"))  # type: ignore[arg-type]
        if kind is None:
            raise _bad(f"unknown effect {str(raw.get('effect'))[:40]!r}")
        return kind(**{f.name: _spec(f).read(raw, _key(f)) for f in dataclasses.fields(kind)})

    def to_doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {"effect": self.KIND}
        for f in dataclasses.fields(self):
            out[_key(f)] = _spec(f).write(getattr(self, f.name))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantRoleEffect(Effect):
    KIND = "grant_role"
    SUMMARY = "grant a role to a member for a term (days from when the decision takes effect)"
    member: str = spec(Hex(KEY_HEX_LEN, "member id"))
    role: str = spec(Ident(what="role id"))
    term_days: int = spec(Int(minimum=1, maximum=rules.MAX_TERM_MS // rules.DAY_MS))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndRoleEffect(Effect):
    KIND = "end_role"
    SUMMARY = "end a member's role"
    member: str = spec(Hex(KEY_HEX_LEN, "member id"))
    role: str = spec(Ident(what="role id"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRuleEffect(Effect):
    KIND = "set_rule"
    SUMMARY = "change a rule, for rounds opened after the decision takes effect"
    rule: str = spec(Choice(rules.RULE_NAMES))
    value: int = spec(Int())


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmitSupporterEffect(Effect):
    KIND = "admit_supporter"
    SUMMARY = "give a supporter standing until a date (a new decision extends it)"
    member: str = spec(Hex(KEY_HEX_LEN, "member id"))
    until: int = spec(Int())


@dataclass(frozen=True, slots=True, kw_only=True)
class EndSupporterEffect(Effect):
    KIND = "end_supporter"
    SUMMARY = "end a supporter's standing now"
    member: str = spec(Hex(KEY_HEX_LEN, "member id"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveMemberEffect(Effect):
    KIND = "remove_member"
    SUMMARY = "remove a member: their past acts stay, later ones are ignored"
    member: str = spec(Hex(KEY_HEX_LEN, "member id"))


FUND_REF = Hex(REF_HEX_LEN, "fund id")
PARTNERSHIP_REF = Hex(REF_HEX_LEN, "partnership id")
_DATE_MS = Int()  # a date, in ms since the epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class EstablishFundEffect(Effect):
    KIND = "establish_fund"
    SUMMARY = (
        "establish a seed fund: name, purpose, unit, dissolution date, what happens to a"
        " balance left then, the steward's threshold, and stewards rotating every term"
    )
    name: str = spec(Text(required=True, line=True))
    purpose: str = spec(Text())
    unit: str = spec(Text(required=True, line=True))
    dissolves: int = spec(_DATE_MS)
    remainder: str = spec(Choice(rules.REMAINDER_KINDS))
    remainder_to: str = spec(Text(line=True, optional=True))
    threshold: int = spec(Int())
    stewards: tuple[str, ...] = spec(Members())
    term_days: int = spec(Int(minimum=1, maximum=rules.MAX_TERM_MS // rules.DAY_MS))


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortenFundEffect(Effect):
    KIND = "shorten_fund"
    SUMMARY = "bring a fund's dissolution date forward (never later: see lengthen_fund)"
    fund: str = spec(FUND_REF)
    dissolves: int = spec(_DATE_MS)


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthenFundEffect(Effect):
    KIND = "lengthen_fund"
    SUMMARY = "put a fund's dissolution date back: only as the one effect of its own decision"
    fund: str = spec(FUND_REF)
    dissolves: int = spec(_DATE_MS)


@dataclass(frozen=True, slots=True, kw_only=True)
class DisburseEffect(Effect):
    KIND = "disburse"
    SUMMARY = "pay out of a fund (above the steward's threshold), if the balance allows"
    fund: str = spec(FUND_REF)
    amount: int = spec(Int(minimum=1))
    to: str = spec(Text(required=True, line=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class FundStewardsEffect(Effect):
    KIND = "fund_stewards"
    SUMMARY = "give a fund a new rotation of stewards, starting when the decision takes effect"
    fund: str = spec(FUND_REF)
    stewards: tuple[str, ...] = spec(Members())
    term_days: int = spec(Int(minimum=1, maximum=rules.MAX_TERM_MS // rules.DAY_MS))


@dataclass(frozen=True, slots=True, kw_only=True)
class EstablishPartnershipEffect(Effect):
    KIND = "establish_partnership"
    SUMMARY = (
        "adopt a partnership with supporters: what they provide, skills to transfer to"
        " members, and a sunset (their standing under it ends then)"
    )
    name: str = spec(Text(required=True, line=True))
    supporters: tuple[str, ...] = spec(Members())
    provides: str = spec(Text())
    skills: tuple[tuple[str, str], ...] = spec(Skills())
    sunset: int | None = spec(Optional(_DATE_MS))
    fund: str | None = spec(Optional(FUND_REF))


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortenPartnershipEffect(Effect):
    KIND = "shorten_partnership"
    SUMMARY = "bring a partnership's sunset forward (never later: see renew_partnership)"
    partnership: str = spec(PARTNERSHIP_REF)
    sunset: int = spec(_DATE_MS)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenewPartnershipEffect(Effect):
    KIND = "renew_partnership"
    SUMMARY = "renew a partnership until a later sunset, and its supporters' standing with it"
    partnership: str = spec(PARTNERSHIP_REF)
    sunset: int = spec(_DATE_MS)


@dataclass(frozen=True, slots=True, kw_only=True)
class RotateSecretEffect(Effect):
    KIND = "rotate_secret"
    SUMMARY = "start a new epoch of the assembly secret, sealed to every remaining device"


@dataclass(frozen=True, slots=True, kw_only=True)
class WordsEffect(Effect):
    KIND = "words"
    SUMMARY = "name terms in the assembly's own words, for one language"
    lang: str = spec(Ident(V.LANG_PATTERN, "language code", default="en"))
    labels: dict[str, str] = spec(Labels())


@dataclass(frozen=True, slots=True, kw_only=True)
class AddRoleEffect(Effect):
    KIND = "add_role"
    SUMMARY = "add a role of the assembly's own, with its label and its longest term"
    role: str = spec(Ident(what="role id"))
    label: str = spec(Text(required=True, line=True))
    term_days: int = spec(Int(minimum=1, maximum=rules.MAX_TERM_MS // rules.DAY_MS))


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundShapeEffect(Effect):
    KIND = "round_shape"
    SUMMARY = "choose the phases of rounds opened from then on and the position kinds they take"
    phases: tuple[str, ...] = spec(Choices(V.SHAPE_PHASES))
    kinds: tuple[str, ...] = spec(Choices(rules.POSITION_KINDS))
    reasoned: tuple[str, ...] = spec(Choices(rules.POSITION_KINDS, default=V.DEFAULT_REASONED))

    @property
    def shape(self) -> V.RoundShape:
        return V.RoundShape(self.phases, self.kinds, self.reasoned)


EFFECT_CLASSES: Final[tuple[type[Effect], ...]] = (
    GrantRoleEffect,
    EndRoleEffect,
    SetRuleEffect,
    AdmitSupporterEffect,
    EndSupporterEffect,
    RemoveMemberEffect,
    EstablishFundEffect,
    ShortenFundEffect,
    LengthenFundEffect,
    DisburseEffect,
    FundStewardsEffect,
    EstablishPartnershipEffect,
    ShortenPartnershipEffect,
    RenewPartnershipEffect,
    RotateSecretEffect,
    WordsEffect,
    AddRoleEffect,
    RoundShapeEffect,
)
EFFECT_KINDS: Final[Mapping[str, type[Effect]]] = {cls.KIND: cls for cls in EFFECT_CLASSES}
MAX_EFFECTS: Final = 16


class Effects(Spec):
    """The effects of a version: a list of effect mappings."""

    optional = True
    default = ()

    def read(self, raw: Mapping[str, Any], key: str) -> tuple[Effect, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_EFFECTS:
            raise _bad(f"field {key!r} must be a list of at most {MAX_EFFECTS} effects")
        return tuple(Effect.from_doc(item) for item in value)

    def write(self, value: Any) -> Any:
        return [effect.to_doc() for effect in value]

    def describe(self) -> str:
        return f"list of at most {MAX_EFFECTS} effects (see Effects)"


# --- the acts ----------------------------------------------------------------------------------

MEMBER = Hex(KEY_HEX_LEN, "member id")
REF = Hex(REF_HEX_LEN, "act ref")
LOCAL_ID = Hex(None, "id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Act:
    """Fields every act has. Subclasses add theirs and set ``TYPE`` and ``WHO``."""

    TYPE: ClassVar[str] = ""
    WHO: ClassVar[str] = ""

    id: str = spec(LOCAL_ID)
    ts: int = spec(Int())
    seen: tuple[str, ...] = spec(Refs(MAX_SEEN))

    @classmethod
    def from_doc(cls, raw: object) -> Act:
        """The typed act a document value holds; ``IllegalMoveError`` if it holds none."""
        if not isinstance(raw, Mapping):
            raise _bad("an act must be a mapping")
        act_type = raw.get("type")
        if not isinstance(act_type, str):
            raise _bad("field 'type' must be text")
        kind = ACT_TYPES.get(act_type)
        if kind is None:
            raise IllegalMoveError(rules.KNOWN_TYPE, f"unknown act type {act_type[:40]!r}")
        local_id = raw.get("id")
        if not (is_hex(local_id) and MIN_ID_LEN <= len(str(local_id)) <= MAX_ID_LEN):
            raise _bad(f"field 'id' must be {MIN_ID_LEN}-{MAX_ID_LEN} lowercase hex digits")
        values = {f.name: _spec(f).read(raw, _key(f)) for f in dataclasses.fields(kind)}
        return kind(**values)

    def to_doc(self) -> dict[str, Any]:
        """The mapping a document holds for this act (``None``, empty lists and empty optional
        text left out)."""
        out: dict[str, Any] = {"type": self.TYPE}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value == () or (value == "" and _spec(f).optional):
                continue
            out[_key(f)] = _spec(f).write(value)
        return out

    def ref(self, member: str) -> str:
        return act_ref(member, self.id)

    def with_context(self, act_id: str, ts: int, seen: tuple[str, ...]) -> Self:
        return dataclasses.replace(self, id=act_id, ts=ts, seen=seen)


def _spec(f: dataclasses.Field[Any]) -> Spec:
    s = f.metadata["spec"]
    assert isinstance(s, Spec)
    return s


def _key(f: dataclasses.Field[Any]) -> str:
    key = f.metadata.get("key")
    return key if isinstance(key, str) else f.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Create(Act):
    """Genesis, in the founder's document; ``term_end`` ends the founder's facilitator term."""

    TYPE = "create"
    WHO = rules.FOUNDER
    name: str = spec(Text(required=True, line=True))
    charter: str = spec(Text())
    founder_name: str = spec(Text(required=True, line=True))
    nonce: str = spec(Hex(None, "nonce (hex)"))
    rules: dict[str, int] = spec(RulesMap())
    term_end: int = spec(Int())


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordInvite(Act):
    """The inviter's record of an invite it issued; a join is placed after it."""

    TYPE = "invite"
    WHO = rules.MEMBER
    invite_key: str = spec(Hex(KEY_HEX_LEN, "invite key"))
    expires: int = spec(Int())
    kind: str = spec(Choice(rules.INVITE_KINDS, default=rules.MEMBER_INVITE))
    # A claim invite: the member without a device whose membership the joiner takes over.
    claim: str | None = spec(Optional(Hex(KEY_HEX_LEN, "member id")))
    # The epoch of the assembly secret its join key comes from (null: epoch 0).
    epoch: int | None = spec(Optional(Int(maximum=MAX_EPOCH)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Join(Act):
    """``invite`` is the hex of ``Invite.encode()``; ``proof`` the hex of the invite proof."""

    TYPE = "join"
    WHO = rules.ANYONE
    name: str = spec(Text(required=True, line=True))
    invite: str = spec(Hex(None, "invite (hex of the signed invite)"))
    proof: str = spec(Hex(SIGNATURE_HEX_LEN, "invite proof"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Admit(Act):
    """The inviter's word on which join its invite admitted, should two member keys claim it."""

    TYPE = "admit"
    WHO = rules.INVITER
    join: str = spec(REF)


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantRole(Act):
    TYPE = "grant_role"
    WHO = rules.ROLE_AUTHORITY
    member: str = spec(MEMBER)
    role: str = spec(Ident(what="role id"))
    term_end: int = spec(Int())
    decision: str | None = spec(Optional(REF))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndRole(Act):
    TYPE = "end_role"
    WHO = rules.ROLE_AUTHORITY + "; the holder themselves"
    member: str = spec(MEMBER)
    role: str = spec(Ident(what="role id"))
    decision: str | None = spec(Optional(REF))


@dataclass(frozen=True, slots=True, kw_only=True)
class Propose(Act):
    TYPE = "propose"
    WHO = rules.PARTICIPANT
    title: str = spec(Text(required=True, line=True))
    body: str = spec(Text())
    effects: tuple[Effect, ...] = spec(Effects())
    # Put forward from another assembly's publication: the published item's id.
    origin: str | None = spec(Optional(Hex(ORIGIN_HEX_LEN, "published item id")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Amend(Act):
    TYPE = "amend"
    WHO = rules.AUTHOR_OR_FACILITATOR_WHO
    proposal: str = spec(REF)
    body: str = spec(Text())
    note: str = spec(Text())
    effects: tuple[Effect, ...] = spec(Effects())


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw(Act):
    TYPE = "withdraw"
    WHO = rules.AUTHOR
    proposal: str = spec(REF)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenRound(Act):
    TYPE = "open_round"
    WHO = rules.FACILITATOR_WHO
    proposal: str = spec(REF)
    version: int = spec(Int(minimum=1))
    deadline: int | None = spec(Optional(Int()))  # ms; informational, never closes the round


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvanceRound(Act):
    """``to`` names the target phase, so two facilitators advancing at once move it once."""

    TYPE = "advance_round"
    WHO = rules.FACILITATOR_WHO
    round: str = spec(REF)
    to: str = spec(Choice(rules.PHASES))
    deadline: int | None = spec(Optional(Int()))  # a new closing time; null keeps the old one


@dataclass(frozen=True, slots=True, kw_only=True)
class TakePosition(Act):
    TYPE = "position"
    WHO = rules.MEMBER_OR_PROXY
    round: str = spec(REF)
    kind: str = spec(Choice(rules.POSITION_KINDS))
    reason: str = spec(Text())
    for_member: str | None = spec(Optional(MEMBER), key="for")


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment(Act):
    """A question, a reaction or an answer in a round's thread; an answer names the question
    (``parent``). A facilitator may record one ``for`` someone who speaks without a device."""

    TYPE = "comment"
    WHO = rules.COMMENTER
    round: str = spec(REF)
    kind: str = spec(Choice(rules.COMMENT_KINDS))
    text: str = spec(Text(required=True))
    parent: str | None = spec(Optional(REF))
    for_member: str | None = spec(Optional(MEMBER), key="for")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddMember(Act):
    """A member who takes part without a device (by voice, in the meeting), added by a
    facilitator. Their member id is ``deviceless_id(writer, id)``: no device can write for
    it, so a facilitator records their positions; a claim invite later hands it to a key."""

    TYPE = "add_member"
    WHO = rules.FACILITATOR_WHO
    name: str = spec(Text(required=True, line=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseRound(Act):
    TYPE = "close_round"
    WHO = rules.FACILITATOR_WHO
    round: str = spec(REF)
    # What was decided and why, in the facilitator's words; kept with the decision.
    statement: str = spec(Text(optional=True))
    # The outcome the closing node counted from what it had received. Where the fold counts
    # otherwise (positions from members out of range), every node says so: see
    # ``Round.announced``.
    announced: str | None = spec(Optional(Choice(rules.CLOSE_OUTCOMES)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Act):
    TYPE = "reject"
    WHO = rules.FACILITATOR_WHO
    proposal: str = spec(REF)
    reason: str = spec(Text())


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowNaming(Act):
    """A member's own word on whether publications to other assemblies may name them."""

    TYPE = "allow_naming"
    WHO = "the member, for themselves"
    allow: bool = spec(Flag())


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportPublication(Act):
    """Another assembly's publication, taken into this assembly's library: the whole signed
    file, so every member's node verifies it and folds the same library."""

    TYPE = "import_publication"
    WHO = rules.MEMBER
    publication: bytes = spec(Base64(MAX_PUBLICATION_BYTES, "publication file"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AddDevice(Act):
    """A member's device names another device of theirs, with the certificate their member
    key signed for it (``identity.DeviceCertificate``, encoded): every node then knows the
    device, and its member can revoke it, before it has written anything. A new device
    (paired, or restored from a backup) writes one for itself as its first act."""

    TYPE = "add_device"
    WHO = "the member, for their own devices"
    device: str = spec(Hex(KEY_HEX_LEN, "device key"))
    certificate: str = spec(Hex(None, "device certificate"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeDevice(Act):
    """A member revokes one of their own devices (lost or stolen). ``keep`` is the last change
    of that device the revoking node held: the device's changes up to it stay valid, later
    ones (made after the revocation, or concurrently with it) count no more. ``signature``
    is the member key's over ``(assembly, revoked, keep)`` (``identity.sign_revocation``), so
    a device key alone cannot revoke the member's other devices."""

    TYPE = "revoke_device"
    WHO = "the member, for their own devices, with their member key"
    revoked: str = spec(Hex(KEY_HEX_LEN, "device key"))
    keep: int = spec(Int())
    signature: str = spec(Hex(SIGNATURE_HEX_LEN, "signature"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribute(Act):
    """Money, hours or materials put into a fund, in the fund's unit."""

    TYPE = "contribute"
    WHO = rules.PARTICIPANT
    fund: str = spec(FUND_REF)
    amount: int = spec(Int(minimum=1))
    note: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Pledge(Act):
    """A promise of ``amount`` every ``every_days`` from now on; a later pledge replaces it."""

    TYPE = "pledge"
    WHO = rules.PARTICIPANT
    fund: str = spec(FUND_REF)
    amount: int = spec(Int(minimum=1))
    every_days: int = spec(Int(minimum=1, maximum=366))
    note: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class PausePledge(Act):
    """Pause (``paused`` true) or resume one's own pledge to a fund."""

    TYPE = "pause_pledge"
    WHO = rules.PLEDGER_WHO
    fund: str = spec(FUND_REF)
    paused: bool = spec(Flag())


@dataclass(frozen=True, slots=True, kw_only=True)
class Disburse(Act):
    """A payment out of a fund by its current steward, at or below the fund's threshold."""

    TYPE = "disburse"
    WHO = rules.FUND_STEWARD_WHO
    fund: str = spec(FUND_REF)
    amount: int = spec(Int(minimum=1))
    to: str = spec(Text(required=True, line=True))
    note: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmSkill(Act):
    """A member's word that they can now do a partnership's skill themselves."""

    TYPE = "confirm_skill"
    WHO = rules.LEARNER_WHO
    partnership: str = spec(PARTNERSHIP_REF)
    skill: str = spec(Text(required=True, line=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rekey(Act):
    """A new epoch of the assembly secret: ``check`` is its public check
    (``crdt.sealing.epoch_check``), ``seals`` the secret sealed to each remaining device."""

    TYPE = "rekey"
    WHO = rules.REKEY_WHO
    epoch: int = spec(Int(minimum=1, maximum=MAX_EPOCH))
    check: str = spec(Hex(KEY_HEX_LEN, "epoch check"))
    seals: tuple[tuple[str, str], ...] = spec(Seals())


@dataclass(frozen=True, slots=True, kw_only=True)
class SealSecret(Act):
    """The current epoch's secret sealed to devices that lack it (a joiner after its join,
    a device added later)."""

    TYPE = "seal"
    WHO = rules.SEAL_WHO
    epoch: int = spec(Int(maximum=MAX_EPOCH))
    check: str = spec(Hex(KEY_HEX_LEN, "epoch check"))
    seals: tuple[tuple[str, str], ...] = spec(Seals())


# --- meetings (folded by ``model.meeting_fold``; records in ``model.meetings``) ----------------

FOR_MEMBER = Optional(MEMBER)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleMeeting(Act):
    """A meeting: when (``starts``, ms), where, of which kind, who facilitates and who takes
    notes (the command proposes them by rotation; the writer may choose others)."""

    TYPE = "schedule_meeting"
    WHO = rules.MEMBER
    title: str = spec(Text(line=True, optional=True))
    starts: int = spec(Int())
    place: str = spec(Text(line=True, optional=True))
    kind: str = spec(Choice(rules.MEETING_KINDS, default=rules.REGULAR))
    facilitator: str = spec(MEMBER)
    note_taker: str = spec(MEMBER)
    stack: str = spec(Choice(rules.STACK_MODES, default=rules.STACK_IN_ORDER))


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMeeting(Act):
    """Another facilitator, note-taker, stack, time or place; null keeps what was set."""

    TYPE = "update_meeting"
    WHO = "the meeting's facilitator, or the member who scheduled it"
    meeting: str = spec(REF)
    facilitator: str | None = spec(FOR_MEMBER)
    note_taker: str | None = spec(FOR_MEMBER)
    stack: str | None = spec(Optional(Choice(rules.STACK_MODES)))
    starts: int | None = spec(Optional(Int()))
    place: str | None = spec(Optional(Text(line=True)))


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvanceMeeting(Act):
    """Open the meeting, end it, or cancel it before it opens (``to`` names the state)."""

    TYPE = "advance_meeting"
    WHO = "the meeting's facilitator (a cancel: also the member who scheduled it)"
    meeting: str = spec(REF)
    to: str = spec(Choice(rules.MEETING_STATES[1:]))


@dataclass(frozen=True, slots=True, kw_only=True)
class Attend(Act):
    """Present at a meeting: a member from their own device, or the facilitator ``for`` a
    member who has no device with them. Counted once per member."""

    TYPE = "attend"
    WHO = "a member or supporter for themselves; the meeting's facilitator for anyone"
    meeting: str = spec(REF)
    for_member: str | None = spec(FOR_MEMBER, key="for")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddAgendaItem(Act):
    """An item on a meeting's agenda: a proposal (``proposal`` names it), a topic, a report
    back or a question."""

    TYPE = "agenda_item"
    WHO = rules.PARTICIPANT
    meeting: str = spec(REF)
    kind: str = spec(Choice(rules.ITEM_KINDS))
    title: str = spec(Text(line=True, optional=True))
    proposal: str | None = spec(Optional(REF))
    note: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportItem(Act):
    """A member backs an agenda item: before the meeting, better-backed items come first."""

    TYPE = "support_item"
    WHO = rules.MEMBER
    item: str = spec(REF)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReorderAgenda(Act):
    """The facilitator's order during the meeting: the items named first, in this order,
    then the others in the assembly's order."""

    TYPE = "reorder_agenda"
    WHO = "the meeting's facilitator, while it sits"
    meeting: str = spec(REF)
    order: tuple[str, ...] = spec(Refs(rules.MAX_AGENDA_ORDER))


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemOutcome(Act):
    """What became of an item: discussed, decided (``decision`` may name the decision),
    deferred or dropped."""

    TYPE = "item_outcome"
    WHO = "the meeting's facilitator, while it sits or after"
    item: str = spec(REF)
    outcome: str = spec(Choice(rules.ITEM_OUTCOMES))
    decision: str | None = spec(Optional(REF))
    note: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseHand(Act):
    """Ask to speak (on ``item``, if given): from one's own device, or the facilitator adds
    someone ``for`` them."""

    TYPE = "raise_hand"
    WHO = "a member or supporter for themselves; the meeting's facilitator for anyone"
    meeting: str = spec(REF)
    item: str | None = spec(Optional(REF))
    for_member: str | None = spec(FOR_MEMBER, key="for")


@dataclass(frozen=True, slots=True, kw_only=True)
class LowerHand(Act):
    TYPE = "lower_hand"
    WHO = "a member or supporter for themselves; the meeting's facilitator for anyone"
    meeting: str = spec(REF)
    for_member: str | None = spec(FOR_MEMBER, key="for")


@dataclass(frozen=True, slots=True, kw_only=True)
class GiveFloor(Act):
    """The facilitator gives the floor to ``member`` (on ``item``; null: the current item),
    ending the turn before; ``member`` null closes the floor. With ``duration_ms`` the act
    records a turn that already happened, ending now, and leaves the floor as it is."""

    TYPE = "give_floor"
    WHO = "the meeting's facilitator, while it sits"
    meeting: str = spec(REF)
    member: str | None = spec(FOR_MEMBER)
    item: str | None = spec(Optional(REF))
    duration_ms: int | None = spec(Optional(Int(minimum=1, maximum=24 * 3600 * 1000)))


@dataclass(frozen=True, slots=True, kw_only=True)
class AskClarification(Act):
    """A question put to an outside supporter during the meeting: how much the assembly
    leans on outsiders is counted from these."""

    TYPE = "clarify"
    WHO = rules.MEMBER + ", while the meeting sits"
    meeting: str = spec(REF)
    supporter: str = spec(MEMBER)
    item: str | None = spec(Optional(REF))
    question: str = spec(Text(optional=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class SealMinutes(Act):
    """The note-taker's signed version of the minutes: the text and its BLAKE2b-256 hash
    (hex of the UTF-8 bytes). A later edit of the shared text shows as a change from it."""

    TYPE = "seal_minutes"
    WHO = "the meeting's note-taker, once it sits"
    meeting: str = spec(REF)
    text: str = spec(Text())
    hash: str = spec(Hex(64, "BLAKE2b-256 of the text"))


MEETING_ACTS: Final[tuple[type[Act], ...]] = (
    ScheduleMeeting,
    UpdateMeeting,
    AdvanceMeeting,
    Attend,
    AddAgendaItem,
    SupportItem,
    ReorderAgenda,
    ItemOutcome,
    RaiseHand,
    LowerHand,
    GiveFloor,
    AskClarification,
    SealMinutes,
)


ACT_CLASSES: Final[tuple[type[Act], ...]] = (
    Create,
    RecordInvite,
    Join,
    Admit,
    GrantRole,
    EndRole,
    Propose,
    Amend,
    Withdraw,
    OpenRound,
    AdvanceRound,
    TakePosition,
    CloseRound,
    Reject,
    AddDevice,
    RevokeDevice,
    AllowNaming,
    Comment,
    AddMember,
    ImportPublication,
    Contribute,
    Pledge,
    PausePledge,
    Disburse,
    ConfirmSkill,
    Rekey,
    SealSecret,
    *MEETING_ACTS,
)
ACT_TYPES: Final[Mapping[str, type[Act]]] = {cls.TYPE: cls for cls in ACT_CLASSES}


def describe_fields(kind: type[Act]) -> str:
    """The fields of ``kind`` as docs/process.md lists them."""
    parts = []
    for f in dataclasses.fields(kind):
        if f.name in ("id", "ts", "seen"):
            continue
        parts.append(f"`{_key(f)}`: {_spec(f).describe()}")
    return "; ".join(parts) or "none"


__all__ = [
    "ACT_CLASSES",
    "ACT_TYPES",
    "EFFECT_CLASSES",
    "EFFECT_KINDS",
    "KEY_HEX_LEN",
    "MAX_LINE_LEN",
    "MAX_PUBLICATION_BYTES",
    "MAX_SEEN",
    "MAX_TEXT_LEN",
    "MEETING_ACTS",
    "REF_HEX_LEN",
    "Act",
    "AddAgendaItem",
    "AddDevice",
    "AddMember",
    "AddRoleEffect",
    "Admit",
    "AdmitSupporterEffect",
    "AdvanceMeeting",
    "AdvanceRound",
    "AllowNaming",
    "Amend",
    "AskClarification",
    "Attend",
    "CloseRound",
    "Comment",
    "ConfirmSkill",
    "Contribute",
    "Create",
    "Disburse",
    "DisburseEffect",
    "Effect",
    "EndRole",
    "EndRoleEffect",
    "EndSupporterEffect",
    "EstablishFundEffect",
    "EstablishPartnershipEffect",
    "FundStewardsEffect",
    "GiveFloor",
    "GrantRole",
    "GrantRoleEffect",
    "ImportPublication",
    "ItemOutcome",
    "Join",
    "LengthenFundEffect",
    "LowerHand",
    "OpenRound",
    "PausePledge",
    "Pledge",
    "Propose",
    "RaiseHand",
    "RecordInvite",
    "Reject",
    "Rekey",
    "RemoveMemberEffect",
    "RenewPartnershipEffect",
    "ReorderAgenda",
    "RevokeDevice",
    "RotateSecretEffect",
    "RoundShapeEffect",
    "ScheduleMeeting",
    "SealMinutes",
    "SealSecret",
    "SetRuleEffect",
    "ShortenFundEffect",
    "ShortenPartnershipEffect",
    "SupportItem",
    "TakePosition",
    "UpdateMeeting",
    "Withdraw",
    "WordsEffect",
    "act_ref",
    "as_int",
    "describe_fields",
    "deviceless_id",
    "is_hex",
    "text_problem",
]
