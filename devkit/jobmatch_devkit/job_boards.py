"""Fake public job-board APIs and a fake Common Crawl index on 127.0.0.1, for tests
and the benchmark. One server, one path prefix per API:

* `/ashby/posting-api/job-board/<board>` (Ashby's posting API: one `{"jobs": []}`;
  an unknown board is a `text/plain` 404 "Not Found", as Ashby answers);
* `/greenhouse/v1/boards/<token>/jobs` and `/greenhouse-eu/...` (`{"jobs", "meta"}`);
* `/lever/v0/postings/<site>?skip=&limit=` and `/lever-eu/...` (a bare array, sliced
  by skip/limit; an unknown site is a 404 `{"ok": false, ...}`);
* `/cdx/collinfo.json` and `/cdx/<crawl>-index?url=<host>/*&page=N|showNumPages=true`
  (NDJSON lines of that host only, split into the pages given; no captures is a
  404 and a page past the end a 400, with the index's JSON messages).

Boards are registered with their bodies (a fixture file's JSON, or generated);
faults are queued per board or per index page: N answers with a status (and
`Retry-After`), or a syntactically broken body. `requests` records every path
with its query. It never imports `jobmatch`.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jobmatch_devkit.local_server import LocalServer

PREFIXES = {
    "ashby": "ashby",
    "greenhouse": "greenhouse",
    "greenhouse-eu": "greenhouse",
    "lever": "lever",
    "lever-eu": "lever",
}
BROKEN_BODY = b'{"jobs": [{"id": '


@dataclass(frozen=True)
class Fault:
    """One planned bad answer: a status (with Retry-After), or a broken body (200)."""

    status: int = 200
    retry_after: str | None = None
    broken: bool = False


@dataclass(frozen=True)
class Answer:
    """What the server sends."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, value: Any) -> Answer:
    return Answer(status, json.dumps(value).encode())


