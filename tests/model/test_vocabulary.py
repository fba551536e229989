"""The assembly's own words: labels by decision over stable ids, roles of its own, and the
shape of its rounds, within what keeps consent meaningful."""

from __future__ import annotations

import dataclasses

import pytest

from assemblymesh.errors import IllegalMoveError, UsageError
from assemblymesh.model import AssemblyState
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.effect_text import effect_as_text, parse_effect
from assemblymesh.model.vocabulary import DEFAULT_VOCABULARY, Vocabulary, Words, check_shape
from tests.model.helpers import COOLING, World, founded, ignored_rules

SPANISH = A.WordsEffect(lang="es", labels={"object": "bloqueo", "proposal": "propuesta"})
ENGLISH = A.WordsEffect(labels={"object": "block", "round": "circle"})


def _history(*effects: A.Effect) -> World:
    """A decision with ``effects``, then a round after it with an objection and a consent."""
    w = founded("bob", "cara")
    w.decide(3_000, *effects)
    pid = w.propose("bob", 5_000, "Paint the door")
    rid = w.open_round("ana", 5_100, pid)
    w.to_positions("ana", 5_200, rid)
    w.position("cara", 5_300, rid, R.OBJECT, "not green")
    w.position("bob", 5_310, rid, R.CONSENT)
    w.close("ana", 5_400, rid)
    return w


def _without_words(state: AssemblyState) -> AssemblyState:
    """``state`` less what a labels decision itself writes: its effects and the labels."""
    proposals = {
        k: dataclasses.replace(
            p, versions=tuple(dataclasses.replace(v, effects=()) for v in p.versions)
        )
        for k, p in state.proposals.items()
    }
    decisions = {k: dataclasses.replace(d, effects=()) for k, d in state.decisions.items()}
    return dataclasses.replace(
        state,
        proposals=proposals,
        decisions=decisions,
        effect_log=(),
        vocabulary=DEFAULT_VOCABULARY,
    )


def test_a_renamed_vocabulary_folds_the_same_state_as_the_default_one() -> None:
    renamed = _history(SPANISH, ENGLISH).fold()
    plain = _history().fold()
    assert renamed.vocabulary != plain.vocabulary
    assert _without_words(renamed) == _without_words(plain)
    # Positions keep their stable kind id whatever the assembly calls it.
    (rnd,) = [r for r in renamed.rounds.values() if r.outcome == R.OUTCOME_OBJECTIONS]
    assert [p.kind for p in rnd.objections] == [R.OBJECT]


def test_two_nodes_show_the_same_state_in_their_own_words() -> None:
    state = _history(SPANISH, ENGLISH).fold()
    in_spanish = Words(state.vocabulary, "es", translate=lambda s: s)
    in_english = Words(state.vocabulary, "en", translate=lambda s: s)
    assert (in_spanish.kind(R.OBJECT), in_english.kind(R.OBJECT)) == ("bloqueo", "block")
    assert in_spanish.term("proposal") == "propuesta"
    assert in_spanish.term("proposals") == "propuesta"  # a plural not named follows its singular
    assert in_english.term("round") == "circle"
    # A term the assembly did not name is its default label, translated.
    assert Words(state.vocabulary, "es", translate=str.upper).kind(R.CONSENT) == "CONSENT"
    assert Words(DEFAULT_VOCABULARY, "en").kind(R.STAND_ASIDE) == "stand aside"
    assert in_spanish.find_kind("Bloqueo") == R.OBJECT
    assert in_spanish.as_data()["object"] == "bloqueo"


@pytest.mark.parametrize(
    ("shape", "rule"),
    [
        (A.RoundShapeEffect(phases=(R.POSITIONS,), kinds=(R.CONSENT, R.CONCERN), reasoned=()),
         R.BLOCKING_KIND_EXISTS),
        (A.RoundShapeEffect(phases=(R.QUESTIONS, R.REACTIONS), kinds=R.POSITION_KINDS),
         R.POSITIONS_PHASE),
        (A.RoundShapeEffect(phases=(R.POSITIONS,), kinds=R.POSITION_KINDS, reasoned=()),
         R.OBJECTION_NEEDS_REASON),
    ],
)  # fmt: skip
def test_a_shape_that_would_empty_consent_is_refused_naming_its_rule(
    shape: A.RoundShapeEffect, rule: str
) -> None:
    w = founded("bob")
    w.propose("ana", 2_000, "No more blocking", effects=(shape,))
    state = w.fold()
    assert ignored_rules(state) == [rule]
    assert not state.proposals
    with pytest.raises(IllegalMoveError) as refused:
        check_shape(shape.shape)  # the same check when the decision takes effect
    assert refused.value.rule == rule


def test_a_words_effect_names_only_terms_that_exist() -> None:
    w = founded("bob")
    w.propose("ana", 2_000, "Words", effects=(A.WordsEffect(labels={"treasurer": "Kassa"}),))
    assert ignored_rules(w.fold()) == [R.TERM_KNOWN]


def test_a_role_of_the_assemblys_own_is_granted_by_a_decision_within_its_term() -> None:
    w = founded("bob", "cara")
    bob = w.mid("bob")

    def grant(days: int) -> A.Effect:
        return A.GrantRoleEffect(member=bob, role="treasurer", term_days=days)

    w.propose("ana", 1_500, "Too early", effects=(grant(30),))
    w.decide(3_000, A.AddRoleEffect(role="treasurer", label="Treasurer", term_days=365))
    w.propose("ana", 5_000, "Too long", effects=(grant(400),))
    w.decide(7_000, grant(90))
    state = w.fold()
    assert ignored_rules(state) == [R.ROLE_EXISTS, R.ROLE_TERM_CAPPED]
    held = state.members[bob]
    assert held.has_role("treasurer", 7_000 + COOLING)
    assert held.active_roles(7_000 + COOLING) == ("treasurer",)
    assert not held.has_role("treasurer", 7_000 + COOLING + 90 * R.DAY_MS)
    assert state.vocabulary.roles["treasurer"].max_term_days == 365
    assert Words(state.vocabulary, "en").role("treasurer") == "Treasurer"
    assert not held.can_facilitate(7_000 + COOLING)  # an own role confers no power


