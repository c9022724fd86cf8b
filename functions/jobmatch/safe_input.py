"""What outside input may hold: the one check every request and event model runs.

PostgreSQL refuses a NUL character in text, and UTF-8 (so JSON on the wire, the
database and every log line) cannot carry a lone surrogate; JSON itself has no
NaN or Infinity, although Python's parser accepts them. Input carrying any of
these used to travel until the database or the response encoder choked on it (a
500, or an Inngest run failing every retry). `check_storable` refuses such
input where it enters, so it is a 422 (routes) or a NonRetriableError (events);
`strip_unstorable` cleans text we take in without a caller to refuse it to (job
board postings, an LLM's explanation):

- request bodies and event data derive `StorableModel`, whose one validator
  runs on every field, nested lists and mappings included;
- path, query and header parameters are typed `StorableText`.

This module sits below `api/` and `events/` and imports neither.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

# NUL, and the UTF-16 surrogate range (a Python str holds one only when it came
# from a lone `\\udXXX` escape in JSON or a percent-decoded invalid sequence).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_storable(value: Any) -> Any:
    """`value` unchanged if every string and number in it can be stored and sent
    back as JSON; ValueError naming the problem (never echoing it) otherwise."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ValueError("text must not contain NUL characters or lone surrogates")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_storable(key)
            check_storable(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_storable(item)
    return value


def strip_unstorable(text: str) -> str:
    """`text` without the characters it could not be stored or sent with: one bad
    character in a posting or a model's answer must not fail the whole write."""
    return _UNSTORABLE.sub("", text)


StorableText = Annotated[str, AfterValidator(check_storable)]
"""A text parameter (path, query, header) that PostgreSQL and JSON can hold."""


class StorableModel(BaseModel):
    """Base of every model that validates outside input (request bodies, event
    data): each given field passes `check_storable`, however deeply nested."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_storable(value)
