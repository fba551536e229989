"""docs/protocol.md §9: every row of the threat model names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_the_threat_model_names_exists() -> None:
    page = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = page[page.index("## 9. Threat model") :]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`tests/" in line]
    assert len(rows) >= 7
    for row in rows:
        for path, name in re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", row):
            source = (ROOT / path).read_text(encoding="utf-8")
            if name:
                assert re.search(rf"def {name}\(", source), f"{path}::{name} is not a test"