class FakeJobBoards(LocalServer):
    """The server; `start()` binds a free port, `url` is its base URL."""

    def __init__(self) -> None:
        self.boards: dict[tuple[str, str], Any] = {}
        self.requests: list[str] = []
        self.collinfo: list[dict[str, Any]] = []
        self._pages: dict[str, list[list[str]]] = {}
        self._faults: dict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self._encoded: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control
    def api_urls(self) -> dict[str, str]:
        """Base URLs of each API, by the names the app's settings use."""
        return {
            "ashby_api_url": f"{self.url}/ashby",
            "greenhouse_api_url": f"{self.url}/greenhouse",
            "greenhouse_eu_api_url": f"{self.url}/greenhouse-eu",
            "lever_api_url": f"{self.url}/lever",
            "lever_eu_api_url": f"{self.url}/lever-eu",
            "cdx_base_url": f"{self.url}/cdx",
        }

    def add_board(self, prefix: str, token: str, body: Any) -> None:
        """Serve `body` (JSON-able) as the board `token` under `prefix` (e.g. "lever-eu")."""
        with self._lock:
            self.boards[(prefix, token)] = body
            self._encoded[(prefix, token)] = json.dumps(body).encode()

    def remove_board(self, prefix: str, token: str) -> None:
        """The board is gone: unknown from now on."""
        with self._lock:
            self.boards.pop((prefix, token), None)
            self._encoded.pop((prefix, token), None)

    def fail(self, prefix: str, token: str, *faults: Fault) -> None:
        """Answer the next requests for this board (or `cdx`, "<host>:<page>") with `faults`."""
        with self._lock:
            self._faults[(prefix, token)].extend(faults)

    def fail_always(self, prefix: str, token: str, fault: Fault, times: int = 1000) -> None:
        """Keep failing (a board or index page that is down)."""
        self.fail(prefix, token, *([fault] * times))

    def heal(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def set_index(self, collinfo: list[dict[str, Any]], pages: Iterable[Iterable[str]]) -> None:
        """The crawls and the index pages (NDJSON lines of any host, page by page)."""
        by_host: dict[str, list[list[str]]] = defaultdict(list)
        page_list = [list(p) for p in pages]
        for n, lines in enumerate(page_list):
            for line in lines:
                host = (urlsplit(json.loads(line)["url"]).hostname or "").lower()
                pages_of = by_host[host]
                while len(pages_of) <= n:
                    pages_of.append([])
                pages_of[n].append(line)
        for pages_of in by_host.values():
            while len(pages_of) < len(page_list):
                pages_of.append([])
        with self._lock:
            self.collinfo = collinfo
            self._pages = dict(by_host)

    def requests_for(self, fragment: str) -> list[str]:
        """Requests whose path and query contain `fragment`."""
        return [r for r in self.requests if fragment in r]

    # ------------------------------------------------------------------ serving
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(handler.path)
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segments = [s for s in parts.path.split("/") if s]
        answer = self._route(segments, query)
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(answer.body)

    def _fault(self, key: tuple[str, str]) -> Answer | None:
        with self._lock:
            queue = self._faults.get(key)
            fault = queue.popleft() if queue else None
        if fault is None:
            return None
        if fault.broken:
            return Answer(200, BROKEN_BODY)
        headers = (("Retry-After", fault.retry_after),) if fault.retry_after else ()
        return Answer(fault.status, b'{"error": "planned fault"}', headers=headers)

    def _route(self, segments: list[str], query: dict[str, str]) -> Answer:
        if not segments:
            return Answer(404, b"Not Found", "text/plain")
        prefix, rest = segments[0], segments[1:]
        if prefix == "cdx":
            return self._cdx(rest, query)
        provider = PREFIXES.get(prefix)
        token = {
            "ashby": rest[2] if rest[:2] == ["posting-api", "job-board"] and len(rest) == 3 else "",
            "greenhouse": rest[2] if len(rest) == 4 and rest[:2] == ["v1", "boards"] else "",
            "lever": rest[2] if len(rest) == 3 and rest[:2] == ["v0", "postings"] else "",
        }.get(provider or "", "")
        if not token:
            return Answer(404, b"Not Found", "text/plain")
        fault = self._fault((prefix, token))
        if fault is not None:
            return fault
        with self._lock:
            body, encoded = self.boards.get((prefix, token)), self._encoded.get((prefix, token))
        if encoded is None:
            if provider == "ashby":
                return Answer(404, b"Not Found", "text/plain")
            if provider == "lever":
                return _json(404, {"ok": False, "error": "Document not found"})
            return _json(404, {"status": 404, "error": "Job board not found"})
        if provider == "lever" and isinstance(body, list):
            skip, limit = int(query.get("skip", 0)), int(query.get("limit", len(body) or 1))
            return _json(200, body[skip : skip + limit])
        return Answer(200, encoded)

    def _cdx(self, rest: list[str], query: dict[str, str]) -> Answer:
        if rest == ["collinfo.json"]:
            return _json(200, self.collinfo)
        if len(rest) != 1 or not rest[0].endswith("-index"):
            return Answer(404, b"Not Found", "text/plain")
        host = query.get("url", "").removesuffix("/*").lower()
        with self._lock:
            pages = self._pages.get(host)
        if not pages:
            return _json(404, {"message": f"No Captures found for: {host}/"})
        if query.get("showNumPages") == "true":
            return _json(200, {"pages": len(pages), "pageSize": 5, "blocks": len(pages) * 5})
        page = int(query.get("page", 0))
        fault = self._fault(("cdx", f"{host}:{page}"))
        if fault is not None:
            return fault
        if page >= len(pages):
            message = f"Page {page} invalid: First Page is 0, Last Page is {len(pages) - 1}"
            return _json(400, {"message": message})
        body = "".join(line + "\n" for line in pages[page]).encode()
        return Answer(200, body, "text/x-ndjson")


# ----------------------------------------------------------------- synthetic data
TITLES = (
    "Senior Backend Engineer (m/f/d)",
    "Sr. Software Engineer, Platform - Remote",
    "Frontend Developer (React/TypeScript)",
    "Data Engineer - Analytics Platform",
    "Site Reliability Engineer (SRE)",
    "Machine Learning Engineer, Ranking",
    "Product Designer II",
    "Engineering Manager, Payments",
    "Customer Success Manager (DACH)",
    "Account Executive, Mid-Market",
)
STACKS = (
    "Python, Django, PostgreSQL and AWS",
    "Go, Kubernetes (k8s), Terraform and GCP",
    "React, TypeScript, Node.js and GraphQL",
    "Java, Spring Boot, Kafka and Oracle Database",
    "Scala, Apache Spark, Airflow and Snowflake",
    "C#, .NET, Azure and Microsoft SQL Server",
    "Ruby on Rails, Redis, Sidekiq and Postgres",
    "Figma, Sketch and user research",
    "Salesforce, HubSpot and Excel",
)
PLACES = (
    ("Berlin, Germany", "Germany"),
    ("London, United Kingdom", "United Kingdom"),
    ("New York, NY", "USA"),
    ("Remote - Europe", "Netherlands"),
    ("Toronto, ON", "Canada"),
)


def _description(rng: Any, n: int) -> str:
    """About 1.5 KB of job-ad HTML, as boards send it."""
    stack = STACKS[n % len(STACKS)]
    extra = STACKS[rng.randrange(len(STACKS))]
    items = "".join(f"<li>{part.strip()}</li>" for part in stack.split(","))
    return (
        f"<h2>About the role</h2><p>You will build and run services used by "
        f"{rng.randrange(1_000, 90_000):,} customers. Our stack: {stack}.</p>"
        f"<h2>What you bring</h2><ul>{items}<li>{rng.randrange(2, 9)}+ years of experience"
        f"</li><li>Nice to have: {extra}</li></ul><p>"
        + "We value ownership, clear writing and calm on-call rotations. " * 12
        + "</p><p>Hybrid: two days a week in the office; visa sponsorship available.</p>"
    )


def synthetic_board(provider: str, token: str, count: int, *, seed: int = 7) -> Any:
    """A board of `count` postings of `provider`'s shape (its API's JSON body), ids
    unique per token; dates in the last week of August 2025."""
    rng = random.Random(f"{seed}-{token}")  # noqa: S311 - synthetic data
    jobs: list[dict[str, Any]] = []
    for n in range(count):
        title = TITLES[(n + len(token)) % len(TITLES)]
        place, country = PLACES[n % len(PLACES)]
        html = _description(rng, n)
        low = rng.randrange(50, 120) * 1000
        uid = uuid.uuid5(uuid.NAMESPACE_URL, f"{provider}/{token}/{n}")
        if provider == "ashby":
            jobs.append(
                {
                    "id": str(uid),
                    "title": title,
                    "location": place,
                    "secondaryLocations": [],
                    "address": {"postalAddress": {"addressCountry": country}},
                    "isListed": True,
                    "isRemote": "Remote" in place,
                    "workplaceType": "Remote" if "Remote" in place else "Hybrid",
                    "publishedAt": f"2025-08-{20 + n % 8:02d}T09:00:00.000+00:00",
                    "descriptionHtml": html,
                    "jobUrl": f"https://jobs.ashbyhq.com/{token}/{uid}",
                    "shouldDisplayCompensationOnJobPostings": True,
                    "compensation": {
                        "summaryComponents": [
                            {
                                "compensationType": "Salary",
                                "interval": "1 YEAR",
                                "currencyCode": "EUR",
                                "minValue": low,
                                "maxValue": low + 20000,
                            }
                        ]
                    },
                }
            )
        elif provider == "greenhouse":
            jobs.append(
                {
                    "id": 7_000_000_000 + uid.int % 10**9,
                    "internal_job_id": 6_000_000_000 + n,
                    "title": title,
                    "company_name": token.title(),
                    "absolute_url": f"https://job-boards.greenhouse.io/{token}/jobs/{n}",
                    "location": {"name": place},
                    "offices": [{"name": place, "location": f"{place}, {country}"}],
                    "metadata": None,
                    "content": html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                    "first_published": f"2025-08-{20 + n % 8:02d}T09:00:00-04:00",
                    "updated_at": "2025-08-28T10:00:00-04:00",
                }
            )
        else:
            jobs.append(
                {
                    "id": str(uid),
                    "text": title,
                    "categories": {"location": place, "commitment": "Full-time"},
                    "country": None,
                    "workplaceType": "remote" if "Remote" in place else "hybrid",
                    "createdAt": 1_755_676_800_000 + n * 60_000,
                    "descriptionPlain": html,
                    "lists": [],
                    "additionalPlain": "",
                    "hostedUrl": f"https://jobs.lever.co/{token}/{uid}",
                    "salaryRange": {
                        "currency": "USD",
                        "interval": "per-year-salary",
                        "min": low,
                        "max": low + 25000,
                    },
                }
            )
    if provider == "lever":
        return jobs
    body: dict[str, Any] = {"jobs": jobs}
    if provider == "greenhouse":
        body["meta"] = {"total": len(jobs)}
    return body
