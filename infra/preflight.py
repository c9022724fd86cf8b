"""What an AWS account must have before jobmatch is deployed into it, checked.

    python -m infra.preflight --config-env dev [--skip app-secret] [--deploy-role-arn ARN]

Read-only AWS calls only. Each check prints one line, `ok`, `warn`, `FAIL` or `skip`,
its name, and what was found or what to do; the exit status is 1 when any check
failed (a warning does not fail: the SES sandbox degrades mail, it does not stop a
deploy). The deploy workflow runs it before `sam deploy` with `--skip app-secret`
(the bootstrap fills that secret after the deploy); run it without, by hand, to
check an environment end to end. docs/deploy.md says what each check is for.

The checks:
- samconfig: no placeholder of samconfig.toml is left; PublicBaseUrl is set;
- network: the VPC and subnets exist, in two AZs or more, each subnet routes
  0.0.0.0/0 to a NAT (Inngest, the OCDS publisher, the job boards and Bedrock are
  reached through it), and Secrets Manager, SSM and SES are reachable (NAT or
  interface endpoints);
- SES: the identity is verified, the sender belongs to it, the account sends and
  is out of the sandbox (else a warning with what the sandbox does to each email);
- Bedrock (AI on): both models are available to the account in BedrockRegion and
  invokable on demand, as the Api's IAM policy (`foundation-model/<id>`) allows;
- the GitHub OIDC provider and deploy role (infra/github-oidc.yaml);
- the app secret holds every field the app needs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.exceptions import ClientError

from infra.bootstrap import GIVEN
from infra.samconfig import SAMCONFIG, Deployment, load_deployment
from jobmatch.settings import APP_SECRET_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client

Status = Literal["ok", "warn", "FAIL", "skip"]

# samconfig.toml's shipped example values (its example account id is moto's and the
# docs' too, so SesIdentityArn's account is compared with the caller's instead).
PLACEHOLDERS = re.compile(r"example\.com|0123456789abcdef0|0fedcba9876543210")
# Services the app calls that an interface endpoint can serve (CreateVpcEndpoints).
ENDPOINT_SERVICES = {"secretsmanager": "Secrets Manager", "ssm": "SSM", "email": "SES"}
# What the SES sandbox does to each email the app sends (every one goes to users'
# addresses, which the sandbox refuses unless verified one by one). SES refusals are
# retried on purpose, so each kind fails for hours before giving up.
SANDBOX_EFFECT = {
    "welcome": "new users get no welcome email",
    "signup-confirmation": "a repeat signup's change cannot be confirmed and expires",
    "match_ready / matching-complete": "async signups are never told their matches",
    "new_jobs / tender-alert": "alert runs fail and retry for hours",
    "digest": "the daily digest fails for every user",
}
# Inference profile ids start with a geography (us.anthropic..., eu.amazon..., global....).
INFERENCE_PROFILE_ID = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
CHECK_NAMES = (
    "samconfig",
    "public-base-url",
    "vpc",
    "subnets",
    "nat-route",
    "aws-endpoints",
    "ses-identity",
    "ses-account",
    "bedrock",
    "oidc-role",
    "app-secret",
)


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    message: str

    def line(self) -> str:
        """The printed line: status, name, message."""
        return f"{self.status:<4} {self.name}: {self.message}"


@dataclass
class Clients:
    """boto3 clients by (service, region), made on first use; tests put stubbed ones in."""

    default_region: str
    made: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, service: str, region: str | None = None) -> Any:
        """The client of `service` in `region` (the deployment's by default)."""
        key = (service, region or self.default_region)
        if key not in self.made:
            self.made[key] = boto3.client(service, region_name=key[1])  # type: ignore[call-overload]
        return self.made[key]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# ------------------------------------------------------------------ samconfig
def check_placeholders(d: Deployment) -> Check:
    """No example value of the shipped samconfig.toml is left (PublicBaseUrl apart)."""
    left = sorted(
        k for k, v in d.parameters.items() if k != "PublicBaseUrl" and PLACEHOLDERS.search(v)
    )
    if left:
        return Check(
            "samconfig",
            "FAIL",
            f"samconfig.toml [{d.environment}] still has example values: {', '.join(left)}; "
            "give this account's",
        )
    return Check("samconfig", "ok", "no example value left")


def check_public_base_url(d: Deployment) -> Check:
    """Emailed links point at PublicBaseUrl: it must be this deployment's https origin."""
    url = d.parameters.get("PublicBaseUrl", "")
    if not url or PLACEHOLDERS.search(url) or not re.fullmatch(r"https://[^/]+", url):
        return Check(
            "public-base-url",
            "FAIL",
            "set PublicBaseUrl in samconfig.toml to the API's https origin (a custom "
            "domain, or after a first deploy the stack's ApiUrl output), no trailing slash",
        )
    return Check("public-base-url", "ok", url)


# ------------------------------------------------------------------ network
def _subnet_ids(d: Deployment) -> list[str]:
    return [s for s in d.parameters.get("PrivateSubnetIds", "").split(",") if s]


def check_vpc(d: Deployment, ec2: EC2Client) -> Check:
    """The VPC of VpcId exists in the region."""
    vpc = d.parameters.get("VpcId", "")
    try:
        found = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"] if vpc else []
    except ClientError as exc:
        if _code(exc) not in ("InvalidVpcID.NotFound", "InvalidVpcID.Malformed"):
            raise
        found = []
    if not found:
        return Check("vpc", "FAIL", f"VpcId {vpc or '(unset)'} is not a VPC in {d.region}")
    return Check("vpc", "ok", vpc)


def _subnets(d: Deployment, ec2: EC2Client) -> list[Any]:
    ids = _subnet_ids(d)
    if not ids:
        return []
    try:
        return list(ec2.describe_subnets(SubnetIds=ids)["Subnets"])
    except ClientError as exc:
        if _code(exc) not in ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed"):
            raise
        return []


def check_subnets(d: Deployment, ec2: EC2Client) -> Check:
    """PrivateSubnetIds are subnets of the VPC in two AZs or more (RDS needs two)."""
    ids = _subnet_ids(d)
    subnets = _subnets(d, ec2)
    found = {s["SubnetId"] for s in subnets}
    if not ids or found != set(ids):
        missing = sorted(set(ids) - found) or ["(none given)"]
        return Check(
            "subnets", "FAIL", f"PrivateSubnetIds {', '.join(missing)} not found in {d.region}"
        )
    outside = sorted(s["SubnetId"] for s in subnets if s["VpcId"] != d.parameters.get("VpcId"))
    if outside:
        return Check("subnets", "FAIL", f"{', '.join(outside)} not in VpcId's VPC")
    zones = {s["AvailabilityZone"] for s in subnets}
    if len(zones) < 2:
        return Check("subnets", "FAIL", "give private subnets in two availability zones or more")
    return Check("subnets", "ok", f"{len(ids)} subnets in {len(zones)} AZs")


def _default_route_target(ec2: EC2Client, vpc: str, subnet: str) -> str | None:
    """Where the subnet's route table sends 0.0.0.0/0 (its own table, else the main)."""
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"]
    if not tables:
        tables = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"]
    for table in tables:
        for route in table.get("Routes", []):
            default = route.get("DestinationCidrBlock") == "0.0.0.0/0"
            if not default or route.get("State") == "blackhole":
                continue
            for key in (
                "NatGatewayId",
                "InstanceId",
                "TransitGatewayId",
                "NetworkInterfaceId",
                "GatewayId",
            ):
                if route.get(key):
                    return str(route[key])
    return None


def nat_routes(d: Deployment, ec2: EC2Client) -> dict[str, str | None]:
    """Each private subnet's default route target."""
    vpc = d.parameters.get("VpcId", "")
    return {s: _default_route_target(ec2, vpc, s) for s in _subnet_ids(d)}


def check_nat_route(routes: dict[str, str | None]) -> Check:
    """Every private subnet reaches the internet through a NAT (not an internet
    gateway: a Lambda in a VPC gets no public address)."""
    if not routes:
        return Check("nat-route", "FAIL", "no private subnet to check (PrivateSubnetIds)")
    bad = []
    for subnet, target in routes.items():
        if target is None:
            bad.append(f"{subnet} has no 0.0.0.0/0 route")
        elif target.startswith("igw-"):
            bad.append(f"{subnet} routes 0.0.0.0/0 to an internet gateway (a public subnet)")
    if bad:
        return Check(
            "nat-route",
            "FAIL",
            "; ".join(bad) + ": route 0.0.0.0/0 to a NAT gateway (Inngest, the OCDS "
            "publisher, the job boards and Bedrock are reached through it)",
        )
    return Check("nat-route", "ok", ", ".join(f"{s} -> {t}" for s, t in routes.items()))


def check_endpoints(d: Deployment, ec2: EC2Client, routes: dict[str, str | None]) -> Check:
    """Secrets Manager, SSM and SES are reachable: by endpoints (the template's
    CreateVpcEndpoints, or the VPC's own) or through the NAT."""
    if d.flag("CreateVpcEndpoints"):
        return Check("aws-endpoints", "ok", "the stack creates the interface endpoints")
    names = [f"com.amazonaws.{d.region}.{s}" for s in ENDPOINT_SERVICES]
    existing = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [d.parameters.get("VpcId", "")]},
            {"Name": "service-name", "Values": names},
        ]
    )["VpcEndpoints"]
    have = {e["ServiceName"].rsplit(".", 1)[-1] for e in existing}
    missing = [label for key, label in ENDPOINT_SERVICES.items() if key not in have]
    if not missing:
        return Check("aws-endpoints", "ok", "the VPC has endpoints for " + ", ".join(names))
    nat = bool(routes) and all(t and not t.startswith("igw-") for t in routes.values())
    if nat:
        return Check(
            "aws-endpoints",
            "ok",
            f"{', '.join(missing)} through the NAT (CreateVpcEndpoints=true to not depend on it)",
        )
    return Check(
        "aws-endpoints",
        "FAIL",
        f"{', '.join(missing)} unreachable from the subnets: add the NAT route, or set "
        "CreateVpcEndpoints=true in samconfig.toml",
    )


