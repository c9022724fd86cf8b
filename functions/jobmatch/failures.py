"""Failures that no retry can fix.

Inngest retries a step that raises (each function sets how often), which is right
for a timeout or a throttle and wasteful for a fact: a user without preferences
stays without them, a publisher that answers 404 answers it again. Domain errors
that state such a fact derive `PermanentError` (in their own modules, so routes
still catch them by their own names). Every step body is declared with
`step_contract.step_body`, which turns a `PermanentError` raised inside it into
`inngest.NonRetriableError`: the run fails at once with the error's message, its
step rolled back, nothing written. Inngest's own rule is that only a
NonRetriableError raised *inside* the step's function stops retries, so the
mapping wraps the body, not the `step.run` call.
"""

from __future__ import annotations


class PermanentError(Exception):
    """The same call would fail the same way however often it is retried."""
