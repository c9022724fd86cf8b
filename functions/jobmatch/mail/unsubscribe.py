"""Unsubscribe links: signed tokens (the opt-out is recorded by `mail.store`).

A token names a user and a category and carries an HMAC-SHA256 of both under
the app's `unsubscribe_secret`, so a link works without logging in (one click
from the mail client, RFC 8058) and cannot be forged to unsubscribe somebody
else. Tokens do not expire: an unsubscribe link in a years-old email must still
work. Recording is an upsert on (user, category): clicking twice is one opt-out
(`mail.store.record_unsubscribe`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from jobmatch.mail.templates import CATEGORIES

ALL = "all"
KNOWN_CATEGORIES = frozenset(c for c in CATEGORIES.values() if c) | {ALL}
UNSUBSCRIBE_PATH = "/api/unsubscribe"


class InvalidTokenError(ValueError):
    """A token that is malformed, names an unknown category, or is not ours."""


@dataclass(frozen=True)
class Opt:
    """Who opts out of what."""

    user_id: int
    category: str


def _signature(secret: str, user_id: int, category: str) -> str:
    digest = hmac.new(
        secret.encode(), f"unsubscribe:{user_id}:{category}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Makes and checks unsubscribe links under one secret."""

    base_url: str
    secret: str

    def token(self, user_id: int, category: str) -> str:
        """`<user>.<category>.<signature>`."""
        return f"{user_id}.{category}.{_signature(self.secret, user_id, category)}"

    def url(self, user_id: int, category: str) -> str:
        """The link in the email (and in its List-Unsubscribe header)."""
        query = urlencode({"token": self.token(user_id, category)})
        return f"{self.base_url.rstrip('/')}{UNSUBSCRIBE_PATH}?{query}"

    def verify(self, token: str) -> Opt:
        """The opt-out a token stands for; InvalidTokenError if it is not genuine."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in KNOWN_CATEGORIES:
            raise InvalidTokenError("malformed unsubscribe token")
        user_id, category, given = int(parts[0]), parts[1], parts[2]
        if not hmac.compare_digest(given, _signature(self.secret, user_id, category)):
            raise InvalidTokenError("unsubscribe token does not verify")
        return Opt(user_id, category)
