"""Signed webhook callbacks, posted so that a retry is safe for the receiver.

Each POST carries an `Idempotency-Key` (the same on every retry) and, when a
signing secret is configured, `X-Jobmatch-Signature: t=<unix>,v1=<hmac>`: an
HMAC-SHA256 of `<t>.<body>`, so the receiver can verify the sender and refuse a
replayed request by its timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from jobmatch.failures import PermanentError

WEBHOOK_TIMEOUT_SECONDS = 5.0
RETRYABLE_STATUSES = (408, 429)


class WebhookRefusedError(PermanentError):
    """The receiver answered a 4xx other than 408 and 429: it will refuse a retry too."""


def build_webhook_client() -> httpx.Client:
    """The client for callbacks: short timeout, no redirects (a redirect could
    leave https, or point at an address the URL check refused)."""
    return httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False)


def webhook_headers(body: bytes, key: str, secret: str | None, now: int) -> dict[str, str]:
    """Headers of a callback: idempotency key, and the signature when signed."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    if secret:
        mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Jobmatch-Signature"] = f"t={now},v1={mac}"
    return headers


def post_webhook(
    http: httpx.Client, url: str, payload: dict[str, Any], key: str, secret: str | None
) -> int:
    """POST the callback; its status code. 5xx, 408, 429 and network errors raise
    (the step retries); another non-2xx is the receiver refusing it, which a retry
    cannot change."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    response = http.post(
        url, content=body, headers=webhook_headers(body, key, secret, int(time.time()))
    )
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
        response.raise_for_status()
    if not 200 <= response.status_code < 300:
        raise WebhookRefusedError(f"webhook refused the callback: {response.status_code}")
    return response.status_code
