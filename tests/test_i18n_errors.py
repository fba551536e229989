"""The errors a person meets outside the happy path (a damaged invite code, a bundle that
does not open, a wrong passphrase, a pairing code that is no such thing, a peer that does
not answer) are one line in the chosen language; what goes on the wire or on disk (the
refusal codes a responder sends a joiner, ``status --json``) stays the same in every one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assemblymesh import cli, i18n
from assemblymesh.crdt import keyfiles
from assemblymesh.errors import InviteRefused, RefusedPeer
from assemblymesh.home import Home
from assemblymesh.net.credentials import REFUSAL_CODES
from assemblymesh.net.handshake import PeerRefused
from tests.cli_helpers import Clock, last_line
from tests.net.test_handshake import ALICE, NOW, make_joiner, shuttle
from tests.net.test_handshake_refusal import MEMBERS, join_root, refusing
from tests.net.test_handshake_roots import ring, side

FAST = keyfiles.KdfCost(1, 8192)  # the cheapest Argon2id: these tests check the wording
ERROR = {"es": "error: ", "ar": "خطأ: "}


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    real_seal, real_encode = keyfiles.seal, keyfiles.Backup.encode
    monkeypatch.setattr(keyfiles, "seal", lambda s, p, cost=FAST: real_seal(s, p, FAST))
    import assemblymesh.home as home_module

    monkeypatch.setattr(home_module, "seal", lambda s, p, cost=FAST: real_seal(s, p, FAST))
    monkeypatch.setattr(
        keyfiles.Backup, "encode", lambda self, p, cost=FAST: real_encode(self, p, FAST)
    )


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The CLI sets the language of the process; the next test starts in English."""
    yield
    i18n.set_language("en")


def run(home: Path, *args: str, passphrase: str | None = None) -> Result:
    env = {cli.ENV_PASSPHRASE: passphrase, cli.ENV_NEW_PASSPHRASE: None}
    return CliRunner().invoke(
        cli.main, ["--home", str(home), *args], env=env, catch_exceptions=False
    )


def ok(home: Path, *args: str, **kw: str) -> Result:
    result = run(home, *args, **kw)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def error_line(home: Path, lang: str, *args: str, **kw: str) -> str:
    """The one line a refused command prints in ``lang``, without its ``error:`` word."""
    result = run(home, "--lang", lang, *args, **kw)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(ERROR[lang]), result.stderr
    return result.stderr.removeprefix(ERROR[lang]).rstrip("\n")


@pytest.fixture
def founded(tmp_path: Path, clock: Clock) -> Path:
    home = tmp_path / "amara"
    ok(home, "init", "--name", "Huerto", "--member-name", "Amara")
    return home


def test_a_damaged_invite_code_is_told_in_spanish_and_arabic(founded: Path, tmp_path: Path) -> None:
    code = last_line(ok(founded, "invite", "--no-qr"))
    bad = code[:40] + ("b" if code[40] != "b" else "c") + code[41:]
    eve = tmp_path / "eve"
    join = ("join", bad, "--member-name", "Eve")
    assert error_line(eve, "es", *join) == (
        "el código de invitación está dañado (¿se copió completo y exacto?)"
    )
    assert error_line(eve, "ar", *join) == "رمز الدعوة تالف (هل نُسخ كاملًا وبدقة؟)"
    assert error_line(eve, "es", "join", "hello", "--member-name", "Eve").startswith(
        "no es un código de invitación de AssemblyMesh"
    )
    assert not Home(eve).assemblies()


def test_a_bundle_that_does_not_open_is_told_in_spanish_and_arabic(
    founded: Path, tmp_path: Path
) -> None:
    made = tmp_path / "amara.bundle"
    ok(founded, "bundle", "export", str(made))
    altered = bytearray(made.read_bytes())
    altered[-5] ^= 1
    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(bytes(altered))
    assert error_line(founded, "es", "bundle", "import", str(damaged)) == (
        "el paquete no se abre: se hizo para otra asamblea, o se alteró o cortó en su"
        " primer fragmento"
    )
    assert error_line(founded, "ar", "bundle", "import", str(damaged)) == (
        "الحزمة لا تُفتح: أُعدّت لجمعية أخرى، أو عُدّلت أو قُطعت في جزئها الأول"
    )
    stub = tmp_path / "stub.bundle"
    stub.write_bytes(b"\x00")
    assert error_line(founded, "es", "bundle", "import", str(stub)) == (
        "no es un paquete: el archivo es demasiado corto o no empieza como un paquete"
    )
    assert error_line(founded, "ar", "bundle", "import", str(stub)) == (
        "ليس حزمة: الملف قصير جدًا أو لا يبدأ كما تبدأ الحزمة"
    )
    # English is still the source, word for word.
    result = run(founded, "bundle", "import", str(stub))
    assert result.stderr == (
        "error: not a bundle: the file is too short or does not start as one\n"
    )


