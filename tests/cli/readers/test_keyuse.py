"""Key-use proof: the rate limiter (injected clock), how an event is recognised as ElastiCache's, the window and the
flags, and `cmk-rule evidence` end to end against moto's server with CloudTrail events seeded for some keys and not
others, and with LookupEvents throttled for one key.

moto (5.2) has no LookupEvents: :mod:`cmk_rule_cli.mock.cloudtrail` adds it to moto's server, following the API's
documented contract (one lookup attribute, 50 a page, newest first). The paging of one key over several pages is
checked with botocore's Stubber against the real service model instead.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import botocore.retries.standard
import pytest
from botocore.stub import Stubber

from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import cloudtrail as mock_cloudtrail
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import keyuse
from cmk_rule_cli.reports import scan_report
from tests.support.calls import recording

from ..conftest import assert_follows_the_schema, fresh_account

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
QUERY_ID = "EXAMPLEd-0bd9-4f17-8ff6-123456789012"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_limiter_spaces_requests_two_a_second() -> None:
    fake = FakeClock()
    limiter = keyuse.RateLimiter(2.0, clock=fake.clock, sleep=fake.sleep)
    moments = []
    for _ in range(5):
        limiter.acquire()
        moments.append(fake.now)
    assert [round(b - a, 6) for a, b in itertools.pairwise(moments)] == [0.5] * 4
    fake.now += 10  # idle time is not banked: the next request goes at once, the one after waits again
    limiter.acquire()
    start = fake.now
    limiter.acquire()
    assert fake.now - start == pytest.approx(0.5)


def _event(name: str, moment: datetime, *, by_elasticache: bool, event_id: str = "e1") -> dict[str, Any]:
    record = mock_cloudtrail.kms_record(
        account="123456789012",
        region="us-east-1",
        key_arn=KEY,
        name=name,
        moment=moment,
        event_id=event_id,
        by_elasticache=by_elasticache,
    )
    return {"EventId": event_id, "EventName": name, "EventTime": moment, "CloudTrailEvent": json.dumps(record)}


def test_only_elasticache_decrypt_and_generate_data_key_count() -> None:
    use = keyuse.KeyUse("123456789012", "us-east-1", KEY, ["orders"])
    use.add(_event("Decrypt", NOW - timedelta(days=2), by_elasticache=True, event_id="old"))
    use.add(_event("GenerateDataKeyWithoutPlaintext", NOW - timedelta(days=1), by_elasticache=True, event_id="new"))
    use.add(_event("Decrypt", NOW, by_elasticache=False))  # an application, not ElastiCache
    use.add(_event("DescribeKey", NOW, by_elasticache=True))  # not a use of the key
    assert (use.count, use.other_callers) == (2, 1)
    assert use.first_seen == NOW - timedelta(days=2) and use.last_seen == NOW - timedelta(days=1)
    assert use.example_event_id == "new"
    linked = {"userIdentity": {"arn": f"arn:aws:sts::1:assumed-role/{'AWSServiceRoleForElastiCache'}/x"}}
    assert not keyuse.is_elasticache_call(linked)
    linked["userIdentity"]["sessionContext"] = {  # type: ignore[index]
        "sessionIssuer": {
            "arn": "arn:aws:iam::1:role/aws-service-role/elasticache.amazonaws.com/AWSServiceRoleForElastiCache"
        }
    }
    assert keyuse.is_elasticache_call(linked)


def test_the_window_is_capped_at_the_90_days_of_history_and_says_so() -> None:
    recent = keyuse.window_for(date(2026, 11, 1), date(2026, 11, 30), NOW, history_days=90)
    assert (recent.start, recent.end, recent.cut_by_history) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
        False,
    )
    year = keyuse.window_for(date(2026, 1, 1), date(2026, 12, 31), NOW, history_days=90)
    assert year.start == NOW - timedelta(days=90) and year.end == NOW and year.cut_by_history
    unused = keyuse.KeyUse("123456789012", "us-east-1", KEY, ["orders"])
    assert unused.status(recent) == keyuse.NO_USE_IN_PERIOD and "may no longer use" in str(unused.flag(recent))
    assert unused.status(year) == keyuse.NO_USE_IN_HISTORY and "90 days" in str(unused.flag(year))
    old = keyuse.window_for(date(2025, 1, 1), date(2025, 3, 31), NOW, history_days=90)
    assert old.empty and old.days() == []


def test_paging_one_key_asks_once_per_page_with_one_lookup_attribute() -> None:
    """Stubber against the real CloudTrail model: two pages for one key, the limiter consulted before each."""
    client = boto3.client("cloudtrail", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    window = keyuse.window_for(date(2026, 11, 1), date(2026, 11, 30), NOW, history_days=90)
    expected = {
        "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": KEY}],
        "StartTime": window.start,
        "EndTime": window.end,
        "MaxResults": 50,
    }
    first = [_event("Decrypt", NOW - timedelta(days=3), by_elasticache=True, event_id=f"a{i}") for i in range(50)]
    second = [_event("Decrypt", NOW - timedelta(days=20), by_elasticache=True, event_id="b")]
    fake = FakeClock()
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": first, "NextToken": "t"}, expected)
        stub.add_response("lookup_events", {"Events": second}, {**expected, "NextToken": "t"})
        use = keyuse.KeyUse("123456789012", "us-east-1", KEY, ["orders"])
        keyuse.read_key_use(client, use, window, keyuse.RateLimiter(clock=fake.clock, sleep=fake.sleep))
        stub.assert_no_pending_responses()
    assert (use.count, use.pages, use.truncated) == (51, 2, False)
    assert len(fake.sleeps) == 1 and fake.sleeps[0] == pytest.approx(0.5)


# --- end to end ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(moto_endpoint: str) -> Iterator[tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory]]:
    """The small fleet in us-east-1: ElastiCache used the approved key (and an app the unapproved one); the
    rotation-off key has no event at all."""
    make_client = fresh_account(moto_endpoint)
    seeded_fleet = fleet.seed_region(make_client, "us-east-1", full=False)
    with mock_cloudtrail.event_history() as history:
        now = datetime.now(UTC)
        history.add_key_use(
            account=mock_aws.ACCOUNT_ID,
            region="us-east-1",
            key_arn=seeded_fleet.keys["approved"],
            moments=[now - timedelta(days=d, hours=1) for d in range(0, 20, 2)],
        )
        history.add_key_use(
            account=mock_aws.ACCOUNT_ID,
            region="us-east-1",
            key_arn=seeded_fleet.keys["unapproved"],
            moments=[now - timedelta(days=4)],
            by_elasticache=False,
        )
        yield seeded_fleet, history


def _run(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["evidence", "--region", "us-east-1", "--output-dir", str(folder), *extra]
    argv += ["--period-start", (datetime.now(UTC) - timedelta(days=30)).date().isoformat()]
    code = main(argv)
    document: dict[str, Any] = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    assert_follows_the_schema(document)  # used, unused, not read, not asked for, or read from a Lake
    return code, document


def test_keys_with_and_without_elasticache_use(
    aws_env: str, seeded: tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory], tmp_path: Path
) -> None:
    seeded_fleet, history = seeded
    with recording() as log:
        code, document = _run(tmp_path / "pack")
    assert code == scan_report.EXIT_NON_COMPLIANT
    keys = {k["key_arn"]: k for k in document["key_use"]["keys"]}
    approved, unapproved = seeded_fleet.keys["approved"], seeded_fleet.keys["unapproved"]
    assert keys[approved]["use_status"] == keyuse.USED and keys[approved]["elasticache_calls"] == 10
    assert keys[approved]["example_event_id"] and keys[approved]["first_seen"] < keys[approved]["last_seen"]
    assert sum(keys[approved]["daily"].values()) == 10
    assert keys[unapproved]["use_status"] == keyuse.NO_USE_IN_PERIOD and keys[unapproved]["other_callers"] == 1
    assert any(unapproved in flag for flag in document["flags"]) and not any(approved in f for f in document["flags"])
    # one LookupEvents per key (each key fits a page), never one per group, and only with ResourceName
    lookups = [r for r in history.requests if r["region"] == "us-east-1"]
    assert log.count("LookupEvents") == len(keys) and len(lookups) >= len(keys)
    assert all([a["AttributeKey"] for a in r["LookupAttributes"]] == ["ResourceName"] for r in lookups)
    groups = {g["group_id"]: g for g in document["groups"]}
    assert groups["orders"]["key_use"] == keyuse.USED and groups["orders"]["key_use_calls"] == 10
    assert groups["analytics-unapproved"]["key_use"] == keyuse.NO_USE_IN_PERIOD
    assert groups["sessions-default-key"]["key_use"] is None  # no customer-managed key to prove
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pack" / "key-use.csv").read_text(encoding="utf-8"))))
    assert {r["key_arn"]: r["use_status"] for r in rows} == {k: v["use_status"] for k, v in keys.items()}
    html = (tmp_path / "pack" / "summary.html").read_text(encoding="utf-8")
    assert "Key-use proof" in html and f'title="{unapproved}"' in html and "NO_USE_IN_PERIOD" in html
    assert document["complete"] is True


def test_a_throttled_lookup_is_named_and_everything_else_is_written(
    aws_env: str,
    seeded: tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded_fleet, history = seeded
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    throttled = seeded_fleet.keys["unapproved"]
    history.throttle(throttled)
    try:
        code, document = _run(tmp_path / "pack")
    finally:
        history.throttled.clear()
    err = capsys.readouterr().err
    assert code == scan_report.EXIT_ERROR
    assert document["complete"] is False
    assert any(
        "cloudtrail:LookupEvents" in p and throttled in p and "ThrottlingException" in p for p in document["problems"]
    )
    keys = {k["key_arn"]: k for k in document["key_use"]["keys"]}
    assert keys[throttled]["use_status"] == keyuse.NOT_READ and keys[throttled]["elasticache_calls"] is None
    assert keys[seeded_fleet.keys["approved"]]["use_status"] == keyuse.USED  # the others are still read
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False and any(throttled in p for p in manifest["not_read"])
    assert "ThrottlingException" in err and "Traceback" not in err
    assert {e["path"] for e in manifest["files"]} >= {"groups.csv", "key-use.csv", "summary.html"}


def test_no_key_use_says_it_was_not_read(
    aws_env: str, seeded: tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory], tmp_path: Path
) -> None:
    with recording() as log:
        _, document = _run(tmp_path / "pack", "--no-key-use")
    assert log.count("LookupEvents") == 0
    assert document["key_use"]["read"] is False and document["key_use"]["keys"] == []


class _Rows(HTMLParser):
    """The text of each table row of the group tables, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self._in_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._in_row = True
            self.rows.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_row = False
        elif tag in ("td", "th", "br") and self._in_row:
            self.rows[-1] += " "  # cells apart; a status word split by <wbr> stays one word

    def handle_data(self, data: str) -> None:
        if self._in_row:
            self.rows[-1] += data


