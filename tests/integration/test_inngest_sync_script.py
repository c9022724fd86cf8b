"""infra/scripts/inngest_sync.py tells a real sync from the SDK's 200-on-failure.

The app side is the real Inngest SDK (0.5.19) in cloud mode, served over HTTP by
uvicorn on 127.0.0.1; the Inngest side is a tiny stdlib HTTP server standing in for
Inngest's `/fn/register`, told what to answer. The script runs as the deploy
workflow runs it: a subprocess, judged by its exit status and message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import inngest
import inngest.fast_api
import pytest
import uvicorn
from fastapi import FastAPI

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "scripts" / "inngest_sync.py"
SIGNING_KEY = "signkey-prod-" + "0123456789abcdef" * 4
OTHER_KEY = "signkey-prod-" + "fedcba9876543210" * 4


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


@pytest.fixture(scope="module")
def serve_url(inngest_api: str) -> Iterator[str]:
    """An app with one function, in cloud mode, registering with the fake Inngest."""
    client = inngest.Inngest(
        app_id="sync-script-test",
        is_production=True,
        signing_key=SIGNING_KEY,
        event_key="test-event-key",
        api_base_url=inngest_api,
        event_api_base_url=inngest_api,
    )

    @client.create_function(fn_id="noop", trigger=inngest.TriggerEvent(event="test/noop"))
    def noop(ctx: inngest.ContextSync) -> None:
        return None

    app = FastAPI()
    inngest.fast_api.serve(app, client, [noop], serve_path="/api/inngest")
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
    yield f"http://127.0.0.1:{port}/api/inngest"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def inngest_answers_ok() -> None:
    FakeInngestApi.status, FakeInngestApi.body = 200, b'{"ok": true}'
    FakeInngestApi.registrations.clear()


def run_script(url: str, *args: str, key: str = SIGNING_KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INNGEST_SIGNING_KEY": key}
    return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, str(SCRIPT), url, "--attempts", "1", "--timeout", "10", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_success_registers_and_verifies(serve_url: str) -> None:
    result = run_script(serve_url)
    assert result.returncode == 0, result.stderr
    assert "verified: 1 functions" in result.stdout
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


def test_fewer_functions_than_expected_fails(serve_url: str) -> None:
    result = run_script(serve_url, "--expect-functions", "2")
    assert result.returncode == 1
    assert "serves 1 functions, expected >= 2" in result.stderr


def test_missing_signing_key_fails_before_any_request(serve_url: str) -> None:
    result = run_script(serve_url, key="")
    assert result.returncode == 1
    assert "INNGEST_SIGNING_KEY is not set" in result.stderr
    assert FakeInngestApi.registrations == []
