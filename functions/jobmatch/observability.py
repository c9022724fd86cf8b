"""Powertools Logger, Metrics and Tracer, created once per container.

Every module logs through `logger`; the correlation id is the Inngest run id in
functions and the API Gateway request id in routes. Metrics are EMF lines, so
they cost no API call; the tracer is a no-op outside Lambda.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "jobmatch"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Jobmatch", service=SERVICE)
tracer = Tracer(service=SERVICE)
