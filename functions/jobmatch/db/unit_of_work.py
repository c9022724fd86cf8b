"""The unit of work: one transaction, and what must follow its commit.

A `UnitOfWork` is the session a request or a step writes through (stores take it
where they take a session: it is one), plus a list of actions that may only run
once the transaction is committed: sending the events and emails that the rows
announce. Those actions run after the commit and never before; if the commit
fails they never run, and if one of them fails the rows stay committed and the
action's own outbox row stays pending for the next flush, so the failure is
logged, not raised.

Code outside `db/` and the stores names this type, never SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from jobmatch.observability import logger

AfterCommit = Callable[[], object]


class DatabaseUnavailableError(RuntimeError):
    """The database connection was lost (or could not be opened) inside a unit of
    work: its transaction is gone, nothing of it is committed, and the same request
    or step may run again (on a new connection: the lost one is discarded). Routes
    answer it with 503; in a step it is an ordinary failure, so Inngest retries."""


def is_connection_lost(exc: BaseException) -> bool:
    """Whether `exc` says the database could not serve the unit of work, rather
    than refused a statement of it: the connection went away or could not be opened
    (a terminated backend, a proxy failover, a server restart, a refused login),
    or the server gave the transaction up (psycopg's `OperationalError` family:
    cancelled, deadlocked). Trying again later is the answer to each."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class UnitOfWork(Session):
    """A session that also holds what to do once its transaction is committed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._after_commit: list[AfterCommit] = []

    def after_commit(self, action: AfterCommit) -> None:
        """Run `action` once this unit's transaction is committed (in order)."""
        self._after_commit.append(action)

    def run_after_commit(self) -> None:
        """Run (and forget) the actions queued by `after_commit`.

        An action that fails is logged and the rest still run: what it was to do
        is recorded in an outbox that a later flush retries."""
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                action()
            except Exception:  # noqa: BLE001 - the outbox row keeps what failed
                logger.exception("after-commit action failed; its outbox keeps it pending")

    def discard_after_commit(self) -> None:
        """Forget the queued actions (the transaction was rolled back)."""
        self._after_commit.clear()
