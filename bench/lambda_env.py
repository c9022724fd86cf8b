"""What template.yaml gives a function, resolved for one environment of samconfig.toml.

The benchmarks measure the app as it is deployed: the cold-import benchmark runs
with the environment variables the template sets (plus those Lambda itself sets),
the cost benchmark prices GB-seconds with the template's memory size. Intrinsics
are resolved the way CloudFormation would, with placeholders where only a deployed
stack knows the value (endpoints, ARNs): nothing reads those at import.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"


def load_template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def parameter_values(template: dict[str, Any], env: str) -> dict[str, str]:
    """Template defaults overridden by samconfig.toml's `env` deploy parameters."""
    values = {
        name: str(spec["Default"])
        for name, spec in template["Parameters"].items()
        if "Default" in spec
    }
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[env]["deploy"]["parameters"]
    values.update(item.split("=", 1) for item in config["parameter_overrides"])
    values.update(
        {
            "AWS::Region": config["region"],
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": config["stack_name"],
        }
    )
    return values


class Resolver:
    """Resolves Ref, Fn::Sub, Fn::GetAtt, Fn::If (with Equals/Not/And/Or conditions)."""

    def __init__(self, template: dict[str, Any], env: str) -> None:
        self.template = template
        self.params = parameter_values(template, env)

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return self.ref(arg)
        if fn == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.ref(m.group(1))), arg)
        if fn == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return f"{logical}-{attribute}.placeholder".lower()
        if fn == "Fn::If":
            name, then, otherwise = arg
            return self.value(then if self.condition(name) else otherwise)
        if fn == "Fn::Equals":
            return str(self.value(arg[0])) == str(self.value(arg[1]))
        if fn == "Fn::Not":
            return not self.value(arg[0])
        if fn == "Fn::And":
            return all(self.value(a) for a in arg)
        if fn == "Fn::Or":
            return any(self.value(a) for a in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise ValueError(f"unsupported intrinsic {fn}")

    def ref(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        resource = self.template["Resources"][name]
        given = resource.get("Properties", {}).get("Name")
        return str(self.value(given)) if given is not None else f"{name}-placeholder"


def function_environment(function: str = "Api", env: str = "prod") -> dict[str, str]:
    """Globals' variables merged with the function's own, resolved, as SAM merges them."""
    template = load_template()
    resolver = Resolver(template, env)
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][function]["Properties"]
    variables.update(props.get("Environment", {}).get("Variables", {}))
    return {k: str(resolver.value(v)) for k, v in variables.items()}


def lambda_runtime_environment(function: str = "Api", env: str = "prod") -> dict[str, str]:
    """The template's variables plus those the Lambda python3.12 runtime sets itself."""
    template = load_template()
    region = parameter_values(template, env)["AWS::Region"]
    return function_environment(function, env) | {
        "AWS_LAMBDA_FUNCTION_NAME": f"jobmatch-{env}-{function}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size(function)),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    }


def memory_size(function: str = "Api") -> int:
    """MemorySize of the function (its own, else the Globals')."""
    template = load_template()
    props = template["Resources"][function]["Properties"]
    return int(props.get("MemorySize", template["Globals"]["Function"]["MemorySize"]))
