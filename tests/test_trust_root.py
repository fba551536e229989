"""The trust boundary as the composition root wires it: who may store, sync and act."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assemblymesh.crdt.change import Change
from assemblymesh.crdt.identity import DeviceCertificate, SigningKey
from assemblymesh.errors import RejectReason
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import acts as A
from assemblymesh.net.credentials import Admitted, PeerIdentity, Refused
from tests.helpers import Clock, act_ids, exchange


def made_up_member_change(local: LocalAssembly, act: dict[str, object]) -> bytes:
    """What a holder of the assembly secret can sign without being a member: a member key
    it made up, a certificate it issued itself, and an act in that member's document."""
    import pycrdt

    member, device = SigningKey(bytes(range(32))), SigningKey(bytes(range(1, 33)))
    cert = DeviceCertificate.issue(member, local.assembly_id, device.public, 0)
    from assemblymesh.crdt.identity import yjs_client_id

    doc = pycrdt.Doc(client_id=yjs_client_id(device.public))
    acts = doc.get("acts", type=pycrdt.Array)
    with doc.transaction():
        acts.append(act)
    update = doc.get_update()
    change = Change.create(
        device, local.assembly_id, member.public, 1, b"", 1, update, cert.encode()
    )
    return change.data


def test_the_store_keeps_no_document_of_a_made_up_member(tmp_path: Path) -> None:
    amara = Home(tmp_path / "a", Clock()).create("R", "Amara", new_id=act_ids("a"))
    junk = A.Propose(id="00000000000000aa", ts=5, title="Free money", body="").to_doc()
    result = amara.replica.ingest([made_up_member_change(amara, junk)])
    assert [r.reason for r in result.rejected] == [RejectReason.NOT_AUTHORISED]
    assert set(amara.snapshot().acts) == {amara.member_id}
    amara.close()


def test_a_node_that_has_just_joined_talks_to_its_inviter_only(tmp_path: Path) -> None:
    clock = Clock()
    amara = Home(tmp_path / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(amara.issue_invite().encode(), "Ben", act_ids("b"))
    stranger = Home(tmp_path / "c", clock).join(amara.issue_invite().encode(), "Cy", act_ids("c"))

    def peer(local: LocalAssembly) -> PeerIdentity:
        cert = local.certificate
        return PeerIdentity(cert.member, cert.device, cert, None)

    assert isinstance(ben.authorize(peer(amara)), Admitted)
    assert isinstance(ben.authorize(peer(stranger)), Refused)
    exchange(amara, ben)
    assert amara.admit_joins() == 1
    exchange(amara, ben)
    # Once the assembly is here, the rules of membership decide.
    assert isinstance(ben.authorize(peer(amara)), Admitted)
    for node in (amara, ben, stranger):
        node.close()


async def test_the_handshake_question_never_waits_for_a_fold_on_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the node runs, folds happen in a worker thread after each change; authorize
    answers from the last one (counted: no fold runs on the loop's thread)."""
    import asyncio
    import threading

    import assemblymesh.home as home_module
    from assemblymesh.model import commands, fold

    clock = Clock()
    amara = Home(tmp_path / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(amara.issue_invite().encode(), "Ben", act_ids("b"))
    exchange(amara, ben)
    on_loop: list[str] = []
    loop_thread = threading.get_ident()
    landed = asyncio.Event()
    real_to_thread = asyncio.to_thread

    def counting_fold(*args: object) -> object:
        if threading.get_ident() == loop_thread:
            on_loop.append("fold")
        return fold(*args)  # type: ignore[arg-type]

    async def to_thread_then_tell(func: Any, /, *args: Any) -> Any:
        result = await real_to_thread(func, *args)
        # Runs after the caller has stored the result: it resumes in this same step.
        asyncio.get_running_loop().call_soon(landed.set)
        return result

    monkeypatch.setattr(home_module, "fold", counting_fold)
    monkeypatch.setattr(asyncio, "to_thread", to_thread_then_tell)
    try:
        fresh = asyncio.ensure_future(amara.keep_state_fresh())
        await asyncio.sleep(0)
        on_loop.clear()
        amara.act(commands.propose, "Quiet hours", "")  # a change: refolded in a thread
        # Asked before the loop has turned: the worker's fold cannot have landed, so an
        # answer that needed a current fold would fold here, on the loop's thread.
        cert = ben.certificate
        verdict = amara.authorize(PeerIdentity(cert.member, cert.device, cert, None))
        assert isinstance(verdict, Admitted)
        assert on_loop == []
        await asyncio.wait_for(landed.wait(), 60)
        assert amara._fold_cache and amara._fold_cache[0] == amara.replica.digest()
        assert on_loop == []
        fresh.cancel()
    finally:
        amara.close()
        ben.close()
