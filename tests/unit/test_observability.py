"""The X-Ray SDK is imported only where tracing with it is enabled.

Building a Powertools Tracer imports the SDK and patches botocore, httpx, SQLAlchemy
and more: every cold start would pay for it. Each case runs in a fresh interpreter,
because patching is process-wide and `sys.modules` must start clean.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from jobmatch.observability import trace_lambda_handler

def handler(event, context):
    return {"statusCode": 200}

traced = trace_lambda_handler(handler)
print(traced is handler, "aws_xray_sdk" in sys.modules, traced({}, None)["statusCode"])
"""


def run_probe(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("POWERTOOLS_TRACE_DISABLED",)}
    base.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE],
        env=base | env | {"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"},
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(out.stdout.split()[-3:])


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_LAMBDA_FUNCTION_NAME": "jobmatch-prod-Api", "POWERTOOLS_TRACE_DISABLED": "true"},
        {"AWS_LAMBDA_FUNCTION_NAME": "jobmatch-prod-Api", "POWERTOOLS_TRACE_DISABLED": "1"},
        {},  # outside Lambda
    ],
    ids=["lambda-disabled", "lambda-disabled-1", "local"],
)
def test_without_the_sdk_the_handler_is_served_as_is(env: dict[str, str]) -> None:
    assert run_probe(**env) == "True False 200"


def test_in_lambda_with_the_sdk_enabled_the_handler_is_traced() -> None:
    enabled = {
        "AWS_LAMBDA_FUNCTION_NAME": "jobmatch-prod-Api",
        "POWERTOOLS_TRACE_DISABLED": "false",
    }
    assert run_probe(**enabled) == "False True 200"
