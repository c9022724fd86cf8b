"""Small validators shared by the request models (no extra dependency for email)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from jobmatch.security.addresses import AddressRefusedError, check_host

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is
# proven by the email we send, not by a regex. Written without `\s` so that the
# OpenAPI document (ECMA regex) and pydantic read it alike.
EMAIL_PATTERN = r"^[^@ \t\r\n]{1,64}@[^@ \t\r\n]+\.[^@ \t\r\n]{2,}$"
_EMAIL = re.compile(EMAIL_PATTERN)
# What a form may send around the address (a mobile keyboard's space after
# autocomplete, a pasted line end): trimmed, so the address is taken as meant. Only
# these characters, the ones the pattern excludes, so that the document's pattern
# (`EMAIL_FIELD_PATTERN`) says exactly what is accepted.
_AROUND = " \t\r\n"
EMAIL_FIELD_PATTERN = rf"^[ \t\r\n]*{EMAIL_PATTERN[1:-1]}[ \t\r\n]*$"


def form_email(value: str) -> str:
    """The stored form of an email field: surrounding spaces trimmed, lower-cased as
    a whole (the platform's choice: addresses are looked up and stored in one case,
    and no mail provider tells local parts apart by case); a refusal a person reads
    otherwise."""
    email = value.strip(_AROUND).lower()
    if not _EMAIL.match(email):
        raise PydanticCustomError("email_address", "not an email address")
    return email


Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"pattern": EMAIL_FIELD_PATTERN}),
    AfterValidator(form_email),
]
"""An email in a request body (`form_email`); the document states the pattern."""


def clean_list(values: list[str]) -> list[str]:
    """Lower-cased, whitespace collapsed, de-duplicated (first wins), empty items
    dropped."""
    cleaned: list[str] = []
    for value in values:
        item = " ".join(value.split()).lower()
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
    from inside our VPC. This is the cheap first refusal (a host written as a
    loopback, private, link-local or metadata address in any numeric form, or a
    local-only name); the address actually connected to is checked when the
    callback is sent (`security.addresses.pin`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host:
        raise ValueError("must be an https:// URL")
    try:
        check_host(host)
    except AddressRefusedError as exc:
        raise ValueError(str(exc)) from exc
    return url
