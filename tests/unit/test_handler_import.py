"""What importing the handler (Lambda's init phase) does, and what it leaves for later.

Collecting garbage while the import builds its long-lived objects cost about 30 %
of a cold start; forgetting to turn collection back on would leak every cycle
afterwards. And the import is what every cold start pays: it must not reach the
network (the secrets are read by the first request), nor load boto3, which only
the secret lookups and the steps calling Bedrock or SES need.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]

GC_PROBE = """
import gc
import jobmatch.handler
print(gc.isenabled(), gc.get_freeze_count() > 10_000)
"""

# botocore's package root is imported by Powertools (to register its user agent, a
# few hundred microseconds); its session, clients and endpoints, boto3 and
# urllib3 are the ~150 ms that matter.
AWS_SDK_MODULES = ("boto3", "botocore.session", "botocore.client", "urllib3")
SDK_PROBE = f"""
import json, sys
import jobmatch.handler
from jobmatch import snapstart
imported = [m for m in {AWS_SDK_MODULES!r} if m in sys.modules]
snapstart.before_snapshot()
print(json.dumps([imported, [m for m in {AWS_SDK_MODULES!r} if m in sys.modules]]))
"""


def lambda_env_module() -> ModuleType:
    """bench/lambda_env.py: the template's environment for a function, resolved."""
    spec = importlib.util.spec_from_file_location("lambda_env", ROOT / "bench" / "lambda_env.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_probe(probe: str, env: dict[str, str]) -> str:
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_collection_is_back_on_and_the_import_s_objects_are_frozen() -> None:
    assert run_probe(GC_PROBE, dict(os.environ)).split() == ["True", "True"]


def test_the_import_in_lambda_reaches_no_aws_service_and_loads_no_aws_sdk() -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(Path.home())}
    env |= lambda_env_module().lambda_runtime_environment("Api", "prod")
    env |= {
        # Any AWS call at import would fail here (nothing listens on port 9).
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "ASIATEST",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
    }
    assert env["APP_SECRET_ID"]  # the secrets live in AWS
    assert env["API_KEY_HASHES_PARAM"]

    at_import, after_snapshot_hook = json.loads(run_probe(SDK_PROBE, env))

    assert at_import == []
    # With SnapStart the hook loads them before the snapshot, so that restored
    # containers do not pay for the import either (modules hold no credentials).
    assert "boto3" in after_snapshot_hook
