"""Signed, expiring tokens for links we email (the signup confirmation).

A token is `<nonce>.<expires unix>.<signature>`: 24 random bytes, the expiry,
and an HMAC-SHA256 over both with the app's token key. The signature lets the
route refuse a forged or expired token before touching the database; the nonce
makes each token unique; the database keeps only the token's SHA-256 and marks
it used, which makes it single-use.

The key is `signup_confirmation_secret` from the app secret. Without it, it is
derived from the Inngest signing key (also in the app secret, so every Lambda
container derives the same one); a local process in Inngest dev mode, which has
neither, uses a random key of its own (its links die with it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from jobmatch.settings import Settings

_PURPOSE = b"jobmatch signup confirmation v1"


def token_key(settings: Settings) -> bytes:
    """The HMAC key for confirmation tokens (see the module doc for its source)."""
    if settings.signup_confirmation_secret is not None:
        return settings.signup_confirmation_secret.get_secret_value().encode()
    if settings.inngest_signing_key is not None:
        signing_key = settings.inngest_signing_key.get_secret_value().encode()
        return hmac.new(signing_key, _PURPOSE, hashlib.sha256).digest()
    return secrets.token_bytes(32)


def _signature(key: bytes, payload: str) -> str:
    mac = hmac.new(key, _PURPOSE + b":" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make_token(key: bytes, expires_at: datetime) -> str:
    """A new token valid until `expires_at`."""
    payload = f"{secrets.token_urlsafe(24)}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(key, payload)}"


def token_valid(key: bytes, token: str, now: datetime) -> bool:
    """Whether `token` was signed with `key` and has not expired."""
    payload, _, signature = token.rpartition(".")
    _, _, expires = payload.partition(".")
    if not expires.isdigit() or not hmac.compare_digest(signature, _signature(key, payload)):
        return False
    return int(expires) > now.timestamp()


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()
