"""Titles as ads word them are reduced to the occupation they name."""

from __future__ import annotations

import pytest

from jobmatch.roles.titles import clean_title


@pytest.mark.parametrize(
    ("title", "cleaned"),
    [
        ("Sr. Backend Dev (m/f/d) - Remote", "backend developer"),
        ("Senior Toxicologist \u2013 Berlin, full-time", "toxicologist"),
        ("Pflegefachkraft (w/m/d) | Vollzeit | M\u00fcnchen", "pflegefachkraft"),
        ("Ing\u00e9nieur logiciel (H/F) - CDI - Paris", "ing\u00e9nieur logiciel"),
        ("100% remote Data Analyst", "data analyst"),
        ("Praktikum Marketing (m/w/d)", "marketing"),
        ("Lead ship steersman, Remote (EU)", "ship steersman"),
        ("ship steersman - 12 month contract - London", "ship steersman"),
        ("Jr. ship steersman II - Part-time", "ship steersman"),
        ("Registered Nurse (RN) - Night Shift", "registered nurse"),
        ("Warehouse Associate - $18/hr", "warehouse associate"),
        ("Customer Service Rep", "customer service representative"),
        ("Werkstudent*in Data Science", "data science"),
        ("Sales Manager (all genders)", "sales manager"),
        ("Staff Nurse [Agency] / Hybrid", "nurse"),
        # A lower-case qualifier is part of the title; a capitalised segment is a place.
        ("technical supervisor, asphalt production", "technical supervisor, asphalt production"),
        ("Software Engineer, Backend", "software engineer"),
    ],
)
def test_real_world_titles_lose_seniority_contract_gender_and_place(
    title: str, cleaned: str
) -> None:
    assert clean_title(title) == cleaned


def test_a_title_that_is_only_notes_is_kept_rather_than_emptied() -> None:
    assert clean_title("Senior") == "senior"
    assert clean_title("  Remote  ") == "remote"
