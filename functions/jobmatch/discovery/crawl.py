"""Finding companies' boards in the Common Crawl URL index (CDX API).

The latest crawl is the highest `CC-MAIN-YYYY-WW` in `collinfo.json` (compared as
numbers; the list's order is not promised). Each board host is one prefix query
(`url=<host>/*`), read page by page (`page=N`, as many as `showNumPages` says);
the index answers 404 when a host has no captures and 400 for a page past the
end (a cursor older than the index): both mean "nothing more here". Only the
`url` field is asked for (`fl=url`), which keeps a page of up to 15,000 captures
around a megabyte.

A board token is the first path segment on the host (`jobs.lever.co/<site>/...`),
or the `for=` value of Greenhouse's embed URLs; the site root, `robots.txt`,
sitemaps, Ashby's private `api` and anything that is not a plausible token are
dropped. Tokens are de-duplicated case-insensitively (Ashby board names can be
mixed case; the first spelling is kept, and the first fetch decides).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from jobmatch.deadline import Deadline
from jobmatch.events.jobs import Provider
from jobmatch.outbound import RetryPolicy, UpstreamRejectedError, get_with_retries
from jobmatch.settings import Settings

# host -> (provider, region): the hosts whose first path segment is a board token.
BOARD_HOSTS: dict[str, tuple[Provider, str]] = {
    "jobs.ashbyhq.com": ("ashby", "global"),
    "boards.greenhouse.io": ("greenhouse", "global"),
    "job-boards.greenhouse.io": ("greenhouse", "global"),
    "boards.eu.greenhouse.io": ("greenhouse", "eu"),
    "job-boards.eu.greenhouse.io": ("greenhouse", "eu"),
    "jobs.lever.co": ("lever", "global"),
    "jobs.eu.lever.co": ("lever", "eu"),
}
NOT_TOKENS = frozenset({"robots.txt", "sitemap.xml", "favicon.ico", "api", "embed"})
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CRAWL = re.compile(r"^CC-MAIN-(\d{4})-(\d{2})$")
NO_MORE = frozenset({400, 404})


@dataclass(frozen=True)
class BoardRef:
    """A board found in the index."""

    provider: Provider
    region: str
    token: str


def board_ref(url: str) -> BoardRef | None:
    """The board a captured URL belongs to, or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in BOARD_HOSTS:
        return None
    provider, region = BOARD_HOSTS[host]
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        return None
    token = segments[0]
    if token.lower() == "embed":
        token = (parse_qs(parts.query).get("for") or [""])[0]
    if token.lower() in NOT_TOKENS or not _TOKEN.match(token):
        return None
    return BoardRef(provider, region, token)


def distinct_boards(urls: Iterable[str]) -> tuple[list[BoardRef], int]:
    """Boards of the URLs, first spelling of each (provider, token) in any case; and
    how many URLs named none."""
    seen: dict[tuple[str, str], BoardRef] = {}
    rejected = 0
    for url in urls:
        ref = board_ref(url)
        if ref is None:
            rejected += 1
        else:
            seen.setdefault((ref.provider, ref.token.lower()), ref)
    return list(seen.values()), rejected


def latest_crawl(collinfo: Any) -> str:
    """The id of the newest crawl in `collinfo.json`."""
    ids = (
        [c.get("id") for c in collinfo if isinstance(c, dict)] if isinstance(collinfo, list) else []
    )
    dated = [
        (int(m[1]), int(m[2]), i) for i in ids if isinstance(i, str) and (m := _CRAWL.match(i))
    ]
    if not dated:
        raise ValueError("collinfo.json lists no CC-MAIN crawl")
    return max(dated)[2]


class CdxClient:
    """The CDX API of one index server (`cdx_base_url`), one bounded GET per call."""

    def __init__(
        self, http: httpx.Client, settings: Settings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.http = http
        self.base = settings.cdx_base_url.rstrip("/")
        self.policy = RetryPolicy(
            settings.cdx_timeout_seconds, settings.cdx_max_attempts, settings.cdx_backoff_seconds
        )
        self._sleep = sleep

    def _get(
        self, path: str, deadline: Deadline, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return get_with_retries(
            self.http,
            f"{self.base}/{path}",
            params=params,
            policy=self.policy,
            deadline=deadline,
            what="Common Crawl index",
            sleep=self._sleep,
        )

    def latest_crawl(self, deadline: Deadline) -> str:
        """The newest crawl's id."""
        return latest_crawl(self._get("collinfo.json", deadline).json())

    def page_count(self, crawl: str, host: str, deadline: Deadline) -> int:
        """How many index pages the host has in the crawl (0: no captures)."""
        params = {"url": f"{host}/*", "output": "json", "showNumPages": "true"}
        try:
            body = self._get(f"{crawl}-index", deadline, params).json()
        except UpstreamRejectedError as exc:
            if exc.status in NO_MORE:
                return 0
            raise
        pages = body.get("pages") if isinstance(body, dict) else body
        return max(0, pages) if isinstance(pages, int) and not isinstance(pages, bool) else 0

    def page_urls(self, crawl: str, host: str, page: int, deadline: Deadline) -> list[str] | None:
        """The captured URLs on one page; None past the index's end."""
        params = {"url": f"{host}/*", "output": "json", "fl": "url", "page": str(page)}
        try:
            response = self._get(f"{crawl}-index", deadline, params)
        except UpstreamRejectedError as exc:
            if exc.status in NO_MORE:
                return None
            raise
        urls = []
        for line in response.text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            url = record.get("url") if isinstance(record, dict) else None
            if isinstance(url, str):
                urls.append(url)
        return urls
