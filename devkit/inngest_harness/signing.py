"""Sign requests the way Inngest Cloud signs the requests it sends to an SDK.

Written from Inngest's SDK spec, not from the SDK: the body is canonicalized
(JSON Canonicalization Scheme, RFC 8785), HMAC-SHA256'd with the signing key
(its `signkey-<env>-` prefix removed) and then the decimal Unix timestamp, and
sent as `X-Inngest-Signature: t=<seconds>&s=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
from typing import Any

import jcs  # type: ignore[import-untyped]

SIGNATURE_HEADER = "X-Inngest-Signature"
_PREFIX = re.compile(r"^signkey-\w+-")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value: what Inngest signs and what the driver sends."""
    result: bytes = jcs.canonicalize(value)
    return result


def signature(body: bytes, signing_key: str, timestamp: int | None = None) -> str:
    """The `X-Inngest-Signature` value for `body` at `timestamp` (now by default)."""
    t = int(time.time()) if timestamp is None else timestamp
    canonical = canonical_json(json.loads(body)) if body else b""
    mac = hmac.new(_PREFIX.sub("", signing_key).encode(), canonical, hashlib.sha256)
    mac.update(str(t).encode())
    return f"t={t}&s={mac.hexdigest()}"


def hashed_signing_key(signing_key: str) -> str:
    """What the SDK sends as `Authorization: Bearer ...` to Inngest's API."""
    return hashlib.sha256(bytes.fromhex(_PREFIX.sub("", signing_key))).hexdigest()


def response_signature_valid(body: bytes, header: str | None, signing_key: str) -> bool:
    """Check an SDK response's signature, which covers the raw body bytes (not canonical)."""
    if not header:
        return False
    parts = dict(urllib.parse.parse_qsl(header))
    if "t" not in parts or "s" not in parts:
        return False
    mac = hmac.new(_PREFIX.sub("", signing_key).encode(), body, hashlib.sha256)
    mac.update(parts["t"].encode())
    return hmac.compare_digest(mac.hexdigest(), parts["s"])
