"""Control and direction characters: refused in one-line texts (titles, names), kept out of
bodies except newlines and tabs, by the commands and again by the fold, so a peer that
skips the commands cannot put a title on screen that reads as something it is not."""

from __future__ import annotations

import pytest

from assemblymesh.errors import IllegalMoveError
from assemblymesh.model import acts as A
from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from tests.model.helpers import ignored_rules
from tests.model.test_commands import founded_node

# A newline, a tab, an escape, and the right-to-left override: 'Budget\u202etxt.exe' would
# show as 'Budgetexe.txt'.
BAD_TITLES = ["Two\nlines", "Tab\there", "Bell\x1b[2J", "Budget\u202etxt.exe", "Isolate\u2067x"]


@pytest.mark.parametrize("title", BAD_TITLES)
def test_a_title_with_a_control_or_direction_character_is_refused(title: str) -> None:
    n = founded_node()
    stamp = C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now + 1, n.w.next_id())
    with pytest.raises(IllegalMoveError) as info:
        C.propose(n.state(), stamp, title, "Body.")
    assert info.value.rule == R.WELL_FORMED
    assert f"U+{ord(next(c for c in title if not c.isalnum() and c != ' ')):04X}" in str(info.value)


def test_a_body_keeps_its_newlines_and_tabs_but_not_other_controls() -> None:
    n = founded_node()
    body = "First line.\n\tIndented second line.\n"
    pid = n.do("bob", C.propose, "Shed", body)["id"]
    assert n.state().proposals[pid].versions[-1].body == body
    for bad in ("Escape \x1b[31mred", "Override \u202e", "Null \x00"):
        stamp = C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now + 1, n.w.next_id())
        with pytest.raises(IllegalMoveError) as info:
            C.propose(n.state(), stamp, "Shed", bad)
        assert info.value.rule == R.WELL_FORMED


def test_the_fold_ignores_a_written_act_whose_title_hides_its_direction() -> None:
    n = founded_node()
    act = C.propose(
        n.state(), C.Stamp(n.w.mid("bob"), n.w.dev("bob"), n.now + 1, n.w.next_id()), "Shed", ""
    )
    # Written as a peer that skips the commands would: straight into its document.
    n.w.add("bob", {**act.to_doc(), "title": "Budget\u202etxt.exe", "device": n.w.dev("bob")})
    state = n.state()
    assert [p.title for p in state.proposals.values()] == []
    assert ignored_rules(state) == [R.WELL_FORMED]


def test_text_problem_names_the_character() -> None:
    assert A.text_problem("Budget\u202etxt", line=True) == "contains the direction control U+202E"
    assert A.text_problem("a\nb", line=True) == "contains the control character U+000A"
    assert A.text_problem("a\nb\tc", line=False) is None
