"""Sync the deployed app with Inngest Cloud, then prove the sync really happened.

`PUT <serve url>` makes the SDK register the app's functions with Inngest (an
"out-of-band" sync: the SDK calls Inngest's /fn/register). The Python SDK 0.5.19
answers that PUT with **200 even when the registration failed**: on an error from
Inngest it builds an error response, drops it, and returns Inngest's own body
(`{"error": "..."}`) with status 200. Only failures before or around the call (no
answer, an answer that is not JSON) give a 500 with `{"code", "message"}`. So the
status alone proves nothing; this script:

1. PUTs the serve URL and accepts only a 200 that the SDK produced (X-Inngest-SDK
   header) whose body is a JSON object without an `error` and not `ok: false`;
2. GETs the serve URL signed as Inngest signs (HMAC-SHA256 with the signing key from
   INNGEST_SIGNING_KEY) and requires `authentication_succeeded`, cloud mode and an
   event key. This catches a Lambda whose secret holds another key than Inngest's,
   which a sync alone would not;
3. asks the app, by a signed in-band sync PUT (`X-Inngest-Sync-Kind: in_band`, which
   the SDK answers with the configuration it would register, registering nothing),
   which function ids it serves, and requires exactly the expected ids: none
   missing (a function that failed to load, an old build), none unexpected, none
   renamed (a changed app id or fn_id orphans the old function's runs in Inngest).

The expected ids come from `--expect-id` (repeatable) or, in the deploy workflow,
from `--expect-from-app`: the registry of the `jobmatch` package installed from the
same commit as the deployed code (`jobmatch.workflows.registry.function_ids`).
Exit status 0 when all hold, 1 with a message on stderr otherwise. Without
`--expect-from-app`: standard library plus httpx only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

SIGNING_KEY_ENV = "INNGEST_SIGNING_KEY"
SIGNING_KEY_PREFIX = re.compile(r"^signkey-\w+-")
SYNC_KIND_HEADER = "x-inngest-sync-kind"


class SyncError(Exception):
    """The app is not (provably) registered with Inngest."""


@dataclass(frozen=True)
class Inspection:
    """What a signed GET of the serve endpoint reports, and the function ids the
    app serves (from the in-band sync)."""

    function_count: int
    primary_key_matches: bool
    function_ids: frozenset[str] = frozenset()


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise SyncError(
            f"{what} answered {response.status_code} without JSON: {response.text[:200]!r}"
        ) from exc
    if not isinstance(body, dict):
        raise SyncError(f"{what} answered {response.status_code} with JSON that is not an object")
    return body


def check_put_response(response: httpx.Response) -> dict[str, Any]:
    """The body of a PUT that really registered the app, or SyncError saying why not."""
    if response.status_code != 200:
        detail = response.text[:300]
        raise SyncError(f"PUT answered {response.status_code}: {detail}")
    if "x-inngest-sdk" not in response.headers:
        raise SyncError("PUT answered 200 but not from the Inngest SDK (no X-Inngest-SDK header)")
    body = _json_object(response, "PUT")
    if body.get("error"):
        raise SyncError(
            f"Inngest rejected the registration (the SDK still said 200): {body['error']}"
        )
    if body.get("ok") is False:
        raise SyncError(f"Inngest did not accept the registration: {json.dumps(body)[:300]}")
    return body


def sign(body: bytes, signing_key: str, timestamp: int) -> str:
    """`X-Inngest-Signature` as Inngest computes it (the key without its prefix)."""
    key = SIGNING_KEY_PREFIX.sub("", signing_key).encode()
    mac = hmac.new(key, body, hashlib.sha256)
    mac.update(str(timestamp).encode())
    return f"t={timestamp}&s={mac.hexdigest()}"


def signing_key_hash(signing_key: str) -> str | None:
    """The hash the SDK reports for a key (sha256 of the hex key without prefix)."""
    try:
        return hashlib.sha256(bytes.fromhex(SIGNING_KEY_PREFIX.sub("", signing_key))).hexdigest()
    except ValueError:
        return None


def inspect(client: httpx.Client, url: str, signing_key: str) -> Inspection:
    """Signed GET of the serve endpoint, checked field by field."""
    signature = sign(b"", signing_key, int(time.time()))
    response = client.get(url, headers={"X-Inngest-Signature": signature})
    if response.status_code == 401:
        raise SyncError(
            "signed GET got 401: the app's signing key (app secret) is not the key "
            f"in {SIGNING_KEY_ENV}, or the app has none"
        )
    if response.status_code != 200:
        raise SyncError(f"signed GET answered {response.status_code}: {response.text[:300]}")
    body = _json_object(response, "signed GET")
    if body.get("authentication_succeeded") is not True:
        raise SyncError(
            "signed GET: the app did not accept our signature (authentication_succeeded false)"
        )
    if body.get("mode") != "cloud":
        raise SyncError(
            f"the app runs in {body.get('mode')!r} mode, not cloud (INNGEST_DEV must be false)"
        )
    if body.get("has_event_key") is not True:
        raise SyncError("the app has no Inngest event key: set inngest_event_key in the app secret")
    count = body.get("function_count")
    if not isinstance(count, int):
        raise SyncError("signed GET did not report function_count")
    primary = body.get("signing_key_hash") == signing_key_hash(signing_key)
    return Inspection(function_count=count, primary_key_matches=primary)


def served_function_ids(client: httpx.Client, url: str, signing_key: str) -> frozenset[str]:
    """The ids of every function the app serves (on-failure handlers included), from
    a signed in-band sync: the SDK answers with its configuration and calls no one."""
    body = json.dumps({"url": url}, separators=(",", ":"), ensure_ascii=False).encode()
    response = client.put(
        url,
        content=body,
        headers={
            "content-type": "application/json",
            "x-inngest-signature": sign(body, signing_key, int(time.time())),
            SYNC_KIND_HEADER: "in_band",
        },
    )
    if response.status_code != 200 or response.headers.get(SYNC_KIND_HEADER) != "in_band":
        raise SyncError(
            f"in-band sync answered {response.status_code} "
            f"({SYNC_KIND_HEADER}: {response.headers.get(SYNC_KIND_HEADER)!r}): "
            f"{response.text[:300]}"
        )
    functions = _json_object(response, "in-band sync").get("functions")
    if not isinstance(functions, list):
        raise SyncError("in-band sync: the answer lists no functions")
    return frozenset(str(fn.get("id")) for fn in functions if isinstance(fn, dict))


def check_function_ids(served: frozenset[str], expected: frozenset[str]) -> None:
    """Exactly the expected ids, or SyncError naming what is missing and what is not."""
    missing, unexpected = sorted(expected - served), sorted(served - expected)
    if missing or unexpected:
        raise SyncError(
            f"the app serves {len(served)} functions, not the {len(expected)} expected: "
            f"missing {missing or 'none'}, unexpected {unexpected or 'none'}"
        )


def sync(url: str, signing_key: str, *, expected: frozenset[str], timeout: float) -> Inspection:
    """PUT then verify; raises SyncError on the first thing that does not hold."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        try:
            body = check_put_response(client.put(url))
            print(f"PUT {url}: registered ({json.dumps(body)[:200]})")
            inspection = inspect(client, url, signing_key)
            served = served_function_ids(client, url, signing_key)
        except httpx.HTTPError as exc:
            raise SyncError(f"{type(exc).__name__} talking to {url}: {exc}") from exc
    check_function_ids(served, expected)
    return Inspection(inspection.function_count, inspection.primary_key_matches, served)


