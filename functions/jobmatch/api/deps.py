"""Dependencies shared by routes: the app's `Dependencies`, settings, sessions.

Routes never reach for module globals or `get_settings()`: the app keeps the
`Dependencies` it was built with on `app.state`, and the dependencies below hand
it (or a part of it) to a route, so an app built on test settings or fakes uses
them throughout. Who may call a route (API keys and their scopes) is `api.auth`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import inngest
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings


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


SessionDep = Annotated[Session, Depends(db_session)]
