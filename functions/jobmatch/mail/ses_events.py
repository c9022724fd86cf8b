"""The `SesEvents` Lambda: SES bounce and complaint notifications, via SNS, into
the suppression list.

SNS invokes this function directly (the topic is its event source), so there is
no public endpoint and no SNS signature to verify: only SNS, under the topic's
subscription, can invoke it. Each record's `Sns.Message` is an SES notification;
one that is not JSON, or is not a bounce or complaint, is logged and skipped
(raising would make Lambda retry a message that can never succeed). A database
error raises, and SNS retries the delivery.

`handler` is a Lambda entry point, an edge like `jobmatch.handler`: it reads the
settings and opens the database they name; `record` is the work, on a database
given to it.
"""

from __future__ import annotations

import json
from typing import Any

from jobmatch.db.session import Database
from jobmatch.mail import store
from jobmatch.mail.suppression import Suppression, suppressions_in
from jobmatch.observability import logger
from jobmatch.settings import get_settings


def handler(event: dict[str, Any], _context: object) -> dict[str, int]:
    """The Lambda entry point: `record` on the database the settings name."""
    return record(Database.of(get_settings()), event)


def record(database: Database, event: dict[str, Any]) -> dict[str, int]:
    """Record the addresses of every bounce/complaint in the SNS records."""
    found: list[Suppression] = []
    skipped = 0
    for record in event.get("Records") or []:
        raw = ((record or {}).get("Sns") or {}).get("Message")
        try:
            notification = json.loads(raw) if isinstance(raw, str) else None
        except json.JSONDecodeError:
            notification = None
        if not isinstance(notification, dict):
            skipped += 1
            continue
        found.extend(suppressions_in(notification))
    if found:
        with database.unit_of_work() as uow:
            store.suppress(uow, found)
    logger.info(
        "ses notifications",
        extra={"suppressed": len(found), "reasons": sorted({s.reason for s in found})},
    )
    return {"suppressed": len(found), "skipped": skipped}
