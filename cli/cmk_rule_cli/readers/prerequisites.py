"""What a deployment needs to find in place, read from AWS (read-only): one :class:`Check` per prerequisite and place.

Each check says ``ok``, ``missing`` or ``cannot tell`` (the read failed or was denied), what it found, and the command
or console step that fixes it. Every read goes through the CLI's read-only session (``session.ReadOnlySession``,
whose allowlist names each operation used here). An AWS error never stops the other checks: it makes its own check
``cannot tell``, naming the operation and the error code.

Which checks a deployment needs follows the app (``infra/factory.py``): see :func:`run_checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import error_code
from cmk_rule_cli.readers.access import kind_of_code
from cmk_rule_cli.readers.deploy_context import (
    FUNCTION_MODES,
    ORGANIZATION_MODES,
    DeployContext,
)

MakeClient = Callable[[str, str], Any]

# Every AWS operation the checks make (botocore service name, operation): the read-only session's allowlist includes
# them (session.READ_ONLY_OPERATIONS), and the README's preflight policy lists them (a test compares both).
OPERATIONS = frozenset(
    {
        ("config", "DescribeConfigurationRecorders"),
        ("config", "DescribeConfigurationRecorderStatus"),
        ("config", "DescribeDeliveryChannels"),
        ("securityhub", "DescribeHub"),
        ("cloudtrail", "DescribeTrails"),
        ("cloudtrail", "GetTrailStatus"),
        ("cloudtrail", "GetEventSelectors"),
        ("organizations", "DescribeOrganization"),
        ("organizations", "ListAWSServiceAccessForOrganization"),
        ("organizations", "ListDelegatedAdministrators"),
        ("ssm", "GetParameter"),
        ("cloudformation", "DescribeStacks"),
        ("lambda", "GetAccountSettings"),
    }
)

# The CDK's modern bootstrap (the "hnb659fds" qualifier) records its version here; the app's templates require 6+
# (their CheckBootstrapVersion rule refuses 1-5).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_STACK = "CDKToolkit"
MIN_BOOTSTRAP_VERSION = 6
# Lambda keeps at least 100 concurrent executions unreserved: a reservation that would leave fewer is refused
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
UNRESERVED_FLOOR = 100
# No check of IAM's "Role trust policy length" quota: the member role trusts the central account's roles through one
# ArnLike pattern (infra/member_role.py), a policy of under 300 characters whatever the Region count, and the quota
# can only be raised from its 2,048-character default (tests/infra/test_organization_scale.py measures the policy).
# Service principals whose trusted access (and, from a delegated administrator, registration) organization modes use.
CONFIG_PRINCIPAL = "config-multiaccountsetup.amazonaws.com"
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
ORGANIZATION = "organization"
ACCOUNT = "account"


class Status(StrEnum):
    """A check's answer, in the words the output uses."""

    OK = "ok"
    MISSING = "missing"
    UNKNOWN = "cannot tell"


@dataclass(frozen=True)
class Check:
    """One prerequisite in one place: its answer, what was found, and how to fix it (empty when ok)."""

    name: str
    where: str
    status: Status
    detail: str
    fix: str = ""


def _unknown(name: str, where: str, operation: str, error: Exception) -> Check:
    """A read that failed: denied (name the permission to grant) or anything else (say so, and to run again)."""
    code = error_code(error) if isinstance(error, ClientError) else error.__class__.__name__
    if kind_of_code(code) == "denied":
        fix = f"grant {operation} to this principal (see 'cmk-rule preflight' under Permissions in the README)"
    else:
        fix = "run again; if it persists, check that the service answers in this Region and account"
    return Check(name, where, Status.UNKNOWN, f"{operation} failed ({code}), so this cannot be told", fix)


