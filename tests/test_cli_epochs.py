"""``assemblymesh epochs`` and the epochs in ``status --json``, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from assemblymesh.cli import main


def run(home: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_a_founder_holds_epoch_0_and_a_joiner_awaits_its_secret(tmp_path: Path) -> None:
    a, b = tmp_path / "amara", tmp_path / "ben"
    run(a, "init", "--name", "Riverside", "--member-name", "Amara")
    data = json.loads(run(a, "status", "--json").stdout)["epochs"]
    assert (data["current"], data["held"], data["sealed_devices"]) == (0, 0, 1)
    assert data["rotation_due"] is None
    code = run(a, "invite", "--no-qr", "--hint", "127.0.0.1:1").stdout.strip().splitlines()[-1]
    assert json.loads(run(a, "status", "--json").stdout)["epochs"]["joins_open"] == 1
    run(b, "join", code, "--member-name", "Ben")
    out = run(b, "epochs", "status").stdout
    assert "this node holds none yet" in out
    assert "wrote 0 act(s); epoch 0" in run(a, "epochs", "keep").stdout
