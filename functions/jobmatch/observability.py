"""Powertools Logger and Metrics, created once per container; X-Ray SDK tracing on demand.

Every module logs through `logger`; the correlation id is the Inngest run id in
functions and the API Gateway request id in routes. Metrics are EMF lines, so
they cost no API call.

Tracing: Lambda's active tracing (`Tracing: Active`) records every invocation and
its init phase with no SDK in the function. The Powertools Tracer adds subsegments
per AWS/HTTP/DB call, but building one imports the X-Ray SDK and patches every
library it knows (botocore, requests, httpx, SQLAlchemy, ...) at import: a large
part of a cold start that most invocations never look at. So the Tracer is built
only when the SDK is wanted: in Lambda, unless `POWERTOOLS_TRACE_DISABLED` is true
(template.yaml derives it from the `EnableXRaySdk` parameter, off by default).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

SERVICE = "jobmatch"
TRUTHY = frozenset({"1", "true", "t", "yes", "y", "on"})

Handler = TypeVar("Handler", bound=Callable[..., Any])

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Jobmatch", service=SERVICE)


def xray_sdk_enabled() -> bool:
    """True in Lambda unless POWERTOOLS_TRACE_DISABLED (Powertools' own switch) is set."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in TRUTHY
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


def trace_lambda_handler(handler: Handler) -> Handler:
    """The handler inside a Powertools Tracer segment when the X-Ray SDK is enabled,
    else the handler itself (the SDK is then never imported)."""
    if not xray_sdk_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE)
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False))
