"""ASFF findings: content, severity by risk, stable ids, and the local validator."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cmk_rule.findings import FindingScope, build_finding, severity_for, validate_finding
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.keys import KeyFacts, KeyLookup
from cmk_rule.verdict import Compliance, Row, Verdict

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SCOPE = FindingScope("aws", "us-east-1", "123456789012", "elasticache-replication-group-cmk")
GROUP = ReplicationGroup(
    "orders",
    arn="arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders",
    engine="valkey",
    status="available",
    at_rest_encryption_enabled=True,
    kms_key_id=KEY,
)
FACTS = KeyFacts(KEY, KeyLookup.FOUND, arn=KEY, key_manager="CUSTOMER", key_state="PendingDeletion")
NOW = "2026-11-28T06:00:00.000Z"


def verdict(compliance: Compliance, row: Row) -> Verdict:
    return Verdict("orders", compliance, f"annotation for row {row.value}", row, KEY)


def test_a_failed_finding_has_everything_a_triager_needs() -> None:
    finding = build_finding(
        SCOPE,
        verdict(Compliance.NON_COMPLIANT, Row.KEY_NOT_ENABLED),
        group=GROUP,
        key=FACTS,
        now=NOW,
        first_observed=None,
    )
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    assert finding["Id"] == "elasticache-cmk-rule/aws/us-east-1/123456789012/elasticache-replication-group-cmk/orders"
    assert finding["GeneratorId"] == "elasticache-cmk-rule/elasticache-replication-group-cmk"
    assert finding["Severity"] == {"Label": "HIGH", "Original": "HIGH"}
    assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
    assert finding["FindingProviderFields"]["Types"] == finding["Types"]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Compliance"]["StatusReasons"][0]["ReasonCode"] == "ROW_8_KEY_NOT_ENABLED"
    assert finding["Compliance"]["RelatedRequirements"]
    assert "backup" in finding["Remediation"]["Recommendation"]["Text"]
    assert finding["Remediation"]["Recommendation"]["Url"].startswith("https://docs.aws.amazon.com/")
    resource = finding["Resources"][0]
    assert resource["Type"] == "Other"
    assert resource["Id"] == GROUP.arn
    assert resource["Details"]["Other"] == {
        "Engine": "valkey",
        "Status": "available",
        "AtRestEncryptionEnabled": "true",
        "KmsKeyId": KEY,
        "KeyArn": KEY,
        "KeyAccountId": "123456789012",  # the key's owner, from its ARN (may differ from the group's account)
        "KeyManager": "CUSTOMER",
        "KeyState": "PendingDeletion",
        "DecisionRow": "8",
    }
    assert finding["ProductFields"]["elasticache-cmk-rule/DecisionRow"] == "8"
    assert finding["ProductFields"]["elasticache-cmk-rule/RuleName"] == SCOPE.rule_name
    assert (finding["CompanyName"], finding["ProductName"]) == ("elasticache-cmk-rule", "ElastiCache CMK Rule")
    assert finding["CreatedAt"] == finding["FirstObservedAt"] == finding["UpdatedAt"] == NOW
    assert finding["RecordState"] == "ACTIVE"
    assert validate_finding(finding) == []


def test_first_observed_is_kept_and_archiving_sets_the_record_state() -> None:
    finding = build_finding(
        SCOPE,
        verdict(Compliance.COMPLIANT, Row.COMPLIANT),
        group=GROUP,
        key=None,
        now=NOW,
        first_observed="2026-01-01T00:00:00.000Z",
        archived=True,
    )
    assert finding["CreatedAt"] == finding["FirstObservedAt"] == "2026-01-01T00:00:00.000Z"
    assert finding["UpdatedAt"] == finding["LastObservedAt"] == NOW
    assert finding["RecordState"] == "ARCHIVED"


@pytest.mark.parametrize(
    ("compliance", "row", "label", "status"),
    [
        (Compliance.NON_COMPLIANT, Row.KEY_NOT_ENABLED, "HIGH", "FAILED"),
        (Compliance.NON_COMPLIANT, Row.KEY_NOT_FOUND, "HIGH", "FAILED"),
        (Compliance.NON_COMPLIANT, Row.ENCRYPTION_OFF, "MEDIUM", "FAILED"),
        (Compliance.NON_COMPLIANT, Row.NOT_CUSTOMER_MANAGED, "MEDIUM", "FAILED"),
        (Compliance.NON_COMPLIANT, Row.KEY_UNVERIFIABLE, "MEDIUM", "FAILED"),
        (Compliance.COMPLIANT, Row.COMPLIANT, "INFORMATIONAL", "PASSED"),
        (Compliance.NOT_APPLICABLE, Row.NOT_EVALUATED, "INFORMATIONAL", "NOT_AVAILABLE"),
    ],
)
def test_severity_follows_the_risk(compliance: Compliance, row: Row, label: str, status: str) -> None:
    the_verdict = verdict(compliance, row)
    assert severity_for(the_verdict) == label
    finding = build_finding(SCOPE, the_verdict, group=None, key=None, now=NOW, first_observed=None)
    assert finding["Compliance"]["Status"] == status
    assert finding["Resources"][0]["Id"] == "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders"


def test_details_hold_non_empty_strings_only() -> None:
    group = ReplicationGroup("g", engine="", at_rest_encryption_enabled=None, kms_key_id=None)
    finding = build_finding(
        SCOPE,
        verdict(Compliance.NON_COMPLIANT, Row.ENCRYPTION_OFF),
        group=group,
        key=None,
        now=NOW,
        first_observed=None,
    )
    assert finding["Resources"][0]["Details"]["Other"] == {"DecisionRow": "2"}


def _valid() -> dict[str, object]:
    return build_finding(
        SCOPE, verdict(Compliance.COMPLIANT, Row.COMPLIANT), group=GROUP, key=FACTS, now=NOW, first_observed=None
    )


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda f: f.update(Title=""), "Title is empty"),
        (lambda f: f.update(Title="t" * 257), "Title is longer than 256"),
        (lambda f: f.update(Description="d" * 1025), "Description is longer than 1024"),
        (lambda f: f.update(Id="i" * 513), "Id is longer than 512"),
        (lambda f: f.update(GeneratorId="  "), "GeneratorId is empty"),
        (lambda f: f["Resources"][0]["Details"]["Other"].update(Empty=""), "Details.Other 'Empty'"),
        (lambda f: f["Resources"][0]["Details"]["Other"].update({"k" * 129: "v"}), "longer than 128"),
        (lambda f: f["Resources"][0]["Details"]["Other"].update(Big="v" * 1025), "Details.Other 'Big'"),
        (lambda f: f.update(Resources=[]), "exactly one resource"),
        (lambda f: f["ProductFields"].update({f"k{i}": "v" for i in range(50)}), "more than 50"),
        (lambda f: f["Remediation"]["Recommendation"].update(Text="t" * 513), "Recommendation.Text"),
    ],
)
def test_the_validator_catches_what_security_hub_would_reject(mutate: object, problem: str) -> None:
    finding = _valid()
    mutate(finding)  # type: ignore[operator]
    problems = validate_finding(finding)
    assert any(problem in p for p in problems), problems


def test_long_text_is_clipped_before_it_reaches_the_validator() -> None:
    long = Verdict("g" * 250, Compliance.NON_COMPLIANT, "a" * 256, Row.ENCRYPTION_OFF)
    finding = build_finding(SCOPE, long, group=None, key=None, now=NOW, first_observed=None)
    assert len(finding["Title"]) == 256
    assert len(finding["Description"]) <= 1024
    assert validate_finding(finding) == []


# --- checked against botocore's own securityhub model (issue 12, item 5) -------------------------------------------


def _securityhub_shapes() -> dict[str, Any]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("securityhub")
    return model._shape_resolver._shape_map  # the raw shapes, with enum and pattern as AWS publishes them


def test_the_resource_partition_is_one_security_hub_accepts_or_omitted() -> None:
    import boto3

    allowed = set(_securityhub_shapes()["Partition"]["enum"])
    partitions = boto3.session.Session().get_available_partitions()
    assert {"aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"} <= set(partitions)  # what the mapping must handle
    sent = {}
    for partition in [*partitions, "aws-eusc", "aws-future"]:
        scope = FindingScope(partition, "us-east-1", "123456789012", "rule")
        finding = build_finding(
            scope, verdict(Compliance.COMPLIANT, Row.COMPLIANT), group=None, key=None, now=NOW, first_observed=None
        )
        resource = finding["Resources"][0]
        if "Partition" in resource:
            assert resource["Partition"] in allowed, partition
        sent[partition] = resource.get("Partition")
        assert validate_finding(finding) == [], partition
    assert sent["aws"] == "aws" and sent["aws-cn"] == "aws-cn" and sent["aws-us-gov"] == "aws-us-gov"
    assert (sent["aws-iso"], sent["aws-iso-b"]) == ("aws-us-iso", "aws-us-iso-b")  # mapped
    assert sent["aws-iso-e"] is sent["aws-iso-f"] is sent["aws-eusc"] is None  # omitted: no enum value
    bad = _valid()
    bad["Resources"][0]["Partition"] = "aws-iso-e"  # type: ignore[index]
    assert any("Partition" in problem for problem in validate_finding(bad))


def test_details_values_match_the_model_pattern_and_stay_under_1024_characters() -> None:
    pattern = re.compile(_securityhub_shapes()["NonEmptyString"]["pattern"], re.S)
    group = ReplicationGroup("g", engine="  \t ", status="\n", at_rest_encryption_enabled=True, kms_key_id="k" * 5000)
    finding = build_finding(
        SCOPE, verdict(Compliance.NON_COMPLIANT, Row.KEY_NOT_FOUND), group=group, key=None, now=NOW, first_observed=None
    )
    other = finding["Resources"][0]["Details"]["Other"]
    assert "Engine" not in other and "Status" not in other  # whitespace only: left out, not sent
    assert len(other["KmsKeyId"]) == 1023  # "fewer than 1,024 characters"
    for key, value in other.items():
        assert pattern.fullmatch(key) and pattern.fullmatch(value), (key, value)
    assert validate_finding(finding) == []
    blank = _valid()
    blank["Resources"][0]["Details"]["Other"]["Blank"] = "   "  # type: ignore[index]
    assert any("'Blank' is blank" in problem for problem in validate_finding(blank))
    at_limit = _valid()
    at_limit["Resources"][0]["Details"]["Other"]["Big"] = "v" * 1024  # type: ignore[index]
    assert any("'Big'" in problem for problem in validate_finding(at_limit))


def test_a_finding_carries_the_effective_encryption_state_and_durability() -> None:
    """Details.Other shows what decided: StorageEncryptionType next to the flag it overrides, and durability."""
    import dataclasses

    durable = dataclasses.replace(
        GROUP,
        at_rest_encryption_enabled=False,
        storage_encryption_type="sse-kms",
        durability="sync",
        effective_durability="sync",
    )
    finding = build_finding(
        SCOPE, verdict(Compliance.COMPLIANT, Row.COMPLIANT), group=durable, key=FACTS, now=NOW, first_observed=None
    )
    other = finding["Resources"][0]["Details"]["Other"]
    assert (other["AtRestEncryptionEnabled"], other["StorageEncryptionType"]) == ("false", "sse-kms")
    assert (other["Durability"], other["EffectiveDurability"]) == ("sync", "sync")
    assert (
        "StorageEncryptionType"
        not in build_finding(
            SCOPE, verdict(Compliance.COMPLIANT, Row.COMPLIANT), group=GROUP, key=FACTS, now=NOW, first_observed=None
        )["Resources"][0]["Details"]["Other"]
    )  # not reported by AWS: not invented
