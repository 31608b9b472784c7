"""The shared partial-batch retry loop of both reporters."""

from __future__ import annotations

from cmk_rule.batches import send_with_retries
from cmk_rule.timestamps import iso_z


def test_items_are_resent_until_accepted_with_a_growing_pause() -> None:
    calls: list[list[str]] = []
    pauses: list[float] = []

    def send(pending: list[str]) -> list[str]:
        calls.append(list(pending))
        return [item for item in pending if item == "b"] if len(calls) == 1 else []

    assert send_with_retries(["a", "b"], send, attempts=3, delay_seconds=1.0, sleep=pauses.append) == []
    assert calls == [["a", "b"], ["b"]]
    assert pauses == [1.0]


def test_what_still_fails_after_the_last_attempt_is_handed_back() -> None:
    pauses: list[float] = []
    calls: list[list[str]] = []

    def send(pending: list[str]) -> list[str]:
        calls.append(list(pending))
        return pending

    assert send_with_retries(["x"], send, attempts=3, delay_seconds=0.5, sleep=pauses.append) == ["x"]
    assert len(calls) == 3
    assert pauses == [0.5, 1.0]  # no pause after the last attempt


def test_an_empty_batch_is_still_sent_once() -> None:
    calls: list[list[str]] = []
    assert (
        send_with_retries([], lambda p: calls.append(p) or [], attempts=3, delay_seconds=1, sleep=lambda _: None) == []
    )
    assert calls == [[]]


def test_timestamps_are_utc_milliseconds_with_a_z() -> None:
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=2)))
    assert iso_z(moment) == "2026-11-30T23:02:03.456Z"
