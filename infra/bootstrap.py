"""Fill the app secret so that the first deploy of an environment is green.

The stack creates the app secret (`jobmatch/<env>/app`) with every field empty, and
the Api cannot serve Inngest until the signing key is in it. The deploy workflow
runs this module twice:

- `check`, before `sam deploy`: the values that come from the deploying team are
  given (GitHub environment secrets, passed as environment variables), else it
  stops the workflow there, naming each missing value and where to set it;
- `write`, after `sam deploy` (the stack, so the secret, exists) and before the
  health step: it writes every field the app reads (`jobmatch.settings.
  APP_SECRET_FIELDS`): the Inngest keys from those variables (GitHub is their
  source: a rotated key is written on the next deploy), the app's own HMAC keys
  generated once and kept. It compares before writing: a second run with the same
  keys writes nothing, so no new secret version and no container reading a
  changed key.

Values are never printed, only field names. Usage:
    python -m infra.bootstrap check --config-env dev
    python -m infra.bootstrap write --config-env dev
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from infra.samconfig import SAMCONFIG, load_deployment
from jobmatch.settings import APP_SECRET_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


@dataclass(frozen=True)
class GivenValue:
    """A field whose value the deploying team keeps (a GitHub environment secret)."""

    variable: str
    required: bool
    where: str  # where the team finds the value
    pattern: re.Pattern[str] | None = None


GIVEN: dict[str, GivenValue] = {
    "inngest_signing_key": GivenValue(
        "INNGEST_SIGNING_KEY",
        required=True,
        where="Inngest Cloud, the environment's Manage > Signing Key",
        pattern=re.compile(r"^signkey-[a-z]+-[0-9a-f]{16,}$"),
    ),
    "inngest_event_key": GivenValue(
        "INNGEST_EVENT_KEY",
        required=True,
        where="Inngest Cloud, the environment's Manage > Event Keys",
    ),
    # Set only while rotating the signing key (Inngest shows both keys then).
    "inngest_signing_key_fallback": GivenValue(
        "INNGEST_SIGNING_KEY_FALLBACK",
        required=False,
        where="Inngest Cloud, the environment's Manage > Signing Key (the previous key)",
        pattern=re.compile(r"^signkey-[a-z]+-[0-9a-f]{16,}$"),
    ),
}
# The app's own HMAC keys: nobody else holds them, so they are made here, once.
GENERATED = ("webhook_signing_secret", "unsubscribe_secret", "signup_confirmation_secret")


class BootstrapError(Exception):
    """The secret cannot be written; the message says what to do."""


def problems(env: Mapping[str, str], environment: str) -> list[str]:
    """One sentence per given value that is missing or malformed (never the value)."""
    found: list[str] = []
    for given in GIVEN.values():
        value = env.get(given.variable, "")
        where = (
            f'add it as a secret of the GitHub environment "{environment}" (repository '
            f"Settings > Environments > {environment} > Environment secrets); the value "
            f"is in {given.where}"
        )
        if not value and given.required:
            found.append(f"{given.variable} is not set: {where}")
        elif value and given.pattern is not None and not given.pattern.match(value):
            found.append(
                f"{given.variable} does not look like an Inngest signing key "
                f"(signkey-<env>-<hex>): {where}"
            )
    return found


def desired(current: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """The secret as it should be: given values from `env`, generated keys kept from
    `current` (or made now), and every field the app reads, no other."""
    result: dict[str, str] = {}
    for field in APP_SECRET_FIELDS:
        if field in GIVEN:
            result[field] = env.get(GIVEN[field].variable, "")
        elif field in GENERATED:
            result[field] = current.get(field) or secrets.token_hex(32)
        else:  # a field added to the settings without a source here
            raise BootstrapError(f"no source for the app secret's field {field}")
    return result


def write(client: SecretsManagerClient, secret_id: str, env: Mapping[str, str]) -> list[str]:
    """Bring the secret to `desired`; the names of the fields that changed (empty: it
    was already so, and nothing was written)."""
    try:
        raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        raise BootstrapError(
            f"the secret {secret_id} does not exist: deploy the stack first (sam deploy "
            "creates it empty)"
        ) from None
    current = json.loads(raw or "{}")
    if not isinstance(current, dict):
        raise BootstrapError(f"the secret {secret_id} is not a JSON object")
    wanted = desired(current, env)
    changed = sorted(k for k in set(wanted) | set(current) if wanted.get(k) != current.get(k))
    if changed:
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(wanted))
    return changed


def _report_error(message: str) -> None:
    """An error line, as a GitHub annotation when run by Actions."""
    prefix = "::error title=bootstrap::" if os.environ.get("GITHUB_ACTIONS") else "error: "
    print(prefix + message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """`check` or `write` for one environment of samconfig.toml; 0 when done."""
    parser = argparse.ArgumentParser(prog="python -m infra.bootstrap", description=__doc__)
    parser.add_argument("action", choices=["check", "write"])
    parser.add_argument("--config-env", required=True, help="dev, staging or prod")
    parser.add_argument("--config-file", default=str(SAMCONFIG))
    args = parser.parse_args(argv)
    deployment = load_deployment(args.config_env, path=Path(args.config_file))
    found = problems(os.environ, deployment.environment)
    for message in found:
        _report_error(message)
    if found:
        return 1
    if args.action == "check":
        print(f"ok: every value the app secret needs is given for {deployment.environment}")
        return 0
    client = boto3.client("secretsmanager", region_name=deployment.region)
    try:
        changed = write(client, deployment.app_secret_id, os.environ)
    except BootstrapError as exc:
        _report_error(str(exc))
        return 1
    if changed:
        print(f"{deployment.app_secret_id}: wrote {', '.join(changed)}")
    else:
        print(f"{deployment.app_secret_id}: unchanged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
