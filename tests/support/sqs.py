"""SQS batches of forwarded EventBridge events, shaped like tests/events/sqs_reevaluation_batch.json, and a record
of the StartConfigRulesEvaluation calls moto receives (with the account whose credentials signed each one)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.config.responses import ConfigResponse

from tests.support.events import load_event

_TEMPLATE = load_event("sqs_reevaluation_batch")["Records"][0]


def forwarded(account: str, region: str = "us-east-1", *, kind: str = "eventbridge_kms_cmk_deletion") -> dict[str, Any]:
    """A sample EventBridge event as a member account's rule forwards it (its own account and Region)."""
    event = load_event(kind)
    event.update(account=account, region=region, id=str(uuid.uuid4()))
    return event


def record(event: dict[str, Any] | str, message_id: str | None = None) -> dict[str, Any]:
    """One SQS record carrying ``event`` (an EventBridge event, or any body text) as its body."""
    body = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
    item = copy.deepcopy(_TEMPLATE)
    item.update(
        messageId=message_id or str(uuid.uuid4()),
        body=body,
        md5OfBody=hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum of the body
    )
    return item


def batch(*events: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS event source mapping's event: one record per event."""
    return {"Records": [record(event) for event in events]}


@dataclass
class Starts:
    """Every StartConfigRulesEvaluation moto served: (account, Region, rule names)."""

    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def accounts(self) -> list[tuple[str, str]]:
        return [(account, region) for account, region, _ in self.calls]


@contextmanager
def recording_starts() -> Iterator[Starts]:
    """Record StartConfigRulesEvaluation with the calling account (the results store keeps only the names)."""
    starts = Starts()

    def start(self: ConfigResponse) -> str:
        starts.calls.append((self.current_account, self.region, list(self._get_param("ConfigRuleNames") or [])))
        return json.dumps({})

    with mock.patch.object(ConfigResponse, "start_config_rules_evaluation", start, create=True):
        yield starts
