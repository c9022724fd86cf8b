"""The deploy workflow's first run, on moto: preflight, bootstrap, then a signed sync.

An empty account fails the preflight with one line per missing piece; once the
account has them, it passes. The bootstrap, given the keys as the workflow gives
them (GitHub environment secrets as variables), writes every field the app reads
into the secret the stack created (the template's own initial value), and a second
run writes nothing. The Api handler, given the template's environment for dev and
that secret, then answers a signed Inngest sync.

moto has no model of SES's account (`GetAccount`) or of Bedrock's foundation models:
those answers come from botocore's Stubber, with the real client's request checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from infra import bootstrap, preflight
from infra.samconfig import load_deployment
from inngest_harness.apigw import LambdaContext
from inngest_harness.driver import InngestDriver
from jobmatch.settings import APP_SECRET_FIELDS
from tests.deploy_support import deployed_value, function_env, load_template, overrides_of
from tests.lambda_support import clear_settings_environment

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
SIGNING_KEY = "signkey-prod-" + "5e" * 32
EVENT_KEY = "evt-" + "k" * 40
ROLE_NAME = "jobmatch-github-oidc-GitHubDeployRole-ABC"
MODELS = ("amazon.titan-embed-text-v2:0", "anthropic.claude-3-haiku-20240307-v1:0")
GITHUB_SECRETS = {"INNGEST_SIGNING_KEY": SIGNING_KEY, "INNGEST_EVENT_KEY": EVENT_KEY}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


def write_samconfig(tmp_path: Path, base: dict[str, str], **values: str) -> Path:
    """samconfig.toml with dev's shipped values, `base` then `values` replacing some."""
    overrides = {**overrides_of("dev"), **base, **values}
    lines = ", ".join(json.dumps(f"{k}={v}") for k, v in overrides.items())
    path = tmp_path / "samconfig.toml"
    path.write_text(
        "version = 0.1\n[dev.deploy.parameters]\n"
        f'stack_name = "jobmatch-dev"\nregion = "{REGION}"\n'
        f"parameter_overrides = [{lines}]\n"
    )
    return path


# The values of an account whose pieces are named but do not exist (an empty one).
NAMED = {
    "VpcId": "vpc-0a1b2c3d4e5f60718",
    "PrivateSubnetIds": "subnet-0a1b2c3d4e5f60718,subnet-0a1b2c3d4e5f60719",
    "MailFrom": "jobs@jobs.acme.test",
    "SesIdentityArn": f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT_ID}:identity/jobs.acme.test",
    "PublicBaseUrl": "https://api.jobs.acme.test",
    "CorsAllowedOrigins": "https://www.jobs.acme.test",
    "AiEnabled": "true",
}


def stubbed(service: str, region: str = REGION) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
    return client, Stubber(client)


def ses_answers(stub: Stubber, *, verified: bool, production: bool) -> None:
    if verified:
        stub.add_response(
            "get_email_identity",
            {"VerificationStatus": "SUCCESS", "VerifiedForSendingStatus": True},
            {"EmailIdentity": "jobs.acme.test"},
        )
    else:
        stub.add_client_error("get_email_identity", "NotFoundException", http_status_code=404)
    stub.add_response(
        "get_account",
        {
            "SendingEnabled": True,
            "ProductionAccessEnabled": production,
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
        },
    )


def bedrock_answers(stub: Stubber, *, granted: bool, on_demand: bool = True) -> None:
    for model in MODELS:
        stub.add_response(
            "get_foundation_model_availability",
            {
                "modelId": model,
                "agreementAvailability": {"status": "AVAILABLE" if granted else "NOT_AVAILABLE"},
                "authorizationStatus": "AUTHORIZED" if granted else "NOT_AUTHORIZED",
                "entitlementAvailability": "AVAILABLE" if granted else "NOT_AVAILABLE",
                "regionAvailability": "AVAILABLE",
            },
            {"modelId": model},
        )
        stub.add_response(
            "get_foundation_model",
            {
                "modelDetails": {
                    "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model}",
                    "modelId": model,
                    "inferenceTypesSupported": ["ON_DEMAND"] if on_demand else ["PROVISIONED"],
                }
            },
            {"modelIdentifier": model},
        )


def clients_with(ses: Any, bedrock: Any) -> preflight.Clients:
    clients = preflight.Clients(REGION)
    clients.made[("sesv2", REGION)] = ses
    clients.made[("bedrock", REGION)] = bedrock
    return clients


