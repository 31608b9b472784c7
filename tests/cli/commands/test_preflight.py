"""``cmk-rule preflight`` against the demo's mock account (moto's server), with the prerequisites present and missing.

moto models Config recorders and delivery channels, Security Hub, CloudTrail, Organizations, SSM and CloudFormation,
so those checks read real moto state. moto has no Lambda ``GetAccountSettings`` ("Not yet implemented") and Service
Quotas only for ``vpc``: those two clients get botocore's ``Stubber``, answering what AWS answers (the shapes are
validated against botocore's models by the Stubber itself). The read-only guard still applies: every client comes
from the CLI's ``ReadOnlySession``, whose ``before-call`` handler runs before the Stubber's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from cmk_rule_cli import main
from cmk_rule_cli.commands import preflight
from cmk_rule_cli.readers import deploy_context, prerequisites, session
from cmk_rule_cli.reports import output
from tests.docs.pages import page, section

from ..conftest import MakeClient, fresh_account

REGIONS = ("us-east-1", "eu-west-1")
ACCOUNT = "123456789012"  # moto's default account


def seed_ready(make: MakeClient, regions: tuple[str, ...] = REGIONS) -> None:
    """Everything an account-mode deployment needs, in each Region: Config recording with a channel, Security Hub,
    a multi-Region trail that logs, the CDK bootstrap's version parameter."""
    make("s3", "us-east-1").create_bucket(Bucket="trail-and-config")
    trail = make("cloudtrail", "us-east-1")
    trail.create_trail(Name="management-events", S3BucketName="trail-and-config", IsMultiRegionTrail=True)
    trail.start_logging(Name="management-events")
    for region in regions:
        config = make("config", region)
        config.put_configuration_recorder(
            ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config"}
        )
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "trail-and-config"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        make("securityhub", region).enable_security_hub()
        make("ssm", region).put_parameter(Name=prerequisites.BOOTSTRAP_VERSION_PARAMETER, Value="27", Type="String")


def stubbed(unreserved: int = 1000, lambda_error: str | None = None) -> Callable[..., Any]:
    """The read-only session's client factory, with a Stubber for what moto lacks (Lambda's account settings)."""
    maker = session.ClientMaker(session.open_session(None))
    stubbers: list[Stubber] = []

    def make(service: str, region: str) -> Any:
        client = maker.client(service, region)
        if service == "lambda":
            stubber = Stubber(client)
            if lambda_error:
                stubber.add_client_error("get_account_settings", service_error_code=lambda_error, http_status_code=403)
            stubber.add_response(
                "get_account_settings",
                {
                    "AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": unreserved},
                    "AccountUsage": {"FunctionCount": 3},
                },
            )
        else:
            return client
        stubber.activate()
        stubbers.append(stubber)
        return client

    return make


@pytest.fixture
def account(aws_env: str) -> Iterator[MakeClient]:
    yield fresh_account(aws_env)


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, clients: Callable[..., Any] | None = None
) -> tuple[int, str, str]:
    args = main.build_parser(["preflight", *argv]).parse_args(["preflight", *argv])
    code = preflight.execute(args, clients=clients or stubbed())
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lines_by_check(out: str) -> dict[tuple[str, str], str]:
    """(check, where) -> status, read from the table (columns at their headers)."""
    document = {}
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("STATUS"))
    starts = [lines[header].index(name) for name in ("STATUS", "CHECK", "WHERE", "DETAIL")]
    for line in lines[header + 1 :]:
        if not line[: starts[1]].strip():
            continue  # a wrapped detail line
        status = line[: starts[1]].strip()
        check = line[starts[1] : starts[2]].strip()
        where = line[starts[2] : starts[3]].strip()
        document[(check, where)] = status
    return document


