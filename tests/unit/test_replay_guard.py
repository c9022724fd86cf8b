"""ReplayGuard: the freshness check the SDK lacks, in front of /api/inngest.

Driven as plain ASGI with a fixed clock, so every boundary is exact: what reaches
the wrapped app and what gets 401 is observed, not assumed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from jobmatch.api.replay_guard import CLOCK_SKEW_SECONDS, ReplayGuard, signature_timestamp

NOW = 1_700_000_000
MAX_AGE = 300
PATH = "/api/inngest"


class Downstream:
    """The wrapped app: records that it was reached and answers 200."""

    def __init__(self) -> None:
        self.reached = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(
    *,
    method: str = "POST",
    path: str = PATH,
    header: str | None = None,
    require_signature: bool = True,
    scope_type: str = "http",
) -> tuple[int, dict[str, Any] | None, Downstream]:
    downstream = Downstream()
    guard = ReplayGuard(
        downstream,
        serve_path=PATH,
        max_age_seconds=MAX_AGE,
        require_signature=require_signature,
        clock=lambda: float(NOW),
    )
    headers = [(b"x-inngest-signature", header.encode())] if header is not None else []
    scope: Scope = {"type": scope_type, "method": method, "path": path, "headers": headers}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, (json.loads(body) if status == 401 else None), downstream


def _sig(t: int | str) -> str:
    return f"t={t}&s={'ab' * 32}"


def test_fresh_signature_reaches_the_sdk() -> None:
    status, _, downstream = _run(header=_sig(NOW - 10))
    assert status == 200
    assert downstream.reached == 1


def test_exactly_max_age_is_still_fresh() -> None:
    status, _, downstream = _run(header=_sig(NOW - MAX_AGE))
    assert (status, downstream.reached) == (200, 1)


def test_one_second_past_max_age_is_a_replay() -> None:
    status, body, downstream = _run(header=_sig(NOW - MAX_AGE - 1))
    assert status == 401
    assert body == {"error": "X-Inngest-Signature is too old"}
    assert downstream.reached == 0


def test_small_clock_skew_is_tolerated() -> None:
    status, _, downstream = _run(header=_sig(NOW + CLOCK_SKEW_SECONDS))
    assert (status, downstream.reached) == (200, 1)


def test_future_timestamp_beyond_skew_is_rejected() -> None:
    status, body, downstream = _run(header=_sig(NOW + CLOCK_SKEW_SECONDS + 1))
    assert status == 401
    assert body == {"error": "X-Inngest-Signature is in the future"}
    assert downstream.reached == 0


@pytest.mark.parametrize("header", ["s=abc", "t=yesterday&s=abc", "t=&s=abc"])
def test_malformed_signature_is_rejected(header: str) -> None:
    status, body, downstream = _run(header=header)
    assert status == 401
    assert body == {"error": "malformed X-Inngest-Signature"}
    assert downstream.reached == 0


@pytest.mark.parametrize("header", [None, ""])
def test_unsigned_post_is_rejected_in_cloud_mode(header: str | None) -> None:
    status, body, downstream = _run(header=header)
    assert status == 401
    assert body == {"error": "missing X-Inngest-Signature"}
    assert downstream.reached == 0


def test_unsigned_post_passes_in_dev_mode() -> None:
    status, _, downstream = _run(header=None, require_signature=False)
    assert (status, downstream.reached) == (200, 1)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_unsigned_get_and_put_are_left_to_the_sdk(method: str) -> None:
    """Introspection and out-of-band sync may be unsigned; the SDK decides what they get."""
    status, _, downstream = _run(method=method, header=None)
    assert (status, downstream.reached) == (200, 1)


def test_stale_signature_on_get_is_rejected_too() -> None:
    status, _, downstream = _run(method="GET", header=_sig(NOW - 3600))
    assert (status, downstream.reached) == (401, 0)


def test_other_paths_are_not_guarded() -> None:
    status, _, downstream = _run(path="/api/health", header=_sig(NOW - 3600))
    assert (status, downstream.reached) == (200, 1)


def test_non_http_scopes_pass_through() -> None:
    downstream = Downstream()
    guard = ReplayGuard(
        downstream, serve_path=PATH, max_age_seconds=MAX_AGE, require_signature=True
    )
    scope: Scope = {"type": "lifespan"}
    reached: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope)

    guard.app = app
    asyncio.run(guard(scope, _never_receive, _never_send))
    assert reached == [scope]


async def _never_receive() -> Message:
    raise AssertionError("not expected")


async def _never_send(message: Message) -> None:
    raise AssertionError("not expected")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("t=123&s=abc", 123), ("s=abc&t=5", 5), ("t=x", None), ("s=abc", None)],
)
def test_signature_timestamp_parsing(header: str, expected: int | None) -> None:
    assert signature_timestamp(header) == expected
