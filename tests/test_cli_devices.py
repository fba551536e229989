"""A member's keys and devices through the command line: the member key and this device's
own key files sealed under a passphrase, a wrong passphrase refused with one line and
nothing changed, a backup restored on a new device, a device listed and revoked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assemblymesh import cli
from assemblymesh.crdt import keyfiles
from assemblymesh.home import Home
from tests.helpers import Clock

FAST = keyfiles.KdfCost(1, 8192)  # the cheapest Argon2id: these tests check behaviour


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seal and back up with the cheapest cost (the format records the cost used)."""
    real_seal, real_encode = keyfiles.seal, keyfiles.Backup.encode
    monkeypatch.setattr(keyfiles, "seal", lambda s, p, cost=FAST: real_seal(s, p, FAST))
    import assemblymesh.home as home_module

    monkeypatch.setattr(home_module, "seal", lambda s, p, cost=FAST: real_seal(s, p, FAST))
    monkeypatch.setattr(
        keyfiles.Backup, "encode", lambda self, p, cost=FAST: real_encode(self, p, FAST)
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(cli, "Home", lambda root=None: Home(root, moved))
    return moved


def run(home: Path, *args: str, passphrase: str | None = None, new: str | None = None) -> Result:
    env = {cli.ENV_PASSPHRASE: passphrase, cli.ENV_NEW_PASSPHRASE: new}
    return CliRunner().invoke(
        cli.main, ["--home", str(home), *args], env=env, catch_exceptions=False
    )


def ok(home: Path, *args: str, **kw: str) -> Result:
    result = run(home, *args, **kw)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def refused(home: Path, *args: str, **kw: str) -> str:
    result = run(home, *args, **kw)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    return result.stderr


def files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.rglob("*.key"))}


def founded(tmp_path: Path) -> Path:
    home = tmp_path / "amara"
    ok(home, "init", "--name", "Riverside", "--member-name", "Amara")
    return home


def test_sealed_device_keys_ask_for_their_passphrase_and_a_wrong_one_changes_nothing(
    clock: Clock, tmp_path: Path
) -> None:
    home = founded(tmp_path)
    plain = files(home)
    ok(home, "key", "protect", "--device-keys", passphrase="laptop words")
    sealed = files(home)
    assert sealed["device.key"] != plain["device.key"]
    assert sealed["secret.key"] != plain["secret.key"]
    assert sealed["member.key"] == plain["member.key"]  # its own passphrase, if any
    assert all(keyfiles.is_sealed_text(sealed[n].decode()) for n in ("device.key", "secret.key"))
    # Every command now needs the passphrase.
    assert "wrong passphrase" in refused(home, "status", passphrase="guess")
    assert "a passphrase is needed" in refused(home, "status")  # no terminal, no variable
    assert files(home) == sealed
    status = json.loads(ok(home, "status", "--json", passphrase="laptop words").stdout)
    assert status["assembly"]["name"] == "Riverside"
    listed = json.loads(ok(home, "device", "list", "--json", passphrase="laptop words").stdout)
    assert listed["device_keys"] == "sealed" and listed["member_key"] == "plain"
    # The same device key, opened: the record it wrote is still its own.
    local = Home(home, clock).open(passphrase="laptop words")
    try:
        assert local.device_id == listed["devices"][0]["device"]
        assert local.state().assembly is not None
    finally:
        local.close()
    # A new passphrase replaces the old one.
    ok(home, "key", "protect", "--device-keys", passphrase="laptop words", new="new words")
    refused(home, "status", passphrase="laptop words")
    ok(home, "status", passphrase="new words")


def test_a_sealed_member_key_is_asked_for_to_invite_and_a_wrong_one_changes_nothing(
    clock: Clock, tmp_path: Path
) -> None:
    home = founded(tmp_path)
    ok(home, "key", "protect", passphrase="member words")
    before = files(home)
    assert "wrong passphrase" in refused(home, "invite", "--no-qr", passphrase="guess")
    assert files(home) == before
    code = ok(home, "invite", "--no-qr", passphrase="member words").stdout.strip().splitlines()[-1]
    assert code.startswith("am")
    listed = json.loads(ok(home, "device", "list", "--json").stdout)
    assert listed["member_key"] == "sealed"


