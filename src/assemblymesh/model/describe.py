"""The tables of ``docs/process.md``, rendered from the act classes and the transition tables.

``python -m assemblymesh.model.describe docs/process.md`` rewrites the generated parts of the
page in place (between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``); a test fails
when the page and the code disagree.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from assemblymesh.model import acts as A
from assemblymesh.model import library
from assemblymesh.model import rules as R
from assemblymesh.model import tables as T


def acts_table() -> str:
    rows = ["| type | fields | who may write it |", "| --- | --- | --- |"]
    for cls in A.ACT_CLASSES:
        rows.append(f"| `{cls.TYPE}` | {A.describe_fields(cls)} | {cls.WHO} |")
    return "\n".join(rows)


def round_table() -> str:
    rows = ["| phase | act | next phase |", "| --- | --- | --- |"]
    for (phase, act), nxt in T.ROUND_MOVES.items():
        rows.append(f"| {phase} | `{act.TYPE}` | {nxt} |")
    return "\n".join(rows)


def proposal_table() -> str:
    rows = ["| state | event | next state |", "| --- | --- | --- |"]
    for (state, event), nxt in T.PROPOSAL_MOVES.items():
        name = f"`{event.TYPE}`" if not isinstance(event, str) else event
        rows.append(f"| {state} | {name} | {nxt} |")
    return "\n".join(rows)


def decision_table() -> str:
    rows = ["| status | event | next status |", "| --- | --- | --- |"]
    for (status, event), nxt in T.DECISION_MOVES.items():
        rows.append(f"| {status} | {event} | {nxt} |")
    return "\n".join(rows)


def meeting_table() -> str:
    rows = ["| state | `advance_meeting` to | next state |", "| --- | --- | --- |"]
    for (state, to), nxt in T.MEETING_MOVES.items():
        rows.append(f"| {state} | `{to}` | {nxt} |")
    return "\n".join(rows)


def limits_table() -> str:
    rows = ["| limit | value |", "| --- | --- |"]
    rows.append(f"| act id | {A.MIN_ID_LEN}-{A.MAX_ID_LEN} lowercase hex digits |")
    rows.append(f"| act ref | {A.REF_HEX_LEN} lowercase hex digits |")
    rows.append(f"| one-line text (titles, names) | {A.MAX_LINE_LEN:,} characters |")
    rows.append(f"| text (bodies, charters, reasons, notes) | {A.MAX_TEXT_LEN:,} characters |")
    rows.append(f"| `seen` | at most {A.MAX_SEEN} refs |")
    rows.append("| integers | 0 ..= 2^53 unless the field says otherwise |")
    rows.append(f"| a term of office | at most {R.MAX_TERM_MS // R.DAY_MS} days from its grant |")
    rows.append(
        f"| the library | at most {library.MAX_ENTRIES} publications, each at most"
        f" {A.MAX_PUBLICATION_BYTES:,} bytes |"
    )
    rows.append(f"| future skew | {R.MAX_FUTURE_SKEW_MS // 1000} s |")
    return "\n".join(rows)


SECTIONS: Mapping[str, Callable[[], str]] = {
    "acts": acts_table,
    "round-moves": round_table,
    "proposal-moves": proposal_table,
    "decision-moves": decision_table,
    "meeting-moves": meeting_table,
    "limits": limits_table,
}


def render(page: str) -> str:
    """``page`` with every generated section rewritten from the code."""
    for name, make in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end: {name} -->)", re.DOTALL
        )
        if not pattern.search(page):
            raise ValueError(f"the page has no generated section {name!r}")
        page = pattern.sub(_splicer(make()), page)
    return page


def _splicer(text: str) -> Callable[[re.Match[str]], str]:
    def splice(m: re.Match[str]) -> str:
        return m.group(1) + text + "\n" + m.group(2)

    return splice


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "docs/process.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
