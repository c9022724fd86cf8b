"""The platform limits the driver enforces, with where each comes from."""

from __future__ import annotations

# Lambda's synchronous invocation limit, request and response.
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
# API Gateway HTTP API integration timeout: Inngest sees a 504 after this.
GATEWAY_TIMEOUT_SECONDS = 30.0
# Inngest's limits: one step's output, a run's whole state, steps per run.
STEP_OUTPUT_LIMIT = 4 * 1024 * 1024
RUN_STATE_LIMIT = 32 * 1024 * 1024
MAX_STEPS_PER_RUN = 1000
# A run that never ends (a non-deterministic function) must not hang a test.
MAX_REQUESTS_PER_RUN = 2000