# ------------------------------------------------------------------ SES
def check_ses_identity(d: Deployment, ses: SESV2Client, account: str) -> Check:
    """SesIdentityArn is an identity of this account and region, verified, and
    MailFrom belongs to it."""
    arn = d.parameters.get("SesIdentityArn", "")
    identity = arn.split(":identity/", 1)[-1] if ":identity/" in arn else ""
    sender = d.parameters.get("MailFrom", "")
    if not identity:
        return Check("ses-identity", "FAIL", "set SesIdentityArn in samconfig.toml")
    if arn.split(":")[3:5] != [d.region, account]:
        return Check(
            "ses-identity",
            "FAIL",
            f"SesIdentityArn is not of this account ({account}) and region ({d.region}): "
            "the Api may send only from it",
        )
    if sender.lower() != identity.lower() and not sender.lower().endswith("@" + identity.lower()):
        return Check("ses-identity", "FAIL", f"MailFrom {sender} is not of identity {identity}")
    try:
        found = ses.get_email_identity(EmailIdentity=identity)
    except ses.exceptions.NotFoundException:
        return Check(
            "ses-identity",
            "FAIL",
            f"{identity} is not an SES identity in {d.region}: create it (SES > Identities) "
            "and publish its DKIM records",
        )
    status = found.get("VerificationStatus", "NOT_STARTED")
    if status != "SUCCESS" and not found.get("VerifiedForSendingStatus"):
        return Check(
            "ses-identity",
            "FAIL",
            f"{identity} is not verified ({status}): publish its DKIM records, or click "
            "the verification email",
        )
    return Check("ses-identity", "ok", f"{identity} verified")


