"""The composition root: where keys, store, model and network meet on this node.

A *home* (``$ASSEMBLYMESH_HOME``, default: the platform's user data directory) holds one
directory per assembly this node belongs to:

```
<home>/default                       hex id of the assembly commands use by default
<home>/assemblies/<assembly id hex>/
    member.key  device.key                key seeds, mode 0600 (refused if readable by others)
    secret.key                            the founder's epoch-0 assembly secret (older nodes too;
                                          others hold every epoch's secret sealed in the record)
    join.key                              a joiner's join key, until its secret is sealed to it
    device.cert                           this device's certificate (member key signs device key)
    join.invite                           while admission is pending: the invite and its proof
    store.sqlite                          change log, checkpoints, pending changes
    peers.json                            address book (net/)
```

``LocalAssembly`` is what the CLI, the TUI and the node use: it opens the replica, folds the
governance state, writes acts through ``model.commands``, issues invites, and answers the
network's one governance question (``authorize``).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import difflib
import hashlib
import io
import ipaddress
import logging
import os
import secrets
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar, Concatenate, Generic, Literal, ParamSpec, TypeVar

import msgpack
import platformdirs

from assemblymesh import epochkeys
from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    KEY_SIZE,
    SIGNATURE_SIZE,
    DeviceCertificate,
    InvalidSignature,
    Invite,
    SigningKey,
    assembly_id_for,
    read_key_file,
    sign_invite_proof,
    sign_revocation,
    verify_invite_proof,
    write_key_file,
    write_private_text,
)
from assemblymesh.crdt.keyfiles import (
    BACKUP_COST,
    FILE_COST,
    Backup,
    KdfCost,
    MemberKey,
    is_sealed_file,
    read_seed,
    seal,
)
from assemblymesh.crdt.replica import (
    Clock,
    Replica,
    ReplicaEvent,
    Verdict,
    doc_name,
    wall_clock_ms,
)
from assemblymesh.errors import (
    AssemblyMeshError,
    IllegalMoveError,
    InviteError,
    KeyFileError,
    NotFoundError,
    PublicationError,
    RemoteError,
    UsageError,
)
from assemblymesh.i18n import _
from assemblymesh.model import (
    AssemblySnapshot,
    AssemblyState,
    LoggedAct,
    Rules,
    Stamp,
    at_time,
    commands,
    fold,
    needs_refold,
    publish,
    queries,
)
from assemblymesh.model import acts as model_acts
from assemblymesh.model import metrics as model_metrics
from assemblymesh.model.publication import Publication, read_publication
from assemblymesh.model.rules import MEMBER_INVITE
from assemblymesh.net import bundle as bundles
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.bundle import Identity as BundleIdentity
from assemblymesh.net.bundle import Signer as BundleSigner
from assemblymesh.net.credentials import (
    REFUSAL_TEXT,
    Admitted,
    Authorization,
    Credentials,
    Keyring,
    PeerIdentity,
    Refused,
    Root,
)
from assemblymesh.net.discovery import local_addresses
from assemblymesh.net.node import ALL_ADDRESSES, DEFAULT_PORT, NodeConfig, SyncSummary, sync_once
from assemblymesh.net.pairing import Grant, PairCode, offer_pairing
from assemblymesh.net.service import NodeService

ENV_HOME = "ASSEMBLYMESH_HOME"
KEEP_KEYS_EVERY_S = 60.0  # how often a running node looks for rekeys and seals it owes
log = logging.getLogger("assemblymesh.home")
ACTS = "acts"  # the root array of acts in every member document


class DocumentAdmission:
    """The store's question, answered by the model: may it keep (and pass on) the document
    of a member it has no accepted device of yet? (``model.queries.document_admission``)"""

    VERDICTS: ClassVar[dict[queries.Admission, Verdict]] = {
        queries.Admission.ADMIT: Verdict.ADMIT,
        queries.Admission.WAIT: Verdict.WAIT,
        queries.Admission.REFUSE: Verdict.REFUSE,
    }

    def __init__(self, assembly_id: bytes) -> None:
        self.assembly_id = assembly_id
        # The last folded state, once the assembly is open (``LocalAssembly.last_fold``):
        # it bounds revoked devices' chains and refuses a removed member's new devices.
        self.governance: Callable[[], AssemblyState | None] = lambda: None

    def device_limit(self, member: bytes, device: bytes, issued_ms: int) -> tuple[int | None, str]:
        state = self.governance()
        if state is None:
            return None, ""
        limit = queries.device_limit(state, member, device, issued_ms)
        return limit.last, limit.reason

    def admit(
        self, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
    ) -> tuple[Verdict, str]:
        verdict = queries.document_admission(self.assembly_id, member, values, known)
        return self.VERDICTS[verdict.admission], verdict.reason


INVITE_PREFIX = "am1:"
INVITE_VERSION = 3
DEFAULT_INVITE_VALID_MS = 7 * 24 * 3600 * 1000
SECRET_SIZE = 32

P = ParamSpec("P")
Progress = Callable[[int], None]  # told how many more units of work are done
Entropy = Callable[[int], bytes]  # n -> n random bytes (injected: tests and the demo fix it)
_Act = TypeVar("_Act", bound=model_acts.Act)


@dataclass(frozen=True)
class Recorded(Generic[_Act]):
    """An act this node wrote, and the ref by which the record names it."""

    act: _Act
    ref: str


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("assemblymesh", appauthor=False)


def parse_address(text: str, default_port: int, any_port: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST`` or ``[V6]:PORT`` -> (host, port). With ``any_port`` (an
    address to listen on whose port the listener announces), port 0 means any free one."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        host, _bracket, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text, any_port)
    elif text.count(":") == 1:
        host, _colon, number = text.partition(":")
        port = _port(number, text, any_port)
    if not host:
        raise UsageError(_("{text!r} is not an address (HOST:PORT)").format(text=text))
    return host, port


def _port(number: str, text: str, any_port: bool) -> int:
    lowest = 0 if any_port else 1
    if not number.isdigit() or not lowest <= int(number) < 65536:
        raise UsageError(
            _("{text!r} has no valid port ({lowest}-65535)").format(text=text, lowest=lowest)
        )
    return int(number)


def random_act_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class InviteCode:
    """Everything a joiner needs, as one copyable string (and a QR code of it).

    ```
    code     = "am1:" base32(payload || check)      lowercase, no padding; case and
                                                   whitespace are ignored when read
    payload  = version=3 (1) | assembly (16) | epoch (4) | join key (32) | inviter (32)
               | expires_ms (6) | signature (64) | invite seed (32) | msgpack [hints, name]
    hint     = bin6 (IPv4 + port) | bin18 (IPv6 + port) | str ("host:port")
    check    = BLAKE2b-40("am1:" || payload, person "am-invite-code")
    ```

    The invite's assembly and key are not repeated: the key is the seed's public key. The
    join key opens the handshake of this one join (``epochkeys.join_key``); the assembly
    secret is not in the code: it is sealed to the joiner's device once the join is in. The
    check covers every field, so a code damaged in copying is refused when it is read.
    Base32 keeps the QR code small (uppercase is the QR's compact alphanumeric mode).
    """

    assembly: bytes
    epoch: int
    join_key: bytes
    invite: Invite
    invite_seed: bytes
    hints: tuple[str, ...]
    name: str

    def encode(self) -> str:
        inv = self.invite
        payload = b"".join(
            (
                bytes([INVITE_VERSION]),
                self.assembly,
                self.epoch.to_bytes(_EPOCH_SIZE, "big"),
                self.join_key,
                inv.inviter,
                inv.expires_ms.to_bytes(_EXPIRES_SIZE, "big"),
                inv.signature,
                self.invite_seed,
                msgpack.packb([[_pack_hint(h) for h in self.hints], self.name]),
            )
        )
        text = base64.b32encode(payload + _invite_check(payload)).decode().rstrip("=")
        return INVITE_PREFIX + text.lower()

    @classmethod
    def decode(cls, code: str) -> InviteCode:
        text = "".join(code.split()).lower()
        if not text.startswith(INVITE_PREFIX):
            raise InviteError(
                _("not an AssemblyMesh invite code (it should start {prefix})").format(
                    prefix=INVITE_PREFIX
                )
            )
        body = text[len(INVITE_PREFIX) :].upper()
        damaged = _("the invite code is damaged (was it copied completely and exactly?)")
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except ValueError as exc:
            raise InviteError(damaged) from exc
        payload, check = raw[:-_CHECK_SIZE], raw[-_CHECK_SIZE:]
        # Re-encoding must give the same text: the last character's spare bits count too.
        if (
            len(payload) <= _FIXED_SIZE
            or _invite_check(payload) != check
            or base64.b32encode(raw).decode().rstrip("=") != body
        ):
            raise InviteError(damaged)
        if payload[0] != INVITE_VERSION:
            raise InviteError(
                _("invite code version {version} is not supported: ask for a new code").format(
                    version=payload[0]
                )
            )
        fields, at = [], 1
        for size in _FIELD_SIZES:
            fields.append(payload[at : at + size])
            at += size
        assembly, epoch, key, inviter, expires, signature, seed = fields
        try:
            packed_hints, name = msgpack.unpackb(payload[at:], raw=False)
            hints = tuple(_unpack_hint(h) for h in packed_hints)
            if not isinstance(name, str):
                raise TypeError("name")
        except Exception as exc:
            raise InviteError(_("the invite code is damaged (fields have the wrong form)")) from exc
        invite_key = SigningKey(seed)
        invite = Invite(
            assembly, inviter, invite_key.public, int.from_bytes(expires, "big"), signature
        )
        try:
            invite.verify()
        except InvalidSignature as exc:
            raise InviteError(_("the invite in this code is forged or damaged")) from exc
        return cls(assembly, int.from_bytes(epoch, "big"), key, invite, seed, hints, name)

    def join_root(self) -> epochkeys.RootSpec:
        return epochkeys.RootSpec("join", self.epoch, self.join_key, self.invite.invite_key)


_CHECK_SIZE = 5  # 40 bits: a damaged code passes by chance once in a trillion
_EXPIRES_SIZE = 6  # milliseconds since 1970 fit 48 bits until the year 10889
_EPOCH_SIZE = 4
# assembly, epoch, join key, inviter, expires, signature, invite seed
_FIELD_SIZES = (
    ASSEMBLY_ID_SIZE,
    _EPOCH_SIZE,
    SECRET_SIZE,
    KEY_SIZE,
    _EXPIRES_SIZE,
    SIGNATURE_SIZE,
    KEY_SIZE,
)
_FIXED_SIZE = 1 + sum(_FIELD_SIZES)


def _invite_check(payload: bytes) -> bytes:
    h = hashlib.blake2b(
        INVITE_PREFIX.encode() + payload, digest_size=_CHECK_SIZE, person=b"am-invite-code"
    )
    return h.digest()


def _pack_hint(hint: str) -> bytes | str:
    """An address hint in as few bytes as it takes: a packed IP and port, else the text."""
    try:
        host, port = parse_address(hint, DEFAULT_PORT)
        ip = ipaddress.ip_address(host)
    except (UsageError, ValueError):
        return hint
    return ip.packed + port.to_bytes(2, "big")


def _unpack_hint(hint: object) -> str:
    if isinstance(hint, str):
        return hint
    if isinstance(hint, bytes) and len(hint) in (6, 18):
        ip = ipaddress.ip_address(hint[:-2])
        port = int.from_bytes(hint[-2:], "big")
        return f"{ip}:{port}" if ip.version == 4 else f"[{ip}]:{port}"
    raise TypeError("hint")


@dataclass(frozen=True)
class DeviceInfo:
    """One of this member's devices: its key, whether it is this one, how many of its
    changes this node holds, the last that counts if it was revoked, and when the member
    key certified it (if this node holds its certificate)."""

    id: str
    this: bool
    changes: int
    revoked_after: int | None
    certified_ms: int | None = None


@dataclass(frozen=True)
class RecordChanged:
    """What changed in the record, for the screens: how many changes, by which members, and
    whether governance (member documents) or the shared drafts changed."""

    local: bool
    count: int
    authors: tuple[str, ...]
    governance: bool
    shared: bool


@dataclass(frozen=True)
class PendingFold:
    """A snapshot of the record to fold in another thread, and the digest it came from."""

    digest: bytes
    snapshot: AssemblySnapshot
    now: int


@dataclass(frozen=True)
class RecordSummary:
    """How much of the record this node holds, and its digest (equal on nodes in sync)."""

    changes: int
    pending: int
    digest: str


def rebased_index(old: str, new: str, index: int) -> int:
    """Where position ``index`` of ``old`` lands in ``new`` (edits before it shift it)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if index < i2 or (index == i2 and tag != "equal" and i1 == i2):
            if tag == "equal":
                return j1 + (index - i1)
            return j1 if index == i1 else j2
    return len(new)


class LocalAssembly:
    """One assembly as this node holds it: keys, replica, folded state, act writing."""

    def __init__(
        self,
        directory: Path,
        replica: Replica,
        secret: bytes | None,
        member_key: MemberKey,
        clock: Clock = wall_clock_ms,
        new_id: Callable[[], str] = random_act_id,
        entropy: Entropy = os.urandom,
    ) -> None:
        self.directory = directory
        self.entropy = entropy
        self.replica = replica
        self.assembly_id = replica.assembly
        # The epoch-0 secret this node was made with (a founder), or the one handed over
        # when this device was paired or restored, if any: every other secret it holds is
        # sealed to its device in the record.
        self.base_secret = secret
        self.member_keys = member_key
        self.device_key = replica.device_key
        self.certificate = replica.certificate
        self.member_id = member_key.public.hex()
        self.device_id = self.device_key.public.hex()
        self.clock = clock
        self.new_id = new_id
        self._fold_cache: tuple[bytes, AssemblyState] | None = None
        # True while someone folds off the caller's thread after each change (keep_state_fresh,
        # or the UI): known_state then answers from the last fold.
        self.refolded_elsewhere = False
        self._acts_cache: tuple[int, dict[str, list[LoggedAct]]] | None = None
        self._invites_cache: tuple[int, tuple[epochkeys.Recorded, ...]] | None = None
        self._opened: epochkeys.Opened = {}  # boxes this device opened, by epoch, check, box

    @property
    def member_key(self) -> SigningKey:
        """The member key, if this device holds it unsealed or it was unlocked (``unlock``);
        ``KeyLocked`` otherwise. Only pairing, revoking and inviting need it."""
        return self.member_keys.unlock(None)

    def unlock(self, passphrase: str | None) -> SigningKey:
        """Open the member key (with ``passphrase`` if it is sealed) for this session."""
        return self.member_keys.unlock(passphrase)

    def last_fold(self) -> AssemblyState | None:
        """The governance state the store's question about devices is answered from: the
        last fold while someone keeps it current (a running node: never a fold inside each
        ingest), else the state now."""
        if self._fold_cache is None or not self.refolded_elsewhere:
            return self.state()
        return self._fold_cache[1]

    # --- reading ------------------------------------------------------------------------

    def snapshot(self) -> AssemblySnapshot:
        """Every member document's logged acts, each with the device whose signature covers
        it. The log is re-read only when something changed since the last read."""
        revision = self.replica.log_revision()
        if self._acts_cache is None or self._acts_cache[0] != revision:
            acts = {
                member: [LoggedAct(e.value, e.device.hex(), e.seq, e.pos) for e in entries]
                for member, entries in self.replica.member_logs().items()
            }
            self._acts_cache = (revision, acts)
        return AssemblySnapshot(self.assembly_id, self._acts_cache[1])

    def state(self, now_ms: int | None = None) -> AssemblyState:
        """The governance state as of ``now_ms`` (default: now).

        Folding a large assembly takes a while, so the last fold is kept with the digest of
        the changes it came from: while no change arrives, a new ``now`` only redoes the
        time-dependent statuses (``model.at_time``).
        """
        now = self.clock() if now_ms is None else now_ms
        digest = self.replica.digest()
        cached = self._fold_cache
        if cached is not None and cached[0] == digest and not needs_refold(cached[1], now):
            return at_time(cached[1], now)
        state = fold(self.snapshot(), now)
        self._fold_cache = (digest, state)
        return state

    def metrics(
        self, state: AssemblyState | None = None, per_meetings: int | None = None
    ) -> model_metrics.Metrics:
        """The metabolism metrics of ``state`` (default: the state now), per calendar month
        or per ``per_meetings`` meetings: the one computation the command line, the report
        and the Metrics screen all show."""
        return model_metrics.compute(self.state() if state is None else state, per_meetings)

    def report_html(
        self,
        state: AssemblyState,
        metrics: model_metrics.Metrics,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> str:
        """The self-contained HTML report of [since_ms, until_ms): ``metrics`` as charts,
        the decisions made and the minutes of the meetings held then."""
        from assemblymesh.model.meetings import minutes_key
        from assemblymesh.report import minutes_of, render_html

        minutes = minutes_of(state, lambda m: self.draft(minutes_key(m)), since_ms, until_ms)
        return render_html(state, metrics, minutes, since_ms, until_ms)

    def last_heard(self) -> dict[str, int]:
        """member id -> time of the newest change this node holds from any of their devices
        (their devices' clocks): how fresh what we know of each member is."""
        heard: dict[str, int] = {}
        for device, (seq, _digest) in self.replica.vector().items():
            member = self.replica.device_member(device)
            newest = next(self.replica.changes_of(device, seq - 1), None)
            if member is None or newest is None:
                continue
            key = member.hex()
            heard[key] = max(heard.get(key, 0), newest.ts)
        return heard

    @property
    def address_book_path(self) -> Path:
        return self.directory / "peers.json"

    def node_config(
        self,
        listen: tuple[str, int] | None = None,
        peers: Sequence[tuple[str, int]] = (),
    ) -> NodeConfig:
        """How the network node runs for this assembly (``serve`` and ``sync``)."""
        return NodeConfig(
            replica=self.replica,
            credentials=self.credentials(),
            authorize=self.authorize,
            listen=listen,
            peers=list(peers),
            clock=self.clock,
            address_book=self.address_book_path,
            on_invite_refused=self.record_invite_refusal,
        )

    def record_invite_refusal(self, code: str) -> None:
        """Keep why a peer refused this joiner's invite (``docs/protocol.md`` §3.6), so
        ``status`` and the UI say it until the joiner asks for a new code or leaves."""
        if (self.directory / "join.invite").exists() and code in REFUSAL_TEXT:
            (self.directory / "join.refused").write_text(code + "\n")

    def invite_refusal(self) -> str | None:
        """The line saying why this joiner's invite was refused, if a peer said so."""
        path = self.directory / "join.refused"
        if not path.exists() or not (self.directory / "join.invite").exists():
            return None
        # In English, the source language: ``status --json`` shows it, and JSON never changes
        # with the language; the screens translate it where they show it (``_(line)``).
        return REFUSAL_TEXT.get(path.read_text().strip(), REFUSAL_TEXT["refused"])

    def half_joined(self) -> bool:
        """True while this node holds a join the assembly has not admitted."""
        state = self.known_state()
        return (self.directory / "join.invite").exists() and not state.is_member(self.member_id)

    def credentials(self) -> Credentials:
        """This device's network credentials (with the pending invite, if any); the keyring
        is asked afresh for every handshake, blob and bundle."""
        keyring = self.keyring()
        return Credentials(
            self.assembly_id,
            keyring.dial.secret,
            self.device_key,
            self.certificate,
            self.pending_invite(),
            keyring=self.keyring,
        )

    # --- epochs of the assembly secret ------------------------------------------------------

    @property
    def secret(self) -> bytes:
        """The root this node writes bundles and blobs under now: the newest epoch secret it
        holds (a joiner: its join key)."""
        return self.keyring().writer.secret

    def join_root(self) -> epochkeys.RootSpec | None:
        """The join key this node holds while it awaits its sealed secret."""
        path = self.directory / "join.key"
        if not path.exists():
            return None
        invite = self._read_join_invite()
        if invite is None:
            return None
        return epochkeys.RootSpec("join", invite[2], read_key_file(path).seed, invite[0].invite_key)

    def epoch_view(self, state: AssemblyState | None = None) -> epochkeys.View:
        """Which secrets this node holds and which roots it uses (``epochkeys.view``)."""
        state = self.known_state() if state is None else state
        return epochkeys.view(
            state,
            self.device_key,
            self.base_secret,
            self.join_root(),
            self._recorded_invites(),
            self._opened,
        )

    def _recorded_invites(self) -> tuple[epochkeys.Recorded, ...]:
        """Every invite record in the log, read from the acts (not the fold, which may lag
        behind an invite another process of this node has just written); once per change
        of the log."""
        revision = self.replica.log_revision()
        cached = self._invites_cache
        if cached is not None and cached[0] == revision:
            return cached[1]
        found = []
        for member, entries in self.snapshot().acts.items():
            for entry in entries:
                value = entry.value
                if not (isinstance(value, Mapping) and value.get("type") == "invite"):
                    continue
                try:
                    act = model_acts.Act.from_doc(value)
                except IllegalMoveError:
                    continue
                if isinstance(act, model_acts.RecordInvite):
                    found.append(
                        epochkeys.Recorded(act.invite_key, member, act.epoch or 0, act.expires)
                    )
        self._invites_cache = (revision, tuple(found))
        return self._invites_cache[1]

    def keyring(self) -> Keyring:
        """The network's keyring now, from the record (``epoch_view``), with what other
        processes of this node wrote (an invite just issued) picked up first."""
        self.replica.refresh()
        held = self.epoch_view()
        if held.dial is None:
            raise KeyFileError(
                _("{directory} holds neither an assembly secret nor a join key").format(
                    directory=self.directory
                )
            )

        def root(spec: epochkeys.RootSpec) -> Root:
            kind: Literal["epoch", "join"] = "join" if spec.kind == "join" else "epoch"
            return Root(kind, spec.epoch, spec.secret, spec.invite_key)

        epoch = held.held if held.held is not None else held.current
        seal = root(held.seal) if held.seal is not None else None
        return Keyring(epoch, root(held.dial), tuple(root(r) for r in held.accept), seal)

    def certified_devices(self) -> dict[str, frozenset[str]]:
        """member id -> devices the store holds a certificate of (they may not have acted)."""
        out: dict[str, set[str]] = {}
        for device in self.replica.vector():
            member = self.replica.device_member(device)
            if member is not None:
                out.setdefault(member.hex(), set()).add(device.hex())
        return {m: frozenset(ds) for m, ds in out.items()}

    def keep_keys(self) -> int:
        """Write the rekey or seals this device owes now (``epochkeys.duties``): a new epoch
        when a rotation is due and this device is the one to write it, boxes for devices of
        this member and of the members it invited. Returns how many acts were written."""
        written = 0
        for _attempt in range(4):  # a rekey, then the seals it leaves to write, at most
            state = self.state()
            duty = epochkeys.duties(
                state,
                self.member_id,
                self.device_key,
                self.epoch_view(state),
                self.certified_devices(),
                self.entropy,
            )
            if duty is None:
                break
            command = commands.rekey if duty.kind == "rekey" else commands.seal_secret
            self.act(command, duty.epoch, duty.check, duty.seals)
            written += 1
        self.pending_invite()  # a joiner whose secret has come drops its spent join key
        return written

    def known_addresses(self) -> list[tuple[str, int]]:
        """Addresses to try: invite hints, peers met before, most recent first (gossip capped
        and aged out)."""
        return AddressBook(self.address_book_path).dial_candidates(self.clock())

    # --- writing ------------------------------------------------------------------------

    def stamp(self, state: AssemblyState, now_ms: int) -> Stamp:
        """Who, when, which id and what was seen, for an act this device writes now."""
        return Stamp(
            self.member_id, self.device_id, now_ms, self.new_id(), commands.context_of(state)
        )

    def act(
        self,
        command: Callable[Concatenate[AssemblyState, Stamp, P], _Act],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Recorded[_Act]:
        """Check and write one act with ``command`` (a ``model.commands`` function).

        The state is folded inside the write transaction, after changes other processes
        wrote were picked up, so the check sees what every later reader will see first.
        """
        with self.replica.transact() as doc:
            now = self.clock()
            state = self.state(now)
            act = command(state, self.stamp(state, now), *args, **kwargs)
            doc.array(ACTS).append(act.to_doc())
        if isinstance(act, model_acts.RevokeDevice):
            self.keep_keys()  # the revoking device writes the new epoch at once
        return Recorded(act, act.ref(self.member_id))

    def admit_joins(self) -> int:
        """Admit, as their inviter, the joins of invites this member issued (see
        ``model.queries.joins_to_admit``); returns how many admits were written."""
        state = self.state()
        written = 0
        for ref in queries.joins_to_admit(state, self.member_id):
            self.act(commands.admit, ref)
            written += 1
        return written

    def issue_invite(
        self,
        hints: tuple[str, ...] = (),
        valid_ms: int = DEFAULT_INVITE_VALID_MS,
        kind: str = MEMBER_INVITE,
        claim: str | None = None,
    ) -> InviteCode:
        """A one-time invite code; its holder joins as a member, or as a supporter when
        ``kind`` is ``rules.SUPPORTER_INVITE``. Only a member may invite, either kind. With
        ``claim`` (a facilitator's, naming a member without a device) its holder becomes
        that member, keeping what was recorded for them."""
        state = self.state()
        me = state.members.get(self.member_id)
        if me is None:
            raise UsageError(_("only a member of the assembly can invite"))
        if not me.counts(state.now_ms):
            raise UsageError(
                _("you are a supporter: only members of the assembly can invite")
                if me.supporter
                else _("you are a removed member: only members of the assembly can invite")
            )
        held = self.epoch_view(state)
        if held.held != held.current:
            raise UsageError(
                _("this node lacks the secret of epoch {epoch}: sync with a member first").format(
                    epoch=held.current
                )
            )
        invite_key = SigningKey(self.entropy(KEY_SIZE))
        invite = Invite.issue(
            self.member_key, self.assembly_id, invite_key.public, self.clock() + valid_ms
        )
        self.act(commands.record_invite, invite, kind, claim, held.current)
        name = state.assembly.name if state.assembly is not None else ""
        key = epochkeys.join_key(held.known[held.current], invite_key.public)
        return InviteCode(self.assembly_id, held.current, key, invite, invite_key.seed, hints, name)

    # --- this member's devices ------------------------------------------------------------

    def devices(self, state: AssemblyState | None = None) -> list[DeviceInfo]:
        """This member's devices this node knows of (from their changes, the record's
        revocations and this device itself), this device first."""
        state = self.state() if state is None else state
        me = state.members.get(self.member_id)
        vector = self.replica.vector()
        known = {
            d.hex() for d in vector if self.replica.device_member(d) == self.member_keys.public
        }
        known.update(me.devices if me is not None else ())
        known.update(d for (m, d) in state.revocations if m == self.member_id)
        known.discard(self.device_id)
        issued = self._certified_times()
        rows = []
        for device in [self.device_id, *sorted(known)]:
            seq = vector.get(bytes.fromhex(device), (0, b""))[0]
            keep = state.revocations.get((self.member_id, device))
            this = device == self.device_id
            rows.append(DeviceInfo(device, this, seq, keep, issued.get(device)))
        return rows

    def _certified_times(self) -> dict[str, int]:
        """device id -> when the member key certified it, from the certificates this node
        holds: this device's, those the store keeps, and those in ``add_device`` acts."""
        out = {self.device_id: self.certificate.issued_ms}
        for device in self.replica.vector():
            stored = self.replica.device_certificate(device)
            if stored is not None and self.replica.device_member(device) == self.member_keys.public:
                try:
                    out.setdefault(device.hex(), DeviceCertificate.decode(stored).issued_ms)
                except InvalidSignature:
                    continue
        for entry in self.snapshot().acts.get(self.member_id, ()):
            value = entry.value
            if not (isinstance(value, Mapping) and value.get("type") == "add_device"):
                continue
            try:
                cert = DeviceCertificate.decode(bytes.fromhex(str(value.get("certificate"))))
                cert.verify()
            except (InvalidSignature, ValueError):
                continue
            if cert.member.hex() == self.member_id and cert.assembly == self.assembly_id:
                out.setdefault(cert.device.hex(), cert.issued_ms)
        return out

    def member_key_status(self) -> Literal["plain", "sealed", "unlocked", "absent"]:
        """How this device holds the member key: in a plain file, sealed under a passphrase
        (``unlocked`` once opened for this session), or not at all."""
        keys = self.member_keys
        if not keys.here:
            return "absent"
        if not keys.sealed:
            return "plain"
        return "unlocked" if keys.unlocked else "sealed"

    def device_keys_sealed(self) -> bool:
        """Whether this device's own key files (its device key, the assembly secret it was
        made with) lie sealed under a passphrase."""
        return is_sealed_file(self.directory / "device.key")

    def protect_device_keys(self, passphrase: str, cost: KdfCost = FILE_COST) -> None:
        """Seal this device's key files under ``passphrase`` (or seal them again under a new
        one): from now on opening the assembly here asks for it, so a thief holding the
        files can neither act as this device nor open what was sealed to it."""
        secret_path = self.directory / "secret.key"
        if self.base_secret is not None and secret_path.exists():
            write_private_text(secret_path, seal(self.base_secret, passphrase, cost))
        write_private_text(
            self.directory / "device.key", seal(self.device_key.seed, passphrase, cost)
        )

    def pairing_hosts(self) -> list[str]:
        """This node's IPv4 addresses a new device on the same network can dial."""
        return [ip for ip in local_addresses(None) if ":" not in ip][:4] or ["127.0.0.1"]

    def pairing_grant(self, device: bytes) -> Grant:
        """What a new device of this member receives when it pairs: its certificate (signed
        now, and recorded), the newest epoch secret held here, the member key as sealed
        here (or nothing), and the whole record as a bundle. Needs the member key."""
        certificate = self.certify_device(device)
        record = io.BytesIO()
        self.write_bundle(record, {}, lambda n: None)
        state = self.state()
        name = state.assembly.name if state.assembly is not None else ""
        return Grant(
            self.assembly_id,
            certificate.encode(),
            self.held_secret(state),
            self.member_keys.sealed_text,
            name,
            record.getvalue(),
        )

    async def pair_device(
        self,
        listen: tuple[str, int],
        hosts: Sequence[str],
        shown: Callable[[str], None],
        timeout: float,
    ) -> str:
        """Show a pairing code (``shown``) and wait for one new device of this member to
        pair with it; returns the new device's id. Refused at once if the member key is
        locked (``unlock`` it first)."""
        self.member_key  # noqa: B018 - refuse now, before any code is shown, if it is locked
        self.held_secret()

        def code_for(port: int) -> PairCode:
            return PairCode.fresh([(h, port) for h in hosts], self.entropy)

        device = await offer_pairing(
            listen, code_for, self.pairing_grant, timeout, lambda c: shown(c.encode())
        )
        return device.hex()

    def find_device(self, prefix: str) -> DeviceInfo:
        hits = [d for d in self.devices() if d.id.startswith(prefix.strip().lower())]
        if len(hits) != 1:
            raise NotFoundError(
                _("no single device of yours with an id starting {prefix!r}").format(prefix=prefix)
            )
        return hits[0]

    def revoke_device(self, prefix: str) -> Recorded[model_acts.RevokeDevice]:
        """Revoke one of this member's other devices (lost or stolen): its changes this node
        holds stay valid, later ones count no more, and every node that learns of it
        refuses the device. Needs the member key (``unlock`` it first if it is sealed)."""
        device = self.find_device(prefix)
        if device.this:
            raise UsageError(_("this device cannot revoke itself: revoke it from another device"))
        if device.revoked_after is not None:
            raise UsageError(_("device {device} is already revoked").format(device=device.id[:8]))
        signature = sign_revocation(
            self.member_key, self.assembly_id, bytes.fromhex(device.id), device.changes
        )
        return self.act(commands.revoke_device, device.id, device.changes, signature.hex())

    def certify_device(self, device: bytes) -> DeviceCertificate:
        """Certify another device of this member and record it (``add_device``), so every
        node knows it, and it can be revoked, before it writes. Needs the member key."""
        certificate = DeviceCertificate.issue(
            self.member_key, self.assembly_id, device, self.clock()
        )
        self.act(commands.add_device, certificate.encode())
        return certificate

    def record_this_device(self) -> None:
        """This new device's first act: its own certificate (``add_device``). Checked when
        the record is here (paired); written unchecked before it is (restored), as a join
        is: every node checks it when it arrives."""
        if self.state().assembly is not None:
            self.act(commands.add_device, self.certificate.encode())
            return
        with self.replica.transact() as doc:
            stamp = Stamp(self.member_id, self.device_id, self.clock(), self.new_id())
            doc.array(ACTS).append(
                commands.add_device_act(stamp, self.certificate.encode()).to_doc()
            )

    def protect_member_key(self, passphrase: str, cost: KdfCost = FILE_COST) -> None:
        """Seal the member key file under ``passphrase``: from now on pairing, revoking
        and inviting from this device ask for it, and a thief holding the files cannot
        sign with the member key."""
        self.member_keys.protect(passphrase, cost)

    def backup(self, passphrase: str, cost: KdfCost = BACKUP_COST) -> str:
        """The member key, with what a new device needs to rejoin, sealed under
        ``passphrase`` (``keyfiles.Backup``); needs the member key unlocked."""
        state = self.state()
        name = state.assembly.name if state.assembly is not None else ""
        seed = self.member_key.seed
        return Backup(self.assembly_id, seed, self.held_secret(state), name).encode(
            passphrase, cost
        )

    def held_secret(self, state: AssemblyState | None = None) -> bytes:
        """The newest epoch secret this node holds: what a device it pairs, or one restored
        from a backup it writes, starts with (it counts for the epoch whose check it
        matches; later epochs are sealed to the new device in the record)."""
        held = self.epoch_view(state)
        if held.held is None:
            raise UsageError(_("this node holds no assembly secret yet: sync with a member first"))
        return held.known[held.held]

    # --- admission ----------------------------------------------------------------------

    def pending_invite(self, state: AssemblyState | None = None) -> tuple[Invite, bytes] | None:
        """The invite and proof this device shows peers until the assembly admits it."""
        path = self.directory / "join.invite"
        if not path.exists():
            return None
        state = state or self.state()
        if state.is_member(self.member_id) and self.epoch_view(state).held is not None:
            # Admitted, and its secret is here: the invite and join key are spent.
            path.unlink(missing_ok=True)
            (self.directory / "join.key").unlink(missing_ok=True)
            (self.directory / "join.refused").unlink(missing_ok=True)
            return None
        # Until its secret comes, a joiner dials with its join key and shows its invite.
        invite = self._read_join_invite()
        return None if invite is None else (invite[0], invite[1])

    def _read_join_invite(self) -> tuple[Invite, bytes, int] | None:
        path = self.directory / "join.invite"
        try:
            fields = msgpack.unpackb(path.read_bytes())
        except FileNotFoundError:
            return None
        invite_bytes, proof, epoch = (*fields, 0)[:3]
        return Invite.decode(invite_bytes), proof, epoch

    def known_state(self) -> AssemblyState:
        """The last folded state, brought to now, without folding on the caller's thread
        while someone keeps the last fold current (``refolded_elsewhere``)."""
        cached = self._fold_cache
        now = self.clock()
        if cached is None or needs_refold(cached[1], now) or not self.refolded_elsewhere:
            return self.state(now)
        return at_time(cached[1], now)

    def begin_fold(self) -> PendingFold:
        """What a fold in another thread needs, read here: the replica has one owner."""
        return PendingFold(self.replica.digest(), self.snapshot(), self.clock())

    def keep_fold(self, pending: PendingFold, state: AssemblyState) -> None:
        """Keep ``state``, folded elsewhere from ``pending``, as the last fold."""
        self._fold_cache = (pending.digest, state)

    async def keep_state_fresh(self) -> None:
        """While the node runs: after each change to the governance record, fold it again in
        a worker thread, so the handshake's question never waits for a fold on the event
        loop. (The UI, which folds after each change itself, hands its folds over instead.)"""
        changed = asyncio.Event()
        unsubscribe = self.observe(lambda event: changed.set() if event.governance else None)
        self.state()
        self.refolded_elsewhere = True
        self._keep_keys_logged()
        try:
            while True:
                try:
                    await asyncio.wait_for(changed.wait(), KEEP_KEYS_EVERY_S)
                except TimeoutError:
                    # Time alone makes some duties due (an effect, a writer's 10 minutes).
                    self._keep_keys_logged()
                    continue
                changed.clear()
                pending = self.begin_fold()
                state = await asyncio.to_thread(fold, pending.snapshot, pending.now)
                self.keep_fold(pending, state)
                self._keep_keys_logged()
        finally:
            self.refolded_elsewhere = False
            unsubscribe()

    def _keep_keys_logged(self) -> None:
        try:
            written = self.keep_keys()
        except AssemblyMeshError as exc:  # a duty that cannot be done now waits for the next
            log.warning("cannot write the secret's boxes now: %s", exc)
            return
        if written:
            log.info("wrote %d act(s) for the epochs of the assembly secret", written)

    def authorize(self, peer: PeerIdentity) -> Authorization:
        """The network's governance question: may this peer device sync with us? Answered
        from the last fold (``known_state``): it never waits for a fold of a large record."""
        state = self.known_state()
        if state.assembly is None:
            # A node that has not yet received the assembly (a fresh joiner) cannot judge
            # anyone: it accepts only its inviter (and what the inviter vouches for).
            pending = self.pending_invite(state)
            if peer.member == self.member_keys.public:
                return Admitted()
            if pending is not None and peer.member == pending[0].inviter:
                return Admitted()
            return Refused("this node has not received the assembly yet; it talks to its inviter")
        if peer.member == self.member_keys.public and not state.is_member(self.member_id):
            return Admitted()  # another device of this member, not yet admitted anywhere
        verdict = queries.peer_admission(state, peer.member, peer.device, peer.invite, self.clock())
        return Admitted() if verdict.admitted else Refused(verdict.reason, verdict.code)

    # --- the network --------------------------------------------------------------------

    def default_invite_hints(self) -> tuple[str, ...]:
        """Where this node can be reached if it serves on the default port: a joiner dials
        these first (discovery and other members are the fallback)."""
        return tuple(
            f"{ip}:{DEFAULT_PORT}" if ":" not in ip else f"[{ip}]:{DEFAULT_PORT}"
            for ip in local_addresses(None)[:4]
        )

    def sync_once(self, host: str, port: int, timeout: float) -> SyncSummary:
        """Sync with one peer and return what moved; one-line errors only."""
        try:
            summary = asyncio.run(sync_once(self.node_config(), (host, port), timeout))
        except OSError as exc:
            raise RemoteError(f"{host}:{port}: {exc.strerror or exc}") from exc
        self.keep_keys()
        return summary

    async def serve(
        self, listen: tuple[str, int], peers: Sequence[tuple[str, int]], mdns: bool
    ) -> None:
        """Run this node (``assemblymesh serve``) until SIGINT or SIGTERM."""
        service = NodeService(
            self.node_config(listen, peers), mdns=mdns, dial_out_only_fallback=False
        )
        await service.start()
        fresh = asyncio.ensure_future(self.keep_state_fresh())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(service.stop()))
        try:
            await service.run_until_stopped()
        finally:
            fresh.cancel()
            await service.stop()

    # --- bundles ------------------------------------------------------------------------

    def read_vector_file(self, source: IO[bytes]) -> dict[bytes, tuple[int, bytes]]:
        return bundles.read_vector(source, self.assembly_id, self._bundle_secrets())[1]

    def bundle_size(self, theirs: Mapping[bytes, tuple[int, bytes]]) -> int:
        """How many changes a bundle for the holder of ``theirs`` would carry."""
        return bundles.plan_count(self.replica.vector(), theirs)

    def write_bundle(
        self, out: IO[bytes], theirs: Mapping[bytes, tuple[int, bytes]], tick: Progress
    ) -> bundles.ExportSummary:
        return bundles.write_bundle(
            out, self.bundle_identity(), self.replica, self.clock(), dict(theirs), tick
        )

    def write_vector_file(self, out: IO[bytes]) -> int:
        return bundles.write_vector(
            out, self.bundle_identity(), self.replica.vector(), self.clock()
        )

    def verify_bundle(
        self, source: IO[bytes], spool: IO[bytes], tick: Progress
    ) -> bundles.VerifiedBundle:
        return bundles.verify_bundle(
            source, self.assembly_id, self._bundle_secrets(), spool, self.bundle_authorize, tick
        )

    def _bundle_secrets(self) -> list[bytes | SigningKey]:
        """What a bundle may be sealed under: the roots this node accepts, and its device."""
        return [*(root.secret for root in self.keyring().accept), self.device_key]

    def import_bundle(
        self, verified: bundles.VerifiedBundle, tick: Progress
    ) -> bundles.ImportSummary:
        """Ingest a verified bundle, then write the boxes this device owes (a joiner's, once
        its join came in the bundle): the next bundle carries them."""
        summary = bundles.ingest_verified(verified, self.replica, tick)
        self.keep_keys()
        return summary

    def bundle_identity(self) -> BundleIdentity:
        """This device as a bundle's signer. A member who joined by invite shows the invite
        and proof of its join act, so a node that has not yet received the join (it travels
        in this very bundle) can still tell a genuine joiner from a stranger."""
        invite = self.pending_invite()
        if invite is None:
            for entry in self.snapshot().acts.get(self.member_id, ()):
                try:
                    act = model_acts.Act.from_doc(entry.value)
                except IllegalMoveError:
                    continue
                if isinstance(act, model_acts.Join):
                    try:
                        invite = (
                            Invite.decode(bytes.fromhex(act.invite)),
                            bytes.fromhex(act.proof),
                        )
                    except InvalidSignature:
                        invite = None
                    break
        keyring = self.keyring()
        joiners = tuple(root.secret for root in keyring.accept if root.kind == "join")
        return BundleIdentity(
            self.assembly_id,
            keyring.writer.secret,
            self.device_key,
            self.certificate,
            invite,
            readers=joiners,
            devices=epochkeys.newly_sealed(self.known_state(), self.device_id),
        )

    def bundle_authorize(self, signer: BundleSigner) -> str | None:
        """The network's governance question, asked of a bundle's signing device."""
        verdict = self.authorize(
            PeerIdentity(signer.member, signer.device, signer.certificate, signer.invite)
        )
        return verdict.reason if isinstance(verdict, Refused) else None

    # --- publications to other assemblies ----------------------------------------------

    def draft_publication(
        self,
        selection: publish.Selection,
        disclosure: publish.Disclosure,
        adoption_of: str | None = None,
    ) -> publish.Draft:
        """What a publication of ``selection`` would hold (``adoption_of``: with the adoption
        note of that proposal), built with ``disclosure``'s choices: shown before writing."""
        state = self.state()
        extra: list[publish.DraftItem] = []
        hops: dict[bytes, tuple[bytes, bytes]] = {}
        if adoption_of is not None:
            item, hops = publish.adoption_item(state, adoption_of)
            extra.append(item)
        context = publish.Context(state, disclosure, self.draft)
        draft = publish.draft_publication(context, selection, self.member_id, extra)
        return dataclasses.replace(draft, hops={**draft.hops, **hops})

    def seal_publication(self, draft: publish.Draft, title: str, note: str = "") -> bytes:
        """The signed file of ``draft``: this device signs it, with the proof that it writes
        for a member of this assembly."""
        state = self.state()
        proof = publish.attribution(state, self.snapshot().acts, self.certificate)
        return publish.seal_draft(draft, state, proof, title, note, self.clock(), self.device_key)

    def read_publication(self, data: bytes) -> Publication:
        """Another assembly's publication, verified; ``PublicationError`` if it is not."""
        publication = read_publication(data)
        if publication.header.assembly == self.assembly_id:
            raise PublicationError(_("this publication is this assembly's own"))
        return publication

    def import_publication(self, data: bytes) -> Recorded[model_acts.ImportPublication]:
        """Take a verified publication into the library: a signed act every member folds."""
        self.read_publication(data)
        return self.act(commands.import_publication, data)

    # --- what the screens need: record events and shared drafts -----------------------

    def observe(self, callback: Callable[[RecordChanged], None]) -> Callable[[], None]:
        """Call ``callback`` after each durable change to the record, local or received.
        It runs inside the store's write path: post a message, read the record later."""

        def relay(event: ReplicaEvent) -> None:
            callback(self._record_changed(event))

        return self.replica.observe(relay)

    def _record_changed(self, event: ReplicaEvent) -> RecordChanged:
        authors: list[str] = []
        governance = shared = False
        for change in event.changes:
            if doc_name(change.doc) == SHARED:
                shared = True
            else:
                governance = True
            member = self.replica.device_member(change.device)
            if member is not None and member.hex() not in authors:
                authors.append(member.hex())
        return RecordChanged(event.local, len(event.changes), tuple(authors), governance, shared)

    def refresh(self) -> None:
        """Pick up what other processes wrote to this store (observers hear of it)."""
        self.replica.refresh()

    def exchange_with(self, other: LocalAssembly) -> int:
        """Send ``other`` what it lacks, in memory, with the ingest rules of the network
        (the demo and tests); returns how many changes it applied."""
        missing = [c.data for c in self.replica.missing_for(other.replica.vector())]
        return len(other.replica.ingest(missing).applied) if missing else 0

    def record_summary(self) -> RecordSummary:
        r = self.replica
        return RecordSummary(r.change_count(), r.pending_count(), r.digest().hex())

    def append_to_draft(self, key: str, text: str) -> None:
        """Add ``text`` at the end of shared draft ``key``."""
        current = self.draft(key)
        self.edit_draft(key, current, len(current), len(current), text)

    def draft(self, key: str) -> str:
        """The shared draft ``key`` (``draft/<proposal ref>``, or ``draft/new``) as it is now."""
        return str(self.replica.document(SHARED).text(key))

    def edit_draft(self, key: str, base: str, start: int, end: int, insert: str) -> str:
        """Replace ``base[start:end]`` by ``insert`` in shared draft ``key``, where ``base`` is
        the text the editor last saw: others' edits that landed since are kept, and the span
        is moved onto today's text. Returns the draft after the edit."""
        with self.replica.transact(SHARED) as doc:
            text = doc.text(key)
            current = str(text)
            a = rebased_index(base, current, start)
            b = max(a, rebased_index(base, current, end))
            if b > a:
                text.delete(a, b - a)
            if insert:
                text.insert(a, insert)
        return self.draft(key)

    def close(self) -> None:
        self.replica.close()


class Home:
    """The directory that holds this node's assemblies."""

    def __init__(
        self, root: Path | None = None, clock: Clock = wall_clock_ms, entropy: Entropy = os.urandom
    ) -> None:
        self.root = default_home() if root is None else root
        self.clock = clock
        self.entropy = entropy

    def _dir(self, assembly: bytes) -> Path:
        return self.root / "assemblies" / assembly.hex()

    def assemblies(self) -> list[bytes]:
        base = self.root / "assemblies"
        if not base.is_dir():
            return []
        found = []
        for entry in sorted(base.iterdir()):
            try:
                aid = bytes.fromhex(entry.name)
            except ValueError:
                continue
            if len(aid) == ASSEMBLY_ID_SIZE and (entry / "device.key").exists():
                found.append(aid)
        return found

    def default_assembly(self) -> bytes | None:
        marker = self.root / "default"
        if marker.exists():
            try:
                aid = bytes.fromhex(marker.read_text().strip())
            except ValueError:
                aid = b""
            if aid in self.assemblies():
                return aid
        known = self.assemblies()
        return known[0] if len(known) == 1 else None

    def set_default(self, assembly: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.root / "default").write_text(assembly.hex() + "\n")

    def resolve(self, ref: str | None) -> bytes:
        """An assembly by id prefix, or the default one."""
        known = self.assemblies()
        if ref is None:
            aid = self.default_assembly()
            if aid is None:
                if not known:
                    raise NotFoundError(
                        _("no assembly in {directory}: run 'assemblymesh init' or 'join'").format(
                            directory=self.root
                        )
                    )
                raise UsageError(_("several assemblies here: choose one with --assembly ID"))
            return aid
        hits = [a for a in known if a.hex().startswith(ref.lower())]
        if len(hits) != 1:
            raise NotFoundError(
                _("no single assembly with an id starting {prefix!r}").format(prefix=ref)
            )
        return hits[0]

    def keys_sealed(self, ref: str | None = None) -> bool:
        """Whether opening assembly ``ref`` here needs a passphrase (its device key files
        are sealed: ``LocalAssembly.protect_device_keys``)."""
        return is_sealed_file(self._dir(self.resolve(ref)) / "device.key")

    def open(
        self,
        ref: str | None = None,
        new_id: Callable[[], str] = random_act_id,
        passphrase: str | None = None,
    ) -> LocalAssembly:
        """Open assembly ``ref`` (default: the default one); ``passphrase`` opens its
        device key files if they are sealed (``KeyLocked`` without it, ``WrongPassphrase``
        with another)."""
        aid = self.resolve(ref)
        directory = self._dir(aid)
        device_key = SigningKey(
            read_seed(directory / "device.key", passphrase, _("this device's key"))
        )
        secret_path = directory / "secret.key"
        secret = (
            read_seed(secret_path, passphrase, _("this device's assembly secret"))
            if secret_path.exists()
            else None
        )
        try:
            certificate = DeviceCertificate.decode((directory / "device.cert").read_bytes())
        except (OSError, InvalidSignature) as exc:
            raise KeyFileError(
                _("device certificate in {directory} is missing or damaged").format(
                    directory=directory
                )
            ) from exc
        member_key = MemberKey(directory / "member.key", certificate.member)
        admission = DocumentAdmission(aid)
        replica = Replica.open(
            directory / "store.sqlite",
            aid,
            device_key,
            certificate,
            self.clock,
            admission=admission,
        )
        local = LocalAssembly(
            directory, replica, secret, member_key, self.clock, new_id, self.entropy
        )
        admission.governance = local.last_fold
        return local

    def _prepare(
        self,
        aid: bytes,
        member_key: SigningKey,
        secret: bytes | None,
        member_text: str | None = None,
    ) -> tuple[Path, SigningKey, DeviceCertificate]:
        """A new device key certified by ``member_key``, installed with the member key file
        (plain, or ``member_text`` if given: a sealed one)."""
        device_key = SigningKey(self.entropy(KEY_SIZE))
        certificate = DeviceCertificate.issue(member_key, aid, device_key.public, self.clock())
        text = member_key.seed.hex() + "\n" if member_text is None else member_text
        directory = self.install(device_key, certificate, secret, text)
        return directory, device_key, certificate

    def install(
        self,
        device_key: SigningKey,
        certificate: DeviceCertificate,
        secret: bytes | None,
        member_text: str | None,
    ) -> Path:
        """Make this node a device of ``certificate``'s member in its assembly: the keys,
        the certificate, and the member key file if ``member_text`` (else none)."""
        aid = certificate.assembly
        directory = self._dir(aid)
        if (directory / "device.key").exists():
            raise UsageError(
                _("this node already belongs to assembly {assembly}").format(
                    assembly=aid.hex()[:12]
                )
            )
        if certificate.device != device_key.public:
            raise UsageError(_("the certificate is not for this device"))
        if member_text is not None:
            write_private_text(directory / "member.key", member_text)
        else:
            (directory / "member.key").unlink(missing_ok=True)
        if secret is not None:
            write_key_file(directory / "secret.key", SigningKey(secret))
        (directory / "device.cert").write_bytes(certificate.encode())
        # Written last: its presence marks a complete assembly directory.
        write_key_file(directory / "device.key", device_key)
        return directory

    def restore(self, text: str, passphrase: str, cost: KdfCost = FILE_COST) -> LocalAssembly:
        """Rejoin as the member of a backup, on this (new) device: it certifies a new device
        key and keeps the member key sealed under the backup's passphrase. The record comes
        with the next sync."""
        backup = Backup.decode(text, passphrase)
        member_key = SigningKey(backup.member_seed)
        sealed = seal(backup.member_seed, passphrase, cost)
        self._prepare(backup.assembly, member_key, backup.secret, sealed)
        if self.default_assembly() is None:
            self.set_default(backup.assembly)
        local = self.open(backup.assembly.hex())
        try:
            local.record_this_device()
        except BaseException:
            local.close()
            raise
        return local

    def _refuse_existing(self, aid: bytes) -> None:
        if (self._dir(aid) / "device.key").exists():
            raise UsageError(
                _("this node already belongs to assembly {assembly}").format(
                    assembly=aid.hex()[:12]
                )
            )

    def create(
        self,
        name: str,
        member_name: str,
        charter: str = "",
        rules: Rules | None = None,
        new_id: Callable[[], str] = random_act_id,
    ) -> LocalAssembly:
        """Found a new assembly; this node's member is its founder and first facilitator."""
        if not name.strip() or not member_name.strip():
            raise UsageError(_("an assembly and its founder need names"))
        member_key = SigningKey(self.entropy(KEY_SIZE))
        nonce = self.entropy(16)
        now = self.clock()
        aid = assembly_id_for(member_key.public, nonce)
        self._refuse_existing(aid)
        self._prepare(aid, member_key, self.entropy(SECRET_SIZE))
        local = self.open(aid.hex(), new_id)
        try:
            with local.replica.transact() as doc:
                created, act = commands.create_assembly(
                    Stamp(local.member_id, local.device_id, now, new_id()),
                    name=name, charter=charter, founder_name=member_name, nonce=nonce, rules=rules,
                )  # fmt: skip
                assert created == aid
                doc.array(ACTS).append(act.to_doc())
            local.keep_keys()  # epoch 0's check, and its secret sealed to this device
        except BaseException:
            local.close()
            raise
        if self.default_assembly() is None or len(self.assemblies()) == 1:
            self.set_default(aid)
        return local

    def leave(self, ref: str | None = None) -> bytes:
        """Remove a join the assembly has not admitted (a refused invite, say): its keys,
        its store and its address book; returns the assembly id. A member's assembly stays."""
        aid = self.resolve(ref)
        local = self.open(aid.hex())
        try:
            half = local.half_joined()
        finally:
            local.close()
        if not half:
            raise UsageError(
                _(
                    "this node is a member of assembly {assembly}: leave removes only a"
                    " join that was not admitted"
                ).format(assembly=aid.hex()[:12])
            )
        shutil.rmtree(self._dir(aid))
        if self.default_assembly() == aid:
            (self.root / "default").unlink(missing_ok=True)
            others = self.assemblies()
            if others:
                self.set_default(others[0])
        return aid

    def join(
        self,
        code: str,
        member_name: str,
        new_id: Callable[[], str] = random_act_id,
        *,
        replace: bool = False,
    ) -> LocalAssembly:
        """Join with an invite code: make keys, write the join act, keep the proof to show
        peers until the assembly admits this member. With ``replace``, a join of the same
        assembly that was not admitted (a refused invite) is left first."""
        if not member_name.strip():
            raise UsageError(_("give your name with --member-name"))
        parsed = InviteCode.decode(code)
        if replace and (self._dir(parsed.assembly) / "device.key").exists():
            self.leave(parsed.assembly.hex())
        if parsed.invite.expires_ms < self.clock():
            raise InviteError(_("this invite has expired: ask for a new one"))
        member_key = SigningKey(self.entropy(KEY_SIZE))
        proof = sign_invite_proof(SigningKey(parsed.invite_seed), parsed.invite, member_key.public)
        verify_invite_proof(parsed.invite, member_key.public, proof)
        directory = self._dir(parsed.assembly)
        if (directory / "device.key").exists():
            raise UsageError(
                _(
                    "this node already belongs to assembly {assembly}"
                    " (if its invite was refused: join with --new-code, or leave)"
                ).format(assembly=parsed.assembly.hex()[:12])
            )
        # The join key is written before the device key marks the directory complete.
        write_key_file(directory / "join.key", SigningKey(parsed.join_key))
        (directory / "join.invite").write_bytes(
            msgpack.packb([parsed.invite.encode(), proof, parsed.epoch])
        )
        self._prepare(parsed.assembly, member_key, None)
        book = AddressBook(directory / "peers.json")
        now = self.clock()  # one time for all hints: the book keeps the code's order
        for hint in parsed.hints:
            host, port = parse_address(hint, DEFAULT_PORT)
            book.add(host, port, "invite", now)
        book.save()
        local = self.open(parsed.assembly.hex(), new_id)
        try:
            with local.replica.transact() as doc:
                # The joiner has none of the assembly yet, so the act cannot be checked
                # against its state here; every node checks it when it arrives.
                act = commands.join(
                    Stamp(local.member_id, local.device_id, self.clock(), new_id()),
                    member_name,
                    parsed.invite,
                    proof,
                )
                doc.array(ACTS).append(act.to_doc())
        except BaseException:
            local.close()
            raise
        if self.default_assembly() is None:
            self.set_default(parsed.assembly)
        return local


__all__ = [
    "ALL_ADDRESSES",
    "DEFAULT_PORT",
    "DeviceInfo",
    "Home",
    "InviteCode",
    "LocalAssembly",
    "PendingFold",
    "RecordChanged",
    "RecordSummary",
    "Recorded",
    "default_home",
    "rebased_index",
]
