"""The base of every request body: strict, closed, storable.

A body is held to exactly what the OpenAPI document says: unknown fields are
refused (a renamed field cannot be silently lost), a field is known by its
documented (wire) name only, values keep their JSON types
(`"5"` is not an integer, `1` is not a boolean: pydantic's lax coercions accepted
bodies the document forbids), and every text and number passes
`safe_input.check_storable`. A field whose wire form is a string of another type
(a date) opts out of strictness with `Field(strict=False)`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict

from jobmatch.safe_input import StorableModel


class RequestModel(StorableModel):
    """Base of request bodies."""

    model_config = ConfigDict(extra="forbid", strict=True)


NOT_BLANK = r"[^\s\x1c-\x1f]"
r"""A pattern for text that must hold more than whitespace. The pattern is checked by
pydantic's (Rust) regex, whose `\s` is Unicode's White_Space; `str.strip`, which
`Trimmed` applies after it, also removes the separators U+001C-U+001F, so they count
as blank here too: a source of only U+001F passed the check and was stored empty."""

Trimmed = Annotated[str, AfterValidator(str.strip)]
"""Text stored without surrounding whitespace. Length and pattern constraints
(`Field(...)`) apply to the text as sent, as the document states them."""
