"""One environment's deployment as `samconfig.toml` describes it.

The preflight and the bootstrap read the same file `sam deploy --config-env` reads,
so they check and fill exactly what that deploy will use.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

SAMCONFIG = Path(__file__).resolve().parent.parent / "samconfig.toml"


@dataclass(frozen=True)
class Deployment:
    """What one `[<env>.deploy.parameters]` table says."""

    environment: str
    stack_name: str
    region: str
    parameters: dict[str, str]

    @property
    def app_secret_id(self) -> str:
        """The app secret's name (template.yaml: `jobmatch/${Env}/app`)."""
        return f"jobmatch/{self.parameters.get('Env', self.environment)}/app"

    def flag(self, name: str) -> bool:
        """A "true"/"false" template parameter."""
        return self.parameters.get(name, "false").lower() == "true"


def load_deployment(environment: str, path: Path = SAMCONFIG) -> Deployment:
    """The deployment of `environment`; KeyError naming it when the file has none."""
    config = tomllib.loads(path.read_text())
    try:
        table = config[environment]["deploy"]["parameters"]
    except KeyError:
        raise KeyError(f"{path.name} has no [{environment}.deploy.parameters]") from None
    overrides = table.get("parameter_overrides", [])
    if isinstance(overrides, str):  # sam also accepts one space-separated string
        overrides = overrides.split()
    parameters = dict(item.split("=", 1) for item in overrides)
    region = table.get("region") or config.get("default", {}).get("global", {}).get(
        "parameters", {}
    ).get("region", "eu-west-1")
    return Deployment(environment, table["stack_name"], region, parameters)
