"""Loading the real-shaped sample events in tests/events/, overriding only what a test is about."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str, *, invoking: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """The sample event ``name`` (without .json); ``invoking`` merges into invokingEvent, ``top`` into the envelope."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    if invoking:
        inner = json.loads(event["invokingEvent"])
        inner.update(copy.deepcopy(invoking))
        event["invokingEvent"] = json.dumps(inner)
    event.update(top)
    return event


def configuration_item(event: dict[str, Any]) -> dict[str, Any]:
    """The configuration item inside a change event."""
    return dict(json.loads(event["invokingEvent"])["configurationItem"])


def with_configuration_item(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a change event whose configuration item has ``changes`` applied."""
    inner = json.loads(event["invokingEvent"])
    inner["configurationItem"].update(changes)
    return {**event, "invokingEvent": json.dumps(inner)}
