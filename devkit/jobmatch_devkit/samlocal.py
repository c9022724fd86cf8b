"""The sample events of `tests/events/` through the Api function, as `sam local` runs it.

`make sam-local` (Docker, the SAM CLI and a PostgreSQL 16 with pgvector on the host's
port 5432; see the README) runs `python -m jobmatch_devkit.samlocal`, which:

1. starts a stand-in for Inngest's event API on port 8288 of the host (the routes
   send events; `--no-event-api` when an Inngest dev server runs there instead);
2. migrates the database with `sam local invoke Migrate`;
3. seeds one tenant and two candidates (one pending, one approved) from the sample
   dataset, so that approving and reading a candidate find someone;
4. invokes `sam local invoke Api -e <event> -n infra/sam-local/env.json` for every
   sample in `SAMPLES`, in order, and checks each answer's status.

The containers reach the host as `host.docker.internal` (`--add-host ...:host-gateway`,
which Linux needs and Docker Desktop accepts). Signed events are signed again just
before they are sent (`stamped`): the stored signature's timestamp is older than the
replay guard's five minutes, and a replayed request is refused by design.

`--in-process` sends the same samples through `jobmatch.handler.handler` in this
process instead; its caller sets the environment as SAM would from the env file (the
test suite does, so `make test` exercises the events and the env file together).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inngest_harness.apigw import lambda_context
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import HandlerResponse
from inngest_harness.signing import SIGNATURE_HEADER, signature

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = ROOT / "tests" / "events"
SAM_LOCAL_DIR = ROOT / "infra" / "sam-local"
ENV_FILE = SAM_LOCAL_DIR / "env.json"
MIGRATE_EVENT = SAM_LOCAL_DIR / "migrate-upgrade.json"
DOCKER_HOST = "host.docker.internal"
EVENT_API_PORT = 8288
# Dev-mode Inngest does not check the HMAC of a signature, only (our replay guard) its
# age, so any key signs for `sam local`; cloud-mode tests sign with their own key.
LOCAL_SIGNING_KEY = "signkey-local-" + "00" * 32


@dataclass(frozen=True)
class Sample:
    """One event file and the status the Api answers it with, in this order, on a
    freshly migrated and seeded database, with the env file's settings."""

    name: str
    status: int


SAMPLES = (
    Sample("health-get.json", 200),
    Sample("inngest-get.json", 200),  # the unauthenticated inspection
    Sample("inngest-sync-put.json", 200),  # registers with the event API's stand-in
    Sample("inngest-post-unsigned.json", 500),  # dev mode lets it in: no such function
    Sample("inngest-step-signed-post.json", 206),  # cleanup-stuck-jobs ran its step
    Sample("signup-free-post.json", 201),
    Sample("user-matches-get.json", 200),
    Sample("match-users-post.json", 202),
    Sample("jobs-import-post.json", 201),
    Sample("scraper-claim-post.json", 204),  # no role queued yet on a fresh database
    Sample("scraper-heartbeat-post.json", 404),  # a session nobody claimed
    Sample("scraper-complete-post.json", 404),
    Sample("candidate-approve-post.json", 200),
    Sample("candidate-matches-get.json", 200),
    Sample("admin-tenders-sync-post.json", 202),
    Sample("admin-enrich-today-post.json", 202),
    Sample("admin-job-logs-get.json", 200),
    Sample("events-post.json", 202),
    Sample("runs-get.json", 404),  # the stand-in event API runs nothing: no progress yet
    Sample("send-scheduled-emails-post.json", 202),
    Sample("unsubscribe-get.json", 200),  # the confirm page
    Sample("unsubscribe-post.json", 200),  # one click (the signed-up user, id 1)
    Sample("admin-roles-post.json", 201),
    Sample("admin-role-alias-post.json", 200),
    Sample("admin-roles-re-resolve-post.json", 202),
    Sample("admin-roles-unresolved-get.json", 200),
    Sample("admin-api-keys-post.json", 201),  # a key for the seeded tenant
    Sample("admin-api-keys-get.json", 200),
    Sample("admin-api-key-revoke-post.json", 200),  # revokes the key just issued
    Sample("tenant-keys-post.json", 201),  # key 2, for tenant 1 (the platform acts for it)
    Sample("tenant-keys-get.json", 200),
    Sample("tenant-key-revoke-post.json", 200),  # revokes key 2
    Sample("signup-confirm-get.json", 404),  # the "link invalid or expired" page
    Sample("signup-confirm-post.json", 404),
)


