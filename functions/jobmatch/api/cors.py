"""CORS for the public routes only, answered by the app.

A signup form on the platform's website posts from another origin, so the browser
first asks (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) and then
reads the answer only if it names the page's origin. API Gateway's HTTP API could
answer that itself (`CorsConfiguration`), but for the whole API: `/api/inngest`,
job import, the scraper and admin routes would answer preflights too. So the gateway
has no CORS configuration and passes `OPTIONS` on to the app (the `ANY` routes), and
this middleware answers it for the public paths it is given, from the origins of
`CORS_ALLOWED_ORIGINS` (a template parameter per environment). Any other path gets no
CORS header at all: a browser page cannot call a machine route.

Credentials (cookies) are never allowed: the public routes use none.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobmatch.api.errors import error_response

ALLOWED_METHODS = ("GET", "POST")
# JSON bodies need Content-Type; nothing else (no API key from a browser).
ALLOWED_HEADERS = ("content-type",)
# Browsers cache a preflight this many seconds (Chrome caps it at 7200).
MAX_AGE_SECONDS = 600


def parse_origins(value: str) -> frozenset[str]:
    """The origins of a comma-separated setting, without blanks or trailing slashes."""
    return frozenset(o.strip().rstrip("/") for o in value.split(",") if o.strip())


class PublicCors:
    """ASGI middleware: CORS answers on `paths` for `origins`, none elsewhere."""

    def __init__(self, app: ASGIApp, *, paths: Iterable[str], origins: Iterable[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight, or add the allowed origin to a public route's answer."""
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            wanted = headers["access-control-request-method"].upper()
            await self._preflight(origin, wanted)(scope, receive, send)
            return
        if origin not in self.origins:
            await self.app(scope, receive, send)
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["access-control-allow-origin"] = origin
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_origin)

    def _preflight(self, origin: str, method: str) -> Response:
        """204 naming the origin when it and the method are allowed; else a 403 in the
        app's error shape (the browser then refuses the call)."""
        if origin not in self.origins:
            return error_response(403, "this origin may not call this route from a browser")
        if method not in ALLOWED_METHODS:
            return error_response(403, f"browsers may send only {', '.join(ALLOWED_METHODS)} here")
        return Response(
            status_code=204,
            headers={
                "access-control-allow-origin": origin,
                "access-control-allow-methods": ", ".join(ALLOWED_METHODS),
                "access-control-allow-headers": ", ".join(ALLOWED_HEADERS),
                "access-control-max-age": str(MAX_AGE_SECONDS),
                "vary": "Origin",
            },
        )
