"""``cmk-rule scan`` end to end against moto's server, with the demonstration fleet (every decision-table row).

Most tests call ``main(argv)`` in-process (the CLI still reaches the server over HTTP); one runs the installed
``.venv/bin/cmk-rule`` script as a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.elasticache.exceptions import InvalidParameterValueException
from moto.elasticache.models import ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

from cmk_rule.findings import validate_finding
from cmk_rule_cli.commands import scan
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import region_scan, session
from cmk_rule_cli.reports import scan_report
from tests.support.calls import recording
from tests.support.disk import fill_disk_under

from ..conftest import FAKE_CREDENTIALS, fresh_account
from ..formats import as_text, parse_csv, parse_markdown, parse_table

REGIONS = ("us-east-1", "eu-west-1")
CLI_SCRIPT = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "cmk-rule"
PRINCIPAL = f"arn:aws:sts::{mock_aws.ACCOUNT_ID}:user/moto"  # moto's caller identity for any fake credentials
READ_PREFIXES = ("Describe", "List", "Get")


@pytest.fixture(scope="module")
def fleets(moto_endpoint: str) -> dict[str, fleet.SeededFleet]:
    """The full fleet in us-east-1 and the small one in eu-west-1, in a freshly reset account."""
    make_client = fresh_account(moto_endpoint)
    return {region: fleet.seed_region(make_client, region, full=region == REGIONS[0]) for region in REGIONS}


def rule_flags(fleets: dict[str, fleet.SeededFleet]) -> list[str]:
    """The demo's rule parameters as flags; the approved list holds the approved keys of both Regions."""
    flags = []
    for seeded in fleets.values():
        for arn in seeded.parameters["approvedKmsKeyArns"].split(","):
            flags += ["--approved-key-arn", arn]
    return [*flags, "--require-key-rotation", "--exemption-tag-key", fleet.EXEMPTION_TAG]


def region_flags(*regions: str) -> list[str]:
    return [flag for region in regions for flag in ("--region", region)]


def expected(fleets: dict[str, fleet.SeededFleet]) -> dict[tuple[str, str], tuple[str, int]]:
    """(Region, group) -> (compliance, decision row), as the fleet was built to hit."""
    return {(region, group): result for region, seeded in fleets.items() for group, result in seeded.expected().items()}


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def scan_json(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[int, dict[str, Any], str]]:
    code, out, err = run_cli(capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "json"])
    yield code, json.loads(out), err


def test_verdicts_and_rows_are_the_lambdas(
    scan_json: tuple[int, dict[str, Any], str], fleets: dict[str, fleet.SeededFleet]
) -> None:
    code, document, err = scan_json
    got = {(r["region"], r["group_id"]): (r["compliance"], r["row"]) for r in document["results"]}
    assert got == expected(fleets)
    assert code == scan_report.EXIT_NON_COMPLIANT
    assert document["account"] == mock_aws.ACCOUNT_ID
    assert document["principal"] == PRINCIPAL
    assert document["regions"] == list(REGIONS)
    assert document["summary"]["us-east-1"]["SKIPPED"] == 0
    orders = next(r for r in document["results"] if r["group_id"] == "orders")
    assert orders["key_arn"] == fleets["us-east-1"].keys["approved"]
    assert (orders["key_manager"], orders["key_state"], orders["key_rotation"]) == ("CUSTOMER", "Enabled", True)
    assert orders["at_rest_encryption"] is True
    assert orders["annotation"] == f"Encrypted at rest with customer-managed KMS key {orders['key_arn']} (Enabled)."
    assert (orders["storage_encryption"], orders["durability"]) == (None, None)  # moto's own answer: not reported
    # A durable group whose flag reads false (StorageEncryptionType set on moto's backend, which does not model it):
    # the effective state decides, and the columns show both.
    durable = next(r for r in document["results"] if r["group_id"] == "ledger-durable")
    assert (durable["at_rest_encryption"], durable["storage_encryption"], durable["durability"]) == (
        False,
        "sse-kms",
        "sync",
    )
    assert (durable["compliance"], durable["row_id"]) == ("COMPLIANT", "compliant")
    assert "(by durability: sync)" in durable["annotation"]
    assert "NON_COMPLIANT" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [("table", parse_table), ("csv", parse_csv), ("markdown", parse_markdown)],
    ids=["table", "csv", "markdown"],
)
def test_every_format_reads_back_to_the_json_rows(
    scan_json: tuple[int, dict[str, Any], str],
    fleets: dict[str, fleet.SeededFleet],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    fmt: str,
    parse: Any,
) -> None:
    _, document, _ = scan_json
    # A file gets every column (stdout's table has the terminal's few); both list failures first, as JSON does.
    target = tmp_path / "scan.txt"
    code, out, err = run_cli(
        capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", fmt, "-o", str(target)]
    )
    assert code == scan_report.EXIT_NON_COMPLIANT and out == ""
    assert f"cmk-rule scan: wrote {len(document['results'])} result(s) as {fmt} to {target}" in err
    rows = parse(target.read_text(encoding="utf-8"))
    # The text formats say a skipped group's compliance as SKIPPED; JSON says null with "skipped": true.
    as_columns = [
        {c: (r["compliance"] or "SKIPPED") if c == "compliance" else r[c] for c in scan.SCAN_COLUMNS}
        for r in document["results"]
    ]
    assert rows == as_text(as_columns)
    assert list(rows[0]) == list(scan.SCAN_COLUMNS)
    assert len(rows) == len(expected(fleets))


