"""`flush-event-outbox`: what a request's or step's own flush left pending is sent.

Every minute (and on `system/event-outbox.flush`): the backlog's age is reported
(metric `OutboxOldestPendingSeconds`, the template's alarm), then the oldest
pending events are sent in batches of `outbox_flush_batch`, at most
`outbox_flush_max_steps` batches a run (the next minute takes the rest), then sent
rows past their retention are deleted. A singleton (mode "skip"): a tick that
arrives while a flush runs is dropped, so two runs never send side by side. Were
they to (or a request's flush beside a run), the row locks keep them on disjoint
rows, and a resend carries the same id, which Inngest drops.
"""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.outbox import OutboxFlushRequested
from jobmatch.events.outbox_steps import (
    FlushBatch,
    Retention,
    flush_batch,
    prune_sent,
    report_backlog,
)
from jobmatch.workflows.flow import paged

FLUSH_CRON = "* * * * *"


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The outbox's scheduled flush."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="flush-event-outbox",
        name="Flush the event outbox",
        trigger=[inngest.TriggerCron(cron=FLUSH_CRON), OutboxFlushRequested.trigger()],
        singleton=inngest.Singleton(mode="skip"),
        retries=2,
    )
    def flush_event_outbox(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Report the backlog, send it oldest first in bounded batches, prune."""
        age = report_backlog.run(ctx, "report-backlog", deps)
        size = settings.outbox_flush_batch
        sent, more = paged(
            ctx,
            "flush",
            deps,
            flush_batch,
            FlushBatch(limit=size),
            size=size,
            max_steps=settings.outbox_flush_max_steps,
        )
        pruned = prune_sent.run(
            ctx,
            "prune-sent",
            deps,
            Retention(hours=settings.outbox_sent_retention_hours, limit=settings.job_cleanup_batch),
        )
        return {"oldest_pending_seconds": age, "sent": sent, "more": more, "pruned": pruned}

    return [flush_event_outbox]