def load_event(name: str) -> dict[str, Any]:
    """A sample event file, parsed."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def stamped(
    event: dict[str, Any], *, signing_key: str = LOCAL_SIGNING_KEY, now: float | None = None
) -> dict[str, Any]:
    """A copy of `event` as API Gateway would pass it now: a new request id and time,
    and, if it carries an Inngest signature, a new signature of its body."""
    moment = time.time() if now is None else now
    out: dict[str, Any] = json.loads(json.dumps(event))
    context = out["requestContext"]
    context["requestId"] = str(uuid.uuid4())
    context["time"] = datetime.fromtimestamp(moment, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    context["timeEpoch"] = int(moment * 1000)
    headers = out["headers"]
    if SIGNATURE_HEADER.lower() in headers:
        body = (out.get("body") or "").encode()
        headers[SIGNATURE_HEADER.lower()] = signature(body, signing_key, int(moment))
    return out


def seed() -> None:
    """One tenant with two candidates (pending, approved) from the sample dataset.
    Imports `jobmatch`: the database settings must be in the environment already."""
    from jobmatch.db.session import session_scope
    from jobmatch_devkit.sample_data import load

    with session_scope() as session:
        load(session, candidates_per_tenant=2, users=0)


def run_in_process(signing_key: str = LOCAL_SIGNING_KEY) -> dict[str, int]:
    """Seed, then every sample through the Lambda handler of this process."""
    from jobmatch.handler import handler

    seed()
    statuses = {}
    for sample in SAMPLES:
        raw = handler(stamped(load_event(sample.name), signing_key=signing_key), lambda_context())
        statuses[sample.name] = HandlerResponse.from_lambda(raw).status
    return statuses


def sam_invoke(function: str, event: Path, env_file: Path) -> dict[str, Any]:
    """`sam local invoke` one event; the function's result (SAM prints it on stdout)."""
    command = [
        "sam", "local", "invoke", function,
        "--event", str(event),
        "--env-vars", str(env_file),
        "--add-host", f"{DOCKER_HOST}:host-gateway",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    sys.stderr.write(done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"sam local invoke {function} {event.name} failed: {done.stdout[-500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_with_sam(env_file: Path, *, event_api: bool) -> dict[str, int]:
    """Migrate, seed and invoke every sample with `sam local invoke` (see the module)."""
    # The containers reach it through the Docker bridge: listen on every interface.
    api = EventAPI(host="0.0.0.0", port=EVENT_API_PORT).start() if event_api else None  # noqa: S104
    try:
        migrated = sam_invoke("Migrate", MIGRATE_EVENT, env_file)
        if "errorMessage" in migrated:
            raise RuntimeError(f"Migrate failed: {migrated}")
        settings = json.loads(env_file.read_text())["Api"]
        os.environ["DATABASE_URL"] = settings["DATABASE_URL"].replace(DOCKER_HOST, "127.0.0.1")
        seed()
        statuses = {}
        with tempfile.TemporaryDirectory() as folder:
            for sample in SAMPLES:
                path = Path(folder) / sample.name
                path.write_text(json.dumps(stamped(load_event(sample.name))))
                statuses[sample.name] = int(sam_invoke("Api", path, env_file)["statusCode"])
    finally:
        if api is not None:
            api.stop()
    return statuses


def problems(statuses: dict[str, int]) -> list[str]:
    """Samples whose status is not the expected one."""
    return [
        f"{s.name}: {statuses.get(s.name)} (expected {s.status})"
        for s in SAMPLES
        if statuses.get(s.name) != s.status
    ]


def main(argv: list[str] | None = None) -> int:
    """CLI: print each sample's status; exit 1 if any differs from `SAMPLES`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, default=ENV_FILE)
    parser.add_argument(
        "--no-event-api", action="store_true", help="an Inngest dev server listens on 8288"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="the handler of this process, not sam"
    )
    args = parser.parse_args(argv)
    if args.in_process:
        statuses = run_in_process()
    else:
        statuses = run_with_sam(args.env_file, event_api=not args.no_event_api)
    print(json.dumps(statuses))
    wrong = problems(statuses)
    for line in wrong:
        print(f"unexpected status: {line}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
