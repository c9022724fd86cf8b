"""Call the app's REST routes through the Lambda handler, as API Gateway does.

The demo and the e2e tests talk to the API only this way: every call is an
API Gateway HTTP API v2 event (`apigw.http_event`) handed to the real Lambda
handler with a fresh Lambda context, so routing, Mangum, middleware, auth and
validation are all the deployed ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from inngest_harness.apigw import http_event, lambda_context
from inngest_harness.records import HandlerResponse

LambdaHandler = Callable[[dict[str, Any], Any], Any]


class ApiClient:
    """`get` / `post` against the handler; `api_key` is sent as X-API-Key if set."""

    def __init__(self, handler: LambdaHandler, *, api_key: str | None = None) -> None:
        self.handler = handler
        self.api_key = api_key

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> HandlerResponse:
        """One request; `headers` override the default API key (e.g. to drop it)."""
        sent = {"x-api-key": self.api_key} if self.api_key else {}
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        sent = {k: v for k, v in sent.items() if v}
        event = http_event(method, path, body=body, headers=sent, query=query)
        started = time.perf_counter()
        response = HandlerResponse.from_lambda(self.handler(event, lambda_context()))
        response.seconds = time.perf_counter() - started
        return response

    def get(self, path: str, **kwargs: Any) -> HandlerResponse:
        """GET `path`."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> HandlerResponse:
        """POST `body` (JSON) to `path`."""
        return self.call("POST", path, body=body, **kwargs)
