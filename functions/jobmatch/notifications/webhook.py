"""Signed webhook callbacks, posted so that a retry is safe for the receiver.

Each POST carries an `Idempotency-Key` (the same on every retry) and, when a
signing secret is configured, `X-Jobmatch-Signature: t=<unix>,v1=<hmac>`: an
HMAC-SHA256 of `<t>.<body>`, so the receiver can verify the sender and refuse a
replayed request by its timestamp.

The URL was checked at signup, but only as text: here its host is resolved, every
address must be public, and the request goes to the checked address with the
original name as Host and TLS SNI (`security.addresses.pin`), so DNS cannot point
the connection elsewhere between the check and the call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from jobmatch.failures import PermanentError
from jobmatch.security.addresses import AddressRefusedError, IPAddress, Resolver, is_public, pin

WEBHOOK_TIMEOUT_SECONDS = 5.0
RETRYABLE_STATUSES = (408, 429)


class WebhookRefusedError(PermanentError):
    """The receiver answered a 4xx other than 408 and 429: it will refuse a retry too."""


class WebhookAddressError(PermanentError):
    """The URL's host is, or resolves to, an address the app must not call."""


def build_webhook_client() -> httpx.Client:
    """The client for callbacks: short timeout, no redirects (a redirect could
    leave https, or point at an address the URL check refused), and no proxy from
    the environment (a proxy would resolve the name itself, undoing the pin)."""
    return httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)


def webhook_headers(body: bytes, key: str, secret: str | None, now: int) -> dict[str, str]:
    """Headers of a callback: idempotency key, and the signature when signed."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    if secret:
        mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Jobmatch-Signature"] = f"t={now},v1={mac}"
    return headers


def post_webhook(
    http: httpx.Client,
    url: str,
    payload: dict[str, Any],
    key: str,
    secret: str | None,
    *,
    resolver: Resolver,
    allow: Callable[[IPAddress], bool] = is_public,
) -> int:
    """POST the callback to the checked address of `url`; its status code. An
    address that `allow` refuses (anything not public) is a WebhookAddressError
    and nothing is sent. 5xx, 408, 429 and network errors raise (the step retries);
    another non-2xx is the receiver refusing it, which a retry cannot change."""
    try:
        target = pin(url, resolver, allow)
    except AddressRefusedError as exc:
        raise WebhookAddressError(f"webhook not called: {exc}") from exc
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = webhook_headers(body, key, secret, int(time.time()))
    response = http.post(
        target.url,
        content=body,
        headers={**headers, "Host": target.host_header},
        extensions={"sni_hostname": target.sni_hostname},
    )
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
        response.raise_for_status()
    if not 200 <= response.status_code < 300:
        raise WebhookRefusedError(f"webhook refused the callback: {response.status_code}")
    return response.status_code
