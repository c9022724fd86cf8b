"""Small validators shared by the request models (no extra dependency for email)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is
# proven by the email we send, not by a regex.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def clean_list(values: list[str], *, max_item_length: int) -> list[str]:
    """Lower-cased, stripped, de-duplicated (first wins), empty items dropped; an
    item longer than `max_item_length` is an error, not silently cut."""
    cleaned: list[str] = []
    for value in values:
        item = " ".join(value.split()).lower()
        if len(item) > max_item_length:
            raise ValueError(f"'{item[:20]}...' is longer than {max_item_length} characters")
        if item and item not in cleaned:
            cleaned.append(item)
    return cleaned


def normalize_email(value: str) -> str:
    """The stored form of an email (lower-case); ValueError when it is not one."""
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise ValueError("is not a valid email address")
    return email


def require_https(url: str) -> str:
    """A callback URL must be https to a public host: we POST users' data to it
    from inside our VPC, so loopback, private and link-local addresses (the
    instance metadata service among them) are refused when written as such.
    A public name that resolves to a private address is not caught here."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        raise ValueError("must be an https:// URL")
    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
        raise ValueError("must point to a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise ValueError("must point to a public address")
    return url
