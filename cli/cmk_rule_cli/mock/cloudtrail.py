"""CloudTrail event history for the mock account: moto (5.x) has no ``LookupEvents`` at all, so this adds one.

:func:`event_history` patches ``lookup_events`` into moto's CloudTrail responses for the duration of a block, served
from an in-memory store of events shaped like AWS's (``EventId``, ``EventName``, ``EventTime``, ``EventSource``,
``Resources`` with ``ResourceName`` = the key ARN, and ``CloudTrailEvent``, the record as a JSON string). It follows
the documented contract (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html): at
most one lookup attribute (``InvalidLookupAttributesException`` otherwise), ``MaxResults`` 1-50, newest first,
``NextToken`` paging, ``StartTime``/``EndTime`` inclusive. It does not enforce the 2 requests/s quota by itself;
:meth:`EventHistory.throttle` makes lookups of chosen resources answer ``ThrottlingException`` instead.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

from cmk_rule_cli.readers.keyuse import ELASTICACHE


def kms_record(
    *, account: str, region: str, key_arn: str, name: str, moment: datetime, event_id: str, by_elasticache: bool
) -> dict[str, Any]:
    """A KMS management event record as CloudTrail writes it (fields as in KMS's CloudTrail examples,
    https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html); ElastiCache's carry ``invokedBy``."""
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEID:app",
        "arn": f"arn:aws:sts::{account}:assumed-role/app/session",
        "accountId": account,
    }
    source = "192.0.2.10"
    if by_elasticache:
        identity["invokedBy"] = ELASTICACHE
        source = ELASTICACHE
    return {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source,
        "userAgent": source if by_elasticache else "aws-sdk-python",
        "requestParameters": {"keyId": key_arn, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id,
        "readOnly": True,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


@dataclass
class EventHistory:
    """Events per (account, Region), and the resources whose lookups are throttled."""

    events: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    throttled: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_key_use(
        self,
        *,
        account: str,
        region: str,
        key_arn: str,
        moments: Iterable[datetime],
        name: str = "Decrypt",
        by_elasticache: bool = True,
    ) -> list[str]:
        """Record one KMS call per moment on ``key_arn``; returns the event ids."""
        ids = []
        with self.lock:
            for moment in moments:
                event_id = str(uuid.uuid4())
                record = kms_record(
                    account=account,
                    region=region,
                    key_arn=key_arn,
                    name=name,
                    moment=moment,
                    event_id=event_id,
                    by_elasticache=by_elasticache,
                )
                self.events.setdefault((account, region), []).append(
                    {
                        "EventId": event_id,
                        "EventName": name,
                        "ReadOnly": "true",
                        "EventTime": moment.timestamp(),
                        "EventSource": "kms.amazonaws.com",
                        "Username": "app",
                        "Resources": [{"ResourceType": "AWS::KMS::Key", "ResourceName": key_arn}],
                        "CloudTrailEvent": json.dumps(record),
                    }
                )
                ids.append(event_id)
        return ids

    def throttle(self, resource_name: str) -> None:
        """Answer ``ThrottlingException`` to every lookup of this resource (as a busy account's quota would)."""
        self.throttled.add(resource_name)

    def lookup(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """LookupEvents over the store (see module doc)."""
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise JsonRESTError("InvalidLookupAttributesException", "You can only specify one lookup attribute.")
        limit = int(params.get("MaxResults") or 50)
        if not 1 <= limit <= 50:
            raise JsonRESTError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        with self.lock:
            self.requests.append({"account": account, "region": region, **params})
            candidates = list(self.events.get((account, region), []))
        if attributes:
            key, value = attributes[0]["AttributeKey"], attributes[0]["AttributeValue"]
            if key == "ResourceName" and value in self.throttled:
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            candidates = [event for event in candidates if _matches(event, key, value)]
        start, end = params.get("StartTime"), params.get("EndTime")
        candidates = [
            e
            for e in candidates
            if (start is None or e["EventTime"] >= start) and (end is None or e["EventTime"] <= end)
        ]
        candidates.sort(key=lambda e: e["EventTime"], reverse=True)  # newest first, as CloudTrail returns them
        offset = int(params.get("NextToken") or 0)
        page = candidates[offset : offset + limit]
        response: dict[str, Any] = {"Events": page}
        if offset + limit < len(candidates):
            response["NextToken"] = str(offset + limit)
        return response


def _matches(event: dict[str, Any], key: str, value: str) -> bool:
    if key == "ResourceName":
        return any(r["ResourceName"] == value for r in event["Resources"])
    if key == "EventSource":
        return bool(event["EventSource"] == value)
    if key == "EventName":
        return bool(event["EventName"] == value)
    if key == "EventId":
        return bool(event["EventId"] == value)
    raise JsonRESTError("InvalidLookupAttributesException", f"lookup attribute {key} is not supported by the mock")


_ACTIVE: list[EventHistory] = []


def _lookup_events(self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    return json.dumps(_ACTIVE[-1].lookup(self.current_account, self.region, params))


@contextmanager
def event_history() -> Iterator[EventHistory]:
    """Patch ``LookupEvents`` into moto's CloudTrail for the block (in-process and in a ThreadedMotoServer)."""
    history = EventHistory()
    original = getattr(CloudTrailResponse, "lookup_events", None)
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]
    _ACTIVE.append(history)
    try:
        yield history
    finally:
        _ACTIVE.remove(history)
        if original is None:
            delattr(CloudTrailResponse, "lookup_events")
        else:
            CloudTrailResponse.lookup_events = original  # type: ignore[attr-defined]


# Which demo keys ElastiCache "used", and how: (fleet key role, ElastiCache calls a day, days back it ran).
DEMO_USE = (("approved", 3, 30), ("unapproved", 1, 12), ("disabled", 2, 5))


def seed_demo(history: EventHistory, fleets: Mapping[str, Any], *, account: str, now: datetime) -> None:
    """ElastiCache's KMS calls for some demo keys and not others: the approved and unapproved keys were used (with
    ``GenerateDataKey`` among the ``Decrypt`` calls), the rotation-off approved key only by an application (so it is
    flagged: no ElastiCache use in the period)."""
    for region, seeded in fleets.items():
        for role, per_day, days in DEMO_USE:
            key_arn = seeded.keys.get(role)
            if not key_arn:
                continue
            moments = [now - timedelta(days=day, hours=hour * 5 + 1) for day in range(days) for hour in range(per_day)]
            history.add_key_use(account=account, region=region, key_arn=key_arn, moments=moments[1:])
            history.add_key_use(
                account=account, region=region, key_arn=key_arn, moments=moments[:1], name="GenerateDataKey"
            )
        other = seeded.keys.get("approved-no-rotation")
        if other:
            history.add_key_use(
                account=account,
                region=region,
                key_arn=other,
                moments=[now - timedelta(days=2), now - timedelta(days=9)],
                by_elasticache=False,
            )
