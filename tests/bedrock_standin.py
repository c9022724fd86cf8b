"""A Bedrock runtime stand-in on 127.0.0.1 that answers slowly.

It speaks enough of the bedrock-runtime REST JSON protocol for boto3 (pointed at it
with `endpoint_url`): `POST /model/{modelId}/converse` answers a Converse response
whose text is `answer` (JSON), `POST /model/{modelId}/invoke` a Titan v2 embedding
of `dimension` zeros and a one. Each answer comes `delay` seconds after the
request, unless the stand-in is stopped first (so a test never waits for it).
Every request is recorded as (operation, model id).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


class BedrockStandIn:
    """Converse and InvokeModel on 127.0.0.1, each answered after `delay` seconds."""

    def __init__(
        self, *, delay: float, answer: dict[str, Any] | None = None, dimension: int = 256
    ) -> None:
        self.delay = delay
        self.answer = answer or {}
        self.dimension = dimension
        self.requests: list[tuple[str, str]] = []
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> BedrockStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.released.set()  # a request still sleeping answers now
        self._server.shutdown()
        self._server.server_close()

    def _body(self, operation: str) -> dict[str, Any]:
        if operation == "converse":
            text = json.dumps(self.answer)
            return {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 10, "outputTokens": 10, "totalTokens": 20},
                "metrics": {"latencyMs": int(self.delay * 1000)},
            }
        vector = [0.0] * (self.dimension - 1) + [1.0]
        return {"embedding": vector, "inputTextTokenCount": 3}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.split("/")  # ["", "model", "<id>", "<operation>"]
                if len(parts) != 4 or parts[1] != "model":
                    self.send_error(404)
                    return
                operation = parts[3]
                standin.requests.append((operation, unquote(parts[2])))
                standin.released.wait(standin.delay)
                payload = json.dumps(standin._body(operation)).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting: that is what is tested

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
