"""This node's view of the epochs of the assembly secret: which secrets it holds, which it
accepts, and which boxes it owes (``docs/process.md``, "Epochs of the assembly secret").

Pure functions of the folded state, this device's key, the secret a founder (or a node of
an older version) keeps in ``secret.key``, and the clock. ``home`` turns the answers into the
network's keyring and writes the acts they call for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from assemblymesh.crdt.identity import SigningKey
from assemblymesh.crdt.sealing import epoch_check, open_secret, seal_secret
from assemblymesh.errors import InvalidSignature
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.epochs import current_epoch, epoch_of, grace_ends
from assemblymesh.model.state import AssemblyState

__all__ = [
    "JOIN_KEY_CONTEXT",
    "MAX_ROOTS",
    "Duty",
    "Opened",
    "Recorded",
    "RootSpec",
    "View",
    "duties",
    "join_key",
    "newly_sealed",
    "view",
]

JOIN_KEY_CONTEXT = b"assemblymesh/join-key/v1\x00"
MAX_ROOTS = 64


def join_key(epoch_secret: bytes, invite_key: bytes) -> bytes:
    """The root a joiner holds instead of the assembly secret (``docs/protocol.md`` §2.2.3)."""
    data = JOIN_KEY_CONTEXT + invite_key
    return hashlib.blake2b(data, key=epoch_secret, digest_size=32).digest()


@dataclass(frozen=True)
class RootSpec:
    """A root as plain data: ``kind`` is ``epoch`` or ``join`` (then ``invite_key`` is set)."""

    kind: str
    epoch: int
    secret: bytes
    invite_key: bytes | None = None


@dataclass(frozen=True)
class Recorded:
    """An invite record as the log holds it (it may not be folded yet)."""

    key: str
    inviter: str
    epoch: int
    expires: int


@dataclass(frozen=True)
class View:
    """What this node holds: ``known`` (epoch -> secret), the epoch it works at (the newest
    it holds), and the roots it dials with, accepts and writes files and blobs with."""

    current: int  # the record's current epoch
    held: int | None  # the newest epoch whose secret this node holds
    known: Mapping[int, bytes]
    dial: RootSpec | None
    accept: tuple[RootSpec, ...]
    seal: RootSpec | None


Opened = dict[tuple[int, str, str], bytes | None]  # (epoch, check, box) -> secret, if it opened


def _known(
    state: AssemblyState, device_key: SigningKey, base: bytes | None, opened: Opened
) -> dict[int, bytes]:
    known: dict[int, bytes] = {}
    me = device_key.public.hex()
    if base is not None:
        # The secret a node was made with (a founder's; one handed over when a device was
        # paired) is the secret of the epoch whose check it matches; epoch 0's before anyone
        # sealed that epoch.
        if epoch_of(state.epochs, 0) is None:
            known[0] = base
        for epoch in state.epochs:
            if epoch_check(base, state.assembly_id, epoch.number).hex() == epoch.check:
                known[epoch.number] = base
    for epoch in state.epochs:
        box = epoch.seals.get(me)
        if box is None or epoch.number in known:
            continue
        memo = (epoch.number, epoch.check, box)
        if memo not in opened:
            try:
                opened[memo] = open_secret(
                    device_key,
                    bytes.fromhex(box),
                    bytes.fromhex(epoch.check),
                    state.assembly_id,
                    epoch.number,
                )
            except InvalidSignature:
                opened[memo] = None  # a box that does not open, or holds another secret
        secret = opened[memo]
        if secret is not None:
            known[epoch.number] = secret
    return known


def _outstanding(state: AssemblyState, epoch: int, recorded: tuple[Recorded, ...]) -> list[str]:
    """Invite keys of ``epoch`` not expired. A used one stays until it expires, so that its
    joiner can come back for the secret sealed to it; the handshake then admits that joiner
    only (its proof must show that invite, and governance refuses any other member key).
    Records the fold has not placed yet count when a member who counts wrote them."""
    keys = [
        key
        for key, invite in state.invites.items()
        if invite.epoch == epoch and invite.expires > state.now_ms
    ]
    for r in recorded:
        inviter = state.members.get(r.inviter)
        if r.key in state.invites or inviter is None or not inviter.counts(state.now_ms):
            continue
        if r.epoch == epoch and r.expires > state.now_ms:
            keys.append(r.key)
    return list(dict.fromkeys(keys))


def view(
    state: AssemblyState,
    device_key: SigningKey,
    base: bytes | None,
    join_root: RootSpec | None,
    recorded: tuple[Recorded, ...] = (),
    opened: Opened | None = None,
) -> View:
    """This node's roots now: it dials with and writes under the newest secret it holds;
    it accepts that one, earlier ones within their grace period, and the join keys of the
    current epoch's outstanding invites. A joiner that holds no secret yet uses its join key."""
    known = _known(state, device_key, base, {} if opened is None else opened)
    current = current_epoch(state.epochs)
    if not known:
        roots = (join_root,) if join_root is not None else ()
        return View(current, None, known, join_root, roots, None)
    held = max(known)
    newest = RootSpec("epoch", held, known[held])
    accept = [newest]
    for epoch in sorted(known, reverse=True):
        ends = grace_ends(state.epochs, epoch)
        if epoch != held and ends is not None and state.now_ms < ends:
            accept.append(RootSpec("epoch", epoch, known[epoch]))
    if held == current:
        for key in _outstanding(state, current, recorded):
            invite_key = bytes.fromhex(key)
            secret = join_key(known[current], invite_key)
            accept.append(RootSpec("join", current, secret, invite_key))
    return View(current, held, known, newest, tuple(accept[:MAX_ROOTS]), newest)


