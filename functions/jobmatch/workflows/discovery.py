"""`weekly-company-discovery` (cron Sunday 3 AM, or `companies/discovery.requested`):
boards on Ashby, Greenhouse and Lever found in the latest Common Crawl index.

`latest-crawl` -> per board host: `pages-<host>` (the saved cursor, or the page
count, saved) -> `page-<host>-<n>` for each page from the cursor on (new
companies inserted inactive, cursor moved in the same transaction) -> `probe-...`
(one `jobs/ingest-company` per new company: its first fetch decides whether the
board exists). Pages are paced (`cdx_pause_seconds` of sleep between them, as
the index server asks clients to go slowly). After `discovery_max_pages_per_run`
pages the run sends itself on; with a concurrency limit of 1 that run (or the
weekly cron arriving meanwhile) waits for this one and starts at the cursor.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events import CRON_EVENT
from jobmatch.events.jobs import CompanyDiscoveryRequested, IngestCompany
from jobmatch.ingestion import discovery_steps as steps
from jobmatch.ingestion.discovery import BOARD_HOSTS
from jobmatch.workflows.flow import numbered, slices

PROBES_PER_SEND = 500


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The discovery function."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="weekly-company-discovery",
        name="Weekly company discovery (Common Crawl)",
        trigger=[inngest.TriggerCron(cron="0 3 * * 0"), CompanyDiscoveryRequested.trigger()],
        concurrency=[inngest.Concurrency(limit=1)],
        retries=3,
    )
    def weekly_company_discovery(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Read every board host's index pages from the cursor on; see the module doc."""
        request = (
            CompanyDiscoveryRequested()
            if ctx.event.name == CRON_EVENT
            else CompanyDiscoveryRequested.parse(ctx.event.data)
        )
        crawl = request.crawl_id or ctx.step.run(
            "latest-crawl", steps.latest_crawl, settings, deps.fetch_http
        )
        pages_read, added = 0, 0
        for host, (provider, _region) in BOARD_HOSTS.items():
            cursor = ctx.step.run(
                f"pages-{host}", steps.host_cursor, crawl, host, settings, deps.fetch_http
            )
            for page in range(cursor["next"], cursor["pages"]):
                if pages_read >= settings.discovery_max_pages_per_run:
                    ctx.step.send_event(
                        "continue",
                        [
                            CompanyDiscoveryRequested(crawl_id=crawl).to_event(
                                id=f"discovery-{crawl}-{host}-{page}"
                            )
                        ],
                    )
                    return {"crawl": crawl, "pages": pages_read, "added": added, "done": False}
                if pages_read and settings.cdx_pause_seconds:
                    ctx.step.sleep(
                        f"pause-{host}-{page}", timedelta(seconds=settings.cdx_pause_seconds)
                    )
                out = ctx.step.run(
                    f"page-{host}-{page}",
                    steps.discover_page,
                    crawl,
                    host,
                    page,
                    settings,
                    deps.fetch_http,
                )
                pages_read += 1
                new_ids: list[int] = out["added"]
                added += len(new_ids)
                parts = slices(new_ids, PROBES_PER_SEND)
                for i, part in enumerate(parts):
                    ctx.step.send_event(
                        numbered(f"probe-{host}-{page}", i, len(parts)),
                        [
                            IngestCompany(company_id=c, provider=provider).to_event(id=f"probe-{c}")
                            for c in part
                        ],
                    )
                if out["end"]:
                    break
        return {"crawl": crawl, "pages": pages_read, "added": added, "done": True}

    return [weekly_company_discovery]