def check_ses_account(d: Deployment, ses: SESV2Client) -> Check:
    """The account may send, outside the sandbox; a warning naming the sandbox's
    effect on each email otherwise."""
    account = ses.get_account()
    if not account.get("SendingEnabled", False):
        return Check("ses-account", "FAIL", f"SES sending is paused in {d.region}: resume it")
    if not account.get("ProductionAccessEnabled", False):
        effects = "; ".join(f"{kind}: {effect}" for kind, effect in SANDBOX_EFFECT.items())
        return Check(
            "ses-account",
            "warn",
            f"SES in {d.region} is in the sandbox: mail to unverified addresses is refused "
            f"and retried ({effects}). Request production access (SES > Account dashboard)",
        )
    return Check("ses-account", "ok", f"production access in {d.region}")


# ------------------------------------------------------------------ Bedrock
def _bedrock_model(bedrock: BedrockClient, model: str, region: str) -> str | None:
    """What to do for `model` to be invoked on demand in `region` (None: nothing)."""
    if INFERENCE_PROFILE_ID.match(model):
        return (
            f"{model} is an inference profile id, but the Api's IAM policy grants "
            "bedrock:InvokeModel on foundation-model/<id> only: pick a model invoked on "
            "demand in this region, or extend the policy to the profile and its models"
        )
    try:
        availability = bedrock.get_foundation_model_availability(modelId=model)
        details = bedrock.get_foundation_model(modelIdentifier=model)["modelDetails"]
    except ClientError as exc:
        if _code(exc) in ("ResourceNotFoundException", "ValidationException"):
            return f"{model} is not offered in {region}: choose BedrockRegion where it is"
        raise
    if availability.get("regionAvailability") != "AVAILABLE":
        return f"{model} is not offered in {region}: choose BedrockRegion where it is"
    granted = (
        availability.get("authorizationStatus") == "AUTHORIZED"
        and availability.get("entitlementAvailability") == "AVAILABLE"
        and availability.get("agreementAvailability", {}).get("status") in ("AVAILABLE", None)
    )
    if not granted:
        return f"{model} is not enabled: request it in Bedrock > Model access in {region}"
    if "ON_DEMAND" not in details.get("inferenceTypesSupported", []):
        return (
            f"{model} is served through an inference profile only in {region}, which the "
            "Api's IAM policy (foundation-model/<id>) does not cover: pick another model"
        )
    return None