def test_the_html_lists_every_group_with_failures_first(
    aws_env: str, seeded: tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory], tmp_path: Path
) -> None:
    seeded_fleet, _ = seeded
    _run(tmp_path / "pack")
    page = _Rows()
    page.feed((tmp_path / "pack" / "summary.html").read_text(encoding="utf-8"))
    page.close()
    rank = {"NON_COMPLIANT": 0, "SKIPPED": 1, "NOT_APPLICABLE": 2, "COMPLIANT": 3}
    group_rows = [  # rows of the group tables: they start with the verdict and name a group
        row
        for row in page.rows
        if row.split() and row.split()[0] in rank and any(f" {g.group_id} " in f" {row}" for g in seeded_fleet.groups)
    ]
    verdict_order = [row.split()[0] for row in group_rows]
    assert {"COMPLIANT", "NON_COMPLIANT"} <= set(verdict_order)
    assert verdict_order == sorted(verdict_order, key=rank.__getitem__)  # failures first, passes last
    for group in seeded_fleet.groups:
        assert any(f" {group.group_id} " in f" {row}" for row in group_rows), group.group_id


# --- CloudTrail Lake (moto has no Lake queries: Stubber against the real service model) ------------------------


def test_one_lake_query_for_every_key(
    aws_env: str,
    seeded: tuple[fleet.SeededFleet, mock_cloudtrail.EventHistory],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeded_fleet, _ = seeded
    store = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
    client = boto3.client("cloudtrail", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    approved = seeded_fleet.keys["approved"]
    key_id = approved.rsplit("/", 1)[-1]  # ElastiCache may name the key by id in requestParameters
    row = [
        {"key_id": key_id},
        {"account": mock_aws.ACCOUNT_ID},
        {"region": "us-east-1"},
        {"day": "2026-11-20"},
        {"calls": "7"},
        {"first_seen": "2026-11-20 01:02:03.000"},
        {"last_seen": "2026-11-20 09:02:03.000"},
        {"example": "lake-event-1"},
    ]
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("start_query", {"QueryId": QUERY_ID})
        stub.add_response(
            "get_query_results", {"QueryStatus": "RUNNING"}, {"EventDataStore": store, "QueryId": QUERY_ID}
        )
        stub.add_response(
            "get_query_results",
            {"QueryStatus": "FINISHED", "QueryResultRows": [row]},
            {"EventDataStore": store, "QueryId": QUERY_ID},
        )
        monkeypatch.setattr(keyuse.time, "sleep", sleeps.append)
        monkeypatch.setattr("cmk_rule_cli.readers.session.home_client", lambda args, service: client)
        with recording() as log:
            _, document = _run(tmp_path / "pack", "--cloudtrail-lake", store, "--period-start", "2026-01-01")
        stub.assert_no_pending_responses()
    assert log.count("LookupEvents") == 0 and sleeps == [keyuse.LAKE_POLL_SECONDS]
    keys = {k["key_arn"]: k for k in document["key_use"]["keys"]}
    assert keys[approved]["elasticache_calls"] == 7 and keys[approved]["example_event_id"] == "lake-event-1"
    assert keys[seeded_fleet.keys["unapproved"]]["use_status"] == keyuse.NO_USE_IN_PERIOD  # Lake keeps the period
    assert document["key_use"]["history_days"] is None and document["key_use"]["period_reaches_past_history"] is False


def test_the_lake_query_carries_only_a_validated_id() -> None:
    window = keyuse.window_for(date(2026, 11, 1), date(2026, 11, 30), NOW, history_days=None)
    sql = keyuse.lake_query(keyuse.event_data_store_id("EXAMPLE-1234"), window)
    assert "FROM EXAMPLE-1234 " in sql and "eventTime >= '2026-11-01 00:00:00'" in sql
    with pytest.raises(ValueError, match="not a CloudTrail Lake event data store"):
        keyuse.event_data_store_id("x; DROP TABLE y")
