"""Which run a step belongs to (the key of its progress record)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunRef:
    """Which run a step belongs to: a JSON-able step argument."""

    run_id: str
    function_id: str
    event_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form a workflow passes to a step body."""
        return {
            "run_id": self.run_id,
            "function_id": self.function_id,
            "event_ids": list(self.event_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRef:
        """Inverse of `to_dict`."""
        return cls(str(data["run_id"]), str(data["function_id"]), tuple(data["event_ids"]))