def check_bedrock(d: Deployment, clients: Clients) -> list[Check]:
    """Both models, when AI is on."""
    if not d.flag("AiEnabled"):
        return [Check("bedrock", "skip", "AI is off (AiEnabled=false)")]
    region = d.parameters.get("BedrockRegion", d.region)
    bedrock = clients.get("bedrock", region)
    checks = []
    for parameter in ("BedrockEmbeddingModelId", "BedrockLlmModelId"):
        model = d.parameters.get(parameter, "")
        todo = _bedrock_model(bedrock, model, region) if model else f"set {parameter}"
        checks.append(
            Check(f"bedrock {parameter}", "FAIL", todo)
            if todo
            else Check(f"bedrock {parameter}", "ok", f"{model} on demand in {region}")
        )
    return checks


# ------------------------------------------------------------------ GitHub, secret
def check_oidc_role(iam: IAMClient, role_arn: str | None) -> Check:
    """GitHub's OIDC provider exists and the deploy role trusts it."""
    todo = (
        "deploy infra/github-oidc.yaml once per account (docs/deploy.md, step 1) and set "
        "the GitHub variable AWS_DEPLOY_ROLE_ARN to its DeployRoleArn"
    )
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    if not any(p["Arn"].endswith("/" + GITHUB_OIDC_HOST) for p in providers):
        return Check("oidc-role", "FAIL", f"no OIDC provider for {GITHUB_OIDC_HOST}: {todo}")
    if not role_arn:
        return Check("oidc-role", "FAIL", f"no deploy role given (--deploy-role-arn): {todo}")
    try:
        role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    except iam.exceptions.NoSuchEntityException:
        return Check("oidc-role", "FAIL", f"{role_arn} does not exist: {todo}")
    trust: object = role.get("AssumeRolePolicyDocument", {})
    if GITHUB_OIDC_HOST not in (trust if isinstance(trust, str) else json.dumps(trust)):
        return Check("oidc-role", "FAIL", f"{role_arn} does not trust GitHub's OIDC: {todo}")
    return Check("oidc-role", "ok", role_arn)


