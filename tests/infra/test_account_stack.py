"""Account mode: Config rule, Lambda settings, exact IAM per configuration, EventBridge, Security Hub, cdk-nag."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra.reevaluation import CLOUDTRAIL_DETAIL_TYPE, KMS_NATIVE_DETAIL_TYPES
from tests.infra.support import (
    ACCOUNT,
    CONSUME_ACTIONS,
    KEY_ARN_1,
    PLATFORM_ACTIONS,
    REGION,
    Synth,
    statement_by_sid,
    synth,
)

RULE_NAME = "elasticache-replication-group-cmk"
DEFAULT_CODE_ACTIONS = {
    "elasticache:DescribeReplicationGroups",
    "kms:DescribeKey",
    "config:PutEvaluations",
    "config:GetResourceConfigHistory",
    "config:GetComplianceDetailsByConfigRule",
    "config:StartConfigRulesEvaluation",
    "securityhub:BatchImportFindings",
    "securityhub:GetFindings",
}
ELASTICACHE_EVENTS = [
    "CreateReplicationGroup",
    "ModifyReplicationGroup",
    "DeleteReplicationGroup",
    "ModifyReplicationGroupShardConfiguration",
    "CreateGlobalReplicationGroup",
    "DisassociateGlobalReplicationGroup",
    "FailoverGlobalReplicationGroup",
    "DeleteGlobalReplicationGroup",
]
KMS_EVENTS = [
    "DisableKey",
    "EnableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
]


def partition_arn(suffix: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, suffix]]}


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth()


@pytest.fixture(scope="module")
def strict() -> Synth:
    """Exemption tag, key rotation and an approved-key list."""
    return synth(
        exemptionTagKey="compliance-exempt",
        requireKeyRotation="true",
        approvedKmsKeyArns=KEY_ARN_1,
        maximumExecutionFrequency="Six_Hours",
        configRuleName="cmk-check",
    )


@pytest.fixture(scope="module")
def quiet() -> Synth:
    """Security Hub off, no near-real-time re-evaluation, cost-saving reporting."""
    return synth(securityHubMode="off", nearRealTimeReevaluation="false", reportingMode="changes")


@pytest.mark.parametrize("name", ["default", "strict", "quiet"])
def test_cdk_nag_aws_solutions_passes(name: str, request: pytest.FixtureRequest) -> None:
    assert request.getfixturevalue(name).nag_violations == []


def test_config_rule_is_periodic_and_change_triggered(default: Synth) -> None:
    default.template.resource_count_is("AWS::Config::ConfigRule", 1)
    default.template.has_resource(
        "AWS::Config::ConfigRule",
        {
            "Properties": {
                "ConfigRuleName": RULE_NAME,
                "MaximumExecutionFrequency": "TwentyFour_Hours",
                "Scope": {"ComplianceResourceTypes": ["AWS::ElastiCache::ReplicationGroup"]},
                "Source": {
                    "Owner": "CUSTOM_LAMBDA",
                    "SourceIdentifier": {"Fn::GetAtt": [Match.string_like_regexp("^RuleFunction"), "Arn"]},
                    "SourceDetails": [
                        {
                            "EventSource": "aws.config",
                            "MessageType": "ScheduledNotification",
                            "MaximumExecutionFrequency": "TwentyFour_Hours",
                        },
                        {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
                        {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
                    ],
                },
                "InputParameters": Match.absent(),
            },
            "DependsOn": ["ConfigInvokePermission"],
        },
    )


def test_rule_parameters_and_frequency_from_context(strict: Synth) -> None:
    rule = strict.only("AWS::Config::ConfigRule")["Properties"]
    assert rule["ConfigRuleName"] == "cmk-check"
    assert rule["MaximumExecutionFrequency"] == "Six_Hours"
    assert rule["Source"]["SourceDetails"][0]["MaximumExecutionFrequency"] == "Six_Hours"
    assert rule["InputParameters"] == {
        "approvedKmsKeyArns": KEY_ARN_1,
        "requireKeyRotation": "true",
        "exemptionTagKey": "compliance-exempt",
    }
    assert strict.function()["Environment"]["Variables"]["CONFIG_RULE_NAME"] == "cmk-check"


def test_lambda_settings(default: Synth) -> None:
    default.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "cmk_rule.handler.lambda_handler",
            "TracingConfig": {"Mode": "Active"},
            "Timeout": 900,
            "MemorySize": 512,
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("^RuleFunctionLogGroup")}},
        },
    )
    # Unset = unreserved (reserving needs 100 unreserved left in the account).
    assert "ReservedConcurrentExecutions" not in default.function()
    assert default.function()["Environment"]["Variables"] == {
        "SECURITY_HUB_MODE": "direct",
        "CONFIG_RULE_NAME": RULE_NAME,
        "REPORTING_MODE": "all",
        "POWERTOOLS_SERVICE_NAME": "elasticache-cmk-rule",
        "POWERTOOLS_METRICS_NAMESPACE": "ElastiCacheCmkRule",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    default.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_reserved_concurrency_when_asked() -> None:
    assert synth(reservedConcurrency="20").function()["ReservedConcurrentExecutions"] == 20


def test_failed_async_invocations_go_to_an_encrypted_tls_only_queue(default: Synth) -> None:
    failure_queue_id = default.function_failure_queue_id()
    queue_id, queue = failure_queue_id, default.json["Resources"][failure_queue_id]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    default.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
        },
    )
    default.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_config_may_invoke_only_from_this_account(default: Synth) -> None:
    permissions = [
        p["Properties"]
        for p in default.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "config.amazonaws.com"
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [default.lambda_function_id(), "Arn"]},
            "Principal": "config.amazonaws.com",
            "SourceAccount": ACCOUNT,
        }
    ]


def test_exact_actions_default(default: Synth) -> None:
    assert default.role_actions() == DEFAULT_CODE_ACTIONS | PLATFORM_ACTIONS | CONSUME_ACTIONS
    statements = default.role_statements()
    # The unnamed listing is authorized against "*" (infra/permissions.py cites ElastiCache's guide).
    assert statement_by_sid(statements, "ListReplicationGroups")["Resource"] == "*"
    assert statement_by_sid(statements, "ReadKmsKeys")["Resource"] == partition_arn(f":kms:{REGION}:*:key/*")
    assert statement_by_sid(statements, "ReportToConfig")["Resource"] == "*"
    assert statement_by_sid(statements, "ImportFindings")["Resource"] == partition_arn(
        f":securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert statement_by_sid(statements, "ReadFindings")["Resource"] == partition_arn(
        f":securityhub:{REGION}:{ACCOUNT}:hub/default"
    )
    # The rule-scoped actions name the rule's real ARN (a separate policy avoids the dependency cycle).
    rule_id = next(iter(default.resources("AWS::Config::ConfigRule")))
    assert statement_by_sid(statements, "ReadRuleResults")["Resource"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    no_managed_policies = default.json["Resources"][default.lambda_role_id()]["Properties"]
    assert "ManagedPolicyArns" not in no_managed_policies


def test_exact_actions_with_exemption_tag_and_rotation(strict: Synth) -> None:
    assert strict.role_actions() == (
        DEFAULT_CODE_ACTIONS
        | {"elasticache:ListTagsForResource", "tag:GetResources", "kms:GetKeyRotationStatus"}
        | PLATFORM_ACTIONS
        | CONSUME_ACTIONS
    )
    assert statement_by_sid(strict.role_statements(), "ReadReplicationGroupTags")["Resource"] == partition_arn(
        f":elasticache:{REGION}:{ACCOUNT}:replicationgroup:*"
    )


def test_exact_actions_without_security_hub_or_reevaluation(quiet: Synth) -> None:
    assert (
        quiet.role_actions()
        == (
            DEFAULT_CODE_ACTIONS
            - {"securityhub:BatchImportFindings", "securityhub:GetFindings", "config:StartConfigRulesEvaluation"}
        )
        | PLATFORM_ACTIONS
    )
    variables = quiet.function()["Environment"]["Variables"]
    assert variables["SECURITY_HUB_MODE"] == "off"
    assert variables["REPORTING_MODE"] == "changes"
    quiet.template.resource_count_is("AWS::Events::Rule", 0)
    quiet.template.resource_count_is("AWS::SecurityHub::AutomationRule", 0)


def _event_rules(s: Synth) -> dict[str, dict]:
    """By source, for the CloudTrail rules; "kms-native" for KMS's own events."""
    return {
        (
            rule["Properties"]["EventPattern"]["source"][0]
            if rule["Properties"]["EventPattern"]["detail-type"] == [CLOUDTRAIL_DETAIL_TYPE]
            else "kms-native"
        ): rule["Properties"]
        for rule in s.resources("AWS::Events::Rule").values()
    }


