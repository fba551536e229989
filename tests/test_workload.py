"""The benchmark workload is the peers' workload, op for op (shared/anchors/workload.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = ROOT.parent / "shared" / "anchors" / "workload.mjs"
sys.path.insert(0, str(ROOT / "bench"))

from workload import workload  # noqa: E402


@pytest.mark.skipif(not ANCHOR.exists(), reason="shared/anchors is not beside this checkout")
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_python_workload_matches_the_javascript_one() -> None:
    script = (
        f"import({json.dumps(ANCHOR.as_uri())}).then(m => {{"
        " const out = []; for (const op of m.workload(3000)) out.push(op);"
        " console.log(JSON.stringify(out)); })"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    expected = json.loads(result.stdout)
    ours = list(workload(3000))
    assert len(ours) == len(expected) == 3000
    for op, js in zip(ours, expected, strict=True):
        if js["kind"] == "map":
            assert (op.kind, op.writer, op.target, op.field, op.value) == (
                "map", js["w"], js["entity"], js["field"], js["value"],
            )  # fmt: skip
        else:
            assert (op.kind, op.writer, op.target, op.pos, op.value) == (
                "text", js["w"], js["text"], js["pos"], js["str"],
            )  # fmt: skip
