"""Typed event payloads. Bad event data is a NonRetriableError: retrying cannot fix it."""

from __future__ import annotations

from typing import Any, TypeVar

import inngest
from pydantic import BaseModel, ConfigDict, ValidationError

EventT = TypeVar("EventT", bound="EventData")


class EventData(BaseModel):
    """Base of every event's `data`: unknown keys are ignored, known ones validated."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_event(model: type[EventT], data: Any) -> EventT:
    """Validate an event's data, or fail the run at once without retries."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}"
            for err in exc.errors()
        )
        raise inngest.NonRetriableError(f"invalid {model.__name__}: {problems}") from exc
