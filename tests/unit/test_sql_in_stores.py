"""SQL lives in stores: in the packages listed here, only a module named `store.py`
or `*_store.py` imports SQLAlchemy (or pgvector's SQLAlchemy types). Read as
source, so a route or a step body that reaches for `select` fails here at once."""

from __future__ import annotations

import ast
from pathlib import Path

import jobmatch

ROOT = Path(str(jobmatch.__file__)).parent
# The packages already on stores (issue #19); the rest of the tree joins as it moves.
PACKAGES = ("candidates", "embeddings", "jobs", "matching", "notifications", "roles", "users")
ROUTES = ("candidates", "jobs_import", "roles_admin", "signup_confirm", "users")
SQL_MODULES = ("sqlalchemy", "pgvector")


def _sql_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in SQL_MODULES]
    return found


def _checked_modules() -> list[Path]:
    modules = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    modules += [ROOT / "api" / "routes" / f"{name}.py" for name in ROUTES]
    return modules


def test_only_stores_import_sqlalchemy() -> None:
    modules = _checked_modules()
    assert len(modules) > 30  # the walk finds the packages
    offenders = {
        str(p.relative_to(ROOT)): imports
        for p in modules
        if not (p.name == "store.py" or p.name.endswith("_store.py"))
        and (imports := _sql_imports(p))
    }
    assert not offenders, f"SQL outside a store: {offenders}"


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "route.py"
    module.write_text("from sqlalchemy.orm import Session\nimport pgvector.sqlalchemy\n")
    assert _sql_imports(module) == ["sqlalchemy.orm", "pgvector.sqlalchemy"]