def build_account() -> dict[str, str]:
    """What docs/deploy.md has a team create: a VPC whose two private subnets route
    to a NAT, GitHub's OIDC provider and the deploy role. The samconfig values for it."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24")["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=public)["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    subnets = []
    for cidr, zone in (("10.20.1.0/24", "a"), ("10.20.2.0/24", "b")):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + zone)
        subnets.append(subnet["Subnet"]["SubnetId"])
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[-1])
    iam = boto3.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )["OpenIDConnectProviderArn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    return {**NAMED, "VpcId": vpc, "PrivateSubnetIds": ",".join(subnets)}


def create_stack_secret() -> str:
    """The app secret as the stack creates it: the template's own initial value."""
    initial = load_template()["Resources"]["AppSecret"]["Properties"]["SecretString"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    return sm.create_secret(Name="jobmatch/dev/app", SecretString=initial)["ARN"]


def role_arn() -> str:
    return f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{ROLE_NAME}"


# ------------------------------------------------------------------ preflight
def test_an_empty_account_fails_preflight_with_one_line_per_missing_piece(
    aws: None, tmp_path: Path
) -> None:
    deployment = load_deployment("dev", write_samconfig(tmp_path, NAMED))
    ses, ses_stub = stubbed("sesv2")
    bedrock, bedrock_stub = stubbed("bedrock")
    ses_answers(ses_stub, verified=False, production=False)
    bedrock_answers(bedrock_stub, granted=False)
    with ses_stub, bedrock_stub:
        checks = preflight.run_checks(
            deployment, clients_with(ses, bedrock), deploy_role_arn=role_arn()
        )
    status = {c.name: c.status for c in checks}
    assert status == {
        "samconfig": "ok",
        "public-base-url": "ok",
        "vpc": "FAIL",
        "subnets": "FAIL",
        "nat-route": "FAIL",
        "aws-endpoints": "FAIL",
        "ses-identity": "FAIL",
        "ses-account": "warn",
        "bedrock BedrockEmbeddingModelId": "FAIL",
        "bedrock BedrockLlmModelId": "FAIL",
        "oidc-role": "FAIL",
        "app-secret": "FAIL",
    }
    lines = {c.name: c.line() for c in checks}
    assert "NAT gateway" in lines["nat-route"]
    assert "Model access" in lines["bedrock BedrockLlmModelId"]
    assert "infra/github-oidc.yaml" in lines["oidc-role"]
    assert "infra.bootstrap write" in lines["app-secret"]
    # The sandbox warning says what it does to each email the app sends.
    assert all(kind in lines["ses-account"] for kind in preflight.SANDBOX_EFFECT)


def test_the_shipped_samconfig_fails_on_its_placeholders(aws: None) -> None:
    deployment = load_deployment("prod")
    placeholders = preflight.check_placeholders(deployment)
    assert placeholders.status == "FAIL"
    for name in ("VpcId", "PrivateSubnetIds", "MailFrom", "SesIdentityArn"):
        assert name in placeholders.message
    assert preflight.check_public_base_url(deployment).status == "FAIL"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("igw", "internet gateway"), (None, "no 0.0.0.0/0 route")],
)
def test_a_subnet_without_a_nat_route_fails(
    aws: None, tmp_path: Path, target: str | None, expected: str
) -> None:
    values = build_account()
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = values["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    if target == "igw":
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    lonely = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.9.0/24")["Subnet"]["SubnetId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=lonely)
    subnets = values["PrivateSubnetIds"] + "," + lonely
    deployment = load_deployment("dev", write_samconfig(tmp_path, values, PrivateSubnetIds=subnets))
    routes = preflight.nat_routes(deployment, ec2)
    nat = preflight.check_nat_route(routes)
    assert nat.status == "FAIL"
    assert f"{lonely} " in nat.message
    assert expected in nat.message
    endpoints = preflight.check_endpoints(deployment, ec2, routes)
    assert endpoints.status == "FAIL"
    assert "CreateVpcEndpoints=true" in endpoints.message
    with_endpoints = load_deployment(
        "dev",
        write_samconfig(tmp_path, values, PrivateSubnetIds=subnets, CreateVpcEndpoints="true"),
    )
    assert preflight.check_endpoints(with_endpoints, ec2, routes).status == "ok"


def test_an_unverified_ses_identity_and_a_foreign_sender_fail(aws: None, tmp_path: Path) -> None:
    ses = boto3.client("sesv2", region_name=REGION)
    deployment = load_deployment("dev", write_samconfig(tmp_path, NAMED))
    assert (
        "not an SES identity"
        in preflight.check_ses_identity(deployment, ses, DEFAULT_ACCOUNT_ID).message
    )
    ses.create_email_identity(EmailIdentity="jobs.acme.test")
    assert preflight.check_ses_identity(deployment, ses, DEFAULT_ACCOUNT_ID).status == "ok"
    foreign = load_deployment("dev", write_samconfig(tmp_path, NAMED, MailFrom="a@other.test"))
    check = preflight.check_ses_identity(foreign, ses, DEFAULT_ACCOUNT_ID)
    assert check.status == "FAIL"
    assert "is not of identity" in check.message
    elsewhere = load_deployment("dev", write_samconfig(tmp_path, NAMED))
    assert (
        "not of this account"
        in preflight.check_ses_identity(elsewhere, ses, "210987654321").message
    )


