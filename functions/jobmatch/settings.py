"""One settings model for the whole application.

Locally every value comes from the environment or `.env`. In Lambda
(`AWS_LAMBDA_FUNCTION_NAME` is set) secrets are resolved through Powertools
parameters, which cache them: the app secret (Inngest keys, webhook secret) when
the settings are first built, by the handler's first request, and the API-key
hashes in SSM when a request first checks a key. A cold start pays for the
lookups it needs, warm invocations for none, and the import for none (no network
call in the init phase). Secret values are `SecretStr`: they never show in a repr,
a log line or a traceback.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_CACHE_SECONDS = 300
# The fields of the app secret (JSON) the settings read; the deploy's bootstrap
# (infra/bootstrap.py) writes each of them.
APP_SECRET_FIELDS = (
    "inngest_signing_key",
    "inngest_signing_key_fallback",
    "inngest_event_key",
    "webhook_signing_secret",
    "unsubscribe_secret",
    "signup_confirmation_secret",
)


class MissingSettingsError(RuntimeError):
    """A Lambda container started without settings only a deployment can give.

    Not a ValueError on purpose: pydantic would wrap that in a ValidationError whose
    text repeats the whole input; this one says only which names are missing."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"jobmatch cannot start in Lambda: no value for {', '.join(missing)}. "
            "These settings differ per deployment and have no default in Lambda: give "
            "them as template parameters per environment (samconfig.toml). DATABASE_URL "
            "may replace DB_HOST and DB_SECRET_ARN; API_KEY_HASHES may replace "
            "API_KEY_HASHES_PARAM."
        )


