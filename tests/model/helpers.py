"""Builders for hand-made assembly documents: real keys, deterministic seeds, no clock."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from typing import Any

from assemblymesh.crdt.identity import (
    Invite,
    SigningKey,
    assembly_id_for,
    sign_invite_proof,
    sign_revocation,
)
from assemblymesh.model import AssemblySnapshot, AssemblyState, LoggedAct, fold
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R

NONCE = bytes(range(16))
COOLING = 1_000
REVIEW = 50_000
TERM = 1_000_000


def act_doc(cls: type[A.Act], act_id: str, ts: int, device: str, **fields: Any) -> dict[str, Any]:
    """The document value of an act, as a device writes it, with the writing device noted
    under ``device`` (``World.snapshot`` attributes the act to it, as a signature would)."""
    return {**cls(id=act_id, ts=ts, **fields).to_doc(), "device": device}


class B:
    """Builders with the shape the model tests were written in: (id, ts, device, fields)."""

    @staticmethod
    def create(act_id: str, ts: int, device: str, *, rules_: dict[str, int], **f: Any) -> Any:
        return act_doc(A.Create, act_id, ts, device, rules=rules_, **f)

    @staticmethod
    def invite(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.RecordInvite, act_id, ts, device, **f)

    @staticmethod
    def join(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.Join, act_id, ts, device, **f)

    @staticmethod
    def grant_role(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.GrantRole, act_id, ts, device, **f)

    @staticmethod
    def end_role(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.EndRole, act_id, ts, device, **f)

    @staticmethod
    def propose(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.Propose, act_id, ts, device, **f)

    @staticmethod
    def amend(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.Amend, act_id, ts, device, **f)

    @staticmethod
    def withdraw(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.Withdraw, act_id, ts, device, **f)

    @staticmethod
    def open_round(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.OpenRound, act_id, ts, device, **f)

    @staticmethod
    def advance_round(act_id: str, ts: int, device: str, *, round_: str, to: str) -> Any:
        return act_doc(A.AdvanceRound, act_id, ts, device, round=round_, to=to)

    @staticmethod
    def position(act_id: str, ts: int, device: str, *, round_: str, **f: Any) -> Any:
        return act_doc(A.TakePosition, act_id, ts, device, round=round_, **f)

    @staticmethod
    def close_round(act_id: str, ts: int, device: str, *, round_: str, **f: Any) -> Any:
        return act_doc(A.CloseRound, act_id, ts, device, round=round_, **f)

    @staticmethod
    def reject(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.Reject, act_id, ts, device, **f)

    @staticmethod
    def revoke_device(act_id: str, ts: int, device: str, **f: Any) -> Any:
        return act_doc(A.RevokeDevice, act_id, ts, device, **f)


def key_for(label: str) -> SigningKey:
    return SigningKey(hashlib.sha256(label.encode()).digest())


class World:
    """One assembly's member documents, written act by act with explicit timestamps."""

    def __init__(self, *, quorum: int = 1, founder: str = "ana", block_threshold: int = 1) -> None:
        self.founder = founder
        self.quorum = quorum
        self.block_threshold = block_threshold
        self.assembly_id = assembly_id_for(key_for(founder).public, NONCE)
        self.docs: dict[str, list[dict[str, Any]]] = {}
        # Ids written so far by kind ("p" proposals, "r" rounds, "d" closes), for generators.
        self.refs: dict[str, list[str]] = {"p": [], "r": [], "d": []}
        self._ids = itertools.count(1)
        self.names: set[str] = {founder}
        self.recorded: set[str] = set()

    # --- identities ------------------------------------------------------------------------

    def mid(self, name: str) -> str:
        return key_for(name).public.hex()

    def dev(self, name: str, n: int = 0) -> str:
        return key_for(f"{name}/device/{n}").public.hex()

    def next_id(self) -> str:
        return f"{next(self._ids):016x}"

    def ref(self, name: str, act: dict[str, Any]) -> str:
        """The ref by which other acts name ``act`` of member ``name``."""
        return A.act_ref(self.mid(name), str(act["id"]))

    # --- writing ---------------------------------------------------------------------------

    def add(self, name: str, act: dict[str, Any]) -> dict[str, Any]:
        self.names.add(name)
        self.docs.setdefault(self.mid(name), []).append(act)
        return act

    def revocation(self, name: str, revoked: str, keep: int) -> str:
        """``name``'s member-key signature revoking ``revoked`` after change ``keep``."""
        key = key_for(name)
        return sign_revocation(key, self.assembly_id, bytes.fromhex(revoked), keep).hex()

    def revoke(self, name: str, ts: int, revoked: str, keep: int, *, by: int = 1) -> dict[str, Any]:
        """``name`` revokes device ``revoked`` from their device ``by``, keeping its changes
        up to ``keep``."""
        return self.add(
            name,
            B.revoke_device(
                self.next_id(), ts, self.dev(name, by), revoked=revoked, keep=keep,
                signature=self.revocation(name, revoked, keep),
            ),
        )  # fmt: skip

    def create(self, ts: int = 1_000, *, name: str | None = None) -> dict[str, Any]:
        who = name or self.founder
        return self.add(
            who,
            B.create(
                self.next_id(),
                ts,
                self.dev(who),
                name="Garden co-op",
                charter="We tend the garden together.",
                founder_name=who,
                nonce=NONCE.hex(),
                rules_={
                    "cooling_off_ms": COOLING,
                    "quorum": self.quorum,
                    "review_period_ms": REVIEW,
                    "block_threshold": self.block_threshold,
                },
                term_end=ts + TERM,
            ),
        )

    def make_invite(
        self,
        inviter: str,
        *,
        expires: int = 10**9,
        label: str = "inv",
        assembly: bytes | None = None,
    ) -> tuple[Invite, SigningKey]:
        secret = key_for(f"{inviter}/{label}")
        invite = Invite.issue(
            key_for(inviter), assembly or self.assembly_id, secret.public, expires
        )
        return invite, secret

    def record_invite(self, inv: Invite, ts: int, kind: str = R.MEMBER_INVITE) -> None:
        """The inviter's record of ``inv`` (once per invite key): a join is placed after it."""
        key = inv.invite_key.hex()
        inviter = next((n for n in self.names if self.mid(n) == inv.inviter.hex()), None)
        if inviter is None or key in self.recorded:
            return
        self.recorded.add(key)
        self.add(
            inviter,
            B.invite(
                self.next_id(), ts, self.dev(inviter), invite_key=key, expires=inv.expires_ms,
                kind=kind,
            ),
        )  # fmt: skip

    def supporter(self, name: str, ts: int, *, inviter: str | None = None) -> dict[str, Any]:
        """``name`` joins with a supporter invite (standing comes by decision)."""
        inv = self.make_invite(inviter or self.founder, label=f"supporter-{name}")
        self.record_invite(inv[0], ts - 1, R.SUPPORTER_INVITE)
        return self.join(name, ts, invite=inv)

    def decide(self, ts: int, *effects: A.Effect, voters: tuple[str, ...] = ("bob",)) -> str:
        """The founder runs a proposal with ``effects`` to adoption, closing at ``ts``;
        returns the decision (it takes effect ``COOLING`` later)."""
        pid = self.propose(self.founder, ts - 500, "Decide", effects=effects)
        rid = self.open_round(self.founder, ts - 400, pid)
        self.to_positions(self.founder, ts - 300, rid)
        for voter in voters:
            self.position(voter, ts - 100, rid)
        return self.ref(self.founder, self.close(self.founder, ts, rid))

    def join(
        self,
        name: str,
        ts: int,
        *,
        inviter: str | None = None,
        invite: tuple[Invite, SigningKey] | None = None,
        proof: bytes | None = None,
    ) -> dict[str, Any]:
        inv, secret = invite or self.make_invite(inviter or self.founder, label=f"for-{name}")
        self.record_invite(inv, min(ts - 1, inv.expires_ms - 1))
        signed = (
            proof if proof is not None else sign_invite_proof(secret, inv, key_for(name).public)
        )
        return self.add(
            name,
            B.join(
                self.next_id(),
                ts,
                self.dev(name),
                name=name,
                invite=inv.encode().hex(),
                proof=signed.hex(),
            ),
        )

    def admit(self, name: str, ts: int, join_ref: str) -> dict[str, Any]:
        return self.add(name, act_doc(A.Admit, self.next_id(), ts, self.dev(name), join=join_ref))

    def grant(
        self, name: str, ts: int, member: str, role: str, *, decision: str | None = None
    ) -> dict[str, Any]:
        return self.add(
            name,
            B.grant_role(
                self.next_id(),
                ts,
                self.dev(name),
                member=self.mid(member),
                role=role,
                term_end=ts + TERM,
                decision=decision,
            ),
        )

    def propose(
        self, name: str, ts: int, title: str = "Buy a shed", effects: tuple[Any, ...] = ()
    ) -> str:
        act = self.add(
            name,
            B.propose(self.next_id(), ts, self.dev(name), title=title, body="...", effects=effects),
        )
        return self.ref(name, act)

    def amend(
        self,
        name: str,
        ts: int,
        proposal: str,
        note: str = "integrated",
        effects: tuple[Any, ...] = (),
    ) -> dict[str, Any]:
        return self.add(
            name,
            B.amend(
                self.next_id(), ts, self.dev(name), proposal=proposal, body="v", note=note,
                effects=effects,
            ),
        )  # fmt: skip

    def open_round(
        self, name: str, ts: int, proposal: str, version: int = 1, deadline: int | None = None
    ) -> str:
        extra = {} if deadline is None else {"deadline": deadline}
        act = self.add(
            name,
            B.open_round(
                self.next_id(), ts, self.dev(name), proposal=proposal, version=version, **extra
            ),
        )
        return self.ref(name, act)

    def advance(
        self, name: str, ts: int, round_id: str, to: str, deadline: int | None = None
    ) -> dict[str, Any]:
        doc = B.advance_round(self.next_id(), ts, self.dev(name), round_=round_id, to=to)
        if deadline is not None:
            doc["deadline"] = deadline
        return self.add(name, doc)

    def to_positions(self, name: str, ts: int, round_id: str) -> None:
        self.advance(name, ts, round_id, R.REACTIONS)
        self.advance(name, ts + 1, round_id, R.POSITIONS)

    def position(
        self,
        name: str,
        ts: int,
        round_id: str,
        kind: str = R.CONSENT,
        reason: str = "fine",
        *,
        for_member: str | None = None,
        device: int = 0,
        act_id: str | None = None,
    ) -> dict[str, Any]:
        return self.add(
            name,
            B.position(
                act_id or self.next_id(),
                ts,
                self.dev(name, device),
                round_=round_id,
                kind=kind,
                reason=reason,
                for_member=None if for_member is None else self.mid(for_member),
            ),
        )

    def close(self, name: str, ts: int, round_id: str, statement: str = "") -> dict[str, Any]:
        act = B.close_round(
            self.next_id(), ts, self.dev(name), round_=round_id, statement=statement
        )
        return self.add(name, act)

    # --- reading ---------------------------------------------------------------------------

    def snapshot(self, only: Iterable[str] | None = None) -> AssemblySnapshot:
        names = None if only is None else {self.mid(n) for n in only}
        docs = {m: d for m, d in self.docs.items() if names is None or m in names}
        return snapshot_of(self.assembly_id, docs)

    def fold(self, now: int = 10**7, only: Iterable[str] | None = None) -> AssemblyState:
        return fold(self.snapshot(only), now)


