"""The SAM template and the OIDC stack lint clean, and hold the facts the app relies on.

cfn-lint catches what CloudFormation would reject; the structural checks catch what
it would accept but the app could not live with: a timeout past the gateway's 30 s,
a stage prefix in the serve URL, an environment variable no setting reads, a proxy
without TLS, a port other than 5432 between the tiers.
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

from jobmatch.settings import Settings
from tests.deploy_support import deployed_value, function_env, overrides_of
from tests.lambda_support import clear_settings_environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [ROOT / "template.yaml", ROOT / "infra" / "github-oidc.yaml"]
# Findings we accept, by rule id, each with the reason. Empty today: every warning
# and informational finding is fixed in the templates.
ALLOWED_FINDINGS: dict[str, str] = {}
# Variables read by libraries rather than by Settings.
LIBRARY_ENV_VARS = {
    "POWERTOOLS_METRICS_NAMESPACE": "read by Powertools Metrics",
    "POWERTOOLS_SERVICE_NAME": "read by Powertools Logger, Metrics and Tracer",
    "POWERTOOLS_TRACE_DISABLED": "read by jobmatch.observability (and Powertools Tracer)",
}
ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def resources_of(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_finds_nothing(path: Path) -> None:
    matches = lint_file(path, config=ManualArgs(include_checks=["I"]))
    unexpected = [m for m in matches if m.rule.id not in ALLOWED_FINDINGS]
    assert not unexpected, "\n".join(
        f"{m.rule.id} line {m.linenumber}: {m.message}" for m in unexpected
    )


def test_functions_are_python312_arm64_within_the_gateway_timeout(template: dict[str, Any]) -> None:
    glob = template["Globals"]["Function"]
    functions = resources_of(template, "AWS::Serverless::Function")
    assert set(functions) == {"Api", "Migrate", "SesEvents"}
    for props in (f["Properties"] for f in functions.values()):
        assert props.get("Runtime", glob["Runtime"]) == "python3.12"
        assert props.get("Architectures", glob["Architectures"]) == ["arm64"]
        assert props.get("VpcConfig", glob.get("VpcConfig")), "RDS is private: VPC needed"
    # The HTTP API integration times out at 30 s; Lambda must stop first.
    assert functions["Api"]["Properties"]["Timeout"] <= 29
    assert functions["Migrate"]["Properties"]["Timeout"] == 300


def test_handlers_exist(template: dict[str, Any]) -> None:
    for name in ("Api", "Migrate", "SesEvents"):
        module, attr = template["Resources"][name]["Properties"]["Handler"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attr))


def test_http_api_serves_everything_on_the_default_stage(template: dict[str, Any]) -> None:
    (api,) = resources_of(template, "AWS::Serverless::HttpApi").values()
    assert api["Properties"]["StageName"] == "$default"
    events = template["Resources"]["Api"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    # Everything through the proxy route; two routes of their own for their throttles.
    assert routes == {
        ("ANY", "/{proxy+}"),
        ("ANY", "/"),
        ("ANY", "/api/inngest"),
        ("POST", "/api/signup/free"),
    }
    assert all(e["Type"] == "HttpApi" for e in events)


@pytest.mark.parametrize("function", ["Api", "Migrate", "SesEvents"])
def test_environment_variables_are_settings_fields(template: dict[str, Any], function: str) -> None:
    read_by_settings = {
        str(field.validation_alias or name).upper() for name, field in Settings.model_fields.items()
    }
    unknown = set(function_env(template, function)) - read_by_settings - set(LIBRARY_ENV_VARS)
    assert not unknown, f"no Settings field reads {sorted(unknown)}"


def test_api_environment_is_cloud_mode_on_rds_with_aws_secrets(template: dict[str, Any]) -> None:
    env = function_env(template, "Api")
    assert env["INNGEST_DEV"] == "false"
    assert env["MAIL_BACKEND"] == "ses"
    assert {"APP_SECRET_ID", "API_KEY_HASHES_PARAM", "DB_HOST", "DB_SECRET_ARN"} <= set(env)
    assert env["DB_HOST"] == {"Fn::GetAtt": ["DbProxy", "Endpoint"]}


def test_xray_sdk_is_off_unless_enabled_while_active_tracing_stays(
    template: dict[str, Any],
) -> None:
    """Importing the X-Ray SDK is a cold-start cost: the default template leaves it out."""
    glob = template["Globals"]["Function"]
    assert glob["Tracing"] == "Active"
    assert template["Parameters"]["EnableXRaySdk"]["Default"] == "false"
    assert template["Conditions"]["UseXRaySdk"] == {
        "Fn::Equals": [{"Ref": "EnableXRaySdk"}, "true"]
    }
    disabled = glob["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]
    assert disabled == {"Fn::If": ["UseXRaySdk", "false", "true"]}


def test_snapstart_is_on_in_prod_and_the_api_invokes_the_published_alias(
    template: dict[str, Any],
) -> None:
    """SnapStart snapshots published versions only: SAM publishes one per deploy and
    points the HTTP API integration at the alias (AutoPublishAlias). Every property
    counts, or a changed environment variable would not reach the alias."""
    api = template["Resources"]["Api"]["Properties"]
    assert api["AutoPublishAlias"] == "live"
    assert api["AutoPublishAliasAllProperties"] is True
    assert api["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
    }
    assert template["Conditions"]["UseSnapStart"] == {
        "Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]
    }
    assert template["Parameters"]["EnableSnapStart"]["Default"] == "false"
    configs = tomllib.loads((ROOT / "samconfig.toml").read_text())
    enabled = {
        env
        for env in ENVIRONMENTS
        if "EnableSnapStart=true" in configs[env]["deploy"]["parameters"]["parameter_overrides"]
    }
    assert enabled == {"prod"}


def test_database_is_private_encrypted_and_reached_through_a_tls_proxy(
    template: dict[str, Any],
) -> None:
    db = template["Resources"]["Db"]
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert str(template["Parameters"]["DbEngineVersion"]["Default"]).startswith("16.")
    assert props["ManageMasterUserPassword"] is True
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert db["DeletionPolicy"] == "Snapshot"
    proxy = template["Resources"]["DbProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"
    # The master (Migrate) and the app role (Api), each by its secret.
    assert [auth["SecretArn"] for auth in proxy["Auth"]] == [
        {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]},
        {"Ref": "AppDbSecret"},
    ]
    target = template["Resources"]["DbProxyTargetGroup"]["Properties"]
    assert target["DBInstanceIdentifiers"] == [{"Ref": "Db"}]


def test_tiers_talk_on_5432_only(template: dict[str, Any]) -> None:
    """Lambda -> Proxy -> DB: every SG rule between them is TCP 5432 from the tier before."""
    rules: list[tuple[str, dict[str, Any]]] = []
    for name, res in template["Resources"].items():
        if name == "EndpointSecurityGroup":  # HTTPS to the optional AWS endpoints
            continue
        if res["Type"] == "AWS::EC2::SecurityGroup":
            rules += [(name, r) for r in res["Properties"].get("SecurityGroupIngress", [])]
        elif res["Type"] == "AWS::EC2::SecurityGroupIngress":
            rules.append((res["Properties"]["GroupId"]["Ref"], res["Properties"]))
    sources = {(group, rule["SourceSecurityGroupId"]["Ref"]) for group, rule in rules}
    assert sources == {
        ("ProxySecurityGroup", "LambdaSecurityGroup"),
        ("DbSecurityGroup", "ProxySecurityGroup"),
    }
    assert all(
        (r["IpProtocol"], r["FromPort"], r["ToPort"]) == ("tcp", 5432, 5432) for _, r in rules
    )


def test_alarms_watch_errors_throttles_5xx_pinning_and_feed_gaps(
    template: dict[str, Any],
) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()
    watched = {
        (
            a["Properties"]["Namespace"],
            a["Properties"]["MetricName"],
            a["Properties"]["Dimensions"][0]["Name"],
        )
        for a in alarms
    }
    assert watched == {
        ("AWS/Lambda", "Errors", "FunctionName"),
        ("AWS/Lambda", "Throttles", "FunctionName"),
        ("AWS/ApiGateway", "5xx", "ApiId"),
        ("AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned", "ProxyName"),
        ("Jobmatch", "TenderPagesMalformed", "service"),
        ("Jobmatch", "OutboxOldestPendingSeconds", "service"),
    }


def test_every_makefile_build_has_its_target(template: dict[str, Any]) -> None:
    """`sam build` calls `make build-<LogicalId>` in the resource's code folder."""
    for name, res in template["Resources"].items():
        if res.get("Metadata", {}).get("BuildMethod") != "makefile":
            continue
        props = res["Properties"]
        folder = (
            props.get("CodeUri")
            or props.get("ContentUri")
            or template["Globals"]["Function"]["CodeUri"]
        )
        makefile = (ROOT / folder / "Makefile").read_text()
        assert re.search(rf"^[^\n]*\bbuild-{name}\b[^\n]*:", makefile, re.M), (
            f"{folder}Makefile lacks build-{name}"
        )


