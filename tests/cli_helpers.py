"""The command line as the end-to-end tests drive it: in process, one home per member, and
a clock every home opened by the CLI reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from assemblymesh import cli
from assemblymesh.home import Home
from tests.helpers import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Every home the command line opens reads this clock."""
    moved = Clock()
    monkeypatch.setattr(cli, "Home", lambda root=None: Home(root, moved))
    return moved


def run(home: Path, *args: str, ok: bool = True, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(
        cli.main, ["--home", str(home), *args], input=stdin, catch_exceptions=False
    )
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def refused(home: Path, *args: str) -> str:
    """The one error line a refused command prints."""
    result = run(home, *args, ok=False)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    # The word "error" is in the chosen language (Arabic: "خطأ").
    assert result.stderr.startswith(("error: ", "خطأ: ")), result.stderr
    return result.stderr


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def status(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(home, "status", "--json").stdout)
    return data


def sync(clock: Clock, *homes: Path) -> None:
    """Exchange everything between the homes, twice over, in process (the network does
    this for real); nothing may be refused."""
    nodes = [Home(h, clock).open() for h in homes]
    try:
        for _ in range(2):
            for src in nodes:
                for dst in nodes:
                    if src is not dst:
                        missing = [c.data for c in src.replica.missing_for(dst.replica.vector())]
                        assert not dst.replica.ingest(missing).rejected
    finally:
        for node in nodes:
            node.close()
