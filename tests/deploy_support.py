"""The template and samconfig.toml read as CloudFormation and `sam deploy` read them:
a function's environment (Globals merged with its own) and its values in one
environment, for the template tests and the deploy bootstrap test."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]


def load_template() -> dict[str, Any]:
    """template.yaml, intrinsic functions as dicts (`{"Ref": ...}`)."""
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def function_env(template: dict[str, Any], name: str) -> dict[str, Any]:
    """Globals variables merged with the function's own, as SAM merges them."""
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][name]["Properties"]
    env.update(props.get("Environment", {}).get("Variables", {}))
    return env


def overrides_of(env: str, path: Path = ROOT / "samconfig.toml") -> dict[str, str]:
    """The parameter overrides `sam deploy --config-env env` passes."""
    config = tomllib.loads(path.read_text())[env]["deploy"]["parameters"]
    return dict(item.split("=", 1) for item in config["parameter_overrides"])


def deployed_value(
    template: dict[str, Any],
    value: Any,
    overrides: dict[str, str],
    resources: dict[str, str] | None = None,
) -> str:
    """A variable's value as CloudFormation gives it in an environment: a parameter's
    override (else its default); a resource's id from `resources`, else a stand-in;
    a stand-in for an attribute."""
    if isinstance(value, str | int | float):
        return str(value)
    if "Ref" in value and value["Ref"] in template["Parameters"]:
        name = value["Ref"]
        given = overrides.get(name, template["Parameters"][name].get("Default"))
        return "" if given is None else str(given)
    if "Ref" in value:
        stand_in = f"arn:aws:ssm:eu-west-1:123456789012:parameter/{value['Ref']}"
        return (resources or {}).get(value["Ref"], stand_in)
    if "Fn::If" in value:  # conditions here are `Fn::Equals [Ref Param, literal]`
        condition, when_true, when_false = value["Fn::If"]
        left, right = template["Conditions"][condition]["Fn::Equals"]
        chosen = deployed_value(template, left, overrides) == str(right)
        return deployed_value(template, when_true if chosen else when_false, overrides, resources)
    return f"{'.'.join(value['Fn::GetAtt'])}.example"
