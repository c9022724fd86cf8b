"""Serve the app locally: `python -m jobmatch_devkit.serve` (or `jobmatch-serve`).

Uvicorn on 127.0.0.1:8000, Inngest in DEV mode (no signatures; the SDK talks to
the Inngest dev server on 127.0.0.1:8288), the embedded PostgreSQL unless
`DATABASE_URL` is set, migrated to heads before the first request. For the real
Inngest dev server:

    npx inngest-cli@latest dev --no-discovery -u http://127.0.0.1:8000/api/inngest
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def main(argv: list[str] | None = None) -> None:
    """Migrate, then serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade heads`")
    args = parser.parse_args(argv)

    # Settings are read once, below: DEV mode must be set first.
    os.environ["INNGEST_DEV"] = "1"
    os.environ.setdefault("JOBMATCH_ENV", "local")

    import uvicorn

    from jobmatch.app import INNGEST_PATH, create_app
    from jobmatch.db import migrate
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings

    if not args.no_migrate:
        migrate.upgrade("heads")
    base = f"http://{args.host}:{args.port}"
    print(
        f"jobmatch on {base}  (health: {base}/api/health, inngest: {base}{INNGEST_PATH})\n"
        f"Inngest dev server: npx inngest-cli@latest dev -u {base}{INNGEST_PATH}",
        file=sys.stderr,
        flush=True,
    )
    app = create_app(Dependencies(get_settings()))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


@contextmanager
def serving(
    deps: Dependencies | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> Iterator[str]:
    """The app on `host:port` on a thread of this process, for as long as the block runs.

    For scenarios driven through the real Inngest dev server: the app shares the
    caller's database and is built on the caller's `deps` (settings pointing at
    in-process fakes). Yields the base URL.
    """
    import uvicorn

    from jobmatch.app import create_app
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings

    app = create_app(deps or Dependencies(get_settings()))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="jobmatch-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the app did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