def test_layer_installs_arm64_cp312_wheels_without_docker() -> None:
    makefile = (ROOT / "layers" / "deps" / "Makefile").read_text()
    for flag in (
        "--platform manylinux2014_aarch64",
        "--only-binary=:all:",
        "--python-version 3.12",
    ):
        assert flag in makefile


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_samconfig_gives_every_required_parameter(template: dict[str, Any], env: str) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[env]["deploy"]["parameters"]
    assert config["stack_name"] == f"jobmatch-{env}"
    assert config["resolve_s3"] is True
    overrides = dict(item.split("=", 1) for item in config["parameter_overrides"])
    required = {k for k, v in template["Parameters"].items() if "Default" not in v}
    assert required <= set(overrides), f"{env} misses {sorted(required - set(overrides))}"
    assert set(overrides) <= set(template["Parameters"])
    assert overrides["Env"] == env


# ---------------------------------------------------------------- per-deployment settings
# Literal values the stack fixes by design (it sends mail through SES, always).
FIXED_BY_THE_STACK = {"MAIL_BACKEND": "ses"}


def deployed_settings(
    template: dict[str, Any], function: str, env: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The settings `function` starts with in `env` (validated as in Lambda)."""
    clear_settings_environment(monkeypatch)
    monkeypatch.chdir(ROOT / "infra")  # no developer .env
    overrides = overrides_of(env)
    for key, value in function_env(template, function).items():
        monkeypatch.setenv(key, deployed_value(template, value, overrides))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", f"jobmatch-{env}-{function}")
    return Settings()


@pytest.mark.parametrize("function", ["Api", "Migrate"])
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_gives_every_deployment_setting(
    template: dict[str, Any], function: str, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = deployed_settings(template, function, env, monkeypatch)  # raises when one lacks
    assert settings.component == function.lower()
    assert settings.env == env


def test_each_deployment_setting_comes_from_a_parameter_or_the_stack(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = deployed_settings(template, "Api", "prod", monkeypatch)
    assert settings.ai_enabled  # so the Bedrock settings are among those checked
    env = function_env(template, "Api")
    for name in settings.deployment_settings():
        value = env[name]
        if name in FIXED_BY_THE_STACK:
            assert value == FIXED_BY_THE_STACK[name]
            continue
        assert isinstance(value, dict), f"{name} is hard-coded in the template"
        ref = value.get("Ref")
        if ref in template["Parameters"]:
            # No default: each environment must say it (samconfig.toml, checked below).
            assert "Default" not in template["Parameters"][ref], f"{ref} has a default"
        else:
            assert ref in template["Resources"] or "Fn::GetAtt" in value, name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_samconfig_sets_each_deployment_parameter_per_environment(
    template: dict[str, Any], env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = deployed_settings(template, "Api", "prod", monkeypatch)
    api_env = function_env(template, "Api")
    parameters = {
        api_env[name]["Ref"]
        for name in settings.deployment_settings()
        if isinstance(api_env[name], dict) and api_env[name].get("Ref") in template["Parameters"]
    }
    assert {"OcdsBaseUrl", "OcdsPagination", "MailFrom", "BedrockLlmModelId"} <= parameters
    assert parameters <= set(overrides_of(env)), sorted(parameters - set(overrides_of(env)))


def test_bounces_and_complaints_reach_the_ses_events_function(template: dict[str, Any]) -> None:
    """The Api sends through the configuration set whose bounce and complaint events
    go to the topic SesEvents is subscribed to."""
    resources = template["Resources"]
    assert function_env(template, "Api")["SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
    destination = resources["MailEventDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    events = destination["EventDestination"]
    assert sorted(events["MatchingEventTypes"]) == ["bounce", "complaint"]
    [subscription] = resources["SesEvents"]["Properties"]["Events"].values()
    assert subscription == {
        "Type": "SNS",
        "Properties": {"Topic": events["SnsDestination"]["TopicARN"]},
    }
    [statement] = resources["SesEventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}


# ---------------------------------------------------------------- first deploy (#21)
def _route_keys(template: dict[str, Any]) -> set[str]:
    events = template["Resources"]["Api"]["Properties"]["Events"].values()
    return {f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inngest_and_the_public_signup_have_throttles_of_their_own(
    template: dict[str, Any], env: str
) -> None:
    """Inngest's step calls and public traffic no longer share the stage's bucket: a
    burst of signups cannot throttle Inngest, nor a fan-out the signups."""
    api = template["Resources"]["HttpApi"]["Properties"]
    routes = api["RouteSettings"]
    assert set(routes) == {"ANY /api/inngest", "POST /api/signup/free"}
    assert set(routes) <= _route_keys(template), "a throttle on a route the API lacks"
    inngest, signup = routes["ANY /api/inngest"], routes["POST /api/signup/free"]
    # Inngest never has more calls in flight than the account's concurrency.
    assert inngest["ThrottlingBurstLimit"] == {"Ref": "InngestConcurrency"}
    assert "Default" not in template["Parameters"]["InngestConcurrency"]
    overrides = overrides_of(env)

    def value(setting: Any) -> float:
        return float(deployed_value(template, setting, overrides))

    default = api["DefaultRouteSettings"]
    assert value(signup["ThrottlingRateLimit"]) < value(default["ThrottlingRateLimit"])
    assert value(signup["ThrottlingBurstLimit"]) < value(default["ThrottlingBurstLimit"])
    assert value(signup["ThrottlingRateLimit"]) < value(inngest["ThrottlingRateLimit"])
    assert value(inngest["ThrottlingBurstLimit"]) >= 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cors_is_the_apps_for_public_routes_from_a_per_environment_parameter(
    template: dict[str, Any], env: str
) -> None:
    """The gateway's CorsConfiguration would answer for every route, machine ones
    too: the API has none, and the app gets the allowed origins per environment."""
    assert "CorsConfiguration" not in template["Resources"]["HttpApi"]["Properties"]
    assert function_env(template, "Api")["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}
    parameter = template["Parameters"]["CorsAllowedOrigins"]
    assert "Default" not in parameter
    origins = overrides_of(env)["CorsAllowedOrigins"].split(",")
    assert all(re.fullmatch(parameter["AllowedPattern"], o) for o in origins)
    assert all(o.startswith("https://") and not o.endswith("/") for o in origins)


def test_the_app_secret_is_created_empty_with_fields_the_app_reads(
    template: dict[str, Any],
) -> None:
    """Empty, so no key is in the template; the bootstrap fills every field (and adds
    those the initial value lacks: changing it would overwrite the live secret)."""
    from jobmatch.settings import APP_SECRET_FIELDS

    secret = json.loads(template["Resources"]["AppSecret"]["Properties"]["SecretString"])
    assert set(secret) <= set(APP_SECRET_FIELDS)
    assert set(secret.values()) == {""}


def test_vpc_endpoints_for_secrets_ssm_and_ses_are_an_option(template: dict[str, Any]) -> None:
    endpoints = resources_of(template, "AWS::EC2::VPCEndpoint")
    services = {
        e["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[-1] for e in endpoints.values()
    }
    assert services == {"secretsmanager", "ssm", "email"}
    for endpoint in endpoints.values():
        assert endpoint["Condition"] == "UseVpcEndpoints"
        assert endpoint["Properties"]["PrivateDnsEnabled"] is True
        assert endpoint["Properties"]["SubnetIds"] == {"Ref": "PrivateSubnetIds"}
    assert template["Parameters"]["CreateVpcEndpoints"]["Default"] == "false"
    ingress = template["Resources"]["EndpointSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (443, {"Ref": "LambdaSecurityGroup"})
    ]
