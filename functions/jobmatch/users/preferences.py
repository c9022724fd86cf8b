"""What a free-signup user looks for: one typed model, whatever it came from.

A signup (`SignupInput`: who, where notices go, and the preferences), a stored
preferences row, and the preferences another
sender carried inline in `matching/perform` all become a `Preferences`, so the
embedding text, the scoring profile and a step's input read one shape with
attributes, never a mapping with `.get`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class SignupInput:
    """A validated signup (email lower-cased, lists cleaned)."""

    email: str
    name: str | None
    roles: list[str]
    skills: list[str]
    locations: list[str]
    countries: list[str]
    salary_min: int | None
    experience_years: int | None
    remote_ok: bool
    webhook_url: str | None = None

    def preferences(self) -> Preferences:
        """The preferences, as the embedding and scoring read them."""
        return Preferences(
            roles=self.roles,
            skills=self.skills,
            locations=self.locations,
            countries=self.countries,
            remote_ok=self.remote_ok,
            salary_min=self.salary_min,
            experience_years=self.experience_years,
        )

    def to_payload(self) -> dict[str, Any]:
        """JSON form, for a pending change."""
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SignupInput:
        """Back from `to_payload`."""
        return cls(**payload)
