"""Role events: embedding the taxonomy, re-resolving jobs, switching embedding model."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from jobmatch.events import EventModel


class RolesEmbedMissing(EventModel):
    """`roles/embed-missing`: give roles and their terms a vector (after a taxonomy
    load, a new role or alias). A run that continues the work carries how many rows
    lacked a vector when the first run began (`missingAtStart`)."""

    NAME: ClassVar[str] = "roles/embed-missing"

    missing_at_start: int = Field(default=0, alias="missingAtStart", ge=0)


class RolesReResolveRequested(EventModel):
    """`roles/re-resolve.requested`: resolve again the active jobs that are pending,
    unresolved or resolved below `belowConfidence`, from `afterId` on (a run
    continues itself with the cursor)."""

    NAME: ClassVar[str] = "roles/re-resolve.requested"

    after_id: int = Field(default=0, alias="afterId", ge=0)
    below_confidence: float | None = Field(default=None, alias="belowConfidence", ge=0, le=1)


class ReembedRequested(EventModel):
    """`system/reembed`: rewrite every vector with the running provider (after
    switching AI on or off), entity by entity from the cursor."""

    NAME: ClassVar[str] = "system/reembed"

    entity: Literal["roles", "role_terms", "jobs", "candidates", "users"] = "roles"
    after_id: int = Field(default=0, alias="afterId", ge=0)