def config_recorder(clients: MakeClient, region: str) -> Check:
    """A configuration recorder that is recording, and a delivery channel: without them Config runs no rule."""
    name = "AWS Config recorder and delivery channel"
    config = clients("config", region)
    try:
        recorders = config.describe_configuration_recorders().get("ConfigurationRecorders", [])
        statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
        channels = config.describe_delivery_channels().get("DeliveryChannels", [])
    except (ClientError, BotoCoreError) as error:
        return _unknown(name, region, "config:DescribeConfigurationRecorders/DescribeDeliveryChannels", error)
    recording = [s["name"] for s in statuses if s.get("recording")]
    setup = (
        f"set up AWS Config in {region}: console AWS Config > Get started (1-click setup), or "
        f"aws configservice put-configuration-recorder / put-delivery-channel --region {region}"
    )
    if not recorders:
        return Check(name, region, Status.MISSING, "no configuration recorder", setup)
    if not channels:
        return Check(name, region, Status.MISSING, f"recorder {recorders[0]['name']} has no delivery channel", setup)
    if not recording:
        recorder = recorders[0]["name"]
        return Check(
            name,
            region,
            Status.MISSING,
            f"recorder {recorder} is not recording",
            f"aws configservice start-configuration-recorder --configuration-recorder-name {recorder} "
            f"--region {region}",
        )
    return Check(name, region, Status.OK, f"recorder {recording[0]} recording, channel {channels[0]['name']}")


def security_hub(clients: MakeClient, region: str) -> Check:
    """Security Hub (CSPM) enabled: ``securityHubMode=direct`` imports a finding per group (BatchImportFindings)."""
    name = "Security Hub (CSPM) enabled"
    try:
        hub = clients("securityhub", region).describe_hub()
    except ClientError as error:
        # Not enabled: InvalidAccessException "Account ... is not subscribed to AWS Security Hub" (DescribeHub).
        if error_code(error) == "InvalidAccessException":
            return Check(
                name,
                region,
                Status.MISSING,
                "Security Hub is not enabled (securityHubMode=direct sends findings there)",
                f"aws securityhub enable-security-hub --region {region} (or -c securityHubMode=off)",
            )
        return _unknown(name, region, "securityhub:DescribeHub", error)
    except BotoCoreError as error:
        return _unknown(name, region, "securityhub:DescribeHub", error)
    return Check(name, region, Status.OK, f"enabled ({str(hub.get('HubArn', '')).rsplit(':', 1)[-1]})")


def cloudtrail(clients: MakeClient, region: str) -> Check:
    """A logging trail that covers the Region with management events: EventBridge receives "AWS API Call via
    CloudTrail" events only when such a trail exists, so near-real-time re-evaluation depends on it."""
    name = "CloudTrail trail (near-real-time re-evaluation)"
    client = clients("cloudtrail", region)
    fix = (
        f"aws cloudtrail create-trail --name management-events --s3-bucket-name BUCKET --is-multi-region-trail "
        f"--region {region}, then aws cloudtrail start-logging --name management-events --region {region} "
        "(or -c nearRealTimeReevaluation=false)"
    )
    try:
        trails = client.describe_trails(includeShadowTrails=True).get("trailList", [])
        covering = [t for t in trails if t.get("IsMultiRegionTrail") or t.get("HomeRegion") == region]
        for trail in covering:
            # A multi-Region trail is read in its home Region: AWS answers a shadow trail's ARN anywhere, moto only
            # there (TrailNotFoundException elsewhere).
            home = clients("cloudtrail", trail["HomeRegion"]) if trail.get("HomeRegion", region) != region else client
            if not home.get_trail_status(Name=trail["TrailARN"]).get("IsLogging"):
                continue
            if _logs_management_events(home.get_event_selectors(TrailName=trail["TrailARN"])):
                kind = "organization trail" if trail.get("IsOrganizationTrail") else "trail"
                return Check(name, region, Status.OK, f"{kind} {trail['Name']} logging management events")
    except (ClientError, BotoCoreError) as error:
        return _unknown(name, region, "cloudtrail:DescribeTrails/GetTrailStatus/GetEventSelectors", error)
    found = f"{len(covering)} trail(s) cover {region}, none logging management events" if covering else "no trail"
    return Check(name, region, Status.MISSING, found, fix)


def _logs_management_events(selectors: dict[str, Any]) -> bool:
    """Basic selectors with ``IncludeManagementEvents``, or advanced ones selecting ``eventCategory = Management``.

    AWS always answers one kind or the other; moto answers neither for a trail created without selectors (AWS's
    default then is all management events), so "none at all" is read as that default."""
    basic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return True
    if any(s.get("IncludeManagementEvents", True) for s in basic):
        return True
    return any(
        field.get("Field") == "eventCategory" and "Management" in field.get("Equals", [])
        for selector in advanced
        for field in selector.get("FieldSelectors", [])
    )