class Settings(BaseSettings):
    """Everything the app reads from its environment, typed and validated once."""

    # An empty variable counts as unset: `sam local` passes "" for template values it
    # cannot resolve, and the template declares DATABASE_URL & co. empty so that
    # `sam local --env-vars` may set them (SAM overrides declared variables only).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    env: Literal["local", "test", "dev", "staging", "prod"] = Field(
        default="local", validation_alias="JOBMATCH_ENV"
    )

    # Database: a full URL wins; otherwise host/name plus the RDS-managed secret
    # (Lambda); otherwise the embedded pgserver in `data_dir` (local and tests).
    database_url: SecretStr | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "jobmatch"
    db_secret_arn: str | None = None
    # The app role's secret (`Migrate` only): it creates the role the app connects
    # as, with the privileges it needs (`db.app_role`); its own secret is the master's.
    app_db_secret_arn: str | None = None
    db_sslmode: str = "require"
    data_dir: str = ".data"

    # Inngest. In Lambda the keys come from the app secret (`app_secret_id`).
    inngest_app_id: str = "jobmatch"
    # Unset means: cloud mode (signatures required) in Lambda, dev mode elsewhere.
    inngest_dev: bool | None = Field(default=None, validation_alias="INNGEST_DEV")
    inngest_signing_key: SecretStr | None = None
    inngest_signing_key_fallback: SecretStr | None = None
    inngest_event_key: SecretStr | None = None
    inngest_base_url: str | None = None
    inngest_serve_origin: str | None = None
    signature_max_age_seconds: int = 300
    app_secret_id: str | None = None

    # Machine API keys: only SHA-256 hashes are held, each with its scope
    # (`<sha256>:platform`, `<sha256>:tenant:<id>`, comma-separated; see
    # `security.api_keys`), read from SSM in Lambda (`api_key_hashes_param`) by the
    # first request that checks a key. More keys live in the `api_keys` table; the
    # keys themselves live with their callers.
    api_key_hashes: str = ""
    api_key_hashes_param: str | None = None

    # AI and mail.
    ai_enabled: bool = False
    aws_region: str = Field(default="eu-west-1", validation_alias="AWS_REGION")
    bedrock_embedding_model_id: str = "amazon.titan-embed-text-v2:0"
    bedrock_llm_model_id: str = "anthropic.claude-3-haiku-20240307-v1:0"
    ai_timeout_seconds: float = 8.0
    mail_backend: Literal["outbox", "ses"] = "outbox"
    mail_from: str = "jobmatch@example.com"

    # Matching.
    use_inngest_for_matching: bool = True
    signup_time_budget_seconds: float = 3.0
    # HMAC key for async-signup webhook callbacks (X-Jobmatch-Signature); unsigned if unset.
    webhook_signing_secret: SecretStr | None = None
    # Embeddings: Bedrock Titan v2 when AI is on, else the offline provider; both
    # give vectors of the columns' width (`db.models.matching.EMBEDDING_DIM`).
    embedding_concurrency: int = 8
    # Rows embedded per step: 250 Titan calls at 8 at a time are ~32 rounds of
    # ~0.1-0.2 s (3-6 s), well inside a step's 20 s; an import batch (500) takes two.
    embedding_batch_size: int = 250
    backfill_max_batch_size: int = 500
    # Set-based engine limits, sized so one step stays well inside its 20 s budget
    # (bench/matching_bench.py measures the slowest step at these values).
    matching_pair_budget: int = 50_000  # candidate-job pairs scored per step
    matching_score_batch: int = 5_000  # pairs fetched, scored and upserted at a time
    matching_max_chunk_steps: int = 40  # more chunks than this fan out as events
    matching_candidate_max_jobs: int = 5_000  # jobs considered for one candidate
    matching_top_k: int = 200  # HNSW neighbours for profiles without roles
    user_match_limit: int = 50  # matches kept per free-signup user
    ai_rerank_top_n: int = 10

    # Tenders: the OCDS publisher and how one page fetch stays inside a step budget.
    ocds_base_url: str = "http://127.0.0.1:8765"
    ocds_page_size: int = 100
    ocds_pagination: Literal["page", "links"] = "page"
    ocds_releases_path: str = "/api/OCDSReleases"
    ocds_date_format: Literal["datetime", "date"] = "datetime"
    ocds_timeout_seconds: float = 10.0
    ocds_max_attempts: int = 4
    ocds_backoff_seconds: float = 0.5
    ocds_page_budget_seconds: float = 15.0  # fetch + retries of one page; then the step fails
    # Tender sync: the first run looks back this far; later runs start at the cursor
    # minus an overlap (upserts are idempotent, so the overlap costs nothing but
    # catches releases the publisher indexed late).
    tender_sync_lookback_days: int = 7
    tender_sync_overlap_minutes: int = 60
    tender_sync_max_window_days: int = 31
    tender_sync_max_pages: int = 500
    tender_enrichment_default_max: int = 300
    tender_fanout_batch_size: int = 100
    # enrich-tender calls Bedrock: at most this many at once and per minute.
    tender_enrich_concurrency: int = 5
    tender_enrich_per_minute: int = 60
    tender_alert_batch_size: int = 50
    tender_alert_max_items: int = 25
    tender_stuck_job_hours: int = 6

    # Roles by meaning: how a job title resolves to roles (measured by
    # bench/role_quality_bench.py), and the bounded steps around it.
    role_similarity_floor: float = 0.5  # below it a title is unresolved
    role_margin: float = 0.07  # roles this close to the best are kept too...
    role_second_floor: float = 0.7  # ...when they reach this (bench/role_quality_bench.py)
    role_max_per_job: int = 3
    role_family_max: int = 12  # parent / children / siblings offered at a lower score
    role_lexical_weight: float = 0.2  # share of BM25 over role names in a role's score
    # Per step, sized for Titan (one call per text, 8 at a time, ~0.1 s each).
    role_resolve_batch: int = 250  # titles resolved
    role_embed_batch: int = 200  # roles and terms embedded
    role_re_resolve_below: float = 0.6  # re-resolve jobs resolved by meaning below this
    unresolved_match_k: int = 10  # nearest candidates / jobs of an unresolved job
    reembed_batch: int = 100  # rows re-embedded per step when switching model
    # Job pipeline: job boards, the scraper queue, expiry and cleanup, skills, discovery.
    # The public board APIs (base URLs, so tests and the benchmark point them at a fake).
    ashby_api_url: str = "https://api.ashbyhq.com"
    greenhouse_api_url: str = "https://boards-api.greenhouse.io"
    greenhouse_eu_api_url: str = "https://boards-api.eu.greenhouse.io"
    lever_api_url: str = "https://api.lever.co"
    lever_eu_api_url: str = "https://api.eu.lever.co"
    # One board's fetch (every Lever page and every retry) fits this budget, so the
    # ingest step (fetch + upsert) stays inside 20 s; then Inngest retries the step.
    board_timeout_seconds: float = 10.0
    board_max_attempts: int = 3
    board_backoff_seconds: float = 1.0
    board_fetch_budget_seconds: float = 12.0
    lever_page_size: int = 100
    lever_max_pages: int = 30
    # ingest-company is polite per provider: this many boards at once and per minute;
    # and one fetch of a board per window (an hourly run plus a probe do not both go).
    ingest_concurrency_per_provider: int = 4
    ingest_per_minute_per_provider: int = 60
    ingest_min_minutes_between_fetches: int = 30
    ingest_fanout_batch_size: int = 500
    # Scraper queue: a session without a heartbeat for this long is stale.
    scraper_stale_after_minutes: int = 30
    scraper_reset_batch: int = 1_000
    # Expiry (by the earlier of posted and imported date) and the daily cleanup.
    job_expire_after_days: int = 30
    job_expire_batch: int = 5_000  # jobs expired (and their matches removed) per step
    job_expire_max_steps: int = 20  # then the run continues in a new one
    job_retention_days: int = 90  # expired jobs are deleted this long after expiring
    job_cleanup_batch: int = 5_000
    # Skills: a phrase maps to the nearest skill only this similar or more (cosine of
    # the configured embedder's vectors: tuned on the offline provider; re-tune it
    # with the provider).
    skill_similarity_floor: float = 0.7
    skill_extract_batch: int = 100  # jobs per step without the LLM
    skill_llm_jobs_per_step: int = 2  # with it (one Bedrock call each)
    skill_fanout_batch_size: int = 500
    skill_daily_max_jobs: int = 20_000
    skill_extract_concurrency: int = 5
    skill_llm_per_minute: int = 60
    # Company discovery from the Common Crawl index: one page per step, paced.
    cdx_base_url: str = "https://index.commoncrawl.org"
    cdx_timeout_seconds: float = 12.0
    cdx_max_attempts: int = 3
    cdx_backoff_seconds: float = 5.0
    cdx_page_budget_seconds: float = 14.0
    cdx_pause_seconds: int = 6
    discovery_max_pages_per_run: int = 200

    # ---------------------------------------------------------------- step deadlines
    # Each step that does slow work (scoring, Bedrock, embeddings, a publisher's
    # page) has one deadline of this many seconds from its start, which every call
    # inside it respects (`jobmatch.deadline`): API Gateway cuts a call at 30 s.
    step_budget_seconds: float = Field(default=20.0, gt=0, le=25)

    # ---------------------------------------------------------------- deployment
    # The defaults above suit a laptop: a publisher on 127.0.0.1, mail into the
    # outbox table, a sender at example.com. Deployed, each would run silently and
    # do the wrong thing, so in Lambda the settings `deployment_settings` names must
    # be given (`_deployment_settings_given`). `component` says which Lambda this is:
    # the Migrate and SesEvents functions need the database and nothing else.
    component: Literal["api", "migrate", "ses-events"] = Field(
        default="api", validation_alias="JOBMATCH_COMPONENT"
    )
    # Bedrock's region, when it is not the function's (not every region has every model).
    bedrock_region: str | None = None

    @property
    def bedrock_region_name(self) -> str:
        """Where Bedrock is called: `bedrock_region`, else the function's region."""
        return self.bedrock_region or self.aws_region

    def deployment_settings(self) -> list[str]:
        """The variables a Lambda deployment of this component must set, given the
        choices it made (a database URL or host and secret, cloud-mode Inngest, API
        key hashes given directly or by parameter, AI on or off)."""
        names = ["JOBMATCH_ENV"]
        if self.database_url is None:
            names += ["DB_HOST", "DB_SECRET_ARN"]
        if self.component != "api":
            return names
        if self.inngest_cloud_mode:
            names.append("APP_SECRET_ID")
        if not self.api_key_hashes:
            names.append("API_KEY_HASHES_PARAM")
        names += [
            "OCDS_BASE_URL",
            "OCDS_PAGINATION",
            "OCDS_RELEASES_PATH",
            "OCDS_DATE_FORMAT",
            "OCDS_PAGE_SIZE",
            "MAIL_BACKEND",
            "MAIL_FROM",
            "PUBLIC_BASE_URL",
            "AI_ENABLED",
        ]
        if self.ai_enabled:
            names += ["BEDROCK_REGION", "BEDROCK_EMBEDDING_MODEL_ID", "BEDROCK_LLM_MODEL_ID"]
        return names

    def missing_deployment_settings(self) -> list[str]:
        """Those of `deployment_settings` this process was not given (a default or
        an empty variable does not count)."""
        given = {env_name(name) for name in self.model_fields_set}
        return [name for name in self.deployment_settings() if name not in given]

    @model_validator(mode="after")
    def _deployment_settings_given(self) -> Self:
        """In Lambda, refuse to start without every deployment setting, naming all
        the missing ones at once (names only: no value is ever in the message)."""
        if self.in_lambda:
            missing = self.missing_deployment_settings()
            if missing:
                raise MissingSettingsError(missing)
        return self

    # Engagement and notifications: event functions, their flow control, digests,
    # new-job alerts, unsubscribe links.
    public_base_url: str = "http://127.0.0.1:8000"  # where links in emails point
    # Browser origins (comma-separated https origins) allowed to call the public
    # routes (`api.cors`); empty: none, so only non-browser clients call them.
    cors_allowed_origins: str = ""
    # HMAC key of unsubscribe links; in Lambda from the app secret. Unset: emails
    # that need an unsubscribe link fail to send rather than go out without one.
    unsubscribe_secret: SecretStr | None = None
    ses_configuration_set: str | None = None  # routes bounces/complaints to SesEvents
    view_min_seconds: float = 10.0  # shorter views are not a signal
    view_batch_size: int = 100  # job/viewed events aggregated per run
    view_batch_seconds: int = 10  # ...or as many as arrive within this time
    user_concurrency: int = 1  # runs writing one user's signals at once
    rerank_debounce_seconds: int = 30  # quiet time after a preference edit before a re-rank
    rerank_debounce_timeout_seconds: int = 300  # re-rank at the latest this long after the first
    email_throttle_per_user: int = 3  # notification emails started per user per period...
    email_throttle_seconds: int = 60  # ...the rest wait (throttle)
    email_rate_limit_per_user: int = 20  # at most this many per user per period...
    email_rate_limit_seconds: int = 86_400  # ...the rest are dropped (rate limit)
    alert_send_concurrency: int = 4  # alert chunks sending at once (SES send rate)
    alert_users_per_chunk: int = 100  # alert emails per step
    alert_max_jobs: int = 10  # jobs listed in one alert
    digest_hour: int = 9  # local hour the daily digest goes out
    digest_users_per_chunk: int = 500  # due users per fan-out event
    digest_max_jobs: int = 10
    progress_retention_days: int = 7  # run progress and alert records kept this long

    # ---------------------------------------------------------------- event outbox
    # `flush-event-outbox` (every minute) sends what requests and steps left pending:
    # this many events per step (one send call), at most this many steps a run.
    outbox_flush_batch: int = Field(default=200, ge=1, le=5_000)
    outbox_flush_max_steps: int = 10
    # Sent rows are kept this long (past Inngest's 24 h de-duplication window, for
    # inspection), then the flush deletes them.
    outbox_sent_retention_hours: int = 72

    # ---------------------------------------------------------------- security
    # Signup confirmation links (a repeat signup changes a user only after the
    # address's owner confirms by email; see `matching.signup_confirmation`). The
    # token key comes from the app secret; unset, it is derived from the Inngest
    # signing key (`security.tokens.token_key`).
    signup_confirmation_secret: SecretStr | None = None
    signup_confirmation_hours: int = Field(default=24, gt=0, le=72)
    # Confirmation emails one address receives per hour at most: anyone can post a
    # signup with anyone's address, and each would otherwise mail it.
    signup_confirmations_per_hour: int = Field(default=3, ge=1, le=100)
    # A signup identical to the one that created its user this many minutes ago or
    # less (and no change confirmed since) is that signup retried, not a change
    # (`matching.signup_retry`).
    signup_retry_minutes: int = Field(default=15, ge=0, le=24 * 60)

    @property
    def in_lambda(self) -> bool:
        """True inside AWS Lambda, where secrets come from AWS services."""
        return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))

    @property
    def inngest_cloud_mode(self) -> bool:
        """Whether requests to /api/inngest must carry a valid signature."""
        return not self.inngest_dev if self.inngest_dev is not None else self.in_lambda

    def api_key_entries(self) -> str:
        """The configured API key entries as they stand now (`security.api_keys`
        parses them). In Lambda they come from SSM, looked up when a request first
        checks a key (most cold starts serve Inngest, which never does) and then
        cached by Powertools for SECRET_CACHE_SECONDS, so a key removed from the
        parameter stops working within that on warm containers too."""
        if self.in_lambda and self.api_key_hashes_param:
            from aws_lambda_powertools.utilities import parameters

            raw = parameters.get_parameter(self.api_key_hashes_param, max_age=SECRET_CACHE_SECONDS)
            return raw if isinstance(raw, str) else raw.decode()
        return self.api_key_hashes


