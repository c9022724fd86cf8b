"""What a free-signup user looks for: one typed model, whatever it came from.

A stored preferences row, a signup not yet written and the preferences another
sender carried inline in `matching/perform` all become a `Preferences`, so the
embedding text, the scoring profile and a step's input read one shape with
attributes, never a mapping with `.get`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Preferences(BaseModel):
    """Roles (names, or ids as text), skills, places, salary and experience."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    remote_ok: bool = True
    salary_min: int | None = None
    experience_years: int | None = None
