"""The package's shape, checked on its source: where SQL may be written, which way
imports point, and how steps are run.

- SQLAlchemy (and pgvector's SQLAlchemy types) is imported only in `db/` and the
  stores (`store.py`, `*_store.py`):
  every statement has a home, and a route or a step body that wants a query asks a
  store for it.
- The packages of `jobmatch` import each other without a circle, so they stack in
  floors and nothing reaches up.
- Steps run only through `StepBody.run` (`step_contract.py`): no workflow calls
  `ctx.step.run` itself, so every step's input and output go through its contract.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import jobmatch

ROOT = Path(jobmatch.__file__).parent
MIGRATIONS = ROOT / "db" / "migrations"
SQL_MODULES = ("sqlalchemy", "pgvector")


def _modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(ROOT.parent).with_suffix("").parts): ast.parse(path.read_text())
        for path in sorted(ROOT.rglob("*.py"))
        if MIGRATIONS not in path.parents
    }


def _imports(tree: ast.Module, module: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                found.add(".".join([*base, node.module or ""]).rstrip("."))
            elif node.module:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _is_store(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name == "store" or name.endswith("_store")


def test_sqlalchemy_is_imported_only_by_db_and_the_stores() -> None:
    offenders = sorted(
        module
        for module, tree in _modules().items()
        if not module.startswith("jobmatch.db")
        and not _is_store(module)
        and any(i.split(".")[0] in SQL_MODULES for i in _imports(tree, module))
    )
    assert len(_modules()) > 150  # the walk finds the package
    assert not offenders, f"SQL outside db/ and the stores: {offenders}"


def _package(module: str) -> str:
    """`jobmatch.matching.scoring` -> `matching`; a top-level module is its own node."""
    return module.split(".")[1]


def test_packages_import_each_other_without_a_circle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in _modules().items():
        for imported in _imports(tree, module):
            if imported.startswith("jobmatch.") and _package(imported) != _package(module):
                graph[_package(module)].add(_package(imported))
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                raise AssertionError(f"import circle: {' -> '.join([*path, node, nxt])}")
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [])


def test_steps_run_only_through_their_contract() -> None:
    direct = sorted(
        f"{module}:{node.lineno}"
        for module, tree in _modules().items()
        if module != "jobmatch.step_contract"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and ast.unparse(node.func.value).endswith(".step")
    )
    assert not direct, f"ctx.step.run outside StepBody.run: {direct}"


def test_routes_and_step_bodies_never_commit_themselves() -> None:
    """The unit of work owns its transaction: committed when it ends (a route's
    before the response is sent), then what it recorded is sent. Only `db/` and the
    stores (the outbox's after-commit send opens its own) handle transactions."""
    committing = sorted(
        f"{module}:{node.lineno}"
        for module, tree in _modules().items()
        if not module.startswith("jobmatch.db") and not _is_store(module)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    )
    assert not committing, f"commit() outside the unit of work: {committing}"


# The edges that read the process settings themselves (entry points and CLIs).
EDGES = {
    "jobmatch.handler",
    "jobmatch.migrate_handler",
    "jobmatch.snapstart",
    "jobmatch.roles.load",
    "jobmatch.skills.load",
    "jobmatch.mail.ses_events",
}


def test_the_app_reaches_the_database_through_its_dependencies() -> None:
    """No route, step or service opens the process-wide database behind the app's
    back: they open `deps.unit_of_work()` on the settings the app was built with."""
    hidden = {"session_scope", "get_engine", "get_settings"}
    reaching = sorted(
        f"{module}:{node.lineno}"
        for module, tree in _modules().items()
        if not module.startswith("jobmatch.db")
        and module not in EDGES
        and module != "jobmatch.settings"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in hidden
    )
    assert not reaching, f"the process-wide database or settings reached: {reaching}"