def test_only_reads_are_ever_called(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> None:
    with recording() as log:
        code, _, _ = run_cli(capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "json"])
    assert code == scan_report.EXIT_NON_COMPLIANT
    operations = set(log.operations())
    assert {"GetCallerIdentity", "DescribeReplicationGroups", "GetResources", "DescribeKey"} <= operations
    assert "ListTagsForResource" not in operations  # the exemption tags are read in bulk
    assert "GetKeyRotationStatus" in operations
    assert all(operation.startswith(READ_PREFIXES) for operation in operations), operations
    assert not operations & {"PutEvaluations", "BatchImportFindings", "StartConfigRulesEvaluation"}


def test_a_write_is_refused_before_it_is_sent(aws_env: str) -> None:
    guarded = session.open_session(None)
    config = guarded.client("config", region_name="us-east-1")
    with recording() as log, pytest.raises(session.ReadOnlyViolationError, match="config:PutEvaluations"):
        config.put_evaluations(
            Evaluations=[
                {
                    "ComplianceResourceType": "AWS::ElastiCache::ReplicationGroup",
                    "ComplianceResourceId": "orders",
                    "ComplianceType": "COMPLIANT",
                    "OrderingTimestamp": datetime.now(UTC),
                }
            ],
            ResultToken="TESTMODE",
            TestMode=True,
        )
    assert log.count("PutEvaluations") == 1  # attempted by the caller, stopped by the session's guard


def test_region_all_scans_every_enabled_region_of_the_partition(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, ["scan", "--region", "all", *rule_flags(fleets), "--format", "json"])
    document = json.loads(out)
    assert code == scan_report.EXIT_NON_COMPLIANT
    assert set(REGIONS) <= set(document["regions"]) and len(document["regions"]) > 10
    assert not [r for r in document["regions"] if r.startswith(("cn-", "us-gov-"))]  # other partitions
    got = {(r["region"], r["group_id"]): (r["compliance"], r["row"]) for r in document["results"]}
    assert got == expected(fleets)


@pytest.fixture
def deny_listing_in_eu(monkeypatch: pytest.MonkeyPatch) -> None:
    """AccessDenied from DescribeReplicationGroups in eu-west-1 only, injected by patching moto's backend (the
    error then travels over HTTP like AWS's 403)."""
    original = ElastiCacheBackend.describe_replication_groups

    def denied(self: ElastiCacheBackend, *args: Any, **kwargs: Any) -> Any:
        if self.region_name == "eu-west-1":
            raise AccessDeniedError(PRINCIPAL, "elasticache:DescribeReplicationGroups")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ElastiCacheBackend, "describe_replication_groups", denied)


