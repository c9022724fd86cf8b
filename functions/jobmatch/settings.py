"""One settings model for the whole application.

Locally every value comes from the environment or `.env`. In Lambda
(`AWS_LAMBDA_FUNCTION_NAME` is set) secrets are resolved once per container from
Secrets Manager / SSM through Powertools parameters, which cache them, so a cold
start pays for the lookup and warm invocations do not. Secret values are
`SecretStr`: they never show in a repr, a log line or a traceback.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_CACHE_SECONDS = 300


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
    # `security.api_keys`), read from SSM in Lambda (`api_key_hashes_param`).
    # More keys live in the `api_keys` table. The keys themselves live with their callers.
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
    embedding_batch_size: int = 100  # rows embedded per step
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

    # Security: signup confirmation links (repeat signups change a user only after
    # the address's owner confirms by email; see `matching.signup_confirmation`).
    # The token key comes from the app secret; unset, it is derived from the
    # Inngest signing key (`security.tokens.token_key`).
    signup_confirmation_secret: SecretStr | None = None
    signup_confirmation_hours: int = Field(default=24, gt=0, le=72)
    # Where the emailed link points (e.g. https://api.example.com); unset, the
    # API Gateway domain of the request that asked for it.
    public_base_url: str | None = None

    @property
    def in_lambda(self) -> bool:
        """True inside AWS Lambda, where secrets come from AWS services."""
        return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))

    @property
    def inngest_cloud_mode(self) -> bool:
        """Whether requests to /api/inngest must carry a valid signature."""
        return not self.inngest_dev if self.inngest_dev is not None else self.in_lambda

    def fetch_api_key_hashes(self) -> str:
        """The current value of the API-key-hash SSM parameter (cached by Powertools,
        so an edit reaches running containers within the cache time)."""
        from aws_lambda_powertools.utilities import parameters

        assert self.api_key_hashes_param is not None
        value = parameters.get_parameter(self.api_key_hashes_param, max_age=SECRET_CACHE_SECONDS)
        return value if isinstance(value, str) else value.decode()


def _resolve_aws_secrets(settings: Settings) -> Settings:
    """Fill secret fields from Secrets Manager / SSM (cached by Powertools)."""
    from aws_lambda_powertools.utilities import parameters

    updates: dict[str, object] = {}
    if settings.app_secret_id:
        raw = parameters.get_secret(settings.app_secret_id, max_age=SECRET_CACHE_SECONDS)
        app_secret = json.loads(raw if isinstance(raw, str) else raw.decode())
        for key in (
            "inngest_signing_key",
            "inngest_signing_key_fallback",
            "inngest_event_key",
            "webhook_signing_secret",
            "signup_confirmation_secret",
        ):
            if app_secret.get(key):
                updates[key] = SecretStr(app_secret[key])
    if settings.api_key_hashes_param:
        updates["api_key_hashes"] = settings.fetch_api_key_hashes()
    return settings.model_copy(update=updates)


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, built once per Lambda container. Called at the
    edge only (the handler, the local tools, and `db.session` for its one engine);
    everything else is handed them through `Dependencies`."""
    settings = Settings()
    if settings.in_lambda:
        settings = _resolve_aws_secrets(settings)
    return settings
