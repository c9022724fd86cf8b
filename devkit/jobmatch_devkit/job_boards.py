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
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


class FakeJobBoards:
    """The server; `start()` binds a free port, `url` is its base URL."""

    def __init__(self) -> None:
        self.boards: dict[tuple[str, str], Any] = {}
        self.requests: list[str] = []
        self.collinfo: list[dict[str, Any]] = []
        self._pages: dict[str, list[list[str]]] = {}
        self._faults: dict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self._encoded: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ control
    def start(self) -> FakeJobBoards:
        """Serve on 127.0.0.1, a free port, in a daemon thread."""
        boards = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                boards._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `requests` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJobBoards:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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