def app_function_ids() -> frozenset[str]:
    """The ids the `jobmatch` package registers (imported only for --expect-from-app)."""
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import Settings
    from jobmatch.workflows.registry import function_ids

    return frozenset(function_ids(Dependencies(Settings())))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "serve_url", help="e.g. https://<api>.execute-api.<region>.amazonaws.com/api/inngest"
    )
    expect = parser.add_mutually_exclusive_group(required=True)
    expect.add_argument(
        "--expect-id",
        action="append",
        metavar="FUNCTION_ID",
        help="a function id the app must serve (repeat for each; no others allowed)",
    )
    expect.add_argument(
        "--expect-from-app",
        action="store_true",
        help="expect exactly the ids of the installed jobmatch package's registry",
    )
    parser.add_argument("--attempts", type=int, default=3, help="tries before giving up")
    parser.add_argument("--retry-delay", type=float, default=10.0, help="seconds between tries")
    parser.add_argument("--timeout", type=float, default=35.0, help="seconds per HTTP request")
    args = parser.parse_args(argv)
    signing_key = os.environ.get(SIGNING_KEY_ENV, "").strip()
    if not signing_key:
        print(
            f"error: {SIGNING_KEY_ENV} is not set: it is needed to verify the sync", file=sys.stderr
        )
        return 1
    expected = app_function_ids() if args.expect_from_app else frozenset(args.expect_id)
    for attempt in range(1, args.attempts + 1):
        try:
            inspection = sync(args.serve_url, signing_key, expected=expected, timeout=args.timeout)
        except SyncError as exc:
            print(f"attempt {attempt}/{args.attempts} failed: {exc}", file=sys.stderr)
            if attempt < args.attempts:
                time.sleep(args.retry_delay)
            continue
        key = "primary" if inspection.primary_key_matches else "fallback (rotate the app secret)"
        print(
            f"verified: exactly the {len(inspection.function_ids)} expected function ids; "
            f"the app holds our key as {key}"
        )
        return 0
    print("error: the app is NOT synced with Inngest", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
