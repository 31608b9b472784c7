"""The partial-batch retry loop both reporters need: PutEvaluations and BatchImportFindings accept a batch and
name the items they did not take (``FailedEvaluations`` / ``FailedFindings``); those are sent again a few times with
a growing pause, and whatever still fails is handed back to the caller to be named (never dropped silently).

botocore's own retries cover a call that fails as a whole (throttling, 5xx); this loop covers the items a
successful call reports as failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def send_with_retries(
    batch: list[T],
    send: Callable[[list[T]], list[T]],
    *,
    attempts: int,
    delay_seconds: float,
    sleep: Callable[[float], None],
) -> list[T]:
    """Call ``send(pending)`` until it returns nothing to retry, at most ``attempts`` times (pausing
    ``delay_seconds * attempt`` between calls); return the items still failing after the last attempt.

    ``send`` makes one call, records what was accepted or failed for good, and returns the items worth sending
    again. It is called at least once, even for an empty batch (PutEvaluations' heartbeat needs that call).
    """
    pending = batch
    for attempt in range(1, attempts + 1):
        pending = send(pending)
        if not pending:
            return []
        if attempt < attempts:
            sleep(delay_seconds * attempt)
    return pending
