"""GETs to other people's servers (OCDS publishers, job boards, Common Crawl),
bounded so that one fetch fits inside one Inngest step.

A step must finish well under API Gateway's 30 s, so every fetch ends by a
deadline (the step's, or a part of it: `jobmatch.deadline`): each request's
timeout is what is left of it, and retries on 5xx, 408, 429 and network errors
back off exponentially (or as long as `Retry-After` asks) only while it lasts;
then `UpstreamUnavailableError` tells the caller to let Inngest retry the step
later (with the server's `Retry-After`, when it gave one that did not fit). Any
other 4xx raises `UpstreamRejectedError` at once, a `PermanentError`: repeating
the same request cannot change the answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from jobmatch.deadline import Deadline
from jobmatch.failures import PermanentError
from jobmatch.observability import logger

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = "jobmatch-ingestion/1.0"


class UpstreamUnavailableError(Exception):
    """The server kept failing for the whole budget. `retry_after` is the wait (s)
    the server asked for when that wait did not fit in the budget."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamRejectedError(PermanentError):
    """The server answered 4xx (not 408 or 429): the same request gets the same answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """Per-request timeout, attempts, and the first backoff."""

    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def build_fetch_client() -> httpx.Client:
    """The client for fetching public APIs: an identifying User-Agent (the polite
    thing towards servers that publish no rate limit), redirects followed (a board
    host may move), timeouts set per request by `get_with_retries`."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=True,
        timeout=10.0,
    )


def get_with_retries(
    http: httpx.Client,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    policy: RetryPolicy,
    deadline: Deadline,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """GET `url` until it answers below 400, by `deadline`; see the module doc."""
    attempt = 0
    while True:
        attempt += 1
        timeout = max(0.5, min(policy.timeout_seconds, deadline.remaining()))
        asked: float | None = None
        try:
            response = http.get(url, params=params, timeout=timeout)
        except httpx.TransportError as exc:
            problem = type(exc).__name__
        else:
            if response.status_code < 400:
                return response
            if response.status_code not in RETRYABLE_STATUS:
                raise UpstreamRejectedError(
                    f"{what} answered {response.status_code}", response.status_code
                )
            problem = f"HTTP {response.status_code}"
            asked = retry_after_seconds(response.headers.get("Retry-After"))
        wait = asked
        if wait is None:
            jitter = 1 + random.random() / 4  # noqa: S311 - jitter, not security
            wait = policy.backoff_seconds * 2 ** (attempt - 1) * jitter
        if attempt >= policy.max_attempts or wait >= deadline.remaining():
            raise UpstreamUnavailableError(
                f"{what} unavailable after {attempt} attempts ({problem})", asked
            )
        logger.info("upstream retry", extra={"what": what, "attempt": attempt, "problem": problem})
        sleep(wait)
