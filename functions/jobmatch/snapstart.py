"""Lambda SnapStart runtime hooks: what must not be shared across restored containers.

With SnapStart, Lambda runs the init (the handler's import) once per published
version, snapshots the memory, and starts every new container from that snapshot,
possibly days later and many times over. Whatever is in memory at the snapshot is
then shared by all of them and may be stale:

- the database engine and its pool: a pooled socket from the snapshot is dead (or,
  worse, the same connection state cloned into many containers);
- secrets and the AWS clients that fetched them (Powertools parameter providers,
  settings cached per process, and the `Dependencies`, Inngest client and serve
  endpoint built from them, which hold the signing and event keys): rotated
  secrets must be re-read, so the handler forgets its app and builds it anew on
  the next request;
- the `random` module's state: every restored container would draw the same
  sequence (`secrets` and `uuid4` use os.urandom and are safe).

The import itself reads no secret and opens no connection (the handler builds its
app on the first request), so normally only the random state is at stake; the
hooks still clear everything, for a snapshot taken after a request (a warmed-up
version). Clearing Powertools' parameter caches before the snapshot imports its
providers, and with them boto3, which the first request needs for the secrets: a
restored container then does not pay for that import (modules hold no
credentials; clients, which would, are not created).

`snapshot_restore_py` is part of every Python managed runtime; outside Lambda its
registries are never run, so importing this module changes nothing locally.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from snapshot_restore_py import register_after_restore, register_before_snapshot

from jobmatch.db.session import reset_engine
from jobmatch.settings import get_settings


def _clear_parameter_caches() -> None:
    """Powertools' cached secrets and the providers' AWS clients (importing the
    providers, and boto3, if the import has not yet)."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]


def before_snapshot() -> None:
    """Leave no open socket or secret in the snapshot, but the modules the first
    request needs: the pool and the parameter providers (with their AWS clients)
    are dropped and rebuilt on first use."""
    reset_engine()
    _clear_parameter_caches()


_AFTER_RESTORE: list[Callable[[], None]] = []


def on_restore(forget: Callable[[], None]) -> None:
    """Have `forget` run after a restore (the handler forgets its app, so the next
    request builds Dependencies, client and app anew)."""
    _AFTER_RESTORE.append(forget)


def after_restore() -> None:
    """Fresh engine, fresh secrets and keys, fresh random state for this container."""
    reset_engine()
    _clear_parameter_caches()
    get_settings.cache_clear()
    random.seed()
    for forget in _AFTER_RESTORE:
        forget()


register_before_snapshot(before_snapshot)
register_after_restore(after_restore)
