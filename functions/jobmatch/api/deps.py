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

from jobmatch.db.unit_of_work import UnitOfWork
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


def db_session(deps: DepsDep) -> Iterator[UnitOfWork]:
    """A unit of work for one request on the app's database, committed at its end."""
    with deps.unit_of_work() as uow:
        yield uow


# scope="function": the unit of work ends (commits, then sends what its outbox
# recorded) before the response is sent, so a commit that fails is the request's
# error, never a success answered for rows that were not saved.
SessionDep = Annotated[UnitOfWork, Depends(db_session, scope="function")]
