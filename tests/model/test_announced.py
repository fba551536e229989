"""A close carries the outcome its node counted: where positions it had not received count
in the fold, the round says the outcome changed since its close, on every node."""

from __future__ import annotations

import dataclasses

from assemblymesh.model import commands as C
from assemblymesh.model import rules as R
from tests.model.test_commands import founded_node


def test_a_close_keeps_what_it_counted_and_the_fold_tells_when_it_differs() -> None:
    n = founded_node()
    pid = n.do("bob", C.propose, "Shed", "A shed.")["id"]
    rid = n.do("ana", C.open_round, pid)["id"]
    n.do("ana", C.advance_round, rid)
    n.do("ana", C.advance_round, rid)
    n.do("bob", C.position, rid, R.CONSENT, "", None)
    before = n.state()  # what Ana's node holds when she closes
    n.do("cara", C.position, rid, R.OBJECT, "It floods.", None)  # out of Ana's range
    stamp = n.stamp("ana")
    close = C.close_round(before, stamp, rid)
    assert close.announced == R.OUTCOME_ADOPTED
    n.w.add("ana", {**close.to_doc(), "device": stamp.device})
    r = n.state().rounds[rid]
    assert (r.announced, r.outcome, r.changed_since_close) == (
        R.OUTCOME_ADOPTED,
        R.OUTCOME_OBJECTIONS,
        True,
    )
    assert n.state().decisions == {}


def test_a_close_that_counted_everything_has_not_changed() -> None:
    n = founded_node()
    pid = n.do("bob", C.propose, "Shed", "A shed.")["id"]
    rid = n.do("ana", C.open_round, pid)["id"]
    n.do("ana", C.advance_round, rid)
    n.do("ana", C.advance_round, rid)
    n.do("bob", C.position, rid, R.CONSENT, "", None)
    n.do("ana", C.close_round, rid)
    r = n.state().rounds[rid]
    assert (r.announced, r.outcome, r.changed_since_close) == (
        R.OUTCOME_ADOPTED,
        R.OUTCOME_ADOPTED,
        False,
    )
    # An older close that said nothing of what it counted changes nothing either.
    assert not dataclasses.replace(r, announced=None).changed_since_close
