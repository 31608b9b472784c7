"""Real-shaped AWS Config rule events, as Config sends them to a custom Lambda rule.

Shapes follow https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
(the samples in tests/events/ are the same shapes, frozen).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cmk_rule.resource_types import REPLICATION_GROUP
from cmk_rule.timestamps import iso_z

RULE_ID = "config-rule-0123ab"
SERVICE_ROLE_PATH = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


def iso(moment: datetime | None = None) -> str:
    """Config's timestamp format: 2016-07-13T21:50:00.373Z."""
    return iso_z(moment or datetime.now(UTC))


def rule_arn(account_id: str, region: str, partition: str = "aws") -> str:
    """A Config rule ARN (Config names the resource by rule id, not by rule name)."""
    return f"arn:{partition}:config:{region}:{account_id}:config-rule/{RULE_ID}"


def _envelope(
    invoking: dict[str, Any],
    *,
    account_id: str,
    region: str,
    rule_name: str,
    result_token: str,
    parameters: dict[str, str] | None,
    left_scope: bool = False,
) -> dict[str, Any]:
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters or {}),
        "resultToken": result_token,
        "eventLeftScope": left_scope,
        "executionRoleArn": f"arn:aws:iam::{account_id}:role/{SERVICE_ROLE_PATH}",
        "configRuleArn": rule_arn(account_id, region),
        "configRuleName": rule_name,
        "configRuleId": RULE_ID,
        "accountId": account_id,
        "evaluationMode": "DETECTIVE",
    }


def scheduled_event(
    *,
    account_id: str,
    region: str,
    rule_name: str,
    result_token: str,
    parameters: dict[str, str] | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    """A periodic (ScheduledNotification) invocation."""
    invoking = {
        "awsAccountId": account_id,
        "notificationCreationTime": iso(when),
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return _envelope(
        invoking,
        account_id=account_id,
        region=region,
        rule_name=rule_name,
        result_token=result_token,
        parameters=parameters,
    )


def change_event(
    *,
    account_id: str,
    region: str,
    rule_name: str,
    result_token: str,
    group_id: str,
    configuration: dict[str, Any] | None,
    status: str = "OK",
    tags: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
    left_scope: bool = False,
    when: datetime | None = None,
) -> dict[str, Any]:
    """A ConfigurationItemChangeNotification for one replication group."""
    arn = f"arn:aws:elasticache:{region}:{account_id}:replicationgroup:{group_id}"
    item: dict[str, Any] = {
        "relatedEvents": [],
        "relationships": [],
        "configuration": configuration,
        "supplementaryConfiguration": {},
        "tags": tags or {},
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": iso(when),
        "configurationStateId": 1_700_000_000_000,
        "awsAccountId": account_id,
        "configurationItemStatus": status,
        "resourceType": REPLICATION_GROUP.config_type,
        "resourceId": group_id,
        "resourceName": group_id,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": "Multiple Availability Zones",
        "configurationStateMd5Hash": "",
    }
    invoking = {
        "configurationItemDiff": None,
        "configurationItem": item,
        "notificationCreationTime": iso(when),
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    return _envelope(
        invoking,
        account_id=account_id,
        region=region,
        rule_name=rule_name,
        result_token=result_token,
        parameters=parameters,
        left_scope=left_scope,
    )


def oversized_event(
    *,
    account_id: str,
    region: str,
    rule_name: str,
    result_token: str,
    group_id: str,
    status: str = "OK",
    parameters: dict[str, str] | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    """An OversizedConfigurationItemChangeNotification: only a summary; the item is read from Config."""
    summary = {
        "changeType": "UPDATE",
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": iso(when),
        "configurationStateId": 1_700_000_000_000,
        "awsAccountId": account_id,
        "configurationItemStatus": status,
        "resourceType": REPLICATION_GROUP.config_type,
        "resourceId": group_id,
        "resourceName": group_id,
        "ARN": f"arn:aws:elasticache:{region}:{account_id}:replicationgroup:{group_id}",
        "awsRegion": region,
        "availabilityZone": "Multiple Availability Zones",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": iso(when),
    }
    invoking = {
        "configurationItemSummary": summary,
        "messageType": "OversizedConfigurationItemChangeNotification",
        "notificationCreationTime": iso(when),
        "recordVersion": "1.0",
    }
    return _envelope(
        invoking,
        account_id=account_id,
        region=region,
        rule_name=rule_name,
        result_token=result_token,
        parameters=parameters,
    )