@pytest.fixture(autouse=True)
def _no_cdk_json(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no cdk.json here: only -c decides
    monkeypatch.setenv("COLUMNS", "250")


def test_an_account_deployment_with_everything_in_place_passes(
    account: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_ready(account)
    code, out, err = run(capsys, "-c", "regions=us-east-1,eu-west-1", "--format", "table")
    statuses = lines_by_check(out)
    assert code == preflight.EXIT_OK, out
    assert set(statuses.values()) == {"ok"}
    for region in REGIONS:
        for name in (
            "AWS Config recorder and delivery channel",
            "Security Hub (CSPM) enabled",
            "CloudTrail trail (near-real-time re-evaluation)",
            "Lambda concurrency headroom",
            "CDK bootstrap (version 6+)",
        ):
            assert statuses[(name, region)] == "ok", (name, region)
    assert not any("trust policy" in check for check, _ in statuses)  # account mode has no member role
    assert "cmk-rule preflight: PASS: 0 of 10 checks not in place (0 missing, 0 cannot tell)" in err


def test_an_empty_account_names_each_missing_prerequisite_with_its_fix(
    account: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-c", "regions=us-east-1", "--format", "json")
    document = json.loads(out)
    assert code == preflight.EXIT_MISSING and document["ready"] is False
    by_name = {check["check"]: check for check in document["checks"]}
    assert by_name["AWS Config recorder and delivery channel"]["status"] == "missing"
    assert "put-configuration-recorder" in by_name["AWS Config recorder and delivery channel"]["fix"]
    assert by_name["Security Hub (CSPM) enabled"]["fix"].startswith(
        "aws securityhub enable-security-hub --region us-east-1"
    )
    assert by_name["CloudTrail trail (near-real-time re-evaluation)"]["detail"] == "no trail"
    assert by_name["CDK bootstrap (version 6+)"]["fix"] == f"npx cdk bootstrap aws://{ACCOUNT}/us-east-1"
    assert by_name["Lambda concurrency headroom"]["status"] == "ok"
    # failures first
    statuses = [check["status"] for check in document["checks"]]
    assert statuses == sorted(statuses, key=output.failure_rank)
    assert re.search(r"FAIL: 4 of 5 checks not in place \(4 missing, 0 cannot tell\)", err)


def test_what_the_mode_turns_off_is_not_checked(account: MakeClient, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "-c", "regions=us-east-1",
        "-c", "deploymentMode=conformance-pack",
        "-c", "securityHubMode=off",
        "--format", "json",
    )  # fmt: skip
    names = [check["check"] for check in json.loads(out)["checks"]]
    assert "Security Hub (CSPM) enabled" not in names and "CloudTrail trail (near-real-time re-evaluation)" not in names
    assert code == preflight.EXIT_MISSING  # Config and the bootstrap are still missing


def test_reserved_concurrency_needs_headroom(account: MakeClient, capsys: pytest.CaptureFixture[str]) -> None:
    seed_ready(account, ("us-east-1",))
    _, out, _ = run(capsys, "-c", "regions=us-east-1", "-c", "reservedConcurrency=950", "--format", "json",
                    clients=stubbed(unreserved=1000))  # fmt: skip
    check = next(c for c in json.loads(out)["checks"] if c["check"] == "Lambda concurrency headroom")
    assert check["status"] == "missing" and "reserving 950 needs 1,050" in check["detail"]
    _, out, _ = run(capsys, "-c", "regions=us-east-1", "-c", "reservedConcurrency=900", "--format", "json",
                    clients=stubbed(unreserved=1000))  # fmt: skip
    check = next(c for c in json.loads(out)["checks"] if c["check"] == "Lambda concurrency headroom")
    assert check["status"] == "ok"  # 1,000 - 900 = 100: exactly the floor


def test_organization_mode_reads_trusted_access_and_delegated_administrators(
    account: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_ready(account, ("us-east-1",))
    organizations = account("organizations", "us-east-1")
    organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    organizations.enable_aws_service_access(ServicePrincipal=prerequisites.CONFIG_PRINCIPAL)
    context = [
        "-c",
        "deploymentMode=organization",
        "-c",
        f"organizationId={organization_id}",
        "-c",
        "regions=us-east-1",
    ]
    code, out, _ = run(capsys, *context, "--format", "json")
    by_name = {check["check"]: check for check in json.loads(out)["checks"]}
    assert by_name["Organizations membership"]["status"] == "ok"
    assert by_name[f"trusted access for {prerequisites.CONFIG_PRINCIPAL}"]["status"] == "ok"
    stacksets = by_name[f"trusted access for {prerequisites.STACKSETS_PRINCIPAL}"]
    assert stacksets["status"] == "missing" and "activate-organizations-access" in stacksets["fix"]
    assert by_name["delegated administrator"]["status"] == "ok"  # the management account needs none
    assert not any("quota" in name for name in by_name)  # the trust policy has one size whatever the Regions
    assert code == preflight.EXIT_MISSING
    # The wrong organization id is said, with the right one.
    _, out, _ = run(capsys, *context[:2], "-c", "organizationId=o-aaaaaaaaaa", *context[4:], "--format", "json")
    membership = next(c for c in json.loads(out)["checks"] if c["check"] == "Organizations membership")
    assert membership["status"] == "missing" and f"organizationId={organization_id}" in membership["fix"]


def test_a_denied_read_is_cannot_tell_and_exits_2(account: MakeClient, capsys: pytest.CaptureFixture[str]) -> None:
    seed_ready(account, ("us-east-1",))
    code, out, err = run(
        capsys,
        "-c", "deploymentMode=account", "-c", "regions=us-east-1", "--format", "table",
        clients=stubbed(lambda_error="AccessDeniedException"),
    )  # fmt: skip
    statuses = lines_by_check(out)
    assert statuses[("Lambda concurrency headroom", "us-east-1")] == "cannot tell"
    assert "lambda:GetAccountSettings failed (AccessDeniedException)" in out
    assert "Fix: grant lambda:GetAccountSettings to this principal" in out
    assert code == preflight.EXIT_INCOMPLETE and "1 cannot tell" in err
    assert out.splitlines()[2].startswith("cannot tell")  # under the heading and the header: failures first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-c", "deploymentMode=acount"], "deploymentMode: unknown value 'acount'; expected one of: account,"),
        (["-c", "regions=us-est-1"], "did you mean 'us-east-1'?"),
        (["-c", "regions"], "-c 'regions': expected KEY=VALUE"),
        (["-c", "deploymentMode=organization"], "organizationId: required in organization mode"),
        (["-c", "reservedConcurrency=0"], "reservedConcurrency: expected an integer of at least 1"),
    ],
)
def test_a_bad_context_value_is_one_sentence_and_exit_2(
    aws_env: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main.main(["preflight", *argv])
    err = capsys.readouterr().err
    assert code == preflight.EXIT_INCOMPLETE and message in err and "Traceback" not in err
    assert err.startswith("cmk-rule preflight: error: ") and err.count("\n") == 1


def test_cdk_json_context_is_read_and_c_wins(tmp_path: Any, aws_env: str) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"deploymentMode": "conformance-pack", "regions": ["eu-west-1"]}}))
    merged = deploy_context.read_context(cdk_json, ["regions=us-east-1,eu-west-1"])
    context = deploy_context.parse_context(merged, None)
    assert context.mode is deploy_context.DeploymentMode.CONFORMANCE_PACK
    assert context.regions == ("us-east-1", "eu-west-1")


