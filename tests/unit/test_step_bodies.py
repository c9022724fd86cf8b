"""Every step a workflow runs is a typed `step_body`, so a permanent error in any of them
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
from jobmatch.step_contract import StepBody


def _resolve(module: ModuleType, node: ast.expr) -> object:
    """`name` or `module.attr` as the workflow module sees it."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id)
    assert isinstance(node, ast.Attribute), ast.dump(node)
    return getattr(_resolve(module, node.value), node.attr)


# Helpers that run their `body` argument as steps, and where that argument stands;
# the `ctx.step.run` inside them runs whatever their callers pass.
STEP_HELPERS = {"paged": 3, "chained": 3, "on_failure": 2, "queue_upkeep": 2}


def _body_of(call: ast.Call) -> ast.expr | None:
    """The step body a call runs: `ctx.step.run(id, body, ...)` or a helper's."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "run":
        if ast.unparse(func.value).endswith("step"):
            return call.args[1]
        if call.args and ast.unparse(call.args[0]) == "ctx":
            return func.value  # a typed body: `body.run(ctx, id, deps, inp)`
    if isinstance(func, ast.Name) and func.id in STEP_HELPERS:
        return call.args[STEP_HELPERS[func.id]]
    return None


def _step_bodies() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(jobmatch.workflows.__path__):
        module = importlib.import_module(f"jobmatch.workflows.{info.name}")
        tree = ast.parse(Path(str(module.__file__)).read_text())
        inside_helpers = {
            id(node)
            for helper in ast.walk(tree)
            if isinstance(helper, ast.FunctionDef) and helper.name in STEP_HELPERS
            for node in ast.walk(helper)
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or id(call) in inside_helpers:
                continue
            body = _body_of(call)
            if body is not None:
                found.append((f"{info.name}: {ast.unparse(body)}", _resolve(module, body)))
    return found


def test_every_step_run_by_a_workflow_maps_permanent_errors() -> None:
    bodies = _step_bodies()
    assert len(bodies) >= 20  # the scan finds the workflows' steps
    names = {name for name, _ in bodies}
    assert "roles: steps.embed_roles" in names  # run through `paged`
    missing = [name for name, fn in bodies if not isinstance(fn, StepBody)]
    assert not missing, f"not declared with @step_body: {missing}"
