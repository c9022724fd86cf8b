"""Inngest's expressions, evaluated with a real CEL implementation (cel-python).

Inngest writes every trigger filter, `wait_for_event(if_exp=...)`, cancel-on
filter, flow-control key and priority in CEL over `event` (the run's triggering
event) and, when matching a second event, `async`. A hand-written subset would
pass a test by mis-reading an expression; cel-python parses and evaluates the
whole language, and the harness only decides what an *error* means:

- a filter (`matches`) that cannot be evaluated for this input (a field the
  event lacks) does not match, as Inngest treats it;
- a key (`key_of`) that cannot be evaluated raises `ExpressionError`: the
  harness refuses to guess which queue, throttle or singleton a run belongs to;
- an expression that does not compile always raises `ExpressionError`.

Known difference from Inngest's Go CEL: cel-python has no heterogeneous numeric
equality, so `1 == 1.0` is an evaluation error (a filter that does not match).
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Mapping
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError


class ExpressionError(ValueError):
    """An expression that does not compile, or a key that cannot be evaluated."""


@functools.lru_cache(maxsize=512)
def _program(expression: str) -> celpy.Runner:
    environment = celpy.Environment()
    try:
        return environment.program(environment.compile(expression))
    except CELParseError as exc:
        raise ExpressionError(f"not CEL: {expression!r}: {exc}") from exc


def _plain(value: Any) -> Any:
    """A CEL value as plain JSON-like Python (bool before int: BoolType is an int)."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.NullType) or value is None:
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.timedelta):
        return value
    raise ExpressionError(f"unexpected CEL value {value!r}")


def value(expression: str, scope: Mapping[str, Any]) -> Any:
    """The value of `expression` with `scope` (e.g. `{"event": {...}}`) as plain Python.

    Raises `ExpressionError` if it does not compile or cannot be evaluated.
    """
    program = _program(expression)
    activation = {name: json_to_cel(item) for name, item in scope.items()}
    try:
        result = program.evaluate(activation)
    except CELEvalError as exc:
        raise ExpressionError(f"cannot evaluate {expression!r}: {exc.args[0]}") from exc
    if isinstance(result, CELEvalError):
        raise ExpressionError(f"cannot evaluate {expression!r}: {result.args[0]}")
    return _plain(result)


def matches(expression: str, scope: Mapping[str, Any]) -> bool:
    """Whether a filter holds; an evaluation error (a missing field) is no match.

    A filter that evaluates to something other than a boolean raises: Inngest
    would reject it, and a truthy guess could make a test pass wrongly.
    """
    _program(expression)  # a syntax error raises whatever the input
    try:
        result = value(expression, scope)
    except ExpressionError:
        return False
    if not isinstance(result, bool):
        raise ExpressionError(f"filter {expression!r} gave {result!r}, not a boolean")
    return result


def key_of(expression: str, event: Mapping[str, Any]) -> str:
    """A flow-control key: the expression's value over `event`, as a string."""
    result = value(expression, {"event": event})
    return result if isinstance(result, str) else json.dumps(result, sort_keys=True, default=str)
