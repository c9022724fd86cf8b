"""A fake OCDS publisher on 127.0.0.1 for tests and the benchmark.

It serves release packages the way real publishers do, in both pagination
styles, from recorded fixtures (or synthetic releases for the benchmark):

* `GET /api/OCDSReleases?PageNumber=&PageSize=&dateFrom=&dateTo=` (eTenders style),
  with `totalPages`/`totalCount` unless `page_counts=False` (then only an empty
  page tells the end, as with feeds that report nothing);
* `GET /ocdsReleasePackages?dateFrom=&dateTo=&limit=&cursor=` with `links.next`.

Releases are served in recorded order (not sorted: real feeds are not), filtered
by their `date` against the range; a release whose date does not parse is
served anyway, as a publisher that does not validate its own output would.
Faults are switchable: N x 5xx then recovery, 429 with `Retry-After`, down, or
a 200 whose `releases` is not a list (an error object where the list should be).
It never imports `jobmatch`.
"""

from __future__ import annotations

import json
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from jobmatch_devkit.local_server import LocalServer

PAGE_PATH = "/api/OCDSReleases"
LINKS_PATH = "/ocdsReleasePackages"
PACKAGE_META = {
    "version": "1.1",
    "publisher": {"name": "Fake OCDS publisher (jobmatch devkit)"},
    "license": "https://creativecommons.org/licenses/by/4.0/",
    "publicationPolicy": "https://example.org/publication-policy",
}


@dataclass(frozen=True)
class Fault:
    """One planned bad answer: an error status, or (status 200) a page whose
    `releases` is replaced by `releases`."""

    status: int
    retry_after: str | None = None
    releases: Any = None


