"""Refuse a request body larger than its route accepts (413), before it is parsed.

API Gateway passes bodies up to 10 MB and Lambda up to 6 MB; parsing a body that
large as JSON costs memory and time for a request we would refuse anyway. Each
route has a limit sized to its largest valid body; the Inngest endpoint is left
alone (the SDK's requests carry memoized step state, bounded by Lambda's limit).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobmatch.api.errors import error_response

KB = 1024
DEFAULT_LIMIT = 64 * KB
# 500 jobs with real descriptions; 1,000 users by email; 100 events, one of them a
# batch of 5,000 new job ids.
ROUTE_LIMITS: Mapping[str, int] = {
    "/api/jobs/import": 2048 * KB,
    "/api/match-users": 512 * KB,
    "/api/events": 1024 * KB,
}


class BodyLimit:
    """ASGI middleware: 413 when a body exceeds its path's limit (declared by
    Content-Length or counted as it arrives)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        exempt: frozenset[str],
        limits: Mapping[str, int] = ROUTE_LIMITS,
        default: int = DEFAULT_LIMIT,
    ) -> None:
        self.app = app
        self.exempt = exempt
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass requests within the limit on, with their body replayed; 413 otherwise."""
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(413, f"the request body is larger than {limit // KB} KB")
        await response(scope, receive, send)
