"""Act types, builders for the act dicts a member document holds, and field readers.

An act is a plain dict of JSON-like values. Every act has ``id`` (lowercase hex, unique per
assembly), ``type``, ``ts`` (ms since epoch, the writer's clock) and ``device`` (hex of the
writing device's public key), plus the fields of its type listed in ``docs/process.md``.

The readers accept what the storage layer can hand back: pycrdt returns integers as floats,
so an integral float is read as an int. Anything else that does not fit raises
``IllegalMoveError(WELL_FORMED, ...)``, which the fold records as an ignored act.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import rules

CREATE: Final = "create"
INVITE: Final = "invite"
JOIN: Final = "join"
GRANT_ROLE: Final = "grant_role"
END_ROLE: Final = "end_role"
PROPOSE: Final = "propose"
AMEND: Final = "amend"
WITHDRAW: Final = "withdraw"
OPEN_ROUND: Final = "open_round"
ADVANCE_ROUND: Final = "advance_round"
POSITION: Final = "position"
CLOSE_ROUND: Final = "close_round"
REJECT: Final = "reject"
REVOKE_DEVICE: Final = "revoke_device"

ACT_TYPES: Final = frozenset(
    {
        CREATE,
        INVITE,
        JOIN,
        GRANT_ROLE,
        END_ROLE,
        PROPOSE,
        AMEND,
        WITHDRAW,
        OPEN_ROUND,
        ADVANCE_ROUND,
        POSITION,
        CLOSE_ROUND,
        REJECT,
        REVOKE_DEVICE,
    }
)

KEY_HEX_LEN: Final = 64
SIGNATURE_HEX_LEN: Final = 128
MIN_ID_LEN: Final = 8
MAX_ID_LEN: Final = 64
MAX_TEXT_LEN: Final = 200_000
_HEX_DIGITS: Final = frozenset("0123456789abcdef")

Act = dict[str, Any]


# --- readers ---------------------------------------------------------------------------------


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


def read_int(act: Mapping[str, Any], key: str, *, minimum: int | None = None) -> int:
    value = as_int(act.get(key))
    if value is None:
        raise _bad(f"field {key!r} must be an integer")
    if minimum is not None and value < minimum:
        raise _bad(f"field {key!r} must be at least {minimum}")
    return value


def read_str(act: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = act.get(key, "" if not required else None)
    if not isinstance(value, str):
        raise _bad(f"field {key!r} must be text")
    if required and not value.strip():
        raise _bad(f"field {key!r} must not be empty")
    if len(value) > MAX_TEXT_LEN:
        raise _bad(f"field {key!r} is too long")
    return value


def read_hex(act: Mapping[str, Any], key: str, length: int | None = None) -> str:
    value = act.get(key)
    if not is_hex(value, length):
        size = f"{length} " if length else ""
        raise _bad(f"field {key!r} must be {size}lowercase hex")
    assert isinstance(value, str)
    return value


def read_opt_hex(act: Mapping[str, Any], key: str, length: int | None = None) -> str | None:
    if act.get(key) is None:
        return None
    return read_hex(act, key, length)


def read_id(act: Mapping[str, Any], key: str) -> str:
    """An act id, or a reference to one: lowercase hex of 8 to 64 characters."""
    value = act.get(key)
    if not (is_hex(value) and isinstance(value, str) and MIN_ID_LEN <= len(value) <= MAX_ID_LEN):
        raise _bad(f"field {key!r} must be an act id ({MIN_ID_LEN}-{MAX_ID_LEN} hex digits)")
    return value


def read_opt_id(act: Mapping[str, Any], key: str) -> str | None:
    if act.get(key) is None:
        return None
    return read_id(act, key)


def read_choice(act: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = act.get(key)
    if not isinstance(value, str) or value not in choices:
        raise _bad(f"field {key!r} must be one of {', '.join(choices)}")
    return value


def read_rules(value: object) -> tuple[int, int, int, int]:
    """(cooling_off_ms, quorum, review_period_ms, block_threshold) from a create act's
    ``rules`` dict.

    Missing keys take the defaults; unknown keys are ignored so a newer peer may add rules.
    """
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise _bad("field 'rules' must be a mapping")
    cooling = read_int(value, "cooling_off_ms", minimum=0) if "cooling_off_ms" in value else None
    quorum = read_int(value, "quorum", minimum=0) if "quorum" in value else None
    review = read_int(value, "review_period_ms", minimum=1) if "review_period_ms" in value else None
    block = read_int(value, "block_threshold", minimum=1) if "block_threshold" in value else None
    return (
        rules.DEFAULT_COOLING_OFF_MS if cooling is None else cooling,
        rules.DEFAULT_QUORUM if quorum is None else quorum,
        rules.DEFAULT_REVIEW_PERIOD_MS if review is None else review,
        1 if block is None else block,
    )


# --- builders --------------------------------------------------------------------------------


def _act(act_type: str, act_id: str, ts: int, device: str, **fields: Any) -> Act:
    return {"id": act_id, "type": act_type, "ts": ts, "device": device, **fields}


def create(
    act_id: str,
    ts: int,
    device: str,
    *,
    name: str,
    charter: str,
    founder_name: str,
    nonce: str,
    rules_: Mapping[str, int],
    term_end: int,
) -> Act:
    """Genesis, in the founder's document; ``term_end`` ends the founder's facilitator term."""
    return _act(
        CREATE,
        act_id,
        ts,
        device,
        name=name,
        charter=charter,
        founder_name=founder_name,
        nonce=nonce,
        rules=dict(rules_),
        term_end=term_end,
    )


def invite(act_id: str, ts: int, device: str, *, invite_key: str, expires: int) -> Act:
    return _act(INVITE, act_id, ts, device, invite_key=invite_key, expires=expires)


def join(act_id: str, ts: int, device: str, *, name: str, invite: str, proof: str) -> Act:
    """``invite`` is the hex of ``Invite.encode()``; ``proof`` the hex of the invite proof."""
    return _act(JOIN, act_id, ts, device, name=name, invite=invite, proof=proof)


def grant_role(
    act_id: str,
    ts: int,
    device: str,
    *,
    member: str,
    role: str,
    term_end: int,
    decision: str | None = None,
) -> Act:
    return _act(
        GRANT_ROLE,
        act_id,
        ts,
        device,
        member=member,
        role=role,
        term_end=term_end,
        decision=decision,
    )


def end_role(
    act_id: str, ts: int, device: str, *, member: str, role: str, decision: str | None = None
) -> Act:
    return _act(END_ROLE, act_id, ts, device, member=member, role=role, decision=decision)


def propose(act_id: str, ts: int, device: str, *, title: str, body: str) -> Act:
    return _act(PROPOSE, act_id, ts, device, title=title, body=body)


def amend(act_id: str, ts: int, device: str, *, proposal: str, body: str, note: str) -> Act:
    return _act(AMEND, act_id, ts, device, proposal=proposal, body=body, note=note)


def withdraw(act_id: str, ts: int, device: str, *, proposal: str) -> Act:
    return _act(WITHDRAW, act_id, ts, device, proposal=proposal)


def open_round(act_id: str, ts: int, device: str, *, proposal: str, version: int) -> Act:
    return _act(OPEN_ROUND, act_id, ts, device, proposal=proposal, version=version)


def advance_round(act_id: str, ts: int, device: str, *, round_: str, to: str) -> Act:
    """``to`` names the target phase, so two facilitators advancing at once move it once."""
    return _act(ADVANCE_ROUND, act_id, ts, device, round=round_, to=to)


def position(
    act_id: str,
    ts: int,
    device: str,
    *,
    round_: str,
    kind: str,
    reason: str,
    for_member: str | None = None,
) -> Act:
    return _act(
        POSITION, act_id, ts, device, round=round_, kind=kind, reason=reason, **{"for": for_member}
    )


def close_round(act_id: str, ts: int, device: str, *, round_: str) -> Act:
    return _act(CLOSE_ROUND, act_id, ts, device, round=round_)


def reject(act_id: str, ts: int, device: str, *, proposal: str, reason: str) -> Act:
    return _act(REJECT, act_id, ts, device, proposal=proposal, reason=reason)


def revoke_device(act_id: str, ts: int, device: str, *, revoked: str) -> Act:
    return _act(REVOKE_DEVICE, act_id, ts, device, revoked=revoked)
