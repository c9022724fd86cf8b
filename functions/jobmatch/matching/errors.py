"""The lookups of matching that can miss: routes answer 404, functions fail for good
(each is a `PermanentError`: no retry brings the row back)."""

from __future__ import annotations

from jobmatch.failures import PermanentError


class UserNotFoundError(PermanentError, LookupError):
    """No free-signup user with this id or email, or one without preferences yet."""


class JobNotFoundError(PermanentError, LookupError):
    """No job with this id."""