def founded(*members: str, quorum: int = 1) -> World:
    """A created assembly (founder ana at ts 1000) that ``members`` joined at ts 1100..."""
    w = World(quorum=quorum)
    w.create(1_000)
    for i, name in enumerate(members):
        w.join(name, 1_100 + i)
    return w


def ignored_rules(state: AssemblyState) -> list[str]:
    return [e.rule or "" for e in state.audit if not e.accepted]


def last_entry(state: AssemblyState, ident: str) -> Any:
    """The audit entry of the act with this id (as written) or this ref."""
    return next(e for e in reversed(state.audit) if ident in (e.act_id, e.ref))


def logged(doc: list[Any]) -> list[LoggedAct]:
    """A document's values as the storage layer logs them: each attributed to the device it
    names (as its signature would), in order within each device's chain."""
    seqs: dict[str, int] = {}
    out = []
    device = "00"
    for value in doc:
        named = value.get("device") if isinstance(value, dict) else None
        # A value that names no device came from the device that wrote the one before it.
        device = named if isinstance(named, str) else device
        seqs[device] = seqs.get(device, 0) + 1
        out.append(LoggedAct(value, device, seqs[device]))
    return out


def snapshot_of(assembly_id: bytes, docs: dict[str, list[Any]]) -> AssemblySnapshot:
    return AssemblySnapshot(assembly_id, {m: logged(d) for m, d in docs.items()})
