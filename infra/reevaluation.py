"""Near-real-time re-evaluation: EventBridge rules on CloudTrail API-call events that can change a verdict.

AWS Config does not record ``AWS::ElastiCache::ReplicationGroup`` (see shared DESIGN.md), so its change triggers never
fire for it and the rule would otherwise only run on its periodic schedule (up to 24 h). These rules invoke the same
Lambda; the Lambda recognises an EventBridge event by its ``detail-type`` key and calls
``StartConfigRulesEvaluation(ConfigRuleNames=[CONFIG_RULE_NAME])``, which runs the periodic evaluation now.

Delay bought: events with detail-type "AWS API Call via CloudTrail" need a CloudTrail trail with management events
enabled in the account/Region, and AWS delivers them on a best-effort basis (EventBridge User Guide, "Events from AWS
services" / "AWS service events delivered via AWS CloudTrail"); CloudTrail typically delivers an API event within
minutes of the call (its docs quote an average of about 5 minutes for log delivery, not guaranteed). Add the
evaluation run itself (seconds to a few minutes for 10,000 groups). Periodic runs remain the safety net for any
event that is lost.

Only API calls whose outcome can change the decision table are matched, and only successful ones (``errorCode``
absent):

ElastiCache (``aws.elasticache``):
  * CreateReplicationGroup -- a new group (its encryption and key are fixed at creation; restores use it too).
  * ModifyReplicationGroup -- engine/status changes (e.g. Redis OSS to Valkey) are re-checked.
  * DeleteReplicationGroup -- the group goes to ``deleting``: NOT_APPLICABLE, then disappears.
  * ModifyReplicationGroupShardConfiguration -- shards added/removed; re-check the group.
  * CreateGlobalReplicationGroup, DisassociateGlobalReplicationGroup, FailoverGlobalReplicationGroup,
    DeleteGlobalReplicationGroup -- Global Datastore membership/primary changes; secondaries are evaluated in their
    own Region with their own key.
  * AddTagsToResource, RemoveTagsFromResource -- only when an exemption tag key is configured.
KMS (``aws.kms``), keys owned by this account (a cross-account CMK's events happen in the key owner's account and are
caught by the next periodic run):
  * DisableKey, EnableKey, ScheduleKeyDeletion, CancelKeyDeletion -- KeyState changes (row 8 of the decision table).
  * ImportKeyMaterial, DeleteImportedKeyMaterial -- EXTERNAL-origin keys move between Enabled and PendingImport.
  * EnableKeyRotation, DisableKeyRotation -- only when key rotation is required (row 10).

Organization mode has no such rules: the API calls happen in member accounts, and forwarding their events to a central
bus is out of scope. Conformance-pack mode has none either: AWS Config names a pack's rule
``<name>-conformance-pack-<suffix>``, so the rule name to re-evaluate is not known at deploy time.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import Settings

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"

ELASTICACHE_EVENTS = (
    "CreateReplicationGroup",
    "ModifyReplicationGroup",
    "DeleteReplicationGroup",
    "ModifyReplicationGroupShardConfiguration",
    "CreateGlobalReplicationGroup",
    "DisassociateGlobalReplicationGroup",
    "FailoverGlobalReplicationGroup",
    "DeleteGlobalReplicationGroup",
)
ELASTICACHE_TAG_EVENTS = ("AddTagsToResource", "RemoveTagsFromResource")
KMS_EVENTS = (
    "DisableKey",
    "EnableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
)
KMS_ROTATION_EVENTS = ("EnableKeyRotation", "DisableKeyRotation")


def elasticache_event_names(settings: Settings) -> list[str]:
    names = list(ELASTICACHE_EVENTS)
    if settings.exemption_tag_key:
        names += ELASTICACHE_TAG_EVENTS
    return names


def kms_event_names(settings: Settings) -> list[str]:
    names = list(KMS_EVENTS)
    if settings.require_key_rotation:
        names += KMS_ROTATION_EVENTS
    return names


class Reevaluation(Construct):
    """Two EventBridge rules (ElastiCache, KMS) targeting the rule's Lambda, with retries and a dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: list[events.Rule] = []
        for rule_id, source, event_source, names, what in (
            (
                "ElastiCacheChanges",
                "aws.elasticache",
                "elasticache.amazonaws.com",
                elasticache_event_names(settings),
                "ElastiCache replication group changes",
            ),
            ("KmsKeyChanges", "aws.kms", "kms.amazonaws.com", kms_event_names(settings), "KMS key state changes"),
        ):
            rule = events.Rule(
                self,
                rule_id,
                description=f"Re-evaluate {settings.rule_name} on {what} (CloudTrail API calls)",
                event_pattern=events.EventPattern(
                    source=[source],
                    detail_type=[CLOUDTRAIL_DETAIL_TYPE],
                    detail={
                        "eventSource": [event_source],
                        "eventName": names,
                        # Failed calls change nothing.
                        "errorCode": events.Match.does_not_exist(),
                    },
                ),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    retry_attempts=4,
                    max_event_age=Duration.hours(1),
                    dead_letter_queue=dead_letter_queue,
                )
            )
            self.rules.append(rule)