@dataclass(frozen=True)
class Duty:
    """An act this device should write now: a ``rekey`` (``epoch`` = current + 1, a fresh
    secret) or a ``seal`` of the current epoch, with the boxes, and the new secret's check."""

    kind: str
    epoch: int
    check: bytes
    seals: tuple[tuple[bytes, bytes], ...]


def _remaining_devices(
    state: AssemblyState, certified: Mapping[str, frozenset[str]]
) -> dict[str, list[str]]:
    """member -> devices a new secret is sealed to: every device of a participant with
    standing that is not revoked (those that wrote acts, and those the store certified)."""
    out: dict[str, list[str]] = {}
    for m in state.members.values():
        if not m.has_standing(state.now_ms):
            continue
        devices = dict.fromkeys((*m.devices, *sorted(certified.get(m.id, ()))))
        out[m.id] = [d for d in devices if d not in m.revoked_devices]
    return out


def duties(
    state: AssemblyState,
    member: str,
    device_key: SigningKey,
    held: View,
    certified: Mapping[str, frozenset[str]],
    entropy: Callable[[int], bytes],
) -> Duty | None:
    """The rekey or seal this device owes now, if any (one at a time)."""
    me = state.members.get(member)
    if me is None or not me.counts(state.now_ms) or held.held != held.current:
        return None
    devices = _remaining_devices(state, certified)
    rotation = state.rotation
    if rotation is not None and (
        rotation.by == member or state.now_ms >= rotation.due_ts + R.REKEY_FALLBACK_MS
    ):
        return _rekey_duty(state, held.current + 1, devices, entropy(32))
    return _seal_duty(state, member, held, devices)


def _rekey_duty(
    state: AssemblyState, epoch: int, devices: Mapping[str, list[str]], secret: bytes
) -> Duty:
    boxes = [d for ds in devices.values() for d in ds][: A.MAX_SEALS]
    check = epoch_check(secret, state.assembly_id, epoch)
    return Duty("rekey", epoch, check, _sealed(boxes, secret))


def _seal_duty(
    state: AssemblyState, member: str, held: View, devices: Mapping[str, list[str]]
) -> Duty | None:
    """Boxes for this member's devices and those of the members it invited, where missing."""
    record = epoch_of(state.epochs, held.current)
    boxed = set(record.seals) if record is not None else set()
    mine = [
        d
        for owner, ds in devices.items()
        if owner == member or state.members[owner].invited_by == member
        for d in ds
        if d not in boxed
    ][: A.MAX_SEALS]
    if not mine:
        return None
    secret = held.known[held.current]
    check = epoch_check(secret, state.assembly_id, held.current)
    return Duty("seal", held.current, check, _sealed(mine, secret))


def newly_sealed(state: AssemblyState, me: str) -> tuple[bytes, ...]:
    """Devices a bundle's file key is sealed to, besides the current epoch's root: those
    that may not hold that root yet. Within the grace period after an epoch began, every
    device it was sealed to (a node that missed the rotation reads the bundle, and finds
    its box inside); later, the devices of members who joined within that period."""
    record = epoch_of(state.epochs, current_epoch(state.epochs))
    if record is None:
        return ()
    recent = state.now_ms < record.started_ts + R.EPOCH_GRACE_MS and record.number > 0
    owners = {d: m for m in state.members.values() for d in m.devices}
    out = []
    for device in record.seals:
        owner = owners.get(device)
        joined = owner is not None and state.now_ms < owner.joined_ts + R.EPOCH_GRACE_MS
        if device != me and (recent or joined):
            out.append(bytes.fromhex(device))
    return tuple(out)


def _sealed(devices: list[str], secret: bytes) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((bytes.fromhex(d), seal_secret(bytes.fromhex(d), secret)) for d in devices)