def env_name(field_name: str) -> str:
    """The environment variable a settings field is read from."""
    field = Settings.model_fields[field_name]
    return str(field.validation_alias or field_name).upper()


def _resolve_app_secret(settings: Settings) -> Settings:
    """Fill the secret fields from the app secret in Secrets Manager (cached by
    Powertools)."""
    from aws_lambda_powertools.utilities import parameters

    updates: dict[str, object] = {}
    if settings.app_secret_id:
        raw = parameters.get_secret(settings.app_secret_id, max_age=SECRET_CACHE_SECONDS)
        app_secret = json.loads(raw if isinstance(raw, str) else raw.decode())
        for key in APP_SECRET_FIELDS:
            if app_secret.get(key):
                updates[key] = SecretStr(app_secret[key])
    return settings.model_copy(update=updates)


def app_secret_version(settings: Settings) -> str | None:
    """A digest of the app secret as Powertools caches it now (None outside Lambda
    or without one). The handler compares it on every request (a cache lookup, no
    call while the cache is fresh) and rebuilds the app on new settings when it
    changed: a rotated signing key, event key or webhook secret is used within
    SECRET_CACHE_SECONDS, without a deploy or a cold start."""
    if not (settings.in_lambda and settings.app_secret_id):
        return None
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_secret(settings.app_secret_id, max_age=SECRET_CACHE_SECONDS)
    return hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest()


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, built once per Lambda container. Called at the
    edge only (the handler, the local tools, and `db.session` for its one engine);
    everything else is handed them through `Dependencies`."""
    settings = Settings()
    if settings.in_lambda:
        settings = _resolve_app_secret(settings)
    return settings
