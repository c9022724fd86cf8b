"""The Lambda deps layer installs exactly the runtime dependencies of the package.

`pip install -e .` reads pyproject.toml; `sam build` reads layers/deps/requirements.txt.
If the two drift, tests pass locally while the Lambda fails to import at cold start.
The one exception is explicit: what the python3.12 runtime already holds
(layers/deps/runtime-provided.txt) is a dependency of the package but not of the
layer, whose build removes it even when another package pulls it in.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> dict[str, frozenset[str]]:
    """Canonical name -> extras, for a list of requirement strings."""
    parsed = [Requirement(line) for line in requirements]
    return {canonicalize_name(r.name): frozenset(r.extras) for r in parsed}


def layer_requirements() -> list[str]:
    """The requirement lines of the layer, comments and blanks dropped."""
    text = (ROOT / "layers" / "deps" / "requirements.txt").read_text()
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def runtime_provided() -> set[str]:
    """Canonical names of runtime-provided.txt."""
    text = (ROOT / "layers" / "deps" / "runtime-provided.txt").read_text()
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return {canonicalize_name(line) for line in lines if line}


def project_requirements() -> list[str]:
    """`[project].dependencies` of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def test_layer_installs_the_same_packages_and_extras_as_pyproject() -> None:
    layer, project = _names(layer_requirements()), _names(project_requirements())
    provided = runtime_provided()
    assert not provided & set(layer), "the runtime holds these: the layer must not ship them"
    project = {name: extras for name, extras in project.items() if name not in provided}
    assert sorted(layer) == sorted(project), (
        f"only in layer: {sorted(set(layer) - set(project))}; "
        f"only in pyproject: {sorted(set(project) - set(layer))}"
    )
    assert layer == project, "extras differ (e.g. psycopg[binary] is needed in Lambda)"


def test_the_runtime_provided_packages_are_the_sdk_and_the_snapstart_hooks() -> None:
    """A reviewed list: adding a name here drops it from the deployed package."""
    project = set(_names(project_requirements()))
    assert runtime_provided() & project == {"boto3", "snapshot-restore-py"}


def test_layer_pins_satisfy_pyproject_ranges() -> None:
    project = {canonicalize_name(r.name): r for r in map(Requirement, project_requirements())}
    for line in layer_requirements():
        pinned = Requirement(line)
        versions = [spec.version for spec in pinned.specifier if spec.operator == "=="]
        wanted = project[canonicalize_name(pinned.name)].specifier
        for version in versions:
            assert wanted.contains(version, prereleases=True), f"{line} is outside {wanted}"


def test_helper_sees_a_disagreement() -> None:
    """The comparison is not vacuous: a missing extra or package shows."""
    assert _names(["psycopg[binary]>=3"]) != _names(["psycopg>=3"])
    assert _names(["Pydantic_Settings==2"]) == _names(["pydantic-settings>=2"])
    assert _names(["a"]) != _names(["a", "b"])
