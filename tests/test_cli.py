"""The command line, end to end on real homes (keys, stores, folds)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assemblymesh.cli import main
from assemblymesh.errors import InviteError
from assemblymesh.home import Home, InviteCode, LocalAssembly


def run(home: Path, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def sync(a: Path, b: Path) -> None:
    """Exchange everything both ways, in process (the network does this for real)."""
    la, lb = Home(a).open(), Home(b).open()
    try:
        for src, dst in ((la, lb), (lb, la)):
            missing = [c.data for c in src.replica.missing_for(dst.replica.vector())]
            assert not dst.replica.ingest(missing).rejected
    finally:
        la.close()
        lb.close()


def status(home: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(run(home, "status", "--json").stdout)


@pytest.fixture
def founded(tmp_path: Path) -> Path:
    home = tmp_path / "amara"
    run(home, "init", "--name", "Riverside Tenants", "--member-name", "Amara",
        "--cooling-off-hours", "0")  # fmt: skip
    return home


def test_a_full_consent_round(founded: Path) -> None:
    pid = last_line(run(founded, "propose", "--title", "Quiet hours", "--body", "No drills at 8pm"))
    rid = last_line(run(founded, "round", "open", pid[:6]))
    assert "reactions" in run(founded, "round", "advance", rid).stdout
    assert "positions" in run(founded, "round", "advance", rid).stdout
    run(founded, "position", rid, "consent", "--reason", "fine by me")
    assert "outcome: adopted" in run(founded, "round", "close", rid).stdout
    data = status(founded)
    assert data["assembly"]["name"] == "Riverside Tenants"
    assert [p["state"] for p in data["proposals"]] == ["adopted"]
    assert data["decisions"][0]["status"] == "in-effect"
    log = run(founded, "log").stdout
    assert "proposed 'Quiet hours'" in log and "close_round" in log


def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(founded: Path, tmp_path: Path) -> None:
    result = run(founded, "round", "close", "ffff", ok=False)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    pid = last_line(run(founded, "propose", "--title", "T", "--body", "B"))
    rid = last_line(run(founded, "round", "open", pid))
    result = run(founded, "position", rid, "object", ok=False)  # still in questions phase
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert "rule:" in result.stderr
    result = run(tmp_path / "empty", "status", ok=False)
    assert "no assembly" in result.stderr and result.exit_code == 1


def test_objection_returns_the_proposal_for_revision(founded: Path) -> None:
    pid = last_line(run(founded, "propose", "--title", "Dues", "--body", "5 a month"))
    rid = last_line(run(founded, "round", "open", pid))
    run(founded, "round", "advance", rid)
    run(founded, "round", "advance", rid)
    run(founded, "position", rid, "object", "--reason", "too much for some of us")
    out = run(founded, "round", "close", rid).stdout
    assert (
        "outcome: objections (proposal is now returned)" in out and "too much for some of us" in out
    )
    run(founded, "amend", pid, "--body", "3 a month, waived on request", "--note", "integrated")
    rid2 = last_line(run(founded, "round", "open", pid))
    assert rid2 != rid
    proposal = status(founded)["proposals"][0]
    assert proposal["version"] == 2 and len(proposal["rounds"]) == 2


def test_invite_join_and_sync_admit_the_new_member(founded: Path, tmp_path: Path) -> None:
    code = last_line(run(founded, "invite", "--no-qr", "--hint", "192.0.2.1:7700"))
    assert code.startswith("am1:")
    ben = tmp_path / "ben"
    run(ben, "join", code, "--member-name", "Ben")
    assert status(ben)["me"]["admitted"] is False
    sync(founded, ben)
    for home in (founded, ben):
        data = status(home)
        assert sorted(m["name"] for m in data["members"]) == ["Amara", "Ben"]
    assert status(founded)["digest"] == status(ben)["digest"]
    assert status(ben)["me"]["admitted"] is True
    # The same code again: refused on every node (the invite is spent).
    carol = tmp_path / "carol"
    run(carol, "join", code, "--member-name", "Carol")
    sync(founded, carol)
    assert "Carol" not in [m["name"] for m in status(founded)["members"]]


def test_a_damaged_invite_code_is_refused_clearly(tmp_path: Path, founded: Path) -> None:
    code = last_line(run(founded, "invite", "--no-qr"))
    for bad in (code[:-10], "hello", code.replace("am1:", "am1:A")):
        result = run(tmp_path / "x", "join", bad, "--member-name", "X", ok=False)
        assert result.exit_code == 1 and result.stderr.startswith("error: ")
        assert not (tmp_path / "x" / "assemblies").exists() or not Home(tmp_path / "x").assemblies()


def test_a_facilitator_records_a_position_for_a_member_without_a_device(
    founded: Path, tmp_path: Path
) -> None:
    code = last_line(run(founded, "invite", "--no-qr"))
    ben = tmp_path / "ben"
    run(ben, "join", code, "--member-name", "Ben")
    sync(founded, ben)
    pid = last_line(run(founded, "propose", "--title", "Garden", "--body", "Plant trees"))
    rid = last_line(run(founded, "round", "open", pid))
    run(founded, "round", "advance", rid)
    run(founded, "round", "advance", rid)
    out = run(founded, "position", rid, "concern", "--reason", "watering", "--for", "Ben").stdout
    assert "provisional" in out
    ben_id = next(m["id"] for m in status(founded)["members"] if m["name"] == "Ben")
    rnd = next(r for r in status(founded)["rounds"] if r["id"] == rid)
    assert rnd["positions"][ben_id]["provisional"] is True
    sync(founded, ben)
    run(ben, "position", rid, "consent")  # Ben confirms from his own device
    sync(founded, ben)
    rnd = next(r for r in status(founded)["rounds"] if r["id"] == rid)
    assert rnd["positions"][ben_id] == {
        "kind": "consent", "kind_label": "consent", "reason": "", "provisional": False,
        "late": False,
    }  # fmt: skip


def test_status_json_and_text_agree_on_the_digest(founded: Path) -> None:
    data = status(founded)
    text = run(founded, "status").stdout
    assert data["digest"][:16] in text
    local: LocalAssembly = Home(founded).open()
    try:
        assert local.replica.digest().hex() == data["digest"]
    finally:
        local.close()


def test_every_single_character_corruption_of_an_invite_code_is_refused(founded: Path) -> None:
    code = last_line(run(founded, "invite", "--no-qr", "--hint", "192.0.2.1:7361"))
    assert len(code) < 360
    assert InviteCode.decode(code).hints == ("192.0.2.1:7361",)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789:"
    passed = []
    for i, original in enumerate(code):
        for c in alphabet:
            if c == original.lower():
                continue  # the code is read case-insensitively: "A" is not damage
            damaged = code[:i] + c + code[i + 1 :]
            try:
                InviteCode.decode(damaged)
            except InviteError:
                continue
            passed.append(damaged)
    assert passed == []
    for cut in (code[:-1], code[:-8], code + "a"):
        with pytest.raises(InviteError):
            InviteCode.decode(cut)


def test_an_invite_code_survives_whitespace_case_and_line_breaks(
    founded: Path, tmp_path: Path
) -> None:
    code = last_line(run(founded, "invite", "--no-qr"))
    wrapped = "\n".join(code[i : i + 60] for i in range(0, len(code), 60))
    assert InviteCode.decode(f"  {wrapped}\n") == InviteCode.decode(code.upper())
    run(tmp_path / "ben", "join", "  " + wrapped.replace("\n", "\r\n  "), "--member-name", "Ben")
    # A damaged code is refused at join, in one line, and leaves nothing behind.
    bad = code[:40] + ("b" if code[40] != "b" else "c") + code[41:]
    result = run(tmp_path / "eve", "join", bad, "--member-name", "Eve", ok=False)
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: the invite code is damaged (was it copied completely and exactly?)\n"
    )
    assert not Home(tmp_path / "eve").assemblies()


def store_of(home: Path) -> Path:
    (store,) = (home / "assemblies").glob("*/store.sqlite")
    return store


def test_a_damaged_or_emptied_store_is_named_in_one_line(founded: Path) -> None:
    store = store_of(founded)
    store.write_bytes(b"")
    result = run(founded, "status", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "holds none of this node's changes" in result.stderr and str(store) in result.stderr
    assert "not yet received" not in result.stdout
    store.write_bytes(b"this is not a database" * 100)
    result = run(founded, "status", ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "corrupt" in result.stderr


def test_long_texts_come_from_a_file_or_stdin_and_the_limit_is_stated(
    founded: Path, tmp_path: Path
) -> None:
    from assemblymesh.model.acts import MAX_TEXT_LEN

    text = "A long policy.\n" * 1000
    path = tmp_path / "policy.txt"
    path.write_text(text)
    pid = last_line(run(founded, "propose", "--title", "Policy", "--body-file", str(path)))
    result = CliRunner().invoke(
        main, ["--home", str(founded), "amend", pid, "--body", "-"], input="From stdin.\n"
    )
    assert result.exit_code == 0, result.output
    versions = Home(founded).open()
    try:
        p = versions.state().proposals[pid]
        assert [v.body for v in p.versions] == [text, "From stdin.\n"]
    finally:
        versions.close()
    path.write_text("x" * (MAX_TEXT_LEN + 1))
    result = run(founded, "propose", "--title", "Too long", "--body-file", str(path), ok=False)
    assert result.exit_code == 1
    assert "200,000" in result.stderr and f"{MAX_TEXT_LEN + 1:,}" in result.stderr
    result = run(founded, "propose", "--title", "Neither", ok=False)
    assert result.exit_code == 1 and "--body-file" in result.stderr


def test_control_and_direction_characters_are_refused_in_titles_and_names(founded: Path) -> None:
    for title in ("Two\nlines", "Tab\there", "Budget\u202etxt.exe"):
        result = run(founded, "propose", "--title", title, "--body", "x", ok=False)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
        assert "U+" in result.stderr and "(rule: well-formed-act)" in result.stderr
    result = run(founded, "member", "add", "Elder\u202e", ok=False)
    assert result.exit_code == 1 and "U+202E" in result.stderr
    body = "Line one.\n\tLine two.\n"
    pid = last_line(run(founded, "propose", "--title", "Shed", "--body", body))
    assert [p["body"] for p in status(founded)["proposals"] if p["id"] == pid] == [body]
    # Nothing refused reached the record: status lists one proposal on one line each.
    listed = [line for line in run(founded, "status").stdout.splitlines() if "v1" in line]
    assert len(listed) == 1 and "Shed" in listed[0]


def test_closing_without_everyone_heard_needs_yes_and_late_objections_show_in_status(
    tmp_path: Path,
) -> None:
    amara, ben = tmp_path / "amara", tmp_path / "ben"
    run(amara, "init", "--name", "Riverside", "--member-name", "Amara")
    run(ben, "join", last_line(run(amara, "invite", "--no-qr")), "--member-name", "Ben")
    sync(amara, ben)
    pid = last_line(run(amara, "propose", "--title", "Quiet hours", "--body", "After 8pm."))
    rid = last_line(run(amara, "round", "open", pid))
    run(amara, "round", "advance", rid)
    run(amara, "round", "advance", rid)
    run(amara, "position", rid, "consent")
    result = run(amara, "round", "close", rid, ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "no position yet: Ben" in result.stderr
    assert "not in range" in result.stderr and "--yes" in result.stderr
    assert status(amara)["rounds"][0]["phase"] == "positions"  # nothing was written
    assert f"positions  on {pid[:8]} Quiet hours  positions: 1" in run(amara, "status").stdout
    assert "outcome: adopted" in run(amara, "round", "close", rid, "--yes").stdout
    assert "Changed since close" not in run(amara, "status").stdout

    sync(amara, ben)
    run(ben, "position", rid, "object", "--reason", "Shift workers sleep by day.")
    sync(amara, ben)
    text = run(amara, "status").stdout
    assert "Changed since close (1):" in text
    assert "Quiet hours: returned after a late objection from Ben" in text
    (changed,) = status(amara)["changed_since_close"]
    assert changed["status"] == "returned" and changed["objectors"] == ["Ben"]


def test_closing_when_everyone_has_spoken_needs_no_yes(founded: Path) -> None:
    pid = last_line(run(founded, "propose", "--title", "T", "--body", "B"))
    rid = last_line(run(founded, "round", "open", pid))
    run(founded, "round", "advance", rid)
    result = run(founded, "round", "close", rid, ok=False)
    assert "no position yet: Amara" in result.stderr
    assert "not in range" not in result.stderr  # this node is always in range of itself
    run(founded, "round", "advance", rid)
    run(founded, "position", rid, "consent")
    assert "outcome: adopted" in run(founded, "round", "close", rid).stdout


def test_home_and_plain_work_before_or_after_the_command(
    founded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    after = runner.invoke(main, ["status", "--json", "--home", str(founded)])
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["assembly"]["name"] == "Riverside Tenants"
    pid = last_line(run(founded, "propose", "--title", "T", "--body", "B"))
    opened = runner.invoke(main, ["round", "open", pid, "--home", str(founded)])
    assert opened.exit_code == 0, opened.output

    import assemblymesh.live

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(
        assemblymesh.live, "run", lambda home, assembly, **kw: calls.append({"home": home, **kw})
    )
    monkeypatch.delenv("ASSEMBLYMESH_PLAIN", raising=False)
    for args in (
        ["--plain", "--home", str(founded)],
        ["--plain", "tui", "--home", str(founded)],
        ["tui", "--plain", "--home", str(founded), "--listen", "127.0.0.1:7400"],
        ["--home", str(tmp_path), "tui", "--plain", "--home", str(founded)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert [c["plain"] for c in calls] == [True, True, True, True]
    assert all(c["home"].root == founded for c in calls)  # type: ignore[attr-defined]
    import assemblymesh.tui.demo

    demos: list[object] = []
    monkeypatch.setattr(
        assemblymesh.tui.demo, "run_demo", lambda keep, plain=None: demos.append(plain)
    )
    for args in (["--plain", "demo"], ["demo", "--plain"], ["demo"]):
        assert runner.invoke(main, args).exit_code == 0
    assert demos == [True, True, False]
    assert [c["listen"] for c in calls] == [("0.0.0.0", 7361)] * 2 + [("127.0.0.1", 7400)] + [
        ("0.0.0.0", 7361)
    ]


def test_a_second_serve_on_one_home_is_refused_and_the_ui_only_dials_out(founded: Path) -> None:
    import asyncio

    from assemblymesh.live import Network
    from assemblymesh.servelock import served, serving

    local = Home(founded).open()
    try:
        assert not served(local.directory)
        with serving(local.directory):  # as a running `assemblymesh serve` does
            assert served(local.directory)
            result = run(founded, "serve", "--no-mdns", "--listen", "127.0.0.1:1", ok=False)
            assert result.exit_code == 1 and result.stderr.count("\n") == 1
            assert "'assemblymesh serve' already runs for this assembly" in result.stderr

            async def start() -> tuple[object, str]:
                async with Network(local, listen=("127.0.0.1", 0), mdns=False) as net:
                    assert net.node is not None
                    return net.node.listen_address, net.note

            address, note = asyncio.run(start())
            assert address is None and "only dials out" in note
        assert not served(local.directory)
    finally:
        local.close()


def test_a_decision_with_effects_from_the_command_line(founded: Path) -> None:
    """Cooling-off 0: the effects run as the round closes; rules and log show them."""
    pid = last_line(
        run(
            founded, "propose", "--title", "Rota", "--body", "Amara keeps the notes.",
            "--effect", "grant-role:Amara:note-taker:30", "--effect", "rule:quorum=2",
        )
    )  # fmt: skip
    assert [e["effect"] for e in status(founded)["proposals"][0]["effects"]] == [
        "grant_role", "set_rule",
    ]  # fmt: skip
    rid = last_line(run(founded, "round", "open", pid))
    run(founded, "round", "advance", rid)
    run(founded, "round", "advance", rid)
    run(founded, "position", rid, "consent")
    run(founded, "round", "close", rid)
    data = status(founded)
    assert "note_taker" in data["members"][0]["roles"]
    assert data["assembly"]["rules"]["quorum"] == 2
    assert "quorum: 1 -> 2" in run(founded, "rules").stdout
    log = run(founded, "log").stdout
    assert "effect:grant_role" in log and "effect:set_rule" in log
    bad = run(founded, "propose", "--title", "X", "--body", "y", "--effect", "fly:me", ok=False)
    assert bad.exit_code == 1 and "is not one of" in bad.stderr
    # Roles change by decision only, once the founding period is over.
    refused = run(founded, "role", "grant", "Amara", "steward", ok=False)
    assert "role-by-decision" in refused.stderr
    # The refusal says how to get the decision: the command that proposes it, which works.
    (line,) = refused.stderr.splitlines()
    suggested = line.split("assemblymesh ", 1)[1]
    assert suggested.startswith("propose ") and '"grant-role:Amara:steward:90"' in suggested
    args = shlex.split(suggested.replace('"Why"', '"She keeps the keys."'))
    pid = last_line(run(founded, *args))
    assert status(founded)["proposals"][-1]["effects_text"] == ["grant-role:Amara:steward:90"]
    assert pid
    # The holder still steps down from a role of their own without a decision.
    assert run(founded, "role", "end", "Amara", "note-taker").stdout.strip() == "note-taker ended"


@pytest.mark.parametrize(
    "args",
    [("invite", "--valid-days", "x"), ("round", "open", "--nope"), ("frobnicate",)],
)
def test_a_mistyped_command_line_is_one_error_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path), *args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "--help')" in result.stderr


def test_the_audit_trail_dates_an_invite_expiry(founded: Path) -> None:
    run(founded, "invite", "--no-qr", "--valid-days", "7")
    (line,) = [line for line in run(founded, "log").stdout.splitlines() if "invite" in line]
    expires = line.rsplit("(expires ", 1)[1]
    assert (
        expires.endswith(" UTC)")
        and expires[:2] == "20"
        and len(expires) == len("2026-12-11 06:23 UTC)")
    )