def check_app_secret(d: Deployment, sm: SecretsManagerClient) -> Check:
    """The app secret holds every field the app needs (the fallback key is optional)."""
    todo = (
        "deploy (the stack creates it), then python -m infra.bootstrap write "
        f"--config-env {d.environment} with the Inngest keys in the environment"
    )
    try:
        raw = sm.get_secret_value(SecretId=d.app_secret_id).get("SecretString") or "{}"
    except sm.exceptions.ResourceNotFoundException:
        return Check("app-secret", "FAIL", f"{d.app_secret_id} does not exist: {todo}")
    values = json.loads(raw)
    needed = [f for f in APP_SECRET_FIELDS if f not in GIVEN or GIVEN[f].required]
    empty = [f for f in needed if not values.get(f)]
    if empty:
        return Check("app-secret", "FAIL", f"{d.app_secret_id} lacks {', '.join(empty)}: {todo}")
    return Check("app-secret", "ok", f"{d.app_secret_id} holds every field")


# ------------------------------------------------------------------ run
def run_checks(
    d: Deployment,
    clients: Clients,
    *,
    skip: Iterable[str] = (),
    deploy_role_arn: str | None = None,
) -> list[Check]:
    """Every check of `d`, in order, those in `skip` reported as skipped."""
    skipped = set(skip)
    ec2 = clients.get("ec2")
    ses = clients.get("sesv2")
    routes: dict[str, str | None] = {}

    def account() -> str:
        return str(clients.get("sts").get_caller_identity()["Account"])

    def network_routes() -> Check:
        routes.update(nat_routes(d, ec2))
        return check_nat_route(routes)

    steps: list[tuple[str, Callable[[], Check | list[Check]]]] = [
        ("samconfig", lambda: check_placeholders(d)),
        ("public-base-url", lambda: check_public_base_url(d)),
        ("vpc", lambda: check_vpc(d, ec2)),
        ("subnets", lambda: check_subnets(d, ec2)),
        ("nat-route", network_routes),
        ("aws-endpoints", lambda: check_endpoints(d, ec2, routes)),
        ("ses-identity", lambda: check_ses_identity(d, ses, account())),
        ("ses-account", lambda: check_ses_account(d, ses)),
        ("bedrock", lambda: check_bedrock(d, clients)),
        ("oidc-role", lambda: check_oidc_role(clients.get("iam"), deploy_role_arn)),
        ("app-secret", lambda: check_app_secret(d, clients.get("secretsmanager"))),
    ]
    checks: list[Check] = []
    for name, step in steps:
        if name in skipped:
            checks.append(Check(name, "skip", "skipped (--skip)"))
            continue
        try:
            result = step()
        except ClientError as exc:  # e.g. AccessDenied: say which call, go on
            result = Check(name, "FAIL", f"could not check: {_code(exc)} ({exc})")
        checks.extend(result if isinstance(result, list) else [result])
    return checks


def main(argv: list[str] | None = None) -> int:
    """Print one line per check; 1 when any failed."""
    parser = argparse.ArgumentParser(prog="python -m infra.preflight", description=__doc__)
    parser.add_argument("--config-env", required=True, help="dev, staging or prod")
    parser.add_argument("--config-file", default=str(SAMCONFIG))
    parser.add_argument("--skip", action="append", default=[], choices=CHECK_NAMES)
    parser.add_argument(
        "--deploy-role-arn",
        default=os.environ.get("AWS_DEPLOY_ROLE_ARN"),
        help="the GitHub deploy role (default: $AWS_DEPLOY_ROLE_ARN)",
    )
    args = parser.parse_args(argv)
    deployment = load_deployment(args.config_env, path=Path(args.config_file))
    checks = run_checks(
        deployment,
        Clients(deployment.region),
        skip=args.skip,
        deploy_role_arn=args.deploy_role_arn,
    )
    for check in checks:
        print(check.line())
    failed = [c.name for c in checks if c.status == "FAIL"]
    if failed:
        print(f"preflight failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
