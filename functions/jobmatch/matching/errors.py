"""The lookups of matching that can miss: routes answer 404, functions fail for good."""

from __future__ import annotations


class UserNotFoundError(LookupError):
    """No free-signup user with this id or email, or one without preferences yet."""


class CandidateNotFoundError(LookupError):
    """No candidate with this id in this tenant (another tenant's is "not found" too,
    so ids of other tenants' candidates cannot be probed)."""