def test_paused_ses_sending_fails(tmp_path: Path) -> None:
    deployment = load_deployment("dev", write_samconfig(tmp_path, NAMED))
    ses, stub = stubbed("sesv2")
    stub.add_response("get_account", {"SendingEnabled": False, "ProductionAccessEnabled": True})
    with stub:
        assert preflight.check_ses_account(deployment, ses).status == "FAIL"


def test_bedrock_models_need_on_demand_access_as_the_iam_policy_grants(tmp_path: Path) -> None:
    deployment = load_deployment("dev", write_samconfig(tmp_path, NAMED))
    bedrock, stub = stubbed("bedrock")
    bedrock_answers(stub, granted=True, on_demand=False)
    clients = preflight.Clients(REGION)
    clients.made[("bedrock", REGION)] = bedrock
    with stub:
        checks = preflight.check_bedrock(deployment, clients)
    assert [c.status for c in checks] == ["FAIL", "FAIL"]
    assert all("inference profile" in c.message for c in checks)
    # An inference profile id is refused before any call: the policy cannot cover it.
    todo = preflight._bedrock_model(bedrock, "eu." + MODELS[1], REGION)
    assert todo is not None
    assert "foundation-model/<id>" in todo
    off = load_deployment("dev", write_samconfig(tmp_path, NAMED, AiEnabled="false"))
    assert [c.status for c in preflight.check_bedrock(off, clients)] == ["skip"]


# ------------------------------------------------------------------ bootstrap
def test_the_bootstrap_stops_before_the_deploy_naming_each_missing_value() -> None:
    found = bootstrap.problems({"INNGEST_SIGNING_KEY": "not-a-key"}, "staging")
    assert len(found) == 2
    assert any(m.startswith("INNGEST_EVENT_KEY is not set") for m in found)
    assert any("INNGEST_SIGNING_KEY does not look like" in m for m in found)
    assert all('GitHub environment "staging"' in m for m in found)
    assert all("not-a-key" not in m for m in found)
    assert bootstrap.problems(GITHUB_SECRETS, "dev") == []


def test_the_bootstrap_writes_every_field_once_and_a_second_run_changes_nothing(
    aws: None,
) -> None:
    create_stack_secret()
    sm = boto3.client("secretsmanager", region_name=REGION)
    written = bootstrap.write(sm, "jobmatch/dev/app", GITHUB_SECRETS)
    assert "inngest_signing_key" in written
    secret = json.loads(sm.get_secret_value(SecretId="jobmatch/dev/app")["SecretString"])
    assert sorted(secret) == sorted(APP_SECRET_FIELDS)
    assert secret["inngest_signing_key"] == SIGNING_KEY
    assert secret["inngest_event_key"] == EVENT_KEY
    assert secret["inngest_signing_key_fallback"] == ""
    generated = [secret[f] for f in bootstrap.GENERATED]
    assert all(len(key) == 64 for key in generated)
    assert len(set(generated)) == len(generated)

    versions = len(sm.list_secret_version_ids(SecretId="jobmatch/dev/app")["Versions"])
    assert bootstrap.write(sm, "jobmatch/dev/app", GITHUB_SECRETS) == []
    assert len(sm.list_secret_version_ids(SecretId="jobmatch/dev/app")["Versions"]) == versions
    again = json.loads(sm.get_secret_value(SecretId="jobmatch/dev/app")["SecretString"])
    assert again == secret
    # A rotated Inngest key is written; the app's own keys are kept.
    rotated = {**GITHUB_SECRETS, "INNGEST_SIGNING_KEY_FALLBACK": SIGNING_KEY}
    rotated["INNGEST_SIGNING_KEY"] = "signkey-prod-" + "7a" * 32
    assert bootstrap.write(sm, "jobmatch/dev/app", rotated) == [
        "inngest_signing_key",
        "inngest_signing_key_fallback",
    ]


def test_the_bootstrap_before_the_stack_says_to_deploy_first(aws: None) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    with pytest.raises(bootstrap.BootstrapError, match="deploy the stack first"):
        bootstrap.write(sm, "jobmatch/dev/app", GITHUB_SECRETS)


