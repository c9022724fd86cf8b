"""Role resolving without a database: lexical evidence (BM25 over role names and
aliases) blended with the vector score, and which roles a title keeps."""

from __future__ import annotations

import pytest

from jobmatch.roles.resolver import PhraseIndex, ResolverLimits, combine, pick, stem
from jobmatch.settings import Settings

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


def test_a_second_role_needs_the_margin_and_the_second_floor() -> None:
    limits = ResolverLimits(floor=0.5, margin=0.07, max_roles=3, second_floor=0.7)
    near_but_low = pick({1: 0.74, 2: 0.69, 3: 0.6}, limits)
    assert [h.role_id for h in near_but_low] == [1]
    close_and_high = pick({1: 0.9, 2: 0.85, 3: 0.82}, limits)
    assert [h.role_id for h in close_and_high] == [1, 2]
    assert pick({1: 0.49}, limits) == ()


def test_the_resolver_defaults_are_the_settings_defaults() -> None:
    """Roles people type resolve with `ResolverLimits()`, titles with the settings:
    both must mean the same limits."""
    assert ResolverLimits.from_settings(Settings(_env_file=None)) == ResolverLimits()
