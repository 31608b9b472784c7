"""Exit code 0: a fresh account where every group is COMPLIANT or NOT_APPLICABLE (which counts as fine)."""

from __future__ import annotations

import json

import pytest

from cmk_rule_cli.commands import scan
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.reports import scan_report

from ..conftest import fresh_account

REGION = "eu-central-1"


@pytest.fixture(scope="module")
def key_id(moto_endpoint: str) -> str:
    """One rotating customer-managed key, a group encrypted with it, and one group in 'create-failed'."""
    make_client = fresh_account(moto_endpoint)
    kms, elasticache = make_client("kms", REGION), make_client("elasticache", REGION)
    key = kms.create_key(Description="compliant fleet")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    for group_id in ("orders", "broken"):
        elasticache.create_replication_group(
            ReplicationGroupId=group_id,
            ReplicationGroupDescription="compliant fleet",
            Engine="valkey",
            CacheNodeType="cache.t4g.micro",
            NumCacheClusters=1,
            AtRestEncryptionEnabled=True,
            KmsKeyId=key,
        )
    mock_aws.set_group_status("broken", "create-failed", region=REGION)
    return str(key)


def test_only_compliant_and_not_applicable_exits_0(
    aws_env: str, key_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bare key id is accepted and expanded to the key's ARN in the scanned Region, as the rule does.
    argv = ["scan", "--region", REGION, "--approved-key-arn", key_id, "--require-key-rotation", "--format", "json"]
    code = main(argv)
    document = json.loads(capsys.readouterr().out)
    assert {r["group_id"]: (r["compliance"], r["row"]) for r in document["results"]} == {
        "orders": ("COMPLIANT", 11),
        "broken": ("NOT_APPLICABLE", 1),
    }
    assert code == scan_report.EXIT_OK


def test_a_region_without_groups_exits_0(aws_env: str, key_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", "--region", "ap-south-1", "--format", "csv"])
    assert capsys.readouterr().out.splitlines() == [",".join(scan.SCAN_COLUMNS)]
    assert code == scan_report.EXIT_OK


def test_the_same_account_fails_when_the_key_is_not_approved(
    aws_env: str, key_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555"
    code = main(["scan", "--region", REGION, "--approved-key-arn", other, "--format", "json"])
    verdicts = {r["group_id"]: r["row"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert verdicts == {"orders": 9, "broken": 1}
    assert code == scan_report.EXIT_NON_COMPLIANT
