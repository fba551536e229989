"""A round's thread: questions and reactions in their phases, answers under a question, a
facilitator recording for someone, supporters' questions kept as theirs, nothing after close."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.thread import open_questions, thread_of
from tests.model.helpers import World, act_doc


def comment(
    w: World,
    name: str,
    ts: int,
    round_id: str,
    kind: str,
    text: str = "How loud is it?",
    *,
    parent: str | None = None,
    for_member: str | None = None,
    seen: tuple[str, ...] = (),
) -> dict[str, Any]:
    return w.add(
        name,
        act_doc(
            A.Comment,
            w.next_id(),
            ts,
            w.dev(name),
            seen=seen,
            round=round_id,
            kind=kind,
            text=text,
            parent=parent,
            for_member=None if for_member is None else w.mid(for_member),
        ),
    )


def meeting() -> tuple[World, str]:
    """Ana facilitates, Bob is a member, Sol a supporter with standing; a round is open."""
    w = World()
    w.create(1_000)
    w.join("bob", 1_100)
    w.supporter("sol", 1_200)
    w.decide(2_000, A.AdmitSupporterEffect(member=w.mid("sol"), until=10**8))
    pid = w.propose("ana", 4_000, "Heat pump")
    return w, w.open_round("ana", 4_100, pid)


def audit_rule(w: World, act: dict[str, Any]) -> str | None:
    entry = next(e for e in w.fold().audit if e.act_id == act["id"])
    return entry.rule


def test_questions_reactions_and_threaded_answers_in_their_phases() -> None:
    w, rid = meeting()
    q = comment(w, "bob", 4_200, rid, R.QUESTION, "How loud is it?")
    qref = w.ref("bob", q)
    comment(w, "ana", 4_300, rid, R.ANSWER, "35 dB at one metre.", parent=qref, seen=(qref,))
    w.advance("ana", 4_400, rid, R.REACTIONS)
    comment(w, "bob", 4_500, rid, R.REACTION, "Quieter than the boiler.")
    state = w.fold()
    strands = thread_of(state.comments, rid)
    assert [s.entry.kind for s in strands] == [R.QUESTION, R.REACTION]
    assert [a.text for a in strands[0].answers] == ["35 dB at one metre."]
    assert strands[0].answers[0].author == w.mid("ana")
    assert strands[1].entry.phase == R.REACTIONS
    assert open_questions(state.comments, rid) == ()


def test_a_question_in_the_positions_phase_or_after_close_is_ignored() -> None:
    w, rid = meeting()
    w.to_positions("ana", 4_200, rid)
    late_q = comment(w, "bob", 4_300, rid, R.QUESTION)
    assert audit_rule(w, late_q) == R.COMMENT_IN_PHASE
    w.position("bob", 4_400, rid)
    w.close("ana", 4_500, rid)
    closed = comment(w, "bob", 4_600, rid, R.REACTION, "Too late?")
    assert audit_rule(w, closed) == R.ROUND_TRANSITION
    assert thread_of(w.fold().comments, rid) == ()


def test_an_answer_needs_a_question_of_the_same_round() -> None:
    w, rid = meeting()
    reaction = comment(w, "bob", 4_200, rid, R.REACTION, "Good.")
    rref = w.ref("bob", reaction)
    under_reaction = comment(w, "ana", 4_300, rid, R.ANSWER, "Thanks", parent=rref, seen=(rref,))
    orphan = comment(w, "ana", 4_400, rid, R.ANSWER, "To what?")
    assert audit_rule(w, under_reaction) == R.ANSWER_TO_QUESTION
    assert audit_rule(w, orphan) == R.ANSWER_TO_QUESTION
    other_pid = w.propose("ana", 4_500, "Solar")
    other = w.open_round("ana", 4_600, other_pid)
    q = comment(w, "bob", 4_700, rid, R.QUESTION)
    qref = w.ref("bob", q)
    elsewhere = comment(w, "ana", 4_800, other, R.ANSWER, "Wrong round", parent=qref, seen=(qref,))
    assert audit_rule(w, elsewhere) == R.ANSWER_TO_QUESTION


def test_a_facilitator_records_for_someone_and_only_a_facilitator() -> None:
    w, rid = meeting()
    by_ana = comment(w, "ana", 4_200, rid, R.QUESTION, "Who pays?", for_member="bob")
    by_bob = comment(w, "bob", 4_300, rid, R.QUESTION, "Ana asks", for_member="ana")
    assert audit_rule(w, by_ana) is None
    assert audit_rule(w, by_bob) == R.FACILITATOR_ONLY
    (entry,) = w.fold().comments.values()
    assert entry.author == w.mid("bob") and entry.recorded_by == w.mid("ana") and entry.proxy


def test_a_supporters_question_is_kept_as_theirs_and_ends_with_their_standing() -> None:
    w, rid = meeting()
    asked = comment(w, "sol", 4_200, rid, R.QUESTION, "Is the grant still open?")
    assert audit_rule(w, asked) is None
    (entry,) = w.fold().comments.values()
    assert entry.by_supporter and entry.author == w.mid("sol")
    w2, _ = meeting()
    w2.decide(5_000, A.EndSupporterEffect(member=w2.mid("sol")))
    pid = w2.propose("ana", 7_000, "Later")
    later = w2.open_round("ana", 7_100, pid)
    refused = comment(w2, "sol", 7_200, later, R.QUESTION)
    assert audit_rule(w2, refused) == R.SUPPORTER_STANDING


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_the_thread_is_the_same_whatever_order_the_documents_arrive_in(order: list[int]) -> None:
    w, rid = meeting()
    q = comment(w, "bob", 4_200, rid, R.QUESTION)
    qref = w.ref("bob", q)
    comment(w, "ana", 4_300, rid, R.ANSWER, "Yes", parent=qref, seen=(qref,))
    comment(w, "sol", 4_250, rid, R.REACTION, "Hm")
    expected = w.fold().comments
    members = list(w.docs)
    shuffled = {members[i % len(members)]: w.docs[members[i % len(members)]] for i in order}
    w.docs = {**shuffled, **w.docs}
    assert w.fold().comments == expected
    assert list(w.fold().comments) == list(expected)
