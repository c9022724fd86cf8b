"""Dependencies shared by routes: the app's `Dependencies`, sessions, API-key auth.

Routes never reach for module globals or `get_settings()`: the app keeps the
`Dependencies` it was built with on `app.state`, and the dependencies below hand
it (or a part of it) to a route, so an app built on test settings or fakes uses
them throughout.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

import inngest
from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Machine API key")


def app_dependencies(request: Request) -> Dependencies:
    """The `Dependencies` this app was built with."""
    deps: Dependencies = request.app.state.deps
    return deps


DepsDep = Annotated[Dependencies, Depends(app_dependencies)]


def app_settings(deps: DepsDep) -> Settings:
    """The app's settings."""
    return deps.settings


def app_inngest(deps: DepsDep) -> inngest.Inngest:
    """The app's Inngest client (routes send events with it)."""
    return deps.inngest


SettingsDep = Annotated[Settings, Depends(app_settings)]
InngestDep = Annotated[inngest.Inngest, Depends(app_inngest)]


def db_session() -> Iterator[Session]:
    """A session for one request, committed at its end."""
    with session_scope() as session:
        yield session


def hash_api_key(key: str) -> str:
    """SHA-256 hex of an API key: the only form the app keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def require_api_key(
    key: Annotated[str | None, Security(api_key_header)], settings: SettingsDep
) -> str:
    """Accept a request whose X-API-Key hashes to a configured hash; 401 otherwise.
    Returns the key's hash prefix, for logs (never the key)."""
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    digest = hash_api_key(key)
    if not any(hmac.compare_digest(digest, known) for known in settings.api_key_hash_set()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key")
    return digest[:8]


SessionDep = Annotated[Session, Depends(db_session)]
ApiKeyDep = Annotated[str, Depends(require_api_key)]