def cdk_bootstrap(clients: MakeClient, region: str, account_id: str) -> Check:
    """The CDK bootstrap (version 6 or later) in this account and Region, from its SSM parameter (the stack's
    ``BootstrapVersion`` output when the parameter cannot be read)."""
    name = "CDK bootstrap (version 6+)"
    fix = f"npx cdk bootstrap aws://{account_id}/{region}"
    try:
        value = clients("ssm", region).get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return Check(name, region, Status.MISSING, "not bootstrapped (no CDKToolkit version parameter)", fix)
        value = _bootstrap_stack_version(clients, region)
        if value is None:
            return _unknown(name, region, "ssm:GetParameter", error)
    except BotoCoreError as error:
        return _unknown(name, region, "ssm:GetParameter", error)
    if not str(value).isdigit():
        return Check(name, region, Status.UNKNOWN, f"bootstrap version {value!r} is not a number", fix)
    if int(value) < MIN_BOOTSTRAP_VERSION:
        return Check(name, region, Status.MISSING, f"bootstrap version {value}, older than 6", fix)
    return Check(name, region, Status.OK, f"bootstrap version {value}")


def _bootstrap_stack_version(clients: MakeClient, region: str) -> str | None:
    try:
        stacks = clients("cloudformation", region).describe_stacks(StackName=BOOTSTRAP_STACK).get("Stacks", [])
    except (ClientError, BotoCoreError):
        return None
    outputs = {o["OutputKey"]: o["OutputValue"] for stack in stacks for o in stack.get("Outputs", [])}
    return outputs.get("BootstrapVersion")


def lambda_headroom(clients: MakeClient, region: str, reserved: int | None) -> Check:
    """Unreserved concurrency left for the function: with ``reservedConcurrency`` set, at least that plus 100."""
    name = "Lambda concurrency headroom"
    try:
        limits = clients("lambda", region).get_account_settings()["AccountLimit"]
    except (ClientError, BotoCoreError) as error:
        return _unknown(name, region, "lambda:GetAccountSettings", error)
    unreserved = int(limits.get("UnreservedConcurrentExecutions", 0))
    needed = (reserved or 0) + UNRESERVED_FLOOR
    if reserved is None:
        return Check(name, region, Status.OK, f"{unreserved:,} unreserved; the function reserves none")
    if unreserved < needed:
        return Check(
            name,
            region,
            Status.MISSING,
            f"{unreserved:,} unreserved; reserving {reserved:,} needs {needed:,} (100 must stay unreserved)",
            "request a higher Lambda concurrent executions quota (Service Quotas > AWS Lambda > Concurrent "
            "executions), or deploy without -c reservedConcurrency",
        )
    return Check(
        name, region, Status.OK, f"{unreserved:,} unreserved; reserving {reserved:,} leaves {unreserved - reserved:,}"
    )


def organization_checks(clients: MakeClient, context: DeployContext, account_id: str) -> list[Check]:
    """The organization is the named one; trusted access for Config and StackSets; and, from an account that is
    not the management account, its registration as delegated administrator for both (StackSets only with
    ``stackSetCallAs=DELEGATED_ADMIN``, which a delegated administrator must use)."""
    org = clients("organizations", context.regions[0])
    name = "Organizations membership"
    try:
        organization = org.describe_organization()["Organization"]
    except (ClientError, BotoCoreError) as error:
        if isinstance(error, ClientError) and error_code(error) == "AWSOrganizationsNotInUseException":
            return [
                Check(
                    name,
                    ORGANIZATION,
                    Status.MISSING,
                    "this account is in no organization",
                    "deploy from the management account or a delegated administrator of the organization",
                )
            ]
        return [_unknown(name, ORGANIZATION, "organizations:DescribeOrganization", error)]
    management = organization.get("MasterAccountId") == account_id
    role = "management account" if management else "member account"
    checks = []
    if context.organization_id and organization.get("Id") != context.organization_id:
        checks.append(
            Check(
                name,
                ORGANIZATION,
                Status.MISSING,
                f"this {role} is in {organization.get('Id')}, not organizationId {context.organization_id}",
                f"deploy with -c organizationId={organization.get('Id')}, or with credentials of the intended "
                "organization",
            )
        )
    else:
        checks.append(Check(name, ORGANIZATION, Status.OK, f"{organization.get('Id')}, this is its {role}"))
    checks.extend(_trusted_access(org))
    checks.extend(_delegated_admins(org, context, account_id, management))
    return checks


