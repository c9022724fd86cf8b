"""infra/scripts/inngest_sync.py tells a real sync from the SDK's 200-on-failure.

The app side is the real Inngest SDK (0.5.19) in cloud mode, served over HTTP by
uvicorn on 127.0.0.1; the Inngest side is a tiny stdlib HTTP server standing in for
Inngest's `/fn/register`, told what to answer. The script runs as the deploy
workflow runs it: a subprocess, judged by its exit status and message.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import inngest
import inngest.fast_api
import pytest
import uvicorn
import yaml
from fastapi import FastAPI

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "scripts" / "inngest_sync.py"
SIGNING_KEY = "signkey-prod-" + "0123456789abcdef" * 4
OTHER_KEY = "signkey-prod-" + "fedcba9876543210" * 4

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies


class FakeInngestApi(BaseHTTPRequestHandler):
    """Answers POST /fn/register with the status and body the test sets."""

    status: ClassVar[int] = 200
    body: ClassVar[bytes] = b'{"ok": true}'
    registrations: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        if self.path.startswith("/fn/register"):
            self.registrations.append(json.loads(self.rfile.read(length)))
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def inngest_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeInngestApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` over HTTP on 127.0.0.1 (a free port); yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def cloud_client(inngest_api: str) -> inngest.Inngest:
    return inngest.Inngest(
        app_id="sync-script-test",
        is_production=True,
        signing_key=SIGNING_KEY,
        event_key="test-event-key",
        api_base_url=inngest_api,
        event_api_base_url=inngest_api,
    )


def function(client: inngest.Inngest, fn_id: str) -> inngest.Function[None]:
    @client.create_function(fn_id=fn_id, trigger=inngest.TriggerEvent(event=f"test/{fn_id}"))
    def fn(ctx: inngest.ContextSync) -> None:
        return None

    return fn


@pytest.fixture(scope="module")
def base_url(inngest_api: str) -> Iterator[str]:
    """Two apps in cloud mode, registering with the fake Inngest: /api/inngest serves
    `noop`; /pair/api/inngest serves `noop` and `extra`."""
    app = FastAPI()
    one, pair = cloud_client(inngest_api), cloud_client(inngest_api)
    inngest.fast_api.serve(app, one, [function(one, "noop")], serve_path="/api/inngest")
    inngest.fast_api.serve(
        app,
        pair,
        [function(pair, "noop"), function(pair, "extra")],
        serve_path="/pair/api/inngest",
    )
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def serve_url(base_url: str) -> str:
    return f"{base_url}/api/inngest"


@pytest.fixture(scope="module")
def pair_url(base_url: str) -> str:
    return f"{base_url}/pair/api/inngest"


@pytest.fixture(autouse=True)
def inngest_answers_ok() -> None:
    FakeInngestApi.status, FakeInngestApi.body = 200, b'{"ok": true}'
    FakeInngestApi.registrations.clear()


NOOP = "sync-script-test-noop"


def run_script(
    url: str, *args: str, key: str = SIGNING_KEY, expect: tuple[str, ...] = ("--expect-id", NOOP)
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INNGEST_SIGNING_KEY": key}
    return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, str(SCRIPT), url, "--attempts", "1", "--timeout", "10", *expect, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_success_registers_and_verifies(serve_url: str) -> None:
    result = run_script(serve_url)
    assert result.returncode == 0, result.stderr
    assert "verified: exactly the 1 expected function ids" in result.stdout
    assert "primary" in result.stdout
    (registration,) = FakeInngestApi.registrations
    assert registration["url"] == serve_url
    assert [f["id"] for f in registration["functions"]] == ["sync-script-test-noop"]


def test_sdk_answers_200_when_inngest_rejects_and_the_script_fails(serve_url: str) -> None:
    FakeInngestApi.status = 401
    FakeInngestApi.body = b'{"error": "signing key is not valid for this environment"}'
    # The premise: the SDK hides the failure behind a 200.
    assert httpx.put(serve_url, timeout=10).status_code == 200
    result = run_script(serve_url)
    assert result.returncode == 1
    assert "signing key is not valid for this environment" in result.stderr
    assert "NOT synced" in result.stderr


def test_sdk_500_fails_the_script(serve_url: str) -> None:
    FakeInngestApi.status, FakeInngestApi.body = 502, b"<html>bad gateway</html>"
    result = run_script(serve_url)
    assert result.returncode == 1
    assert "PUT answered 500" in result.stderr


def test_a_key_the_app_does_not_hold_fails_the_inspection(serve_url: str) -> None:
    result = run_script(serve_url, key=OTHER_KEY)
    assert result.returncode == 1
    assert "signed GET got 401" in result.stderr


def test_a_missing_function_fails(serve_url: str) -> None:
    result = run_script(
        serve_url, expect=("--expect-id", NOOP, "--expect-id", "sync-script-test-gone")
    )
    assert result.returncode == 1
    assert "missing ['sync-script-test-gone'], unexpected none" in result.stderr


def test_an_extra_function_fails(pair_url: str) -> None:
    result = run_script(pair_url)  # the old check, ">= 1 function", passed this
    assert result.returncode == 1
    assert "missing none, unexpected ['sync-script-test-extra']" in result.stderr


def test_a_renamed_function_fails(pair_url: str) -> None:
    result = run_script(
        pair_url, expect=("--expect-id", NOOP, "--expect-id", "sync-script-test-xtra")
    )
    assert result.returncode == 1
    assert (
        "missing ['sync-script-test-xtra'], unexpected ['sync-script-test-extra']" in result.stderr
    )


def test_the_expected_ids_are_required(serve_url: str) -> None:
    result = run_script(serve_url, expect=())
    assert result.returncode == 2
    assert "one of the arguments --expect-id --expect-from-app is required" in result.stderr


def test_the_real_app_is_checked_against_its_own_registry(deps: Dependencies) -> None:
    """What the deploy workflow runs: the jobmatch app (cloud mode, the test signing
    key, syncing with the test session's Inngest stand-in) against the registry of
    the installed package; and the same app missing one function fails."""
    from jobmatch.app import create_app
    from jobmatch.workflows.registry import create_all_functions, function_ids
    from tests.conftest import TEST_SIGNING_KEY

    expected = function_ids(deps)
    assert "jobmatch-tender-sync-failure" in expected  # on-failure handlers count
    with serving(create_app(deps)) as url:
        ok = run_script(f"{url}/api/inngest", key=TEST_SIGNING_KEY, expect=("--expect-from-app",))
    assert ok.returncode == 0, ok.stderr
    assert f"exactly the {len(expected)} expected function ids" in ok.stdout
    functions = create_all_functions(deps)
    with serving(create_app(deps, functions=functions[1:])) as url:
        short = run_script(
            f"{url}/api/inngest", key=TEST_SIGNING_KEY, expect=("--expect-from-app",)
        )
    assert short.returncode == 1
    assert f"missing ['{functions[0].id}']" in short.stderr


def test_the_deploy_workflow_checks_against_the_app_registry() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy-env.yml").read_text())
    runs = [s.get("run", "") for s in workflow["jobs"]["deploy"]["steps"]]
    [sync] = [i for i, run in enumerate(runs) if "inngest_sync.py" in run]
    assert "--expect-from-app" in runs[sync]
    # The registry is imported from the package of this commit, installed before.
    installs = [i for i, run in enumerate(runs) if re.search(r"pip install[^\n]* \.(\s|$)", run)]
    assert installs, "no step installs the package"
    assert installs[0] < sync


def test_missing_signing_key_fails_before_any_request(serve_url: str) -> None:
    result = run_script(serve_url, key="")
    assert result.returncode == 1
    assert "INNGEST_SIGNING_KEY is not set" in result.stderr
    assert FakeInngestApi.registrations == []
