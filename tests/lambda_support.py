"""What a deployed Api function is given besides its secrets: the variables the
template sets from each environment's parameters (values as samconfig.toml's dev)."""

from __future__ import annotations

import pytest

DEPLOYMENT_ENV = {
    "JOBMATCH_ENV": "dev",
    "DB_HOST": "jobmatch-dev.proxy-0123456789ab.eu-west-1.rds.amazonaws.com",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf",
    "OCDS_BASE_URL": "https://ocds-api.etenders.gov.za",
    "OCDS_RELEASES_PATH": "/api/OCDSReleases",
    "OCDS_PAGINATION": "page",
    "OCDS_DATE_FORMAT": "date",
    "OCDS_PAGE_SIZE": "50",
    "MAIL_BACKEND": "ses",
    "MAIL_FROM": "jobmatch-dev@example.com",
    "PUBLIC_BASE_URL": "https://api.dev.example.com",
    "AI_ENABLED": "false",
}


def clear_settings_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every variable `Settings` reads (monkeypatch restores them afterwards)."""
    from jobmatch.settings import Settings, env_name

    for name in Settings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
