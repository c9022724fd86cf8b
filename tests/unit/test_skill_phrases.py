"""Skill phrases in job text, matched against the bundled taxonomy: aliases,
technology spellings, and everyday words that are not skills."""

from __future__ import annotations

import pytest

from jobmatch.skills.phrases import scan
from jobmatch.skills.taxonomy import SkillIndex, read_entries, term_key

ENTRIES = read_entries()
INDEX = SkillIndex(
    [(i, e.name, list(e.aliases), list(e.exact_case)) for i, e in enumerate(ENTRIES)]
)


def names(text: str) -> set[str]:
    return {hit.name for hit in scan(text, INDEX).hits.values()}


def test_the_bundled_taxonomy_is_a_few_hundred_skills_with_unambiguous_names() -> None:
    assert 300 <= len(ENTRIES) <= 1000
    owners: dict[str, str] = {}
    for entry in ENTRIES:
        for term in (entry.name, *entry.aliases):
            assert owners.setdefault(term_key(term), entry.name) == entry.name, term
        assert set(entry.exact_case) <= {entry.name, *entry.aliases}
    assert len(INDEX) == len(owners)


@pytest.mark.parametrize(
    ("text", "skill"),
    [
        ("Strong JS skills", "JavaScript"),
        ("We run Postgres 16", "PostgreSQL"),
        ("Deploy on k8s", "Kubernetes"),
        ("NodeJS or Node.js", "Node.js"),
        ("GCP and BigQuery", "Google Cloud Platform"),
        ("Python3.12 services", "Python"),
        ("Experience with Vue3", "Vue.js"),
        ("C/C++ on embedded targets", "C++"),
        ("CI/CD pipelines", "Continuous integration and delivery"),
        (".NET Core microservices", "Microsoft .NET"),
        ("scikit-learn and pandas", "scikit-learn"),
        ("Golang backend", "Go"),
        ("React Developer (m/f/d)", "React"),
    ],
)
def test_names_and_aliases_are_found_in_real_wording(text: str, skill: str) -> None:
    assert skill in names(text)


def test_the_longest_name_wins_and_counts_once() -> None:
    found = names("Microsoft SQL Server and SQL Server Integration Services, Ruby on Rails")
    assert "SQL Server" in found
    assert "SQL Server Integration Services" in found
    assert "Ruby on Rails" in found
    assert "SQL" not in found
    assert "Ruby" not in found


@pytest.mark.parametrize(
    "text",
    [
        "Series C funded startup with a Grade A office",
        "Chef de partie wanted for our kitchen",
        "Excel at communication and go the extra mile",
        "We go fast; spark joy; swift decisions",
        "Bootstrap funding from friends. Spring is when we hire.",
    ],
)
def test_everyday_words_are_not_skills(text: str) -> None:
    assert names(text) == set()


def test_one_letter_languages_count_inside_a_list() -> None:
    assert {"C", "R"} <= names("Statistics in R, Python and C")
    assert "C" in names("Firmware in C and Rust")


def test_technical_leftovers_go_to_vector_search() -> None:
    result = scan("PySpark jobs on a GraphQL-API; 24/7 on-call; e-mail us", INDEX)
    assert result.leftovers == ["PySpark", "GraphQL-API"]
