"""The small part of CEL that trigger and `wait_for_event` expressions use.

Inngest evaluates these with CEL. The driver supports comparisons joined by
`&&`, whose sides are a path into `event` / `async` (`event.data.user_id`) or a
literal (`'text'`, `"text"`, numbers, `true`, `false`, `null`). Anything else
raises `UnsupportedExpressionError` instead of guessing, so a test never passes
because of a silently mis-evaluated filter.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CLAUSE = re.compile(r"^\s*(.+?)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$")
_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")
_MISSING = object()


class UnsupportedExpressionError(ValueError):
    """An expression outside the subset the driver evaluates."""


def _operand(text: str, scope: Mapping[str, Any]) -> Any:
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1]
    if _PATH.match(text) and text.split(".")[0] in scope:
        value: Any = scope
        for part in text.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return _MISSING
            value = value[part]
        return value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnsupportedExpressionError(f"cannot evaluate operand {text!r}") from exc


def evaluate(expression: str, scope: Mapping[str, Any]) -> bool:
    """Whether `expression` holds with `scope` (e.g. `{"event": ..., "async": ...}`)."""
    if "||" in expression:
        raise UnsupportedExpressionError(f"'||' is not supported: {expression!r}")
    for clause in expression.split("&&"):
        match = _CLAUSE.match(clause)
        if match is None:
            raise UnsupportedExpressionError(f"cannot evaluate {clause.strip()!r}")
        left, op, right = match.groups()
        lhs, rhs = _operand(left, scope), _operand(right, scope)
        if lhs is _MISSING or rhs is _MISSING:
            return False
        try:
            if not _OPERATORS[op](lhs, rhs):
                return False
        except TypeError:
            return False
    return True
