"""The tmux end-to-end smoke script, run from pytest (skipped where tmux is missing).

The script runs the program installed beside the interpreter running the tests, never one
found in ./.venv or on PATH: what is tested is what this interpreter imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "tui-smoke.sh"
PROGRAM = Path(sys.executable).parent / "assemblymesh"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tui_smoke_script() -> None:
    assert PROGRAM.exists(), f"{PROGRAM} is missing: install the package in this environment"
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "AM": str(PROGRAM)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tui smoke: ok" in result.stdout
