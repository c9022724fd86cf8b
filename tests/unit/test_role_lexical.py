"""Lexical evidence in role resolving: BM25 over role names and aliases, blended
with the vector score."""

from __future__ import annotations

import pytest

from jobmatch.roles.resolver import PhraseIndex, combine, stem

ROLES = [
    (1, "film director", ["movie director", "cinema director"]),
    (2, "casting director", ["casting manager"]),
    (3, "sound operator", ["sound technician"]),
    (4, "drone pilot", ["unmanned aerial vehicle operator", "drone operator"]),
]


def test_plural_endings_are_one_word() -> None:
    assert [stem(w) for w in ("nurses", "nanny", "nannies", "boss", "bus", "analysis")] == [
        "nurse",
        "nanny",
        "nanny",
        "boss",
        "bus",
        "analysis",
    ]


def test_the_rarer_shared_word_decides_and_the_best_scales_to_one() -> None:
    index = PhraseIndex(ROLES)
    movie = index.lexical("Movie Directors", top=10)
    # "director" is in two roles, "movie" in one: the film director ranks first.
    assert max(movie, key=movie.__getitem__) == 1
    assert movie[1] == 1.0
    assert 0 < movie[2] < 1
    assert 3 not in movie
    drone = index.lexical("drone operator", top=10)
    assert max(drone, key=drone.__getitem__) == 4
    assert drone[3] < drone[4]


def test_unknown_words_give_no_evidence_and_top_bounds_the_list() -> None:
    index = PhraseIndex(ROLES)
    assert index.lexical("xyzzy plugh", top=10) == {}
    assert len(index.lexical("director operator", top=2)) == 2


def test_the_blend_weighs_vector_and_lexical_scores() -> None:
    vector = {1: 0.6, 2: 0.7, 3: 0.5}
    lexical = {1: 1.0, 2: 0.4}
    blended = combine(vector, lexical, 0.2)
    assert blended == pytest.approx({1: 0.68, 2: 0.64, 3: 0.4})
    assert combine(vector, lexical, 0.0) == vector