def _trusted_access(org: Any) -> list[Check]:
    try:
        pages = org.get_paginator("list_aws_service_access_for_organization").paginate()
        enabled = {p["ServicePrincipal"] for page in pages for p in page.get("EnabledServicePrincipals", [])}
    except (ClientError, BotoCoreError) as error:
        return [
            _unknown(
                f"trusted access for {principal}",
                ORGANIZATION,
                "organizations:ListAWSServiceAccessForOrganization",
                error,
            )
            for principal in (CONFIG_PRINCIPAL, STACKSETS_PRINCIPAL)
        ]
    fixes = {
        CONFIG_PRINCIPAL: f"aws organizations enable-aws-service-access --service-principal {CONFIG_PRINCIPAL} "
        "(from the management account)",
        STACKSETS_PRINCIPAL: "aws cloudformation activate-organizations-access (from the management account; console: "
        "CloudFormation > StackSets > Activate trusted access)",
    }
    return [
        Check(f"trusted access for {principal}", ORGANIZATION, Status.OK, "enabled")
        if principal in enabled
        else Check(f"trusted access for {principal}", ORGANIZATION, Status.MISSING, "not enabled", fixes[principal])
        for principal in (CONFIG_PRINCIPAL, STACKSETS_PRINCIPAL)
    ]


def _delegated_admins(org: Any, context: DeployContext, account_id: str, management: bool) -> list[Check]:
    name = "delegated administrator"
    if management:
        if context.stack_set_call_as == "DELEGATED_ADMIN":
            return [
                Check(
                    name,
                    ORGANIZATION,
                    Status.MISSING,
                    "stackSetCallAs=DELEGATED_ADMIN, but this is the management account",
                    "deploy with -c stackSetCallAs=SELF from the management account",
                )
            ]
        return [Check(name, ORGANIZATION, Status.OK, "deploying from the management account: none needed")]
    wanted = [CONFIG_PRINCIPAL, STACKSETS_PRINCIPAL]
    checks = []
    for principal in wanted:
        label = f"{name} for {principal}"
        try:
            pages = org.get_paginator("list_delegated_administrators").paginate(ServicePrincipal=principal)
            admins = {a["Id"] for page in pages for a in page.get("DelegatedAdministrators", [])}
        except (ClientError, BotoCoreError) as error:
            checks.append(_unknown(label, ORGANIZATION, "organizations:ListDelegatedAdministrators", error))
            continue
        if account_id not in admins:
            checks.append(
                Check(
                    label,
                    ORGANIZATION,
                    Status.MISSING,
                    f"account {account_id} is not registered",
                    f"aws organizations register-delegated-administrator --account-id {account_id} "
                    f"--service-principal {principal} (from the management account)",
                )
            )
        elif principal == STACKSETS_PRINCIPAL and context.stack_set_call_as != "DELEGATED_ADMIN":
            checks.append(
                Check(
                    label,
                    ORGANIZATION,
                    Status.MISSING,
                    "registered, but stackSetCallAs=SELF",
                    "deploy with -c stackSetCallAs=DELEGATED_ADMIN",
                )
            )
        else:
            checks.append(Check(label, ORGANIZATION, Status.OK, f"account {account_id} is registered"))
    return checks


def run_checks(context: DeployContext, clients: MakeClient, account_id: str) -> list[Check]:
    """The checks this deployment needs, in the order they print, as the app deploys (``infra/factory.py``): the
    organization first (organization modes); per Region Config, Security Hub (direct mode), CloudTrail
    (re-evaluation) and Lambda headroom (modes with the function); the CDK bootstrap where stacks go. A few calls per
    Region."""
    checks: list[Check] = []
    if context.mode in ORGANIZATION_MODES:
        checks.extend(organization_checks(clients, context, account_id))
    for region in context.regions:
        checks.append(config_recorder(clients, region))
        if context.mode in FUNCTION_MODES and context.security_hub:
            checks.append(security_hub(clients, region))
        if context.reevaluation:
            checks.append(cloudtrail(clients, region))
        if context.mode in FUNCTION_MODES:
            checks.append(lambda_headroom(clients, region, context.reserved_concurrency))
    checks.extend(cdk_bootstrap(clients, region, account_id) for region in context.bootstrap_regions)
    return checks
