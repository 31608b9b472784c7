"""Near-real-time re-evaluation: EventBridge rules on CloudTrail API-call events that can change a verdict.

AWS Config does not record ``AWS::ElastiCache::ReplicationGroup`` (it is not among the resource types Config supports,
https://docs.aws.amazon.com/config/latest/developerguide/resource-config-reference.html), so its change triggers never
fire for it and the rule would otherwise only run on its periodic schedule (up to 24 h). These rules feed the
re-evaluation queue the same Lambda reads; for each account and Region in a batch it calls
``StartConfigRulesEvaluation``, which runs the periodic evaluation now (``cmk_rule.reevaluation``).

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

KMS native events (``aws.kms``, delivered straight to EventBridge, no CloudTrail trail needed): "KMS CMK Deletion"
(a key scheduled for deletion is deleted) and "KMS Imported Key Material Expiration" (imported material expires and the
key goes to PendingImport): a key leaves ``Enabled`` with no API call (AWS KMS Developer Guide, "Monitoring with
Amazon EventBridge").

Every matched event goes to an SQS queue (standard, SSE, TLS only, dead-letter queue after 10 receives) that the rule
Lambda consumes through an event source mapping: batches of up to 100 messages gathered for up to 60 s (the debounce
window: the Lambda starts ONE evaluation per account and Region per batch), with ReportBatchItemFailures so that a
request refused because an evaluation is still running is redelivered after the visibility timeout instead of being
dropped. The visibility timeout is six times the function timeout, as the Lambda Developer Guide recommends for SQS
event sources ("Using Lambda with Amazon SQS"): 90 minutes with the 900 s timeout.

Account mode: the rules sit on the account's default bus. Organization mode: the same rules are deployed into every
member account and Region by a StackSet (``MemberEventsStack`` in infra/member_role.py) with the central account's
custom bus of the same Region as target; that bus admits ``events:PutEvents`` only from principals of the organization
(``aws:PrincipalOrgID``) and one rule on it feeds the queue. Conformance-pack modes have none: AWS Config names a
pack's rule ``<name>-conformance-pack-<suffix>``, so the rule name to re-evaluate is not known at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import EVENT_BUS_NAME, Settings

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
KMS_NATIVE_DETAIL_TYPES = ("KMS CMK Deletion", "KMS Imported Key Material Expiration")

# Event source mapping: the debounce window and batch (contract 13), and SQS redelivery.
BATCH_SIZE = 100
BATCHING_WINDOW = Duration.seconds(60)
MAX_RECEIVE_COUNT = 10
# Six times the function timeout (TIMEOUT in infra/rule_function.py: 900 s), the Lambda guide's recommendation.
VISIBILITY_TIMEOUT = Duration.seconds(6 * 900)
# EventBridge -> queue delivery retries, then the failure queue.
TARGET_RETRY_ATTEMPTS = 4
TARGET_MAX_EVENT_AGE = Duration.hours(1)

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


@dataclass(frozen=True)
class MatchedEvents:
    """One EventBridge rule's worth of events that can change a verdict."""

    rule_id: str
    description: str
    pattern: events.EventPattern


def matched_events(settings: Settings) -> list[MatchedEvents]:
    """The three patterns: ElastiCache API calls, KMS API calls (both via CloudTrail), KMS native events."""
    cloudtrail = [
        (
            "ElastiCacheChanges",
            "aws.elasticache",
            "elasticache.amazonaws.com",
            elasticache_event_names(settings),
            "ElastiCache replication group changes",
        ),
        ("KmsKeyChanges", "aws.kms", "kms.amazonaws.com", kms_event_names(settings), "KMS key state changes"),
    ]
    found = [
        MatchedEvents(
            rule_id,
            f"Re-evaluate {settings.rule_name} on {what} (CloudTrail API calls)",
            events.EventPattern(
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
        for rule_id, source, event_source, names, what in cloudtrail
    ]
    found.append(
        MatchedEvents(
            "KmsKeyEvents",
            f"Re-evaluate {settings.rule_name} when KMS deletes a key or imported key material expires",
            events.EventPattern(source=["aws.kms"], detail_type=list(KMS_NATIVE_DETAIL_TYPES)),
        )
    )
    return found


def forwarded_events_pattern() -> events.EventPattern:
    """What the central bus passes on to the queue: exactly the sources and detail types the member rules match."""
    return events.EventPattern(
        source=["aws.elasticache", "aws.kms"],
        detail_type=[CLOUDTRAIL_DETAIL_TYPE, *KMS_NATIVE_DETAIL_TYPES],
    )


class ReevaluationQueue(Construct):
    """The debounce queue (+ dead-letter queue) and the function's SQS event source mapping."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, function: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        # Named <rule>-reevaluation (contract 13) so operators find it; SQS names allow 80 characters, rule names 64.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=f"{settings.rule_name}-reevaluation-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=f"{settings.rule_name}-reevaluation",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=self.dead_letter_queue),
        )
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=BATCHING_WINDOW,
                report_batch_item_failures=True,
            )
        )

    def target(self, failure_queue: sqs.IQueue) -> targets.SqsQueue:
        """EventBridge target: the queue, with delivery retries and the failure queue for what cannot be delivered."""
        return targets.SqsQueue(
            self.queue,
            retry_attempts=TARGET_RETRY_ATTEMPTS,
            max_event_age=TARGET_MAX_EVENT_AGE,
            dead_letter_queue=failure_queue,
        )


class Reevaluation(Construct):
    """Account mode: the three rules on the default bus, feeding the re-evaluation queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function: lambda_.Function,
        failure_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = ReevaluationQueue(self, "Queue", settings=settings, function=function)
        self.rules: list[events.Rule] = []
        for matched in matched_events(settings):
            rule = events.Rule(self, matched.rule_id, description=matched.description, event_pattern=matched.pattern)
            rule.add_target(self.queue.target(failure_queue))
            self.rules.append(rule)


class CentralEventBus(Construct):
    """Organization mode: the custom bus member accounts forward to, its organization-only policy, and the rule that
    feeds the re-evaluation queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function: lambda_.Function,
        failure_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        assert settings.organization_id is not None  # noqa: S101 - settings require it in organization modes
        self.bus = events.EventBus(self, "Bus", event_bus_name=EVENT_BUS_NAME)
        # Any principal, but only of this organization (aws:PrincipalOrgID, IAM User Guide "AWS global condition
        # context keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
        # #condition-keys-principalorgid; EventBridge User Guide, "Permissions for event buses in Amazon EventBridge",
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html). The member accounts'
        # forwarding roles are such principals.
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationMembersPutEvents",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": settings.organization_id}},
            )
        )
        self.queue = ReevaluationQueue(self, "Queue", settings=settings, function=function)
        self.rule = events.Rule(
            self,
            "ForwardedChanges",
            event_bus=self.bus,
            description=f"Re-evaluate {settings.rule_name} in the member account and Region an event comes from",
            event_pattern=forwarded_events_pattern(),
        )
        self.rule.add_target(self.queue.target(failure_queue))
