"""docs/process.md and the code agree: the page's tables are rendered from the act classes."""

from __future__ import annotations

from pathlib import Path

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.describe import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "process.md"


def test_the_generated_tables_match_the_code() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert render(page) == page, "run: python -m assemblymesh.model.describe docs/process.md"


def test_every_act_type_and_rule_name_is_on_the_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for cls in A.ACT_CLASSES:
        assert f"`{cls.TYPE}`" in page
    rule_names = [
        v
        for k, v in vars(R).items()
        if k.isupper() and isinstance(v, str) and "-" in v and " " not in v
        and v not in R.PROPOSAL_STATES and v not in R.DECISION_STATUSES
    ]  # fmt: skip
    missing = [name for name in rule_names if f"`{name}`" not in page]
    assert not missing, missing
