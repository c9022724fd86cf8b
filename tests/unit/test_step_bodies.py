"""Every step a workflow runs is a `step_body`, so a permanent error in any of them
ends the run instead of being retried (`jobmatch.failures`). The workflows are read
as source: each `ctx.step.run(id, body, ...)` call's `body` is looked up in its
module and must carry the mapping."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import jobmatch.workflows
from jobmatch.failures import is_step_body


def _resolve(module: ModuleType, node: ast.expr) -> object:
    """`name` or `module.attr` as the workflow module sees it."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id)
    assert isinstance(node, ast.Attribute), ast.dump(node)
    return getattr(_resolve(module, node.value), node.attr)


def _step_bodies() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(jobmatch.workflows.__path__):
        module = importlib.import_module(f"jobmatch.workflows.{info.name}")
        tree = ast.parse(Path(str(module.__file__)).read_text())
        for call in ast.walk(tree):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "run"
                and ast.unparse(call.func.value).endswith("step")
            ):
                body = call.args[1]
                found.append((f"{info.name}: {ast.unparse(body)}", _resolve(module, body)))
    return found


def test_every_step_run_by_a_workflow_maps_permanent_errors() -> None:
    bodies = _step_bodies()
    assert len(bodies) >= 20  # the scan finds the workflows' steps
    missing = [name for name, fn in bodies if not callable(fn) or not is_step_body(fn)]
    assert not missing, f"not declared with @step_body: {missing}"