def test_eventbridge_patterns_default(default: Synth) -> None:
    rules = _event_rules(default)
    assert set(rules) == {"aws.elasticache", "aws.kms", "kms-native"}
    assert rules["kms-native"]["EventPattern"] == {
        "source": ["aws.kms"],
        "detail-type": ["KMS CMK Deletion", "KMS Imported Key Material Expiration"],
    }
    assert list(KMS_NATIVE_DETAIL_TYPES) == rules["kms-native"]["EventPattern"]["detail-type"]
    assert rules["aws.elasticache"]["EventPattern"] == {
        "source": ["aws.elasticache"],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {
            "eventSource": ["elasticache.amazonaws.com"],
            "eventName": ELASTICACHE_EVENTS,
            "errorCode": [{"exists": False}],
        },
    }
    assert rules["aws.kms"]["EventPattern"]["detail"] == {
        "eventSource": ["kms.amazonaws.com"],
        "eventName": KMS_EVENTS,
        "errorCode": [{"exists": False}],
    }
    # Every rule feeds the debounce queue (consumed by the Lambda in batches, partial failures redelivered);
    # undeliverable events go to the failure queue.
    failure_queue_id = default.function_failure_queue_id()
    mapping = default.only("AWS::Lambda::EventSourceMapping")["Properties"]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 60)
    assert default.json["Resources"][queue_id]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 10
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [failure_queue_id, "Arn"]}}


