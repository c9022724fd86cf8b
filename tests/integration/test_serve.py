"""`python -m jobmatch_devkit.serve` serves the app on 127.0.0.1 in Inngest DEV mode.

Started as a real subprocess on the embedded PostgreSQL (this session's database,
already migrated: the serve command's own migration is then a no-op), then asked
over HTTP for /api/health and /api/inngest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import TEST_DB_NAME

pytestmark = pytest.mark.integration

STARTUP_LIMIT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(database: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DB_NAME": TEST_DB_NAME}
    env.pop("INNGEST_SIGNING_KEY", None)
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "jobmatch_devkit.serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(f"{base}/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"serve exited {proc.returncode}: {err.decode()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_answers_health_and_inngest_in_dev_mode(served: str) -> None:
    health = httpx.get(f"{served}/api/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"] == "ok"

    inspection = httpx.get(f"{served}/api/inngest", timeout=10)
    assert inspection.status_code == 200
    assert inspection.json()["mode"] == "dev"
