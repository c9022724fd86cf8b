"""Every Inngest event of the app: its name, its data model, how it is built.

One model per event, used by both sides: producers (routes, steps that fan out)
build the `inngest.Event` with `to_event`, functions subscribe with `trigger()`
and read the data with `parse`, so a field renamed on one side cannot go
unnoticed on the other. Nothing outside this package spells an event name.

This package sits below both `api/` and `workflows/` and imports neither.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import inngest
from pydantic import ConfigDict, ValidationError

from jobmatch.safe_input import StorableModel

# The event Inngest sends a function run by its cron trigger (not one of ours).
CRON_EVENT = "inngest/scheduled.timer"


class EventPart(StorableModel):
    """Base of event data and the objects nested in it: unknown keys are ignored,
    known ones validated (text and numbers must be storable: `safe_input`); fields
    can be given by name or by their wire alias."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class EventModel(EventPart):
    """One event: `NAME` plus its `data` fields."""

    NAME: ClassVar[str]

    @classmethod
    def parse(cls, data: Any) -> Self:
        """Validate an event's data, or fail the run at once without retries:
        retrying cannot fix bad data."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}"
                for err in exc.errors()
            )
            raise inngest.NonRetriableError(f"invalid {cls.__name__}: {problems}") from exc

    @classmethod
    def trigger(cls) -> inngest.TriggerEvent:
        """The trigger of a function that runs on this event."""
        return inngest.TriggerEvent(event=cls.NAME)

    def to_event(self, *, id: str | None = None) -> inngest.Event:
        """The event to send. The data carries the fields the producer set, by their
        wire alias, nulls left out; the consumer's defaults (same model) fill in the
        rest. `id` de-duplicates: Inngest drops an id it saw in the last 24 hours."""
        data = self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
        return inngest.Event(name=self.NAME, data=data, id=id or "")
