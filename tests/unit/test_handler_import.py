"""The handler's import runs without garbage collection, and leaves it on.

Collecting while the import builds its long-lived objects cost about 30 % of a cold
start; forgetting to turn collection back on would leak every cycle afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc
import jobmatch.handler
print(gc.isenabled(), gc.get_freeze_count() > 10_000)
"""


def test_collection_is_back_on_and_the_import_s_objects_are_frozen() -> None:
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE], env=os.environ, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True"]
