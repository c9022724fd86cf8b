"""A stand-in for Inngest's event API and registration API on 127.0.0.1.

App code sends events with `inngest_client.send()` and `step.send_event()`, and
the SDK posts its function configs to `/fn/register` on a sync: both over HTTP to
`INNGEST_BASE_URL`. Pointing that at this server keeps those calls real (the SDK's
own HTTP client, headers and auth) while the driver picks up what arrived.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from inngest_harness.signing import hashed_signing_key


@dataclass
class Registration:
    """One `/fn/register` request as the SDK sent it."""

    body: dict[str, Any]
    headers: dict[str, str]
    query: str


@dataclass
class EventAPIState:
    """What the server received; guarded by `lock` (requests arrive on server threads)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    received: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)


class EventAPI:
    """A threaded HTTP server answering like Inngest's event and registration APIs.

    `POST /e/<event key>` takes one event or a list, gives each an id (unless the
    sender set one) and a `ts`, queues them and answers `{"ids": [...], "status": 200}`.
    `POST /fn/register` records the sync payload and answers `{"ok": true, "modified": true}`.
    With `event_key` / `signing_keys` set, a wrong event key or bearer token gets 401,
    as Inngest answers. With `cut` set, a send is read and the connection closed
    without an answer (an outage mid-request: the sender cannot know what arrived;
    nothing did).
    """

    def __init__(
        self,
        *,
        event_key: str | None = None,
        signing_keys: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.event_key = event_key
        self.cut = False
        self.accepted_tokens = {hashed_signing_key(key) for key in signing_keys}
        self.state = EventAPIState()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give the SDK as `INNGEST_BASE_URL`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EventAPI:
        """Serve on a daemon thread; returns self for chaining."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="inngest-event-api", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread = None

    def take(self) -> list[dict[str, Any]]:
        """Every event received since the last take, oldest first, and forget them."""
        with self.state.lock:
            events = list(self.state.pending)
            self.state.pending.clear()
        return events

    def received(self) -> list[dict[str, Any]]:
        """Every event received since the last `reset()` (taken or not)."""
        with self.state.lock:
            return list(self.state.received)

    def registrations(self) -> list[Registration]:
        """Every `/fn/register` request since the last `reset()`."""
        with self.state.lock:
            return list(self.state.registrations)

    def reset(self) -> None:
        """Forget everything received (between tests)."""
        with self.state.lock:
            self.state.pending.clear()
            self.state.received.clear()
            self.state.registrations.clear()

    def accept_events(self, payload: Any) -> list[str]:
        """Queue events as Inngest's event API does; returns their ids."""
        events = payload if isinstance(payload, list) else [payload]
        ids: list[str] = []
        with self.state.lock:
            for raw in events:
                if not isinstance(raw, dict) or not raw.get("name"):
                    raise ValueError("every event needs a name")
                event = {
                    "name": raw["name"],
                    "data": raw.get("data") or {},
                    "id": raw.get("id") or _event_id(),
                    "ts": raw.get("ts") or int(time.time() * 1000),
                }
                if raw.get("user"):
                    event["user"] = raw["user"]
                ids.append(event["id"])
                self.state.pending.append(event)
                self.state.received.append(event)
        return ids


def _event_id() -> str:
    """A unique, time-ordered id (Inngest uses ULIDs; ordering is what matters here)."""
    return f"{time.time_ns():020d}{uuid.uuid4().hex[:6]}".upper()


def _handler_for(api: EventAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            """Route `/e/<key>` and `/fn/register`."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path, _, query = self.path.partition("?")
            try:
                payload = json.loads(raw or b"null")
            except json.JSONDecodeError:
                self._answer(400, {"error": "body is not JSON", "status": 400})
                return
            if path.startswith("/e/"):
                self._events(path.removeprefix("/e/"), payload)
            elif path == "/fn/register":
                self._register(payload, query)
            else:
                self._answer(404, {"error": f"no route {path}"})

        def _events(self, key: str, payload: Any) -> None:
            if api.cut:
                self.close_connection = True
                return
            if api.event_key is not None and key != api.event_key:
                self._answer(401, {"error": "Event key not found", "status": 401})
                return
            try:
                ids = api.accept_events(payload)
            except ValueError as exc:
                self._answer(400, {"error": str(exc), "status": 400})
                return
            self._answer(200, {"ids": ids, "status": 200})

        def _register(self, payload: Any, query: str) -> None:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if api.accepted_tokens and token not in api.accepted_tokens:
                self._answer(401, {"error": "unauthorized"})
                return
            if not isinstance(payload, dict) or not payload.get("functions"):
                self._answer(400, {"error": "no functions in registration"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            with api.state.lock:
                api.state.registrations.append(Registration(payload, headers, query))
            self._answer(200, {"ok": True, "modified": True})

    return Handler