def test_access_denied_names_the_permission_and_region(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], deny_listing_in_eu: None
) -> None:
    code, out, err = run_cli(capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "json"])
    assert code == scan_report.EXIT_ERROR
    assert (
        f"elasticache:DescribeReplicationGroups was denied in eu-west-1 for {PRINCIPAL}; grant it "
        '(see "Permissions of cmk-rule scan and evidence" in docs/iam.md) and run again.'
    ) in err
    assert "Traceback" not in err
    results = json.loads(out)["results"]
    eu = [r for r in results if r["region"] == "eu-west-1"]
    assert [(r["group_id"], r["compliance"], r["skipped"]) for r in eu] == [("(replication group listing)", None, True)]
    assert len([r for r in results if r["region"] == "us-east-1"]) == len(fleets["us-east-1"].groups)


def _deny_bulk_tags(monkeypatch: Any) -> None:
    """tag:GetResources denied, in moto's Tagging API backend (moto has no IAM policies to deny it with)."""

    def denied(self: ResourceGroupsTaggingAPIBackend, **_: Any) -> Any:
        raise JsonRESTError("AccessDeniedException", f"{PRINCIPAL} is not authorized to perform: tag:GetResources")

    monkeypatch.setattr(ResourceGroupsTaggingAPIBackend, "get_resources", denied)


