"""The GitHub workflows lint clean and deploy in the order a first deploy needs.

actionlint (the dev extras ship its binary) checks syntax, expressions, action
inputs and the shell of `run:` steps, as CI's actionlint job does. The order of
the deploy steps is what makes the first deploy of an environment green: the app
secret's values are checked and the account preflighted before anything is
deployed, and the secret is written once the stack exists, before the first
request (the health step) builds the app from it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
        "actionlint"
    )
    if found is None:
        pytest.fail("actionlint is not installed: it is in the dev extras (make .venv/.installed)")
    return found


def test_actionlint_finds_nothing() -> None:
    done = subprocess.run(  # noqa: S603 - the dev extras' binary on our own files
        [actionlint(), "-no-color"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _steps(name: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    [job] = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_the_deploy_checks_before_and_fills_the_secret_after_the_stack_exists() -> None:
    steps = _steps("deploy-env.yml")
    names = [s.get("name", s.get("uses", "")) for s in steps]

    def at(name: str) -> int:
        return names.index(name)

    assert at("Check the app secret's values") < at("sam deploy")
    assert at("Preflight") < at("sam deploy")
    assert at("sam deploy") < at("Write the app secret") < at("Health")
    by_name = {s.get("name"): s for s in steps}
    assert "infra.bootstrap check" in by_name["Check the app secret's values"]["run"]
    assert "infra.bootstrap write" in by_name["Write the app secret"]["run"]
    assert "infra.preflight" in by_name["Preflight"]["run"]
    for step in ("Check the app secret's values", "Write the app secret"):
        env = by_name[step]["env"]
        assert env["INNGEST_SIGNING_KEY"] == "${{ secrets.INNGEST_SIGNING_KEY }}"
        assert env["INNGEST_EVENT_KEY"] == "${{ secrets.INNGEST_EVENT_KEY }}"


def test_only_inngest_schedules_the_functions() -> None:
    """The functions' crons are the one schedule: no workflow sends their events."""
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "inn.gs/e/" not in text, f"{path.name} sends Inngest events"
        assert "tender/sync.requested" not in text, path.name
