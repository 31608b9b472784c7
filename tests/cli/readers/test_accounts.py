"""Several accounts at once against moto's server: ``--accounts`` with ``--role``, one account whose role cannot be
assumed (named and skipped, the others scanned), the read-only guard on assumed sessions, ``--organization``, and
the flags' validation.

moto's ``AssumeRole`` succeeds for any role ARN (the role need not exist) and then serves the account in the ARN; a
role that cannot be assumed is therefore injected with a botocore hook answering ``AccessDenied`` for one account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cmk_rule_cli.errors import CliError
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import cloudtrail as mock_cloudtrail
from cmk_rule_cli.readers import accounts, session
from cmk_rule_cli.reports import scan_report

from ..conftest import assert_follows_the_schema, fresh_account

MEMBERS = ("111111111111", "222222222222")
LOCKED = "333333333333"
ROLE = "CmkRuleAudit"
REGIONS = ("us-east-1", "eu-west-1")


def _member_client(endpoint: str, account: str, service: str, region: str) -> Any:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint)
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@pytest.fixture(scope="module")
def members(moto_endpoint: str) -> Iterator[dict[str, str]]:
    """One group per member account and Region: an encrypted one with a CMK in 111..., an unencrypted one in 222..."""
    fresh_account(moto_endpoint)
    keys = {}
    for account in MEMBERS:
        for region in REGIONS:
            settings: dict[str, Any] = {}
            if account == MEMBERS[0]:
                kms = _member_client(moto_endpoint, account, "kms", region)
                keys[(account, region)] = kms.create_key(Description="member CMK")["KeyMetadata"]["Arn"]
                settings = {"AtRestEncryptionEnabled": True, "KmsKeyId": keys[(account, region)]}
            _member_client(moto_endpoint, account, "elasticache", region).create_replication_group(
                ReplicationGroupId=f"app-{account[:3]}-{region}",
                ReplicationGroupDescription="member group",
                Engine="redis",
                CacheNodeType="cache.t4g.micro",
                NumCacheClusters=1,
                **settings,
            )
    with mock_cloudtrail.event_history():
        yield {f"{a}/{r}": arn for (a, r), arn in keys.items()}


@pytest.fixture
def locked_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """AssumeRole into LOCKED answers AccessDenied (as a missing role or trust policy does)."""
    original = session.open_session

    def session_with_a_locked_account(profile: str | None) -> Any:
        session = original(profile)

        def deny(params: dict[str, Any], **_: Any) -> None:
            if f":{LOCKED}:" in params.get("RoleArn", ""):
                raise ClientError(
                    {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}},
                    "AssumeRole",
                )

        session.events.register("before-parameter-build.sts.AssumeRole", deny)
        return session

    monkeypatch.setattr(session, "open_session", session_with_a_locked_account)


def _region_flags() -> list[str]:
    return [flag for region in REGIONS for flag in ("--region", region)]


def test_a_scan_of_three_accounts_with_one_locked(
    aws_env: str, members: dict[str, str], locked_account: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", "--accounts", ",".join([*MEMBERS, LOCKED]), "--role", ROLE, *_region_flags(), "--format", "json"]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == scan_report.EXIT_ERROR, captured.err  # incomplete: an account was skipped
    document = json.loads(captured.out)
    assert_follows_the_schema(document)  # region null for the account not assumed
    results = document["results"]
    by_place = {
        (r["account"], r["region"], r["group_id"]): r["compliance"] if not r["skipped"] else "SKIPPED" for r in results
    }
    for region in REGIONS:
        assert by_place[(MEMBERS[0], region, f"app-111-{region}")] == "COMPLIANT"
        assert by_place[(MEMBERS[1], region, f"app-222-{region}")] == "NON_COMPLIANT"
    assert by_place[(LOCKED, None, scan_report.UNASSUMED_GROUP)] == "SKIPPED"
    assert f"account {LOCKED} was skipped: sts:AssumeRole of {ROLE} failed (AccessDenied" in captured.err
    assert "Traceback" not in captured.err


def test_evidence_over_accounts_has_a_row_per_account_region_group(
    aws_env: str, members: dict[str, str], locked_account: None, tmp_path: Path
) -> None:
    folder = tmp_path / "pack"
    argv = ["evidence", "--accounts", ",".join([*MEMBERS, LOCKED]), "--role", ROLE, *_region_flags()]
    assert main([*argv, "--output-dir", str(folder)]) == scan_report.EXIT_ERROR
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    assert_follows_the_schema(document)  # account null, accounts and accounts_not_assumed instead
    assert document["complete"] is False and document["accounts_not_assumed"].keys() == {LOCKED}
    places = {(g["account"], g["region"]) for g in document["groups"] if not g["skipped"]}
    assert places == {(a, r) for a in MEMBERS for r in REGIONS}
    keys = {f"{k['account']}/{k['region']}": k["key_arn"] for k in document["key_use"]["keys"]}
    assert keys == members  # each member key proven in its own account and Region
    html = (folder / "summary.html").read_text(encoding="utf-8")
    assert all(f"<h3>{a} / " in html for a in [*MEMBERS, LOCKED])  # each account's own tables, failing or passing


def test_assumed_sessions_keep_the_read_only_guard(aws_env: str, members: dict[str, str]) -> None:
    clients = session.ClientMaker(session.open_session(None))
    assumed = session.assume_session(
        clients, partition="aws", region="us-east-1", account_id=MEMBERS[0], role_name=ROLE, command="scan"
    )
    with pytest.raises(session.ReadOnlyViolationError):
        assumed.client("elasticache", region_name="us-east-1").delete_replication_group(ReplicationGroupId="x")
    assert assumed.client("sts", region_name="us-east-1").get_caller_identity()["Account"] == MEMBERS[0]


def test_the_organization_lists_active_accounts(aws_env: str, moto_endpoint: str) -> None:
    fresh_account(moto_endpoint)
    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="member@example.com", AccountName="member")
    member = created["CreateAccountStatus"]["AccountId"]
    found = accounts.organization_accounts(organizations)
    assert member in found and mock_aws.ACCOUNT_ID in found


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--accounts", "1234", "--role", ROLE], "'1234' is not a 12-digit AWS account id"),
        (["--accounts", "111111111111"], "need --role NAME"),
        (["--role", ROLE], "--role needs --accounts"),
        (["--accounts", "111111111111", "--role", "bad role!"], "--role 'bad role!'"),
    ],
)
def test_bad_account_flags_are_one_sentence(
    aws_env: str, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--region", "us-east-1", *flags, "--format", "json"]) == scan_report.EXIT_ERROR
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_parse_account_ids_drops_duplicates() -> None:
    assert accounts.parse_account_ids("111111111111, 222222222222,111111111111") == list(MEMBERS)
    with pytest.raises(CliError):
        accounts.parse_account_ids(" , ")
