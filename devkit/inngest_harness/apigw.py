"""API Gateway HTTP API (payload format 2.0) events and a Lambda context, built offline.

The Lambda handler only ever sees what API Gateway hands it, so tests and the
Inngest driver call it with the same dict shape: lower-cased headers, cookies
split out of the header, `rawQueryString` as sent, a fresh `requestId` per
call, text bodies as-is and binary bodies base64-encoded.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"
API_ID = "harnessapi"
REGION = "eu-west-1"
DOMAIN_NAME = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
SOURCE_IP = "203.0.113.10"
DEFAULT_USER_AGENT = "inngest-harness"

QueryValue = str | list[str]


def _query_parts(query: Mapping[str, QueryValue] | None) -> tuple[str, dict[str, str] | None]:
    """`rawQueryString` and `queryStringParameters` (repeated keys joined by commas)."""
    if not query:
        return "", None
    pairs = [
        (key, item)
        for key, value in query.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    params = {
        key: ",".join(value) if isinstance(value, list) else value for key, value in query.items()
    }
    return urllib.parse.urlencode(pairs), params


def _body_parts(
    body: Mapping[str, Any] | list[Any] | str | bytes | None,
) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`: JSON and text as-is, bytes as base64."""
    if body is None:
        return None, False
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii"), True
    if isinstance(body, str):
        return body, False
    return json.dumps(body, separators=(",", ":")), False


def http_event(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | list[Any] | str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, QueryValue] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """One API Gateway HTTP API v2.0 event, as the `$default` route delivers it.

    `body` may be a dict/list (sent as compact JSON with a JSON content type unless
    one is given), text, or bytes (base64, as API Gateway passes binary bodies).
    """
    raw_query, params = _query_parts(query)
    body_text, is_base64 = _body_parts(body)
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if isinstance(body, Mapping | list):
        lowered.setdefault("content-type", "application/json")
    user_agent = lowered.setdefault("user-agent", DEFAULT_USER_AGENT)
    lowered.setdefault("host", DOMAIN_NAME)
    lowered.setdefault("x-forwarded-proto", "https")
    lowered.setdefault("x-forwarded-port", "443")
    lowered.setdefault("x-forwarded-for", SOURCE_IP)
    lowered.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}")
    if body_text is not None:
        size = len(base64.b64decode(body_text)) if is_base64 else len(body_text.encode())
        lowered.setdefault("content-length", str(size))
    cookie_header = lowered.pop("cookie", None)
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()] if cookie_header else None

    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": lowered["host"],
            "domainPrefix": lowered["host"].split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": user_agent,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if params is not None:
        event["queryStringParameters"] = params
    if body_text is not None:
        event["body"] = body_text
    return event


@dataclass
class LambdaContext:
    """The attributes and method of the Python Lambda runtime's context object."""

    function_name: str = "Api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    timeout_ms: int = 29000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """The ARN a caller used (unqualified, as API Gateway invokes it)."""
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """The CloudWatch log group Lambda writes to."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        instance = uuid.uuid5(uuid.NAMESPACE_URL, self.function_name).hex
        return f"{day}/[{self.function_version}]{instance}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda would stop this invocation."""
        elapsed_ms = int((time.monotonic() - self.started_at) * 1000)
        return max(self.timeout_ms - elapsed_ms, 0)


def lambda_context(function_name: str = "Api", timeout_ms: int = 29000) -> LambdaContext:
    """A fresh context, as Lambda builds one per invocation (new request id)."""
    return LambdaContext(function_name=function_name, timeout_ms=timeout_ms)


def decode_body(response: Mapping[str, Any]) -> bytes:
    """The body bytes of a Lambda proxy response (`isBase64Encoded` honoured)."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()