def test_a_role_added_and_granted_in_one_version() -> None:
    w = founded("bob")
    bob = w.mid("bob")
    w.decide(
        3_000,
        A.AddRoleEffect(role="treasurer", label="Treasurer", term_days=365),
        A.GrantRoleEffect(member=bob, role="treasurer", term_days=30),
        A.WordsEffect(lang="es", labels={"treasurer": "tesorera"}),
    )
    state = w.fold()
    assert all(e.accepted for e in state.effect_log)
    assert state.members[bob].has_role("treasurer", 3_000 + COOLING)
    assert Words(state.vocabulary, "es").role("treasurer") == "tesorera"


def test_the_phases_and_kinds_chosen_change_what_a_round_accepts() -> None:
    w = founded("bob", "cara")
    before = w.open_round("ana", 2_000, w.propose("bob", 1_900, "Opened before"))
    shape = A.RoundShapeEffect(
        phases=(R.REACTIONS, R.POSITIONS),
        kinds=(R.CONSENT, R.OBJECT),
        reasoned=(R.OBJECT, R.CONSENT),
    )
    w.decide(3_000, shape)
    pid = w.propose("bob", 5_000, "Opened after")
    rid = w.open_round("ana", 5_100, pid)
    state = w.fold()
    assert state.rounds[rid].phase == R.REACTIONS
    assert state.rounds[before].phase == R.QUESTIONS
    w.advance("ana", 5_200, rid, R.POSITIONS)
    w.position("bob", 5_300, rid, R.STAND_ASIDE, "away")
    w.position("cara", 5_310, rid, R.CONSENT, "")
    w.position("cara", 5_320, rid, R.CONSENT, "it is good")
    w.advance("ana", 5_330, rid, R.CLOSED)
    state = w.fold()
    assert state.rounds[rid].phase == R.POSITIONS
    assert ignored_rules(state)[-3:] == [
        R.KIND_IN_ROUND, R.OBJECTION_NEEDS_REASON, R.ROUND_TRANSITION,
    ]  # fmt: skip
    assert [p.kind for p in state.rounds[rid].positions.values()] == [R.CONSENT]
    # The round opened before the decision keeps the shape it was opened with.
    w.to_positions("ana", 5_400, before)
    w.position("bob", 5_500, before, R.STAND_ASIDE, "")
    assert w.fold().rounds[before].positions[w.mid("bob")].kind == R.STAND_ASIDE


def test_the_vocabulary_defaults_keep_every_term() -> None:
    assert isinstance(DEFAULT_VOCABULARY, Vocabulary)
    words = Words(DEFAULT_VOCABULARY, "en")
    assert {t: words.term(t) for t in ("proposal", R.NOTE_TAKER, R.ABSENCE)} == {
        "proposal": "proposal", R.NOTE_TAKER: "note-taker", R.ABSENCE: "strategic absence",
    }  # fmt: skip


def test_every_vocabulary_effect_reads_back_from_its_text() -> None:
    w = founded("bob")
    w.decide(3_000, A.AddRoleEffect(role="treasurer", label="Treasurer", term_days=365))
    state = w.fold()
    bob = w.mid("bob")
    effects: list[A.Effect] = [
        A.WordsEffect(lang="es", labels={"proposal": "propuesta", "stand_aside": "me aparto"}),
        A.WordsEffect(labels={"treasurer": "Keeper: of the purse"}),
        A.AddRoleEffect(role="scribe", label="Scribe", term_days=90),
        A.RoundShapeEffect(
            phases=(R.REACTIONS, R.POSITIONS),
            kinds=(R.CONSENT, R.STAND_ASIDE, R.OBJECT),
            reasoned=(R.OBJECT,),
        ),
        A.GrantRoleEffect(member=bob, role="treasurer", term_days=30),
        A.EndRoleEffect(member=bob, role="treasurer"),
    ]
    for effect in effects:
        text = effect_as_text(state, effect)
        assert parse_effect(state, text) == effect, text
    # As a person types them: a role by its label, a kind with a hyphen, English by default.
    typed = parse_effect(state, "grant-role:bob:Treasurer:30")
    assert typed == A.GrantRoleEffect(member=bob, role="treasurer", term_days=30)
    assert parse_effect(state, "words:stand-aside=step back") == A.WordsEffect(
        labels={"stand_aside": "step back"}
    )
    assert parse_effect(state, "round-shape:positions:consent+object") == A.RoundShapeEffect(
        phases=(R.POSITIONS,), kinds=(R.CONSENT, R.OBJECT), reasoned=(R.OBJECT,)
    )


@pytest.mark.parametrize(
    "text",
    [
        "words:es:nonsense=x",
        "words:es:proposal",
        "words:Spanish:proposal=x",
        "add-role:Tres Oros:T:30",
        "add-role:keeper:K:9999",
        "round-shape:voting:consent+object",
        "round-shape:positions:consent+maybe",
    ],
)
def test_a_vocabulary_effect_that_cannot_be_read_is_refused_in_one_line(text: str) -> None:
    state = founded("bob").fold()
    with pytest.raises(UsageError) as refused:
        parse_effect(state, text)
    assert "\n" not in str(refused.value)
