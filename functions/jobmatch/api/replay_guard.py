"""Reject Inngest requests whose signature timestamp is stale or in the future.

The Inngest SDK (0.5.19) checks the HMAC of `X-Inngest-Signature` but not the age
of its `t=` timestamp, so a captured request could be replayed forever. This ASGI
middleware sits in front of the SDK and answers 401 to any request to the serve
path that carries a timestamp outside the allowed window, and, in cloud mode, to a
POST that carries no signature at all. The HMAC itself stays the SDK's job.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

SIGNATURE_HEADER = b"x-inngest-signature"
# Clocks of two hosts disagree by a little; a timestamp further ahead than this is
# "in the future" and rejected.
CLOCK_SKEW_SECONDS = 30


def signature_timestamp(header_value: str) -> int | None:
    """The `t=` of a signature header as Unix seconds, or None when malformed."""
    parsed = urllib.parse.parse_qs(header_value)
    try:
        return int(parsed["t"][0])
    except (KeyError, ValueError, IndexError):
        return None


class ReplayGuard:
    """ASGI middleware enforcing signature freshness on the Inngest serve path."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        serve_path: str,
        max_age_seconds: int,
        require_signature: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.serve_path = serve_path
        self.max_age_seconds = max_age_seconds
        self.require_signature = require_signature
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass fresh (or, where allowed, unsigned) requests on; answer 401 otherwise."""
        if scope["type"] != "http" or scope["path"] != self.serve_path:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(SIGNATURE_HEADER)
        problem = self._problem(scope["method"], header.decode("latin-1") if header else None)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": problem}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _problem(self, method: str, header: str | None) -> str | None:
        if header is None:
            if self.require_signature and method == "POST":
                return "missing X-Inngest-Signature"
            return None
        timestamp = signature_timestamp(header)
        if timestamp is None:
            return "malformed X-Inngest-Signature"
        age = self.clock() - timestamp
        if age > self.max_age_seconds:
            return "X-Inngest-Signature is too old"
        if age < -CLOCK_SKEW_SECONDS:
            return "X-Inngest-Signature is in the future"
        return None
