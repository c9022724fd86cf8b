"""Every function's contract as Inngest registers it, pinned in one table.

The id, the triggers (event names, cron strings, expressions), the retries and the
flow control (concurrency, throttle, rate limit, debounce, priority, singleton,
batching, cancel, idempotency, timeouts, on-failure) of each function are read
from the configs the app serves on sync and compared with
`tests/fixtures/function_contracts.json`, so a change to any of them shows as a
diff of that file in review. After a deliberate change, write the new table with
`JOBMATCH_WRITE_CONTRACTS=1 pytest tests/unit/test_function_contracts.py` and
commit it with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch.workflows.registry import create_all_functions

TABLE = Path(__file__).parents[1] / "fixtures" / "function_contracts.json"


def registered_contracts(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each function's registered config, without the URL parts that vary."""
    contracts: dict[str, dict[str, Any]] = {}
    for fn in create_all_functions(Dependencies(settings)):
        config = fn.get_config("http://app").main.model_dump(mode="json", exclude_none=True)
        steps = config.pop("steps")
        config["retries"] = steps["step"]["retries"]["attempts"]
        config.pop("id")
        config["on_failure"] = fn.on_failure_fn_id is not None
        contracts[fn.local_id] = config
    return dict(sorted(contracts.items()))


def test_every_function_contract_is_the_pinned_one(settings: Settings) -> None:
    found = registered_contracts(settings)
    if os.environ.get("JOBMATCH_WRITE_CONTRACTS") == "1":
        TABLE.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(TABLE.read_text())
    assert sorted(found) == sorted(pinned), "functions added or removed"
    changed = {fid: found[fid] for fid in found if found[fid] != pinned[fid]}
    assert not changed, f"contracts differ from {TABLE.name}: {json.dumps(changed, indent=1)}"


def test_the_table_holds_flow_control_and_triggers(settings: Settings) -> None:
    """The table is not vacuous: it carries the settings-driven limits and crons."""
    pinned = json.loads(TABLE.read_text())
    assert len(pinned) >= 40
    assert any("cron" in t for f in pinned.values() for t in f["triggers"])
    assert sum(1 for f in pinned.values() if "concurrency" in f) >= 5
    assert pinned["tender-sync"]["singleton"]["mode"] == "skip"