def test_a_denied_bulk_tag_read_is_named_and_costs_no_verdict(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """tag:GetResources denied: the scan reads each group's tags on its own, judges every group, names the missing
    permission and exits 2 (incomplete: the step failed)."""
    _deny_bulk_tags(monkeypatch)
    code, out, err = run_cli(capsys, ["scan", *region_flags("eu-west-1"), *rule_flags(fleets), "--format", "csv"])
    assert code == scan_report.EXIT_ERROR
    rows = {r["group_id"]: r for r in parse_csv(out)}
    step = rows.pop("(exemption tags)")
    assert step["compliance"] == "SKIPPED"
    assert {g: r["compliance"] for g, r in rows.items()} == {
        group_id: compliance for group_id, (compliance, _) in fleets["eu-west-1"].expected().items()
    }
    assert f"tag:GetResources was denied in eu-west-1 for {PRINCIPAL}" in err


def test_a_skipped_group_never_looks_compliant(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """The bulk read and ListTagsForResource denied (patched in moto's backends): each group needing tags is skipped,
    named, exit 2."""

    def denied(self: ElastiCacheBackend, arn: str) -> Any:
        raise AccessDeniedError(PRINCIPAL, "elasticache:ListTagsForResource")

    _deny_bulk_tags(monkeypatch)
    monkeypatch.setattr(ElastiCacheBackend, "list_tags_for_resource", denied)
    code, out, err = run_cli(capsys, ["scan", *region_flags("eu-west-1"), *rule_flags(fleets), "--format", "csv"])
    assert code == scan_report.EXIT_ERROR
    rows = [r for r in parse_csv(out) if r["group_id"] != "(exemption tags)"]
    assert {r["group_id"]: r["compliance"] for r in rows} == {g.group_id: "SKIPPED" for g in fleets["eu-west-1"].groups}
    assert all(r["annotation"].startswith("Not judged: elasticache:ListTagsForResource failed") for r in rows)
    assert f"elasticache:ListTagsForResource was denied in eu-west-1 for {PRINCIPAL}" in err


def test_other_failures_are_named_with_their_reason(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """A non-access, non-retried error (InvalidParameterValue, from moto's backend) skips the groups it touches."""

    def failing(self: ElastiCacheBackend, arn: str) -> Any:
        raise InvalidParameterValueException("tag service unavailable")

    monkeypatch.setattr(ElastiCacheBackend, "list_tags_for_resource", failing)
    _deny_bulk_tags(monkeypatch)
    code, out, err = run_cli(capsys, ["scan", *region_flags("eu-west-1"), *rule_flags(fleets), "--format", "json"])
    assert code == scan_report.EXIT_ERROR
    groups = sorted(g.group_id for g in fleets["eu-west-1"].groups)
    assert f"3 item(s) were not judged in eu-west-1 ({', '.join(groups)}): elasticache:ListTagsForResource" in err
    document = json.loads(out)
    assert {(r["compliance"], r["skipped"]) for r in document["results"]} == {(None, True)}
    assert document["complete"] is False and document["totals"]["SKIPPED"] == 4  # the 3 groups and the bulk read


@pytest.mark.parametrize(
    ("flags", "parameter", "flag"),
    [
        (["--approved-key-arn", "alias/orders"], "approvedKmsKeyArns", "--approved-key-arn"),
        (["--approved-key-arn", " "], "approvedKmsKeyArns", "--approved-key-arn"),
        (["--exemption-tag-key", "x" * 129], "exemptionTagKey", "--exemption-tag-key"),
    ],
    ids=["alias", "empty", "tag-too-long"],
)
def test_bad_parameters_exit_2_naming_the_parameter_before_any_call(
    aws_env: str, capsys: pytest.CaptureFixture[str], flags: list[str], parameter: str, flag: str
) -> None:
    with recording() as log:
        code, out, err = run_cli(capsys, ["scan", "--region", "us-east-1", *flags])
    assert code == scan_report.EXIT_ERROR
    assert f"invalid rule parameter '{parameter}'" in err and flag in err
    assert out == "" and log.calls == []


def test_missing_credentials_is_one_sentence(
    aws_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in FAKE_CREDENTIALS:
        monkeypatch.delenv(name)
    code, out, err = run_cli(capsys, ["scan", "--region", "us-east-1"])
    assert code == scan_report.EXIT_ERROR
    assert out == ""
    assert err.startswith("cmk-rule scan: error: no AWS credentials were found") and err.count("\n") == 1


def test_unknown_profile_is_one_sentence(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, ["scan", "--profile", "no-such-profile", "--region", "us-east-1"])
    assert code == scan_report.EXIT_ERROR
    assert "the AWS profile 'no-such-profile' was not found" in err and err.count("\n") == 1


def test_profile_credentials_are_used(
    aws_env: str,
    fleets: dict[str, fleet.SeededFleet],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in FAKE_CREDENTIALS:
        monkeypatch.delenv(name)
    credentials = tmp_path / "credentials"
    credentials.write_text("[audit]\naws_access_key_id = AKIDAUDIT\naws_secret_access_key = audit\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    with recording() as log:
        code, out, _ = run_cli(capsys, ["scan", "--profile", "audit", "--region", "eu-west-1", "--format", "json"])
    assert code == scan_report.EXIT_NON_COMPLIANT
    assert {r["group_id"] for r in json.loads(out)["results"]} == {g.group_id for g in fleets["eu-west-1"].groups}
    assert {key for _, _, key in log.calls} == {"AKIDAUDIT"}


def test_output_file_takes_its_format_from_the_suffix(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.md"
    code, out, _ = run_cli(capsys, ["scan", "--region", "eu-west-1", *rule_flags(fleets), "--output", str(target)])
    assert code == scan_report.EXIT_NON_COMPLIANT and out == ""
    rows = parse_markdown(target.read_text(encoding="utf-8"))
    assert {(r["group_id"], r["compliance"], r["row"]) for r in rows} == {
        (group, verdict, str(row))
        for (region, group), (verdict, row) in expected(fleets).items()
        if region == "eu-west-1"
    }


def test_piped_output_is_the_same_table_uncoloured_and_has_no_progress_line(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, ["scan", "--region", "eu-west-1", *rule_flags(fleets)])
    lines = out.splitlines()
    assert lines[0].split() == [c.upper() for c in scan.TERMINAL_COLUMNS] and "\033[" not in out
    verdicts = [line.split()[5] for line in lines[1:]]
    assert verdicts == sorted(verdicts, key=lambda v: v != "NON_COMPLIANT") and verdicts[0] == "NON_COMPLIANT"
    assert "\r" not in err and code == scan_report.EXIT_NON_COMPLIANT
    assert re.search(
        r"^cmk-rule scan: FAIL: 2 of 3 groups NON_COMPLIANT in 1 Region\(s\) of account \d{12}; ", err, re.M
    )


@pytest.mark.parametrize("command", ["scan", "evidence"])
def test_help_explains_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "example:" in out and f"cmk-rule {command} --profile" in out and "--approved-key-arn" in out


def test_the_installed_script(moto_endpoint: str, fleets: dict[str, fleet.SeededFleet]) -> None:
    """The real console-script entry point, in a child process talking to this process's moto server."""
    assert CLI_SCRIPT.exists(), CLI_SCRIPT
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    argv = [str(CLI_SCRIPT), "scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "csv"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == scan_report.EXIT_NON_COMPLIANT, done.stderr
    got = {(r["region"], r["group_id"]): (r["compliance"], int(r["row"])) for r in parse_csv(done.stdout)}
    assert got == expected(fleets)
    assert "Traceback" not in done.stderr


def test_a_region_whose_response_cannot_be_parsed_is_named_and_the_others_kept(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """moto's DescribeReplicationGroups answers bytes that are not XML in eu-west-1 (patched in its response
    class, so the garbage travels over HTTP and botocore's parser meets it as it would a broken proxy's)."""
    original = ElastiCacheResponse.describe_replication_groups

    def garbage(self: ElastiCacheResponse) -> Any:
        return "<<not xml" if self.region == "eu-west-1" else original(self)

    monkeypatch.setattr(ElastiCacheResponse, "describe_replication_groups", garbage)
    code, out, err = run_cli(capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "json"])
    assert code == scan_report.EXIT_ERROR
    document = json.loads(out)
    assert document["complete"] is False and document["totals"]["SKIPPED"] == 1
    assert len([r for r in document["results"] if r["region"] == "us-east-1"]) == len(fleets["us-east-1"].groups)
    (eu,) = [r for r in document["results"] if r["region"] == "eu-west-1"]
    assert eu["skipped"] and eu["compliance"] is None
    assert "Unable to parse response" in eu["annotation"]
    problems = [line for line in err.splitlines() if ": error: " in line]
    assert len(problems) == 1 and "in eu-west-1" in problems[0] and "Traceback" not in err


def test_a_region_that_fails_outright_is_kept_apart(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """Anything escaping one Region's scan (here an unexpected error raised by its engine) fails that Region only."""
    original = region_scan.scan_region

    def failing(clients: Any, region: str, context: Any) -> Any:
        if region == "eu-west-1":
            raise ValueError("unexpected end of data")
        return original(clients, region, context)

    monkeypatch.setattr(region_scan, "scan_region", failing)
    code, out, err = run_cli(capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "json"])
    assert code == scan_report.EXIT_ERROR
    document = json.loads(out)
    (eu,) = [r for r in document["results"] if r["region"] == "eu-west-1"]
    assert "a response from AWS could not be parsed (ValueError: unexpected end of data)" in eu["annotation"]
    assert document["complete"] is False
    assert {r["region"] for r in document["results"]} == set(REGIONS)
    assert "eu-west-1" in err and "Traceback" not in err


def test_an_unknown_region_is_one_sentence_before_any_call(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with recording() as log:
        code, out, err = run_cli(capsys, ["scan", "--region", "us-east-1", "--region", "us-east-9"])
    assert code == scan_report.EXIT_ERROR and out == "" and log.calls == []
    assert err.startswith("cmk-rule scan: error: --region 'us-east-9' is not a Region of partition aws that botocore")
    assert err.count("\n") == 1


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_a_profile_that_does_not_exist_is_one_sentence_before_any_call(
    aws_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """botocore reads a profile only at the first client; the CLI's session reads it at once, as boto3's did."""
    argv = ["scan", "--region", "us-east-1"]
    if where == "flag":
        argv += ["--profile", "nowhere"]
    else:
        monkeypatch.setenv("AWS_PROFILE", "nowhere")
    with recording() as log:
        code, out, err = run_cli(capsys, argv)
    assert code == scan_report.EXIT_ERROR and out == "" and log.calls == []
    named = "--profile" if where == "flag" else "AWS_PROFILE"
    assert err == (
        "cmk-rule scan: error: the AWS profile 'nowhere' was not found in the AWS config or credentials file; "
        f"check {named} (aws configure list-profiles)\n"
    )
    assert err.count("\n") == 1


@pytest.mark.parametrize("spelling", ["JSON", "Json", "json"])
def test_format_names_are_case_insensitive(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    code, out, _ = run_cli(capsys, ["scan", "--region", "eu-west-1", *rule_flags(fleets), "--format", spelling])
    assert json.loads(out)["command"] == "scan" and code == scan_report.EXIT_NON_COMPLIANT


def test_an_unknown_output_suffix_is_refused_before_any_call(
    aws_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with recording() as log:
        code, _, err = run_cli(capsys, ["scan", "--region", "eu-west-1", "-o", str(tmp_path / "report.html")])
    assert code == scan_report.EXIT_ERROR and log.calls == [] and not (tmp_path / "report.html").exists()
    assert "has suffix '.html': use one of .csv, .md, .markdown, .json, .txt, or say which with --format" in err


def test_soft_fail_and_quiet(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", "--region", "eu-west-1", *rule_flags(fleets), "--format", "json"]
    code, out, err = run_cli(capsys, [*argv, "--soft-fail", "--quiet"])
    assert code == scan_report.EXIT_OK  # NON_COMPLIANT groups, reported but not failing the step
    assert json.loads(out)["totals"]["NON_COMPLIANT"] == 2
    assert err == ""  # --quiet: no summary line
    assert run_cli(capsys, argv)[0] == scan_report.EXIT_NON_COMPLIANT


def test_asff_findings_match_botocores_model_and_import_into_security_hub(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--format asff` writes what `aws securityhub batch-import-findings --findings file://...` takes: validated
    against botocore's own BatchImportFindings input shape, then imported into (moto's) Security Hub."""
    target = tmp_path / "findings.json"
    code, _, _ = run_cli(
        capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--format", "ASFF", "-o", str(target)]
    )
    assert code == scan_report.EXIT_NON_COMPLIANT
    findings = json.loads(target.read_text())
    assert len(findings) == len(expected(fleets))
    model = botocore.session.get_session().get_service_model("securityhub")
    input_shape = model.operation_model("BatchImportFindings").input_shape
    for region in REGIONS:
        batch = [f for f in findings if f["Region"] == region]
        ParamValidator().validate({"Findings": batch}, input_shape)  # raises on any shape error
        assert all(validate_finding(f) == [] for f in batch)
        securityhub = boto3.client("securityhub", region_name=region, endpoint_url=aws_env)
        assert securityhub.batch_import_findings(Findings=batch)["FailedCount"] == 0
    by_group = {f["ProductFields"]["elasticache-cmk-rule/ReplicationGroupId"]: f for f in findings}
    assert by_group["orders"]["Compliance"]["Status"] == "PASSED"
    assert by_group["audit-pending-deletion"]["Severity"]["Label"] == "HIGH"
    assert by_group["orders"]["Id"].endswith(f"/{fleet.RULE_NAME}/orders")  # the deployed rule's own finding id


def test_ctrl_c_exits_130_at_once_without_a_traceback_or_a_report(
    moto_endpoint: str, fleets: dict[str, fleet.SeededFleet], monkeypatch: Any, tmp_path: Path
) -> None:
    """The console script, interrupted while its DescribeReplicationGroups call hangs (moto's backend made to wait):
    exit 130 promptly, one line, and no --output file, so nothing half-done looks complete."""
    entered, release = threading.Event(), threading.Event()
    original = ElastiCacheBackend.describe_replication_groups

    def hanging(self: ElastiCacheBackend, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ElastiCacheBackend, "describe_replication_groups", hanging)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    target = tmp_path / "scan.json"
    argv = [str(CLI_SCRIPT), "scan", *region_flags(*REGIONS), "-o", str(target)]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert entered.wait(60), "the scan never reached DescribeReplicationGroups"
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert elapsed < 10  # not waiting for the hung call (it is released only after this)
    assert "cmk-rule scan: interrupted; nothing more was written." in err and "Traceback" not in err
    assert not target.exists() and not list(tmp_path.iterdir())


def test_a_region_without_groups_never_builds_a_kms_client(
    aws_env: str,
    fleets: dict[str, fleet.SeededFleet],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--region all`` visits every enabled Region, most of them empty: no key to describe, no KMS client to build."""
    built: list[tuple[str, str]] = []
    original = session.ClientMaker.client

    def recording_client(self: session.ClientMaker, service: str, region: str) -> object:
        built.append((service, region))
        return original(self, service, region)

    monkeypatch.setattr(session.ClientMaker, "client", recording_client)
    code, _, _ = run_cli(capsys, ["scan", *region_flags("eu-north-1", "eu-west-1"), "--format", "json"])
    assert code == scan_report.EXIT_NON_COMPLIANT  # eu-west-1's fleet was judged
    assert ("kms", "eu-west-1") in built and ("elasticache", "eu-north-1") in built
    assert ("kms", "eu-north-1") not in built


def test_a_full_disk_leaves_no_report_and_says_so_in_one_sentence(
    aws_env: str,
    fleets: dict[str, fleet.SeededFleet],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill_disk_under(monkeypatch, tmp_path)
    target = tmp_path / "scan.json"
    code, out, err = run_cli(capsys, ["scan", "--region", "eu-west-1", *rule_flags(fleets), "-o", str(target)])
    assert code == scan_report.EXIT_ERROR and out == ""
    assert err == f"cmk-rule scan: error: cannot write {target}: No space left on device; nothing was written\n"
    assert list(tmp_path.iterdir()) == []  # no .scan.json.partial, no half a report


class _Terminal(io.StringIO):
    """stdout as a terminal: the table is fitted to COLUMNS and coloured."""

    def isatty(self) -> bool:
        return True


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("width", [80, 100, 200])
def test_the_table_fits_any_terminal_width_and_never_cuts_an_id(
    aws_env: str,
    fleets: dict[str, fleet.SeededFleet],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code = main(["scan", *region_flags(*REGIONS), *rule_flags(fleets)])
    capsys.readouterr()
    shown = terminal.getvalue()
    plain = _ANSI.sub("", shown)
    assert code == scan_report.EXIT_NON_COMPLIANT and "\x1b[31mNON_COMPLIANT" in shown  # coloured on a terminal
    assert all(len(line) <= width for line in plain.splitlines()), max(plain.splitlines(), key=len)
    for group in expected(fleets):  # every group id whole
        assert re.search(rf"(^|\s){re.escape(group[1])}(\s|$)", plain, flags=re.M), group
    blocks = plain.startswith("NON_COMPLIANT")  # narrow: one block per group, failures first
    assert blocks == (width < 140), plain[:200]


def test_failed_only_lists_the_failures_and_counts_everything(
    aws_env: str, fleets: dict[str, fleet.SeededFleet], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, ["scan", *region_flags(*REGIONS), *rule_flags(fleets), "--failed-only", "--format", "json"]
    )
    document = json.loads(out)
    failing = {(r, g) for (r, g), (compliance, _) in expected(fleets).items() if compliance == "NON_COMPLIANT"}
    assert {(r["region"], r["group_id"]) for r in document["results"]} == failing
    assert document["totals"]["COMPLIANT"] > 0  # the counts still cover every group
    assert code == scan_report.EXIT_NON_COMPLIANT and f"FAIL: {len(failing)} of {len(expected(fleets))} groups" in err
