"""Lambda SnapStart runtime hooks: what must not be shared across restored containers.

With SnapStart, Lambda runs the init (the handler's import) once per published
version, snapshots the memory, and starts every new container from that snapshot,
possibly days later and many times over. Whatever the init left in memory is then
shared by all of them and may be stale:

- the database engine and its pool: a pooled socket from the snapshot is dead (or,
  worse, the same connection state cloned into many containers);
- secrets and the AWS clients that fetched them (Powertools parameter providers,
  settings cached per process, and the `Dependencies`, Inngest client and serve
  endpoint built from them, which hold the signing and event keys): rotated
  secrets must be re-read, so the handler builds them all anew;
- the `random` module's state: every restored container would draw the same
  sequence (`secrets` and `uuid4` use os.urandom and are safe).

`snapshot_restore_py` is part of every Python managed runtime; outside Lambda its
registries are never run, so importing this module changes nothing locally.
"""

from __future__ import annotations

import random

from aws_lambda_powertools.utilities import parameters
from snapshot_restore_py import register_after_restore, register_before_snapshot

from jobmatch.db.session import reset_engine
from jobmatch.settings import get_settings


def before_snapshot() -> None:
    """Leave no open socket in the snapshot: the pool and the parameter providers'
    AWS clients are dropped (both are rebuilt on first use)."""
    reset_engine()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def after_restore() -> None:
    """Fresh engine, fresh secrets and keys, fresh random state for this container."""
    from jobmatch import handler  # the module that registered this hook, loaded by now

    reset_engine()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    get_settings.cache_clear()
    random.seed()
    handler.rebuild()  # new Dependencies, client and serve endpoint on the new settings


register_before_snapshot(before_snapshot)
register_after_restore(after_restore)
