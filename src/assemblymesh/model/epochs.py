"""Epochs of the assembly secret, as the record holds them.

The assembly secret has epochs 0, 1, 2, ... A removal, a device revocation or a decision to
rotate makes a rotation *due*; a ``rekey`` act then starts the next epoch, with the new
secret sealed to each remaining device; ``seal`` acts add boxes for devices that lack one
(a joiner once its join is in, a device added later). The record holds only public data:
each epoch's check and sealed boxes. Opening a box is the node's business (``home``).

Rules (``docs/process.md`` lists them with the acts):

- a ``rekey`` is accepted only while a rotation is due and only for the epoch after the
  current one; of two written concurrently, the first in the global order starts the
  epoch and the other is ignored (``one-rekey-per-epoch``);
- a ``seal`` is accepted only for the current epoch, with its check; a box already held for
  a device is kept (the first one wins);
- both are written by members who count (not supporters, not removed members).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import rules as R

__all__ = [
    "Epoch",
    "Rotation",
    "apply_rekey",
    "apply_seal",
    "current_epoch",
    "due_after",
    "epoch_of",
    "grace_ends",
]


@dataclass(frozen=True)
class Epoch:
    """One epoch of the assembly secret: its public check and the boxes sealed to devices
    (device key hex -> box hex). ``started_ts`` is the causal time of the act that began it."""

    number: int
    check: str
    started_ts: int
    started_by: str
    seals: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rotation:
    """A rotation is due since ``due_ts``, because of ``cause``; ``by`` is the member whose
    act made it due (its devices are the first to write the rekey)."""

    due_ts: int
    cause: str
    by: str


def current_epoch(epochs: tuple[Epoch, ...]) -> int:
    return epochs[-1].number if epochs else 0


def epoch_of(epochs: tuple[Epoch, ...], number: int) -> Epoch | None:
    return next((e for e in epochs if e.number == number), None)


def grace_ends(epochs: tuple[Epoch, ...], number: int) -> int | None:
    """When epoch ``number`` stops being accepted: the grace period after the next epoch
    began (None while it is the current epoch)."""
    after = epoch_of(epochs, number + 1)
    return None if after is None else after.started_ts + R.EPOCH_GRACE_MS


def due_after(rotation: Rotation | None, ts: int, cause: str, by: str) -> Rotation:
    """A rotation due from ``ts`` unless one was already due earlier (the first cause stays)."""
    return rotation if rotation is not None else Rotation(ts, cause, by)


def apply_rekey(
    epochs: tuple[Epoch, ...],
    rotation: Rotation | None,
    *,
    number: int,
    check: str,
    seals: tuple[tuple[str, str], ...],
    ts: int,
    member: str,
) -> tuple[Epoch, ...]:
    """``epochs`` with epoch ``number`` begun; ``IllegalMoveError`` if it may not begin."""
    current = current_epoch(epochs)
    if number != current + 1:
        raise IllegalMoveError(
            R.ONE_REKEY_PER_EPOCH, f"epoch {number} does not follow the current epoch {current}"
        )
    if rotation is None or rotation.due_ts > ts:
        raise IllegalMoveError(R.REKEY_WHEN_DUE, "no rotation of the secret is due")
    return (*epochs, Epoch(number, check, ts, member, dict(seals)))


def apply_seal(
    epochs: tuple[Epoch, ...],
    *,
    number: int,
    check: str,
    seals: tuple[tuple[str, str], ...],
    ts: int,
    member: str,
) -> tuple[tuple[Epoch, ...], int]:
    """``epochs`` with boxes added to the current epoch, and how many were new."""
    current = current_epoch(epochs)
    if number != current:
        raise IllegalMoveError(
            R.SEAL_CURRENT_EPOCH, f"epoch {number} is not the current epoch {current}"
        )
    record = epoch_of(epochs, number)
    if record is None:  # epoch 0, before anyone sealed it: this seal fixes its check
        return (*epochs, Epoch(number, check, ts, member, dict(seals))), len(seals)
    if record.check != check:
        raise IllegalMoveError(R.SEAL_CURRENT_EPOCH, f"the check is not epoch {number}'s")
    boxes = dict(record.seals)
    added = 0
    for device, box in seals:
        if device not in boxes:
            boxes[device] = box
            added += 1
    return (*epochs[:-1], replace(record, seals=boxes)), added
