"""Send Inngest events from a route, and answer 503 when the event API is down.

Routes commit their rows first and send afterwards: a function must never run
before the rows it reads are visible. Each event carries a deterministic `id`
where a retry of the same request must not start a second run (Inngest drops an
event whose id it has seen in the last 24 hours). Events are built by their
models in `jobmatch.events`; routes pass the app's client (`InngestDep`).
"""

from __future__ import annotations

import inngest
from fastapi import HTTPException, status

from jobmatch.observability import logger

# Inngest accepts large batches per call; chunks keep each request well under its
# 3 MB body limit even with the largest payloads we send.
SEND_CHUNK = 500


def send_events(client: inngest.Inngest, events: list[inngest.Event], *, what: str) -> list[str]:
    """Send `events` and return their ids; 503 with a clear message if sending fails."""
    ids: list[str] = []
    try:
        for start in range(0, len(events), SEND_CHUNK):
            ids.extend(client.send_sync(events[start : start + SEND_CHUNK]))
    except Exception as exc:
        logger.exception("sending events failed", extra={"what": what, "sent": len(ids)})
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{what}: saved, but the event service did not accept the event "
            f"({type(exc).__name__}); retry the same request",
        ) from exc
    return ids