def test_every_operation_preflight_makes_is_on_the_read_only_list(
    account: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_ready(account, ("us-east-1",))
    account("organizations", "us-east-1").create_organization(FeatureSet="ALL")
    made: set[tuple[str, str]] = set()
    make = stubbed()

    def recording(service: str, region: str) -> Any:
        client = make(service, region)
        client.meta.events.register_first(  # before the Stubber's handler, which answers and ends the call
            "before-call.*.*", lambda model, **_: made.add((model.service_model.service_name, model.name))
        )
        return client

    context = deploy_context.parse_context(
        {
            "deploymentMode": "organization",
            "organizationId": "o-aaaaaaaaaa",
            "regions": "us-east-1",
            "reservedConcurrency": "5",
        },
        None,
    )
    prerequisites.run_checks(context, recording, ACCOUNT)
    assert made and made <= session.READ_ONLY_OPERATIONS, made - session.READ_ONLY_OPERATIONS
    assert ("lambda", "GetAccountSettings") in made and ("organizations", "ListAWSServiceAccessForOrganization") in made


def test_a_trail_that_is_not_logging_does_not_count(account: MakeClient, capsys: pytest.CaptureFixture[str]) -> None:
    seed_ready(account, ("us-east-1",))
    account("cloudtrail", "us-east-1").stop_logging(Name="management-events")
    code, out, _ = run(capsys, "-c", "regions=us-east-1", "--format", "json")
    trail = next(c for c in json.loads(out)["checks"] if c["check"].startswith("CloudTrail"))
    assert (
        trail["status"] == "missing" and trail["detail"] == "1 trail(s) cover us-east-1, none logging management events"
    )
    assert code == preflight.EXIT_MISSING


def test_the_iam_page_lists_exactly_the_iam_actions_preflight_calls() -> None:
    text = section("Permissions of `cmk-rule preflight`", page("iam.md"))
    policy = json.loads(re.search(r"```json\n(.*?)```", text, flags=re.S).group(1))  # type: ignore[union-attr]
    listed = set(policy["Statement"][0]["Action"])
    # IAM's prefix for Service Quotas is servicequotas (botocore's service name is service-quotas)
    prefixes = {"service-quotas": "servicequotas"}
    assert listed == {f"{prefixes.get(service, service)}:{name}" for service, name in prerequisites.OPERATIONS}
    assert prerequisites.OPERATIONS <= session.READ_ONLY_OPERATIONS


def test_every_preflight_operation_exists_in_botocores_models() -> None:
    import botocore.session

    models = botocore.session.get_session()
    for service, name in prerequisites.OPERATIONS:
        assert name in models.get_service_model(service).operation_names, (service, name)