def _parse_when(value: str | None, *, end: bool = False) -> datetime | None:
    """A query or release date: an ISO date-time, or a date (whole day when `end`)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def load_fixture_releases(directory: Path) -> list[dict[str, Any]]:
    """Every release of every package file in `directory`, in file-name order."""
    releases: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.json")):
        releases.extend(json.loads(path.read_text())["releases"])
    return releases


class OCDSPublisher(LocalServer):
    """The server; `start()` binds a free port, `url` is its base URL."""

    def __init__(self, releases: list[dict[str, Any]], *, page_counts: bool = True) -> None:
        self.releases = releases
        self.page_counts = page_counts
        self.requests: list[str] = []
        self.served_pages = 0
        # Called with the request path before a release request is answered: tests use
        # it to look at the database in the middle of a sync.
        self.on_request: Callable[[str], None] | None = None
        self._faults: deque[Fault | None] = deque()
        self._down: Fault | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control
    def fail_next(self, count: int, *, status: int = 503, after: int = 0) -> None:
        """After `after` good answers, answer `count` times with `status`, then recover."""
        self._plan(after, [Fault(status)] * count)

    def throttle_next(self, count: int, *, retry_after: str = "1", after: int = 0) -> None:
        """After `after` good answers, answer 429 with `Retry-After` `count` times."""
        self._plan(after, [Fault(429, retry_after)] * count)

    def corrupt_next(self, count: int, *, releases: Any, after: int = 0) -> None:
        """After `after` good answers, answer `count` pages whose `releases` is
        `releases` (for instance `{"error": "..."}`), with the page counts intact."""
        self._plan(after, [Fault(200, releases=releases)] * count)

    def go_down(self, status: int = 503) -> None:
        """Answer `status` to everything until `come_back()`."""
        self._down = Fault(status)

    def come_back(self) -> None:
        """Recover from `go_down()` and forget planned faults."""
        with self._lock:
            self._down = None
            self._faults.clear()

    def _plan(self, after: int, faults: list[Fault]) -> None:
        with self._lock:
            self._faults.extend([None] * after)
            self._faults.extend(faults)

    # ------------------------------------------------------------------ serving
    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._down is not None:
                return self._down
            return self._faults.popleft() if self._faults else None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(request.path)
        if parts.path not in (PAGE_PATH, LINKS_PATH):
            self._send(request, 404, {"error": "not found"})
            return
        if self.on_request is not None:
            self.on_request(request.path)
        fault = self._next_fault()
        if fault is not None and fault.status != 200:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(request, fault.status, {"error": "unavailable"}, headers)
            return
        try:
            body = (self._page if parts.path == PAGE_PATH else self._links_page)(query)
        except ValueError as exc:
            self._send(request, 400, {"error": str(exc)})
            return
        if fault is not None:
            body["releases"] = fault.releases
        with self._lock:
            self.served_pages += 1
        self._send(request, 200, body)

    def _selected(self, query: dict[str, str]) -> list[dict[str, Any]]:
        start = _parse_when(query.get("dateFrom"))
        end = _parse_when(query.get("dateTo"), end=True)
        if (query.get("dateFrom") and start is None) or (query.get("dateTo") and end is None):
            raise ValueError("dateFrom/dateTo must be ISO 8601 dates")
        chosen = []
        for release in self.releases:
            when = _parse_when(str(release.get("date") or ""))
            if when is None or ((start is None or when >= start) and (end is None or when <= end)):
                chosen.append(release)
        return chosen

    def _package(self, releases: list[dict[str, Any]], uri: str) -> dict[str, Any]:
        return {
            "uri": uri,
            "publishedDate": datetime.now(UTC).isoformat(),
            **PACKAGE_META,
            "releases": releases,
        }

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        number = int(query.get("PageNumber", "1"))
        size = int(query.get("PageSize", "50"))
        if number < 1 or not 1 <= size <= 1000:
            raise ValueError("PageNumber >= 1 and 1 <= PageSize <= 1000")
        chosen = self._selected(query)
        body = self._package(
            chosen[(number - 1) * size : number * size], f"{self.url}{PAGE_PATH}?{urlencode(query)}"
        )
        if self.page_counts:
            body |= {
                "pageNumber": number,
                "pageSize": size,
                "totalCount": len(chosen),
                "totalPages": max(1, -(-len(chosen) // size)),
            }
        return body

    def _links_page(self, query: dict[str, str]) -> dict[str, Any]:
        offset = int(query.get("cursor", "0"))
        limit = int(query.get("limit", "100"))
        chosen = self._selected(query)
        body = self._package(
            chosen[offset : offset + limit], f"{self.url}{LINKS_PATH}?{urlencode(query)}"
        )
        if offset + limit < len(chosen):
            body["links"] = {
                "next": f"{self.url}{LINKS_PATH}?{urlencode(query | {'cursor': offset + limit})}"
            }
        return body

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(raw)


CPV_SAMPLES = [
    ("45210000", "Building construction work"),
    ("72267000", "Software maintenance and repair services"),
    ("33141000", "Disposable non-chemical medical consumables"),
    ("90910000", "Cleaning services"),
    ("79710000", "Security services"),
    ("71311000", "Civil engineering consultancy services"),
    ("30213000", "Personal computers"),
    ("55520000", "Catering services"),
]


def synthetic_releases(
    count: int, *, start: datetime, releases_per_ocid: int = 2, seed: int = 7
) -> list[dict[str, Any]]:
    """`count` releases of realistic shape: about `releases_per_ocid` per ocid (an
    original tender and amendments), one ocid in ten with no classification (left
    for enrichment), one release in 500 malformed, dates one minute apart."""
    rng = random.Random(seed)  # noqa: S311 - synthetic amounts, not secrets
    out: list[dict[str, Any]] = []
    ocids = max(1, count // releases_per_ocid)
    for n in range(count):
        number = n % ocids
        version = n // ocids
        when = start + timedelta(minutes=n)
        code, label = CPV_SAMPLES[number % len(CPV_SAMPLES)]
        release: dict[str, Any] = {
            "ocid": f"ocds-bench-{number:07d}",
            "id": f"ocds-bench-{number:07d}-{version:02d}",
            "date": when.isoformat().replace("+00:00", "Z"),
            "tag": ["tender"] if version == 0 else ["tenderAmendment"],
            "buyer": {"id": f"BUYER-{number % 97}", "name": f"Buyer {number % 97}"},
            "tender": {
                "id": f"T-{number}",
                "status": "active",
                "value": {"amount": rng.randrange(10_000, 5_000_000), "currency": "ZAR"},
                "tenderPeriod": {"endDate": (when + timedelta(days=30)).isoformat()},
            },
        }
        if version == 0 and number % 10 == 9:  # no classification, no telling title
            release["tender"]["title"] = f"Provision of services, lot {number}"
        elif version == 0:
            release["tender"] |= {
                "title": f"{label} for site {number}",
                "description": f"{label}: lot {number}, as specified in the bid document.",
                "classification": {"scheme": "CPV", "id": code, "description": label},
                "items": [
                    {
                        "id": "1",
                        "description": label,
                        "quantity": 1,
                        "classification": {"scheme": "CPV", "id": code, "description": label},
                    }
                ],
            }
        if n % 500 == 499:
            release["date"] = "not a date"
        out.append(release)
    return out
