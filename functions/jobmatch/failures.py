"""Failures that no retry can fix, and the one place they stop Inngest's retries.

Inngest retries a step that raises (each function sets how often), which is right
for a timeout or a throttle and wasteful for a fact: a user without preferences
stays without them, a publisher that answers 404 answers it again. Domain errors
that state such a fact derive `PermanentError` (in their own modules, so routes
still catch them by their own names), and every step body is declared with
`step_contract.step_body` (transitional: `legacy_step_body` here, for bodies not
yet on a typed contract), which turns a `PermanentError` into `inngest.NonRetriableError`: the
run fails at once with the error's message, its step rolled back, nothing written.
Inngest's own rule is that only a NonRetriableError raised *inside* the step's
function stops retries, so the mapping wraps the body, not the `step.run` call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import inngest

P = ParamSpec("P")
T = TypeVar("T")

_STEP_BODIES: set[str] = set()


class PermanentError(Exception):
    """The same call would fail the same way however often it is retried."""


def legacy_step_body(fn: Callable[P, T]) -> Callable[P, T]:
    """Declare `fn` a step body: a `PermanentError` it raises ends the run without
    retries (`inngest.NonRetriableError`, named after the domain error)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except PermanentError as exc:
            raise inngest.NonRetriableError(f"{type(exc).__name__}: {exc}") from exc

    _STEP_BODIES.add(_name(run))
    return run


def is_legacy_step_body(fn: Callable[..., object]) -> bool:
    """Whether `fn` was declared with `legacy_step_body` (the workflows' tests check all are)."""
    return _name(fn) in _STEP_BODIES


def _name(fn: Callable[..., object]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