# ------------------------------------------------------------------ end to end
@pytest.fixture
def deployed_api(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The Api function's environment as the template gives it in dev (the app
    secret and the parameter are moto's), in a process with nothing else set."""
    from jobmatch import handler
    from jobmatch.settings import get_settings

    secret_arn = create_stack_secret()
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/jobmatch/dev/api-key-sha256", Value="none", Type="String"
    )
    template = load_template()
    resources = {"AppSecret": secret_arn, "ApiKeyHashesParameter": "/jobmatch/dev/api-key-sha256"}
    overrides = overrides_of("dev")
    env = {
        k: deployed_value(template, v, overrides, resources)
        for k, v in function_env(template, "Api").items()
    }
    clear_settings_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "jobmatch-dev-Api")
    monkeypatch.setenv("AWS_REGION", REGION)
    get_settings.cache_clear()
    handler.reset()
    yield env
    monkeypatch.undo()
    get_settings.cache_clear()
    handler.reset()


def test_after_preflight_and_bootstrap_the_handler_answers_a_signed_sync(
    deployed_api: dict[str, str], tmp_path: Path, lambda_ctx: LambdaContext
) -> None:
    from jobmatch.dependencies import Dependencies
    from jobmatch.handler import handler
    from jobmatch.settings import get_settings
    from jobmatch.workflows.registry import function_ids

    values = build_account()
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="jobs.acme.test")
    deployment = load_deployment("dev", write_samconfig(tmp_path, values, AiEnabled="false"))
    sm = boto3.client("secretsmanager", region_name=REGION)

    def failing() -> list[str]:
        # SES's account has no moto model: checked with a Stubber above and below.
        checks = preflight.run_checks(
            deployment, preflight.Clients(REGION), deploy_role_arn=role_arn(), skip=["ses-account"]
        )
        return [c.line() for c in checks if c.status not in ("ok", "skip")]

    # Before the bootstrap, the account has everything but a filled secret...
    assert [line.split(":")[0] for line in failing()] == ["FAIL app-secret"]
    bootstrap.write(sm, deployed_api["APP_SECRET_ID"], GITHUB_SECRETS)
    assert failing() == []
    account, stub = stubbed("sesv2")
    stub.add_response("get_account", {"SendingEnabled": True, "ProductionAccessEnabled": True})
    with stub:
        assert preflight.check_ses_account(deployment, account).status == "ok"

    # ...and the handler, on the template's environment and that secret, is synced.
    driver = InngestDriver(handler, signing_key=SIGNING_KEY)
    inspection = driver.request("GET").json()
    assert inspection["authentication_succeeded"] is True
    assert inspection["mode"] == "cloud"
    synced = driver.sync(in_band=True)
    assert sorted(synced) == function_ids(Dependencies(get_settings()))
    # The secret's key is what makes it pass: another key is refused.
    stranger = InngestDriver(handler, signing_key="signkey-prod-" + "00" * 32)
    assert stranger.request("GET").json().get("authentication_succeeded") is not True


# ------------------------------------------------------------------ as the workflow runs them
def test_the_workflow_commands_stop_on_what_is_missing(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m infra.bootstrap check` and `python -m infra.preflight`, as the deploy
    workflow calls them: exit 1 with a GitHub annotation naming the missing secret,
    and one printed line per check."""
    config = str(write_samconfig(tmp_path, NAMED, AiEnabled="false"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("INNGEST_EVENT_KEY", raising=False)
    monkeypatch.setenv("INNGEST_SIGNING_KEY", SIGNING_KEY)
    assert bootstrap.main(["check", "--config-env", "dev", "--config-file", config]) == 1
    err = capsys.readouterr().err
    assert err.startswith("::error title=bootstrap::INNGEST_EVENT_KEY is not set")
    assert SIGNING_KEY not in err

    monkeypatch.setenv("INNGEST_EVENT_KEY", EVENT_KEY)
    assert bootstrap.main(["check", "--config-env", "dev", "--config-file", config]) == 0
    # Before the stack exists, writing says to deploy first.
    assert bootstrap.main(["write", "--config-env", "dev", "--config-file", config]) == 1
    assert "deploy the stack first" in capsys.readouterr().err
    create_stack_secret()
    assert bootstrap.main(["write", "--config-env", "dev", "--config-file", config]) == 0
    assert capsys.readouterr().out.startswith("jobmatch/dev/app: wrote ")
    assert bootstrap.main(["write", "--config-env", "dev", "--config-file", config]) == 0
    assert capsys.readouterr().out == "jobmatch/dev/app: unchanged\n"

    args = ["--config-env", "dev", "--config-file", config, "--skip", "ses-account"]
    assert preflight.main(args) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(preflight.CHECK_NAMES)  # bedrock is one line when AI is off
    assert "FAIL vpc: " in out[2]
    assert out[-1].startswith("ok   app-secret: ")
    assert SIGNING_KEY not in "\n".join(out)
