"""Joining and syncing over real sockets through the command line: ``join`` then ``sync``
reaches the inviter from the invite's address hints, proves the invite and gets the assembly;
commands run against a home while its node serves, and the node passes their changes on."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assemblymesh.cli import main
from assemblymesh.home import Home
from assemblymesh.net.node import Node


def run(home: Path, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


class ServingNode:
    """``assemblymesh serve`` in a thread of its own, on an ephemeral loopback port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.local = Home(self.home).open()
        self.node = Node(self.local.node_config(("127.0.0.1", 0)))
        self.loop.run_until_complete(self.node.start())
        assert self.node.listen_address is not None
        self.port = self.node.listen_address[1]
        self.ready.set()
        self.loop.run_until_complete(self.node.run_until_stopped())
        self.local.close()

    def __enter__(self) -> ServingNode:
        self.thread.start()
        assert self.ready.wait(30), "node did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.node.stop(), self.loop).result(30)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def founded(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "amara"
    run(home, "init", "--name", "Riverside", "--member-name", "Amara")
    yield home


def status(home: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(run(home, "status", "--json").stdout)


def test_join_then_sync_reaches_the_inviter_through_the_invite_hints(
    founded: Path, tmp_path: Path
) -> None:
    with ServingNode(founded) as serving:
        pid = run(founded, "propose", "--title", "Quiet hours", "--body", "8pm").stdout.split()[-1]
        code = run(founded, "invite", "--no-qr", "--hint", f"127.0.0.1:{serving.port}")
        ben = tmp_path / "ben"
        run(ben, "join", code.stdout.splitlines()[-1], "--member-name", "Ben")
        out = run(ben, "sync").stdout
        assert f"synced with 127.0.0.1:{serving.port}" in out
        data = status(ben)
        assert data["assembly"]["name"] == "Riverside"
        assert [p["id"] for p in data["proposals"]] == [pid]
        assert sorted(m["name"] for m in data["members"]) == ["Amara", "Ben"]
        # Ben writes and syncs again; the serving node has it, and so does a CLI reader.
        run(ben, "propose", "--title", "Seed swap", "--body", "March")
        run(ben, "sync")
        assert status(founded)["digest"] == status(ben)["digest"]


def test_sync_with_a_wrong_secret_is_refused_in_one_line(founded: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    run(other, "init", "--name", "Elsewhere", "--member-name", "Zed")
    with ServingNode(founded) as serving:
        result = run(
            other, "sync", "--peer", f"127.0.0.1:{serving.port}", "--timeout", "10", ok=False
        )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert status(founded)["members"][0]["name"] == "Amara" and len(status(founded)["members"]) == 1


def test_sync_without_any_peer_says_what_to_do(founded: Path) -> None:
    result = run(founded, "sync", ok=False)
    assert result.exit_code == 1 and "--peer" in result.stderr


class ResettingPeer:
    """A TCP peer that reads the first bytes of every connection, then resets it."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.resets = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import socket
        import struct

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(64)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            self.resets += 1

    def close(self) -> None:
        self.sock.close()


def test_sync_reports_a_reset_in_one_line_and_tries_the_next_address(
    founded: Path, tmp_path: Path
) -> None:
    resetting = ResettingPeer()
    try:
        with ServingNode(founded) as serving:
            code = run(
                founded, "invite", "--no-qr",
                "--hint", f"127.0.0.1:{resetting.port}", "--hint", f"127.0.0.1:{serving.port}",
            )  # fmt: skip
            ben = tmp_path / "ben"
            run(ben, "join", code.stdout.splitlines()[-1], "--member-name", "Ben")
            out = run(ben, "sync").stdout
            assert f"synced with 127.0.0.1:{serving.port}" in out
            assert resetting.resets >= 1
            # Only the resetting peer: one line on stderr, no traceback.
            result = run(ben, "sync", "--peer", f"127.0.0.1:{resetting.port}", ok=False)
            assert result.exit_code == 1
            assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    finally:
        resetting.close()


def test_a_reused_invite_is_told_why_and_the_joiner_takes_a_new_code_or_leaves(
    founded: Path, tmp_path: Path
) -> None:
    with ServingNode(founded) as serving:
        hint = f"127.0.0.1:{serving.port}"
        code = run(founded, "invite", "--no-qr", "--hint", hint).stdout.splitlines()[-1]
        run(tmp_path / "ben", "join", code, "--member-name", "Ben")
        run(tmp_path / "ben", "sync")
        eve = tmp_path / "eve"
        joined = run(eve, "join", code, "--member-name", "Eve").stdout
        assert "Joined." not in joined  # nothing is joined before a member admits it
        refused = run(eve, "sync", "--timeout", "10", ok=False)
        assert refused.exit_code == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert "already used" in refused.stderr and "--new-code" in refused.stderr
        assert "leave" in refused.stderr
        assert status(eve)["me"]["invite_refused"] == "this invite was already used by someone else"
        assert "Your invite was refused" in run(eve, "status").stdout
        # The same code again is refused at once; a new code replaces the half-join.
        again = run(eve, "join", code, "--member-name", "Eve", ok=False)
        assert again.exit_code == 1 and "--new-code" in again.stderr
        fresh = run(founded, "invite", "--no-qr", "--hint", hint).stdout.splitlines()[-1]
        run(eve, "join", fresh, "--member-name", "Eve", "--new-code")
        assert status(eve)["me"]["invite_refused"] is None
        run(eve, "sync")
        assert status(eve)["assembly"]["name"] == "Riverside"

        # Leaving: a refused joiner removes its half-join; a member's assembly stays.
        mallory = tmp_path / "mallory"
        aid = run(mallory, "join", code, "--member-name", "Mal").stdout.splitlines()[-1]
        run(mallory, "sync", ok=False)
        assert "Left" in run(mallory, "leave").stdout
        assert not (mallory / "assemblies" / aid).exists()
        member = run(founded, "leave", ok=False)
        assert member.exit_code == 1 and "member" in member.stderr
        assert status(founded)["assembly"]["name"] == "Riverside"
