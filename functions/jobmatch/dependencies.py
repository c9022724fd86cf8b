"""What the app's code is handed instead of reaching for it: settings and clients.

The handler (and each local tool) builds one `Dependencies` per container from
the settings, and everything else receives it: the workflow modules close over it
(`create_functions(deps)`), routes get it through `api.deps`, step bodies take the
parts they use as arguments. Tests build their own, from changed settings or with
fakes passed to the constructor.

Clients are built on first use, once: a boto3 client costs tens of milliseconds
to create, and a cold start that serves a health check should not pay for
Bedrock and SES. The database is the `Database` of these settings (`Database.of`:
one engine per database and process, so a second `Dependencies` on the same
database does not double the connections RDS Proxy sees); every read and write
goes through `deps.unit_of_work()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

import httpx
import inngest

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.ai.llm import LLM, build_llm
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.db.session import Database
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.embeddings.providers import build_embedder
from jobmatch.inngest_client import build_inngest_client
from jobmatch.mail import Mailer
from jobmatch.mail.outbox import build_ses_client
from jobmatch.notifications.webhook import build_webhook_client
from jobmatch.outbound import build_fetch_client
from jobmatch.security.addresses import Resolver, system_resolver
from jobmatch.security.api_keys import ConfiguredKeys
from jobmatch.security.tokens import token_key
from jobmatch.settings import Settings

T = TypeVar("T")


class Dependencies:
    """Settings plus the clients built from them, each created once, when first used.

    Every keyword argument replaces the client built from settings (tests pass
    fakes: an `httpx.Client` on a mock transport, a moto SES client, a stub LLM,
    a `resolver` answering host names from a table)."""

    def __init__(
        self,
        settings: Settings,
        *,
        inngest_client: inngest.Inngest | None = None,
        llm: LLM | None = None,
        embedder: EmbeddingProvider | None = None,
        ses: Any = None,
        mailer: Mailer | None = None,
        http: httpx.Client | None = None,
        fetch_http: httpx.Client | None = None,
        resolver: Resolver | None = None,
        database: Database | None = None,
    ) -> None:
        self.settings = settings
        self.database = database or Database.of(settings)
        self._lock = threading.RLock()
        given = {
            "inngest": inngest_client,
            "llm": llm,
            "embedder": embedder,
            "ses": ses,
            "mailer": mailer,
            "http": http,
            "fetch_http": fetch_http,
            "resolver": resolver,
        }
        self._built: dict[str, object] = {k: v for k, v in given.items() if v is not None}

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """One transaction on this app's database (see `Database.unit_of_work`)."""
        return self.database.unit_of_work()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        """The client called `name`, built by `build` the first time (thread-safe:
        a local server may serve two requests at once)."""
        if name not in self._built:
            with self._lock:
                if name not in self._built:
                    self._built[name] = build()
        return cast(T, self._built[name])

    @property
    def inngest(self) -> inngest.Inngest:
        """The Inngest client: sends events, serves and signs /api/inngest."""
        return self._once("inngest", lambda: build_inngest_client(self.settings))

    @property
    def llm(self) -> LLM | None:
        """The LLM, or None when AI is off (callers then take the rule-based path)."""
        return self._once("llm", lambda: build_llm(self.settings))

    @property
    def embedder(self) -> EmbeddingProvider:
        """Text embeddings of the vector columns' width."""
        return self._once("embedder", lambda: build_embedder(self.settings, EMBEDDING_DIM))

    @property
    def ses(self) -> Any:
        """The SES v2 client (only the SES mail backend asks for it)."""
        return self._once("ses", lambda: build_ses_client(self.settings))

    @property
    def mailer(self) -> Mailer:
        """The one mail path; it asks for the SES client only when it sends by SES."""
        return self._once("mailer", lambda: Mailer.from_settings(self.settings, lambda: self.ses))

    @property
    def http(self) -> httpx.Client:
        """The HTTP client for webhook callbacks."""
        return self._once("http", build_webhook_client)

    @property
    def fetch_http(self) -> httpx.Client:
        """The HTTP client for reading public APIs (job boards, the Common Crawl index)."""
        return self._once("fetch_http", build_fetch_client)

    @property
    def resolver(self) -> Resolver:
        """Host name -> addresses, for the webhook guard (the system's resolver)."""
        return self._once("resolver", lambda: system_resolver)

    @property
    def api_keys(self) -> ConfiguredKeys:
        """The API keys of the settings (in Lambda re-read from the SSM parameter)."""
        return self._once("api_keys", lambda: ConfiguredKeys(self.settings.api_key_entries))

    @property
    def signup_token_key(self) -> bytes:
        """The HMAC key of signup confirmation tokens (see `security.tokens.token_key`)."""
        return self._once("signup_token_key", lambda: token_key(self.settings))
