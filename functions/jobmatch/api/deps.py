"""Dependencies shared by routes: sessions and API-key authentication."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from jobmatch.db.session import session_scope
from jobmatch.settings import get_settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Machine API key")


def db_session() -> Iterator[Session]:
    """A session for one request, committed at its end."""
    with session_scope() as session:
        yield session


def hash_api_key(key: str) -> str:
    """SHA-256 hex of an API key: the only form the app keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def require_api_key(key: Annotated[str | None, Security(api_key_header)]) -> str:
    """Accept a request whose X-API-Key hashes to a configured hash; 401 otherwise.
    Returns the key's hash prefix, for logs (never the key)."""
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    digest = hash_api_key(key)
    if not any(hmac.compare_digest(digest, known) for known in get_settings().api_key_hash_set()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key")
    return digest[:8]


SessionDep = Annotated[Session, Depends(db_session)]
ApiKeyDep = Annotated[str, Depends(require_api_key)]
