"""What AWS Config already knows: the rule's previous results, and configuration items too large for the event.

Both reads are paginated. ``GetComplianceDetailsByConfigRule`` is how a periodic run finds groups that no longer
exist (Config keeps a periodic rule's last result forever unless the rule reports NOT_APPLICABLE).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from cmk_rule.aws import AWS_ERRORS, bounded_pages, call_error
from cmk_rule.errors import AwsCallError
from cmk_rule.operations import GET_COMPLIANCE_DETAILS_BY_CONFIG_RULE, GET_RESOURCE_CONFIG_HISTORY
from cmk_rule.request import RESOURCE_TYPE, OversizedItem

if TYPE_CHECKING:  # typed clients (boto3-stubs); never imported at run time
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_config.literals import ComplianceTypeType

RESULTS_PAGE_SIZE = 100  # GetComplianceDetailsByConfigRule Limit maximum
# GetResourceConfigHistory may answer empty pages with a nextToken; a run follows at most this many.
HISTORY_MAX_PAGES = 100
RESULTS_OPERATION = GET_COMPLIANCE_DETAILS_BY_CONFIG_RULE.iam_action
HISTORY_OPERATION = GET_RESOURCE_CONFIG_HISTORY.iam_action


@dataclass(frozen=True)
class PreviousResult:
    """The last result Config recorded for one group under this rule."""

    resource_id: str
    compliance_type: str
    annotation: str | None
    recorded_at: datetime | None


def previous_results(
    config: ConfigServiceClient, rule_name: str, compliance_types: Iterable[str]
) -> dict[str, PreviousResult]:
    """The rule's recorded results for replication groups, by group id. Raises AwsCallError if a page fails."""
    results: dict[str, PreviousResult] = {}
    paginator = config.get_paginator("get_compliance_details_by_config_rule")
    try:
        pages = paginator.paginate(
            ConfigRuleName=rule_name,
            ComplianceTypes=cast("list[ComplianceTypeType]", list(compliance_types)),
            PaginationConfig={"PageSize": RESULTS_PAGE_SIZE},
        )
        for page in bounded_pages(pages, operation=RESULTS_OPERATION, next_field="NextToken"):
            for result in page.get("EvaluationResults") or []:
                # A result that cannot be attributed is left out: it is then never retired, the safe direction.
                identifier = result.get("EvaluationResultIdentifier") if isinstance(result, dict) else None
                qualifier = (identifier or {}).get("EvaluationResultQualifier") or {}
                if qualifier.get("ResourceType") != RESOURCE_TYPE or not isinstance(qualifier.get("ResourceId"), str):
                    continue
                results[qualifier["ResourceId"]] = PreviousResult(
                    resource_id=qualifier["ResourceId"],
                    compliance_type=result.get("ComplianceType", ""),
                    annotation=result.get("Annotation"),
                    recorded_at=result.get("ResultRecordedTime"),
                )
    except AWS_ERRORS as error:
        raise call_error(RESULTS_OPERATION, error) from error
    return results


def fetch_configuration_item(config: ConfigServiceClient, item: OversizedItem) -> dict[str, Any]:
    """The configuration item an oversized notification refers to, in the invoking-event shape.

    ``laterTime`` is the capture time and ``limit`` 1, so the newest item at or before the notification is returned.
    GetResourceConfigHistory may answer an empty page with a ``nextToken``; those are followed, at most
    :data:`HISTORY_MAX_PAGES` of them and never a token seen before (a service repeating tokens would otherwise keep
    the run calling until the Lambda dies).
    """
    kwargs: dict[str, Any] = {
        "resourceType": item.resource_type,
        "resourceId": item.resource_id,
        "laterTime": item.capture_time,
        "limit": 1,
    }
    seen: set[str] = set()
    try:
        for _ in range(HISTORY_MAX_PAGES):
            response = config.get_resource_config_history(**kwargs)
            items = response.get("configurationItems") or []
            if items:
                if not isinstance(items[0], dict):
                    raise AwsCallError(HISTORY_OPERATION, f"malformed response: the item of {item.resource_id}")
                return _as_event_item(item.resource_id, items[0])
            token = response.get("nextToken")
            if not token:
                break
            if token in seen:
                raise AwsCallError(HISTORY_OPERATION, "a page repeats an earlier pagination token (a pagination loop)")
            seen.add(token)
            kwargs["nextToken"] = token
        else:
            raise AwsCallError(HISTORY_OPERATION, f"no item after {HISTORY_MAX_PAGES} pages; stopped")
    except AWS_ERRORS as error:
        raise call_error(HISTORY_OPERATION, error) from error
    raise call_error(
        HISTORY_OPERATION,
        ClientError(
            {"Error": {"Code": "ResourceNotDiscoveredException", "Message": f"no item for {item.resource_id}"}},
            "GetResourceConfigHistory",
        ),
    )


def _as_event_item(resource_id: str, api_item: Mapping[str, Any]) -> dict[str, Any]:
    """GetResourceConfigHistory returns ``configuration`` as a JSON string and ``arn`` in lower case."""
    configuration = api_item.get("configuration")
    if isinstance(configuration, str):
        try:
            configuration = json.loads(configuration) if configuration.strip() else None
        except json.JSONDecodeError as error:
            raise AwsCallError(
                HISTORY_OPERATION, f"the configuration of {resource_id} is not valid JSON ({error.msg})"
            ) from None
    capture = api_item.get("configurationItemCaptureTime")
    return {
        "resourceType": api_item.get("resourceType"),
        "resourceId": api_item.get("resourceId"),
        "resourceName": api_item.get("resourceName"),
        "ARN": api_item.get("arn"),
        "configurationItemStatus": api_item.get("configurationItemStatus"),
        "configurationItemCaptureTime": capture.isoformat() if isinstance(capture, datetime) else capture,
        "configuration": configuration,
        "tags": api_item.get("tags") or {},
    }
