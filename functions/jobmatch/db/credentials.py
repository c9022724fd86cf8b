"""Database credentials read when a connection opens, so a rotation costs one retry.

In Lambda the password lives in Secrets Manager (the RDS-managed secret, or the
app role's), and Secrets Manager rotates it. An engine built once with the
password in its URL keeps using the old one: every reconnect of a warm container
would fail after a rotation until the container is recycled. Instead, every new
connection takes the credentials from the secret as Powertools caches it
(`SECRET_CACHE_SECONDS`), and a connection refused with them is retried once with
the secret fetched again: if it changed (rotated since it was cached) the retry
uses the new one. Connections already open stay as they are (PostgreSQL does not
end a session when its role's password changes).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, event

from jobmatch.observability import logger
from jobmatch.settings import SECRET_CACHE_SECONDS


class SecretCredentials:
    """The user and password of one secret (`username`, `password` keys), current."""

    def __init__(self, secret_id: str, max_age: int = SECRET_CACHE_SECONDS) -> None:
        self.secret_id = secret_id
        self.max_age = max_age

    def read(self, *, fresh: bool = False) -> tuple[str, str]:
        """(user, password) as cached, or fetched now when `fresh`."""
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_secret(self.secret_id, max_age=self.max_age, force_fetch=fresh)
        secret = json.loads(raw if isinstance(raw, str) else raw.decode())
        return str(secret["username"]), str(secret["password"])

    def install(self, engine: Engine) -> None:
        """Open every new connection of `engine` with the current credentials."""
        event.listen(engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        used = self.read()
        cparams.update(user=used[0], password=used[1])
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError:
            current = self.read(fresh=True)
            if current == used:
                raise  # not a rotation: the server is down, or the role is wrong
            logger.info("database secret rotated; connecting with the new credentials")
            cparams.update(user=current[0], password=current[1])
            return dialect.connect(*cargs, **cparams)