def test_a_wrong_passphrase_is_told_in_spanish_and_arabic(founded: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.txt"
    ok(founded, "key", "backup", "--out", str(backup), passphrase="right words")
    new = tmp_path / "new-laptop"
    restore = ("key", "restore", str(backup))
    assert error_line(new, "es", *restore, passphrase="guess") == (
        "frase de contraseña incorrecta para esta copia de seguridad"
    )
    assert error_line(new, "ar", *restore, passphrase="guess") == (
        "عبارة المرور غير صحيحة لهذه النسخة الاحتياطية"
    )
    assert not new.exists()
    # The sealed key named inside the sentence is in the language too.
    ok(founded, "key", "protect", "--device-keys", passphrase="laptop words")
    assert error_line(founded, "es", "status", passphrase="guess") == (
        "frase de contraseña incorrecta para la clave de este dispositivo"
    )
    assert error_line(founded, "ar", "status", passphrase="guess") == (
        "عبارة المرور غير صحيحة (مفتاح هذا الجهاز)"
    )


def test_a_pairing_code_and_an_unreachable_peer_are_told_in_the_language(
    founded: Path, tmp_path: Path
) -> None:
    assert error_line(tmp_path / "phone", "es", "device", "join", "am-nope") == (
        "no es un código de emparejamiento (empieza por am-pair-1:)"
    )
    assert error_line(tmp_path / "phone", "ar", "device", "join", "am-nope") == (
        "ليس رمز إقران (يبدأ بـ am-pair-1:)"
    )
    # Port 1 on this machine: nothing listens there.
    spanish = error_line(founded, "es", "sync", "--peer", "127.0.0.1:1", "--timeout", "5")
    assert "no se puede conectar con 127.0.0.1:1: " in spanish
    arabic = error_line(founded, "ar", "sync", "--peer", "127.0.0.1:1", "--timeout", "5")
    assert "تعذّر الاتصال بـ 127.0.0.1:1: " in arabic


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_the_refusal_code_on_the_wire_is_the_same_in_every_language(lang: str) -> None:
    # Both sides speak another language: the code the responder sends, and the one the
    # joiner reads back, are the protocol's; only the sentence the joiner reads changes.
    i18n.set_language(lang)
    joiner = make_joiner("carol", ALICE)
    assert joiner.invite is not None
    join = join_root(joiner.invite[0])
    i = side("initiator", joiner, ring(0, join), refusing("invite-used"))
    r = side("responder", ALICE, ring(0, MEMBERS, MEMBERS, join), refusing("invite-used"))
    with pytest.raises(RefusedPeer):
        shuttle(i, r)
    with pytest.raises(InviteRefused) as refused:
        i.receive_data(r.data_to_send(), NOW + 20)
    assert refused.value.code == "invite-used" and "invite-used" in REFUSAL_CODES
    assert i.next_event() == PeerRefused("invite-used")
    expected = {
        "es": "otra persona ya usó esta invitación",
        "ar": "استخدم شخص آخر هذه الدعوة من قبل",
    }
    assert refused.value.text == expected[lang]


def test_a_refused_join_keeps_its_code_on_disk_and_its_json_in_english(
    founded: Path, tmp_path: Path, clock: Clock
) -> None:
    code = last_line(ok(founded, "invite", "--no-qr"))
    eve = tmp_path / "eve"
    ok(eve, "join", code, "--member-name", "Eve")
    local = Home(eve, clock).open()
    try:
        local.record_invite_refusal("invite-used")
    finally:
        local.close()
    (refused_file,) = eve.rglob("join.refused")
    shown = {}
    for lang in ("en", "es", "ar"):
        shown[lang] = json.loads(ok(eve, "--lang", lang, "status", "--json").stdout)
        assert refused_file.read_text() == "invite-used\n"
    assert shown["es"]["me"] == shown["en"]["me"] == shown["ar"]["me"]
    assert shown["es"]["me"]["invite_refused"] == "this invite was already used by someone else"
    spanish = ok(eve, "--lang", "es", "status").stdout
    assert "otra persona ya usó esta invitación" in spanish
    arabic = ok(eve, "--lang", "ar", "status").stdout
    assert "استخدم شخص آخر هذه الدعوة من قبل" in arabic
