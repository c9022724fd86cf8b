"""The real Inngest dev server as a target for the same scenarios the driver runs.

`npx inngest-cli@latest dev --no-discovery -u <app url>` runs Inngest's own
executor, queue and flow control on 127.0.0.1:8288. A scenario sends its events to
the dev server's event API and then waits for what the runs leave behind (rows in
the app's database), instead of asking the in-process driver. Where a network is
available (nightly CI), this checks the driver's behaviour against Inngest's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

DEV_SERVER_URL = "http://127.0.0.1:8288"


class DevServerClient:
    """Send events to a running dev server and wait for their effects."""

    def __init__(self, base_url: str = DEV_SERVER_URL, event_key: str = "dev") -> None:
        self.base_url = base_url.rstrip("/")
        self.event_key = event_key  # the dev server accepts any key

    def send(self, events: list[dict[str, Any]]) -> list[str]:
        """POST events to the event API (ids are kept, so de-duplication applies)."""
        payload = [
            {k: v for k, v in e.items() if k in ("name", "data", "id", "user")} for e in events
        ]
        response = httpx.post(f"{self.base_url}/e/{self.event_key}", json=payload, timeout=30)
        response.raise_for_status()
        ids: list[str] = response.json()["ids"]
        return ids

    def wait_for(
        self, check: Callable[[], bool], *, timeout: float = 120.0, interval: float = 0.5
    ) -> None:
        """Poll `check` until it holds; raise TimeoutError with what was awaited."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout:.0f} s: {check.__doc__ or check}")
            time.sleep(interval)
