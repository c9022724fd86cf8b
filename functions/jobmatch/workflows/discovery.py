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
from jobmatch.discovery import steps
from jobmatch.discovery.crawl import BOARD_HOSTS
from jobmatch.events.jobs import CompanyDiscoveryRequested, IngestCompany
from jobmatch.workflows.flow import continue_as_new, numbered, request_of, slices

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
        request = request_of(ctx, CompanyDiscoveryRequested.parse, CompanyDiscoveryRequested)
        crawl = request.crawl_id or steps.latest_crawl.run(ctx, "latest-crawl", deps)
        pages_read, added = 0, 0
        for host, (provider, _region) in BOARD_HOSTS.items():
            cursor = steps.host_cursor.run(
                ctx, f"pages-{host}", deps, steps.Host(crawl=crawl, host=host)
            )
            for page in range(cursor.next, cursor.pages):
                if pages_read >= settings.discovery_max_pages_per_run:
                    continue_as_new(
                        ctx,
                        CompanyDiscoveryRequested(crawl_id=crawl).to_event(
                            id=f"discovery-{crawl}-{host}-{page}"
                        ),
                    )
                    return {"crawl": crawl, "pages": pages_read, "added": added, "done": False}
                if pages_read and settings.cdx_pause_seconds:
                    ctx.step.sleep(
                        f"pause-{host}-{page}", timedelta(seconds=settings.cdx_pause_seconds)
                    )
                out = steps.discover_page.run(
                    ctx, f"page-{host}-{page}", deps, steps.Page(crawl=crawl, host=host, page=page)
                )
                pages_read += 1
                added += len(out.added)
                parts = slices(out.added, PROBES_PER_SEND)
                for i, part in enumerate(parts):
                    ctx.step.send_event(
                        numbered(f"probe-{host}-{page}", i, len(parts)),
                        [
                            IngestCompany(company_id=c, provider=provider).to_event(id=f"probe-{c}")
                            for c in part
                        ],
                    )
                if out.end:
                    break
        return {"crawl": crawl, "pages": pages_read, "added": added, "done": True}

    return [weekly_company_discovery]
