"""Serve the app locally: `python -m jobmatch_devkit.serve` (or `jobmatch-serve`).

Uvicorn on 127.0.0.1:8000, Inngest in DEV mode (no signatures; the SDK talks to
the Inngest dev server on 127.0.0.1:8288), the embedded PostgreSQL unless
`DATABASE_URL` is set, migrated to heads before the first request. For the real
Inngest dev server:

    npx inngest-cli@latest dev -u http://127.0.0.1:8000/api/inngest
"""

from __future__ import annotations

import argparse
import os
import sys

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


if __name__ == "__main__":
    main()
