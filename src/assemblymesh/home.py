"""The composition root: where keys, store, model and network meet on this node.

A *home* (``$ASSEMBLYMESH_HOME``, default: the platform's user data directory) holds one
directory per assembly this node belongs to:

```
<home>/default                       hex id of the assembly commands use by default
<home>/assemblies/<assembly id hex>/
    member.key  device.key  secret.key    key seeds, mode 0600 (refused if readable by others)
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

import base64
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

import msgpack
import platformdirs

from assemblymesh.crdt.document import SHARED
from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    KEY_SIZE,
    DeviceCertificate,
    InvalidSignature,
    Invite,
    SigningKey,
    assembly_id_for,
    is_bytes_of,
    read_key_file,
    sign_invite_proof,
    verify_invite_proof,
    write_key_file,
)
from assemblymesh.crdt.replica import Clock, Replica, Verdict, wall_clock_ms
from assemblymesh.errors import InviteError, KeyFileError, NotFoundError, UsageError
from assemblymesh.model import (
    AssemblySnapshot,
    AssemblyState,
    at_time,
    commands,
    fold,
)
from assemblymesh.model import acts as model_acts
from assemblymesh.model.state import Rules
from assemblymesh.net.addressbook import AddressBook
from assemblymesh.net.handshake import PeerIdentity
from assemblymesh.net.node import DEFAULT_PORT, NodeConfig

ENV_HOME = "ASSEMBLYMESH_HOME"
ACTS = "acts"  # the root array of acts in every member document


class _AdmitAll:
    """Admits every member's document: a stand-in until the model's admission policy."""

    def admit(
        self, member: bytes, values: Sequence[object], known: Callable[[bytes], bool]
    ) -> tuple[Verdict, str]:
        return Verdict.ADMIT, "no admission policy yet"


_ADMIT_ALL = _AdmitAll()
INVITE_PREFIX = "am1:"
INVITE_VERSION = 1
DEFAULT_INVITE_VALID_MS = 7 * 24 * 3600 * 1000
SECRET_SIZE = 32

P = ParamSpec("P")


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("assemblymesh", appauthor=False)


def parse_address(text: str, default_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST`` or ``[V6]:PORT`` -> (host, port)."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = _port(number, text)
    if not host:
        raise UsageError(f"{text!r} is not an address (HOST:PORT)")
    return host, port


def _port(number: str, text: str) -> int:
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise UsageError(f"{text!r} has no valid port (1-65535)")
    return int(number)


def random_act_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class InviteCode:
    """Everything a joiner needs, as one copyable string (and a QR code of it)."""

    assembly: bytes
    secret: bytes
    invite: Invite
    invite_seed: bytes
    hints: tuple[str, ...]
    name: str

    def encode(self) -> str:
        packed = msgpack.packb(
            [
                INVITE_VERSION,
                self.assembly,
                self.secret,
                self.invite.encode(),
                self.invite_seed,
                list(self.hints),
                self.name,
            ]
        )
        return INVITE_PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")

    @classmethod
    def decode(cls, code: str) -> InviteCode:
        text = "".join(code.split())
        if not text.startswith(INVITE_PREFIX):
            raise InviteError(f"not an AssemblyMesh invite code (it should start {INVITE_PREFIX})")
        body = text[len(INVITE_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            fields = msgpack.unpackb(raw, raw=False)
            version, assembly, secret, invite, seed, hints, name = fields
        except Exception as exc:
            raise InviteError("the invite code is damaged (was it copied completely?)") from exc
        if version != INVITE_VERSION:
            raise InviteError(f"invite code version {version!r} is not supported")
        if not (
            is_bytes_of(assembly, ASSEMBLY_ID_SIZE)
            and is_bytes_of(secret, SECRET_SIZE)
            and is_bytes_of(seed, KEY_SIZE)
            and isinstance(hints, list)
            and all(isinstance(h, str) for h in hints)
            and isinstance(name, str)
            and isinstance(invite, bytes)
        ):
            raise InviteError("the invite code is damaged (fields have the wrong form)")
        try:
            parsed = Invite.decode(invite)
            parsed.verify()
        except InvalidSignature as exc:
            raise InviteError("the invite in this code is forged or damaged") from exc
        if parsed.assembly != assembly:
            raise InviteError("the invite in this code is for another assembly")
        if SigningKey(seed).public != parsed.invite_key:
            raise InviteError("the invite code's key does not match its invite")
        return cls(assembly, secret, parsed, seed, tuple(hints), name)


class LocalAssembly:
    """One assembly as this node holds it: keys, replica, folded state, act writing."""

    def __init__(
        self,
        directory: Path,
        replica: Replica,
        secret: bytes,
        member_key: SigningKey,
        clock: Clock = wall_clock_ms,
        new_id: Callable[[], str] = random_act_id,
    ) -> None:
        self.directory = directory
        self.replica = replica
        self.assembly_id = replica.assembly
        self.secret = secret
        self.member_key = member_key
        self.device_key = replica.device_key
        self.certificate = replica.certificate
        self.member_id = member_key.public.hex()
        self.device_id = self.device_key.public.hex()
        self.clock = clock
        self.new_id = new_id
        self._fold_cache: tuple[bytes, AssemblyState] | None = None
        self._acts_cache: dict[str, tuple[int, list[Any]]] = {}

    # --- reading ------------------------------------------------------------------------

    def snapshot(self) -> AssemblySnapshot:
        """Every member document's acts. Reading a document out of the engine costs far
        more than folding it, so a document is re-read only when its state changed."""
        acts: dict[str, list[Any]] = {}
        for name in self.replica.document_names():
            if name == SHARED:
                continue
            doc = self.replica.document(name)
            version = doc.revision
            cached = self._acts_cache.get(name)
            if cached is None or cached[0] != version:
                cached = (version, doc.array(ACTS).to_py())
                self._acts_cache[name] = cached
            acts[name] = cached[1]
        return AssemblySnapshot(self.assembly_id, acts)

    def state(self, now_ms: int | None = None) -> AssemblyState:
        """The governance state as of ``now_ms`` (default: now).

        Folding a large assembly takes a while, so the last fold is kept with the digest of
        the changes it came from: while no change arrives, a new ``now`` only redoes the
        time-dependent statuses (``model.at_time``).
        """
        now = self.clock() if now_ms is None else now_ms
        digest = self.replica.digest()
        cached = self._fold_cache
        if cached is not None and cached[0] == digest:
            return at_time(cached[1], now)
        state = fold(self.snapshot(), now)
        self._fold_cache = (digest, state)
        return state

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
            assembly_id=self.assembly_id,
            assembly_secret=self.secret,
            device_key=self.device_key,
            certificate=self.certificate,
            authorize=self.authorize,
            invite=self.pending_invite(),
            listen=listen,
            peers=list(peers),
            clock=self.clock,
            address_book=self.address_book_path,
        )

    def known_addresses(self) -> list[tuple[str, int]]:
        """Addresses to try: invite hints, peers met before, most recent first."""
        return [(e.host, e.port) for e in AddressBook(self.address_book_path).entries()]

    # --- writing ------------------------------------------------------------------------

    def act(
        self,
        command: Callable[Concatenate[AssemblyState, str, int, str, str, P], model_acts.Act],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> model_acts.Act:
        """Check and write one act with ``command`` (a ``model.commands`` function).

        The state is folded inside the write transaction, after changes other processes
        wrote were picked up, so the check sees what every later reader will see first.
        """
        with self.replica.transact() as doc:
            now = self.clock()
            act = command(
                self.state(now), self.member_id, now, self.new_id(), self.device_id, *args, **kwargs
            )
            doc.array(ACTS).append(dict(act))
        return act

    def issue_invite(
        self, hints: tuple[str, ...] = (), valid_ms: int = DEFAULT_INVITE_VALID_MS
    ) -> InviteCode:
        state = self.state()
        if not state.is_member(self.member_id):
            raise UsageError("only a member of the assembly can invite")
        invite_key = SigningKey.generate()
        invite = Invite.issue(
            self.member_key, self.assembly_id, invite_key.public, self.clock() + valid_ms
        )
        self.act(commands.record_invite, invite)
        name = state.assembly.name if state.assembly is not None else ""
        return InviteCode(self.assembly_id, self.secret, invite, invite_key.seed, hints, name)

    # --- admission ----------------------------------------------------------------------

    def pending_invite(self) -> tuple[Invite, bytes] | None:
        """The invite and proof this device shows peers until the assembly admits it."""
        path = self.directory / "join.invite"
        if not path.exists():
            return None
        if self.state().is_member(self.member_id):
            path.unlink(missing_ok=True)
            return None
        invite_bytes, proof = msgpack.unpackb(path.read_bytes())
        return Invite.decode(invite_bytes), proof

    def authorize(self, peer: PeerIdentity) -> str | None:
        """The network's governance question: may this peer device sync with us?"""
        state = self.state()
        member = peer.member.hex()
        if state.assembly is None:
            # A node that has not yet received the assembly (a fresh joiner) cannot judge
            # anyone; it only ever dials out, to the addresses its invite named.
            return None
        if state.is_member(member):
            if state.device_allowed(member, peer.device.hex()):
                return None
            return "device was revoked by its member"
        if peer.member == self.member_key.public:
            return None  # another device of this member, not yet admitted anywhere
        invite = peer.invite
        if invite is None:
            return "not a member of this assembly"
        record = state.invites.get(invite.invite_key.hex())
        if record is not None and record.used_by not in (None, member):
            return "invite was already used"
        if not state.is_member(invite.inviter.hex()):
            return "invite was issued by someone who is not a member"
        if invite.expires_ms < self.clock():
            return "invite has expired"
        return None

    def close(self) -> None:
        self.replica.close()


