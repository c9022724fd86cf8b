"""A synchronous client for an OCDS publisher's releases API.

Two pagination styles exist in the wild and both are supported:

* page numbers (South Africa's eTenders: `/api/OCDSReleases?PageNumber=&PageSize=
  &dateFrom=&dateTo=`): the next page is `PageNumber + 1` until the page count the
  response reports (`totalPages`/`pageCount`), or, when it reports none, until an
  empty page. A short page is not the end: eTenders returns short pages mid-feed.
* `links.next` (OCDS release packages with the pagination extension, e.g. the UK's
  Find a Tender): follow the URL until it is absent.

A page whose `releases` is there but not a list is counted as a malformed page
and ends the feed: with nothing to read on it, neither "an empty page ends it"
nor a cursor in it can be trusted, and guessing on would ask for up to
`tender_sync_max_pages` more pages of the same.

One page fetch must fit in a step's budget (API Gateway cuts a step at 30 s), so
retries on 5xx, 429 and network errors use exponential backoff that honours
`Retry-After` but stop at the page's deadline: the step's (`jobmatch.deadline`),
and at most `ocds_page_budget_seconds` of it; then `PublisherUnavailableError` is
raised and Inngest retries the whole step later, with its own backoff. No request
waits past that deadline either: each one's timeout is what is left of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from jobmatch.deadline import Deadline
from jobmatch.failures import PermanentError
from jobmatch.observability import logger
from jobmatch.outbound import (
    RetryPolicy,
    UpstreamRejectedError,
    UpstreamUnavailableError,
    get_with_retries,
)
from jobmatch.settings import Settings
from jobmatch.tenders.releases import ParsedReleases, Release, parse_releases

PAGE_COUNT_KEYS = ("totalPages", "pageCount", "TotalPages", "PageCount")

# A page reference: a page number (page style) or the URL of the next page (links style).
PageRef = int | str


class PublisherUnavailableError(Exception):
    """The publisher kept failing for the whole page budget: retry the step later."""


class PublisherRejectedError(PermanentError):
    """The publisher answered 4xx (not 408 or 429) or something that is not a release
    package: retrying the same request cannot help."""


@dataclass(frozen=True)
class ReleasePage:
    """One page: the releases kept, how many were malformed, which optional fields
    were dropped (by path), whether the page itself was malformed, and where to go
    next."""

    releases: list[Release]
    skipped: int
    next_ref: PageRef | None
    total_pages: int | None = None
    invalid_fields: dict[str, int] = field(default_factory=dict)
    malformed_page: bool = False

    @property
    def fetched(self) -> int:
        """Releases the publisher sent on this page, valid or not."""
        return len(self.releases) + self.skipped


def page_count(body: dict[str, Any]) -> int | None:
    """The number of pages the response says there are, if it says."""
    for key in PAGE_COUNT_KEYS:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    meta = body.get("meta") or body.get("pagination")
    return page_count(meta) if isinstance(meta, dict) else None


def next_link(body: dict[str, Any], current_url: str) -> str | None:
    """`links.next`, resolved against the current URL; None at the end (or on a loop)."""
    links = body.get("links")
    target = links.get("next") if isinstance(links, dict) else None
    if not isinstance(target, str) or not target:
        return None
    resolved = urljoin(current_url, target)
    if resolved == current_url:
        return None
    if urlsplit(resolved).netloc != urlsplit(current_url).netloc:
        raise PublisherRejectedError("links.next points at another host")
    return resolved


class OCDSClient:
    """Releases of one publisher between two dates, one page per call."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.settings.ocds_base_url,
            timeout=self.settings.ocds_timeout_seconds,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "jobmatch-tender-sync/1.0"},
            follow_redirects=True,
        )

    def __enter__(self) -> OCDSClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _date(self, value: datetime) -> str:
        value = value.astimezone(UTC)
        if self.settings.ocds_date_format == "date":
            return value.date().isoformat()
        return value.isoformat().replace("+00:00", "Z")

    def fetch_page(
        self,
        date_from: datetime,
        date_to: datetime,
        ref: PageRef | None,
        deadline: Deadline | None = None,
    ) -> ReleasePage:
        """Fetch and validate one page by `deadline` (the step's; the page takes at
        most `ocds_page_budget_seconds` of it); `ref` None means the first page."""
        s = self.settings
        step = deadline or Deadline.after(s.ocds_page_budget_seconds, self._clock)
        page_deadline = step.part(s.ocds_page_budget_seconds)
        if s.ocds_pagination == "links" and isinstance(ref, str):
            body, url = self._get_json(ref, None, page_deadline)
        else:
            params: dict[str, Any] = {
                "dateFrom": self._date(date_from),
                "dateTo": self._date(date_to),
            }
            if s.ocds_pagination == "page":
                params |= {"PageNumber": int(ref or 1), "PageSize": s.ocds_page_size}
            else:
                params["limit"] = s.ocds_page_size
            body, url = self._get_json(s.ocds_releases_path, params, page_deadline)
        if "releases" not in body:
            raise PublisherRejectedError("the response is not a release package (no releases)")
        raw = body["releases"]
        total = page_count(body)
        number = int(ref or 1) if s.ocds_pagination == "page" else 0
        if not isinstance(raw, list):
            # Skip the page when the next one is known for sure (a `links.next`, or a
            # page count still ahead); without page counts, asking for the next number
            # after a broken answer could go on forever, so the feed ends there.
            if s.ocds_pagination == "links":
                skip_to: PageRef | None = next_link(body, url)
            else:
                skip_to = number + 1 if total is not None and number < total else None
            logger.warning(
                "OCDS page without a releases list: skipped"
                if skip_to is not None
                else "OCDS page without a releases list: the feed ends here",
                extra={"page": ref, "releases_type": type(raw).__name__},
            )
            return ReleasePage([], 0, skip_to, total, malformed_page=True)
        parsed: ParsedReleases = parse_releases(raw)
        if s.ocds_pagination == "links":
            nxt: PageRef | None = next_link(body, url)
        else:
            more = number < total if total is not None else bool(raw)
            nxt = number + 1 if more else None
        if parsed.malformed or parsed.invalid_fields:
            logger.warning(
                "dirty OCDS releases",
                extra={"skipped": parsed.malformed, "invalid_fields": dict(parsed.invalid_fields)},
            )
        return ReleasePage(
            releases=parsed.releases,
            skipped=parsed.malformed,
            next_ref=nxt,
            total_pages=total,
            invalid_fields=dict(parsed.invalid_fields),
        )

    def _get_json(
        self, url: str, params: dict[str, Any] | None, deadline: Deadline
    ) -> tuple[dict[str, Any], str]:
        """GET with retries until `deadline`; returns the JSON object and the final URL."""
        s = self.settings
        policy = RetryPolicy(s.ocds_timeout_seconds, s.ocds_max_attempts, s.ocds_backoff_seconds)
        try:
            response = get_with_retries(
                self._http,
                url,
                params=params,
                policy=policy,
                deadline=deadline,
                what="publisher",
                sleep=self._sleep,
            )
        except UpstreamUnavailableError as exc:
            raise PublisherUnavailableError(str(exc)) from exc
        except UpstreamRejectedError as exc:
            raise PublisherRejectedError(str(exc)) from exc
        return self._json_object(response), str(response.url)

    @staticmethod
    def _json_object(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise PublisherRejectedError("the publisher answered with invalid JSON") from exc
        if not isinstance(body, dict):
            raise PublisherRejectedError("the publisher answered with JSON that is not an object")
        return body