def test_eventbridge_patterns_follow_the_rule_parameters(strict: Synth) -> None:
    rules = _event_rules(strict)
    assert rules["aws.elasticache"]["EventPattern"]["detail"]["eventName"] == [
        *ELASTICACHE_EVENTS,
        "AddTagsToResource",
        "RemoveTagsFromResource",
    ]
    assert rules["aws.kms"]["EventPattern"]["detail"]["eventName"] == [
        *KMS_EVENTS,
        "EnableKeyRotation",
        "DisableKeyRotation",
    ]


def test_eventbridge_may_send_to_the_queue_only_from_its_rules(default: Synth) -> None:
    rule_ids = set(default.resources("AWS::Events::Rule"))
    queue_id = default.only("AWS::Lambda::EventSourceMapping")["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in default.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    sources = [statement["Condition"]["ArnEquals"]["aws:SourceArn"] for statement in statements]
    assert sorted(json.dumps(s) for s in sources) == sorted(
        json.dumps({"Fn::GetAtt": [rule_id, "Arn"]}) for rule_id in rule_ids
    )
    # Lambda itself is no EventBridge target any more.
    assert [
        p
        for p in default.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ] == []


def test_security_hub_automation_rule_is_opt_in(default: Synth) -> None:
    # Only a Security Hub administrator account may create automation rules: not by default.
    default.template.resource_count_is("AWS::SecurityHub::AutomationRule", 0)


def test_security_hub_automation_rule_suppresses_config_integration_duplicates() -> None:
    suppressing = synth(suppressConfigIntegrationDuplicates="true")
    suppressing.template.has_resource_properties(
        "AWS::SecurityHub::AutomationRule",
        {
            "RuleStatus": "ENABLED",
            "IsTerminal": False,
            "Criteria": {
                "ProductName": [{"Comparison": "EQUALS", "Value": "Config"}],
                "ProductArn": [
                    {
                        "Comparison": "EQUALS",
                        "Value": {
                            "Fn::Join": [
                                "",
                                [
                                    "arn:",
                                    {"Ref": "AWS::Partition"},
                                    ":securityhub:",
                                    {"Ref": "AWS::Region"},
                                    "::product/aws/config",
                                ],
                            ]
                        },
                    }
                ],
                # Exactly this rule's name: never CONTAINS, which a short name turns into other rules' findings.
                "Title": [{"Comparison": "EQUALS", "Value": RULE_NAME}],
            },
            "Actions": [
                {
                    "Type": "FINDING_FIELDS_UPDATE",
                    "FindingFieldsUpdate": {"Workflow": {"Status": "SUPPRESSED"}, "Note": Match.any_value()},
                }
            ],
        },
    )


def test_suppression_can_be_turned_off() -> None:
    s = synth(suppressConfigIntegrationDuplicates="false")
    s.template.resource_count_is("AWS::SecurityHub::AutomationRule", 0)
    assert s.function()["Environment"]["Variables"]["SECURITY_HUB_MODE"] == "direct"