class Home:
    """The directory that holds this node's assemblies."""

    def __init__(self, root: Path | None = None, clock: Clock = wall_clock_ms) -> None:
        self.root = default_home() if root is None else root
        self.clock = clock

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
                        f"no assembly in {self.root}: run 'assemblymesh init' or 'join'"
                    )
                raise UsageError("several assemblies here: choose one with --assembly ID")
            return aid
        hits = [a for a in known if a.hex().startswith(ref.lower())]
        if len(hits) != 1:
            raise NotFoundError(f"no single assembly with an id starting {ref!r}")
        return hits[0]

    def open(
        self, ref: str | None = None, new_id: Callable[[], str] = random_act_id
    ) -> LocalAssembly:
        aid = self.resolve(ref)
        directory = self._dir(aid)
        member_key = read_key_file(directory / "member.key")
        device_key = read_key_file(directory / "device.key")
        secret_key = read_key_file(directory / "secret.key")
        try:
            certificate = DeviceCertificate.decode((directory / "device.cert").read_bytes())
        except (OSError, InvalidSignature) as exc:
            raise KeyFileError(f"device certificate in {directory} is missing or damaged") from exc
        replica = Replica.open(
            directory / "store.sqlite",
            aid,
            device_key,
            certificate,
            self.clock,
            admission=_ADMIT_ALL,  # replaced by the model's admission policy
        )
        return LocalAssembly(directory, replica, secret_key.seed, member_key, self.clock, new_id)

    def _prepare(
        self, aid: bytes, member_key: SigningKey, secret: bytes
    ) -> tuple[Path, SigningKey, DeviceCertificate]:
        directory = self._dir(aid)
        if (directory / "device.key").exists():
            raise UsageError(f"this node already belongs to assembly {aid.hex()[:12]}")
        device_key = SigningKey.generate()
        certificate = DeviceCertificate.issue(member_key, aid, device_key.public, self.clock())
        write_key_file(directory / "member.key", member_key)
        write_key_file(directory / "secret.key", SigningKey(secret))
        (directory / "device.cert").write_bytes(certificate.encode())
        # Written last: its presence marks a complete assembly directory.
        write_key_file(directory / "device.key", device_key)
        return directory, device_key, certificate

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
            raise UsageError("an assembly and its founder need names")
        member_key = SigningKey.generate()
        nonce = os.urandom(16)
        now = self.clock()
        aid = assembly_id_for(member_key.public, nonce)
        self._prepare(aid, member_key, secrets.token_bytes(SECRET_SIZE))
        local = self.open(aid.hex(), new_id)
        try:
            with local.replica.transact() as doc:
                created, act = commands.create_assembly(
                    local.member_id, now, new_id(), local.device_id,
                    name=name, charter=charter, founder_name=member_name, nonce=nonce, rules=rules,
                )  # fmt: skip
                assert created == aid
                doc.array(ACTS).append(dict(act))
        except BaseException:
            local.close()
            raise
        if self.default_assembly() is None or len(self.assemblies()) == 1:
            self.set_default(aid)
        return local

    def join(
        self, code: str, member_name: str, new_id: Callable[[], str] = random_act_id
    ) -> LocalAssembly:
        """Join with an invite code: make keys, write the join act, keep the proof to show
        peers until the assembly admits this member."""
        if not member_name.strip():
            raise UsageError("give your name with --member-name")
        parsed = InviteCode.decode(code)
        if parsed.invite.expires_ms < self.clock():
            raise InviteError("this invite has expired: ask for a new one")
        member_key = SigningKey.generate()
        proof = sign_invite_proof(SigningKey(parsed.invite_seed), parsed.invite, member_key.public)
        verify_invite_proof(parsed.invite, member_key.public, proof)
        directory, _, _ = self._prepare(parsed.assembly, member_key, parsed.secret)
        (directory / "join.invite").write_bytes(msgpack.packb([parsed.invite.encode(), proof]))
        book = AddressBook(directory / "peers.json")
        for hint in parsed.hints:
            host, port = parse_address(hint, DEFAULT_PORT)
            book.add(host, port, "invite", self.clock())
        book.save()
        local = self.open(parsed.assembly.hex(), new_id)
        try:
            with local.replica.transact() as doc:
                # The joiner has none of the assembly yet, so the act cannot be checked
                # against its state here; every node checks it when it arrives.
                act = model_acts.join(
                    new_id(), self.clock(), local.device_id, name=member_name,
                    invite=parsed.invite.encode().hex(), proof=proof.hex(),
                )  # fmt: skip
                doc.array(ACTS).append(dict(act))
        except BaseException:
            local.close()
            raise
        if self.default_assembly() is None:
            self.set_default(parsed.assembly)
        return local


__all__ = ["Home", "InviteCode", "LocalAssembly", "default_home"]