def test_founding_with_a_passphrase_seals_the_member_key_at_once(
    clock: Clock, tmp_path: Path
) -> None:
    home = tmp_path / "amara"
    out = ok(home, "init", "--name", "Riverside", "--member-name", "Amara",
             passphrase="at the start").stdout  # fmt: skip
    assert "member key is sealed" in out
    listed = json.loads(ok(home, "device", "list", "--json").stdout)
    assert listed["member_key"] == "sealed"
    assert "passphrase" in refused(home, "invite", "--no-qr")  # no terminal, none given
    ok(home, "invite", "--no-qr", passphrase="at the start")
    # Without a passphrase the key stays plain, and the command says what that means.
    plain = ok(tmp_path / "ben", "init", "--name", "Hill", "--member-name", "Ben").stdout
    assert "unsealed" in plain and "key protect" in plain
    assert (
        json.loads(ok(tmp_path / "ben", "device", "list", "--json").stdout)["member_key"] == "plain"
    )


def test_one_passphrase_opens_both_device_keys_and_member_key(clock: Clock, tmp_path: Path) -> None:
    home = founded(tmp_path)
    ok(home, "key", "protect", passphrase="one phrase")
    ok(home, "key", "protect", "--device-keys", passphrase="one phrase")
    code = ok(home, "invite", "--no-qr", passphrase="one phrase").stdout.strip().splitlines()[-1]
    assert code.startswith("am")


def test_backup_restore_on_a_new_device_and_a_wrong_passphrase(
    clock: Clock, tmp_path: Path
) -> None:
    home = founded(tmp_path)
    backup = tmp_path / "backup.txt"
    paper = tmp_path / "backup.html"
    ok(home, "key", "backup", "--out", str(backup), "--paper", str(paper), passphrase="bk")
    assert backup.stat().st_mode & 0o077 == 0
    assert "<svg" in paper.read_text() and "Riverside" in paper.read_text()
    new = tmp_path / "new-laptop"
    assert "wrong passphrase" in refused(new, "key", "restore", str(backup), passphrase="no")
    assert not new.exists()
    restored = ok(new, "key", "restore", str(backup), passphrase="bk")
    aid = restored.stdout.strip().splitlines()[-1]
    old = json.loads(ok(home, "status", "--json").stdout)
    assert aid == old["assembly"]["id"]
    listed = json.loads(ok(new, "device", "list", "--json").stdout)
    assert listed["member_key"] == "sealed"
    (this,) = listed["devices"]
    assert this["this"] and this["certified_ms"] is not None


def test_revoke_from_the_command_line(clock: Clock, tmp_path: Path) -> None:
    home = founded(tmp_path)
    # A second device of Amara's, made by restoring a backup (pairing is over TCP).
    backup = tmp_path / "backup.txt"
    ok(home, "key", "backup", "--out", str(backup), passphrase="bk")
    phone = tmp_path / "phone"
    ok(phone, "key", "restore", str(backup), passphrase="bk")
    a, b = Home(home, clock).open(), Home(phone, clock).open()
    try:
        for src, dst in ((b, a), (a, b)):
            missing = [c.data for c in src.replica.missing_for(dst.replica.vector())]
            dst.replica.ingest(missing)
        phone_id = b.device_id
    finally:
        a.close()
        b.close()
    listed = json.loads(ok(home, "device", "list", "--json").stdout)
    assert [d["device"] for d in listed["devices"]][1:] == [phone_id]
    assert "itself" in refused(home, "device", "revoke", listed["devices"][0]["device"][:8])
    revoked = ok(home, "device", "revoke", phone_id[:8])
    assert "Revoked device" in revoked.stdout
    listed = json.loads(ok(home, "device", "list", "--json").stdout)
    assert listed["devices"][1]["revoked_after"] is not None
    assert "already revoked" in refused(home, "device", "revoke", phone_id[:8])
