"""Key-use proof: CloudTrail's record of ElastiCache calling ``kms:Decrypt`` / ``kms:GenerateDataKey*`` with each
customer-managed key that protects a replication group ("ongoing proof the CMK is in active use", control text).

**Where the events come from.** KMS ``Decrypt`` and ``GenerateDataKey*`` are management events, so CloudTrail's event
history keeps them for 90 days without any trail (``LookupEvents``,
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html: "events that occurred in a Region
within the last 90 days", at most 50 events a page, "limited to two [requests] per second, per account, per Region").

**One query per key, not per period.** ``LookupEvents`` accepts exactly one lookup attribute. We ask ``ResourceName =
<key ARN>`` (KMS lists the key's ARN in each event's ``resources``:
https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html), so each page holds only events of keys that
protect a group (``LookupEvents`` returns each event's ``Resources`` as ``ResourceName`` values, the key ARN for KMS;
the mock account's stand-in follows that, a real account has not been tried here). The alternative, ``EventSource =
kms.amazonaws.com`` once per period, returns *every* KMS call of the account and Region (every application's decrypts,
every service's data keys): at 50 events a request and 2 requests a second that is hours of paging in a busy account
to find a few ElastiCache calls. Per key, the cost is one request per 50 events of that key, bounded by
:data:`MAX_PAGES_PER_KEY`.

**How an event is ElastiCache's.** ElastiCache calls KMS on your behalf; CloudTrail then names the calling service in
``userIdentity.invokedBy`` (the AWS service that made the request on the principal's behalf,
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html), and such
calls carry the service's name as ``sourceIPAddress`` / ``userAgent`` instead of an address (record contents:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
ElastiCache's at-rest encryption page
(https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html) documents no encryption context,
so none is relied on. A call made with ElastiCache's service-linked role
(``role/aws-service-role/elasticache.amazonaws.com/...``) counts as well.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmk_rule.aws import call_error
from cmk_rule.errors import AwsCallError
from cmk_rule_cli.reports.output import iso

ELASTICACHE = "elasticache.amazonaws.com"
_SERVICE_LINKED_ROLE = f"role/aws-service-role/{ELASTICACHE}/"
EVENT_HISTORY_DAYS = 90
LOOKUP_EVENTS_PER_SECOND = 2.0
PAGE_SIZE = 50  # LookupEvents' maximum
MAX_PAGES_PER_KEY = 200  # 10,000 events; beyond that the count is a lower bound (``truncated``)
MAX_PARALLEL_REGIONS = 4
LOOKUP_OPERATION = "cloudtrail:LookupEvents"

# Verdicts on a key's use, as every output names them.
USED = "USED"
NO_USE_IN_PERIOD = "NO_USE_IN_PERIOD"
NO_USE_IN_HISTORY = "NO_USE_IN_KEPT_HISTORY"
NOT_READ = "NOT_READ"


def is_key_use_event(name: str) -> bool:
    """``Decrypt`` and every ``GenerateDataKey*`` variant (``WithoutPlaintext``, ``Pair``...)."""
    return name == "Decrypt" or name.startswith("GenerateDataKey")


def is_elasticache_call(record: Mapping[str, Any]) -> bool:
    """True when a CloudTrail record (the parsed ``CloudTrailEvent``) was made by ElastiCache (see module doc)."""
    identity = record.get("userIdentity") or {}
    if identity.get("invokedBy") == ELASTICACHE:
        return True
    if record.get("sourceIPAddress") == ELASTICACHE or record.get("userAgent") == ELASTICACHE:
        return True
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn", "")
    return _SERVICE_LINKED_ROLE in str(identity.get("arn", "")) or _SERVICE_LINKED_ROLE in str(issuer)


class RateLimiter:
    """At most ``per_second`` requests a second, spaced evenly, shared by the threads that hold it.

    CloudTrail throttles ``LookupEvents`` per account and Region, so there is one limiter per account/Region. The
    clock and sleep are injectable so the spacing can be tested without waiting.
    """

    def __init__(
        self,
        per_second: float = LOOKUP_EVENTS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this caller's slot (slots are handed out in call order)."""
        with self._lock:
            now = self._clock()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


@dataclass(frozen=True)
class Window:
    """The part of the audit period CloudTrail can still show (event history: the last 90 days)."""

    start: datetime
    end: datetime
    period_start: datetime
    history_start: datetime | None  # None: the source keeps everything asked for (CloudTrail Lake)

    @property
    def empty(self) -> bool:
        return self.start >= self.end

    @property
    def cut_by_history(self) -> bool:
        """True when part of the period is older than what the source keeps."""
        return self.history_start is not None and self.period_start < self.history_start

    def days(self) -> list[date]:
        """Every UTC day of the window, for the per-day bars."""
        if self.empty:
            return []
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def window_for(period_start: date, period_end: date, now: datetime, *, history_days: int | None) -> Window:
    """The period as datetimes (end inclusive: up to midnight after it), capped at now and at the kept history."""
    start = datetime(period_start.year, period_start.month, period_start.day, tzinfo=UTC)
    end = min(datetime(period_end.year, period_end.month, period_end.day, tzinfo=UTC) + timedelta(days=1), now)
    history = now - timedelta(days=history_days) if history_days is not None else None
    return Window(max(start, history) if history else start, end, start, history)


@dataclass
class KeyUse:
    """What CloudTrail showed for one key in one account and Region."""

    account: str
    region: str
    key_arn: str
    groups: list[str]
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example_event_id: str | None = None
    daily: Counter[date] = field(default_factory=Counter)
    other_callers: int = 0  # Decrypt/GenerateDataKey* on this key by someone else (not ElastiCache)
    pages: int = 0
    truncated: bool = False
    error: AwsCallError | None = None

    def add(self, event: Mapping[str, Any]) -> None:
        """Count one ``LookupEvents`` event if it is ElastiCache using the key."""
        if not is_key_use_event(str(event.get("EventName", ""))):
            return
        try:
            record = json.loads(event.get("CloudTrailEvent") or "{}")
        except ValueError:
            record = {}
        if not is_elasticache_call(record):
            self.other_callers += 1
            return
        moment = event["EventTime"]
        moment = moment.astimezone(UTC) if isinstance(moment, datetime) else _parse_time(str(moment))
        self.count += 1
        self.daily[moment.date()] += 1
        if self.first_seen is None or moment < self.first_seen:
            self.first_seen = moment
        if self.last_seen is None or moment >= self.last_seen:
            self.last_seen, self.example_event_id = moment, str(event.get("EventId", "")) or None

    def status(self, window: Window) -> str:
        """USED, NO_USE_IN_PERIOD, NO_USE_IN_KEPT_HISTORY (the period reaches past the history) or NOT_READ."""
        if self.error is not None:
            return NOT_READ
        if self.count:
            return USED
        return NO_USE_IN_HISTORY if window.cut_by_history else NO_USE_IN_PERIOD

    def flag(self, window: Window) -> str | None:
        """One sentence for a key without proven use (None when ElastiCache's use was seen)."""
        status = self.status(window)
        where = f"key {self.key_arn} ({self.account}, {self.region}; protects {', '.join(self.groups)})"
        if status == USED:
            return None
        if status == NOT_READ:
            return f"{where}: its use could not be read ({self.error}); not proven either way."
        if status == NO_USE_IN_PERIOD:
            return (
                f"{where}: no ElastiCache Decrypt/GenerateDataKey call in the period "
                f"{_day(window.start)} to {_day(window.end, end=True)}; ElastiCache may no longer use this key."
            )
        return (
            f"{where}: no ElastiCache Decrypt/GenerateDataKey call since {_day(window.start)}, the oldest day "
            f"CloudTrail event history keeps ({EVENT_HISTORY_DAYS} days); the period starts "
            f"{_day(window.period_start)}, and use before the history cannot be seen here (a trail's logs or "
            "CloudTrail Lake keep it)."
        )

    def as_row(self, window: Window) -> dict[str, str | int | bool | None]:
        """The key as a flat row (CSV, JSON)."""
        return {
            "account": self.account,
            "region": self.region,
            "key_arn": self.key_arn,
            "groups": " ".join(self.groups),
            "use_status": self.status(window),
            "elasticache_calls": self.count if self.error is None else None,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "example_event_id": self.example_event_id,
            "other_callers": self.other_callers if self.error is None else None,
            "truncated": self.truncated,
            "window_start": iso(window.start),
            "window_end": iso(window.end),
            "flag": self.flag(window),
        }


def _day(moment: datetime, *, end: bool = False) -> str:
    return ((moment - timedelta(microseconds=1)) if end else moment).date().isoformat()


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def read_key_use(
    cloudtrail: Any, use: KeyUse, window: Window, limiter: RateLimiter, *, max_pages: int = MAX_PAGES_PER_KEY
) -> None:
    """Page through the key's events in the window (one ``LookupEvents`` per page, each waiting for the limiter).

    A failure after botocore's retries (throttling, access denied) is recorded on ``use.error``: the key is then
    NOT_READ, never "unused".
    """
    if window.empty:
        return
    # The limiter waits before every LookupEvents the paginator actually sends (a hook, so no wait is spent on a
    # page that is never asked for); botocore's retries of one call back off on their own.
    cloudtrail.meta.events.register(
        "before-parameter-build.cloudtrail.LookupEvents",
        lambda **_: limiter.acquire(),
        unique_id=f"cmk-rule-limiter-{id(limiter)}",
    )
    paginator = cloudtrail.get_paginator("lookup_events")
    pages = paginator.paginate(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": use.key_arn}],
        StartTime=window.start,
        EndTime=window.end,
        PaginationConfig={"PageSize": PAGE_SIZE, "MaxItems": PAGE_SIZE * max_pages},
    )
    try:
        for page in pages:
            use.pages += 1
            for event in page.get("Events", []):
                use.add(event)
        use.truncated = bool(pages.resume_token)
    except (ClientError, BotoCoreError) as error:
        use.error = call_error(LOOKUP_OPERATION, error)


@dataclass(frozen=True)
class KeyTask:
    """One key to prove, with where to ask."""

    account: str
    region: str
    key_arn: str
    groups: tuple[str, ...]


def tasks_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[KeyTask]:
    """The customer-managed keys that protect a group, one task per account, Region and key (not per group)."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        if row.get("key_manager") != "CUSTOMER" or not row.get("key_arn"):
            continue
        where = (str(row["account"]), str(row["region"]), str(row["key_arn"]))
        found.setdefault(where, []).append(str(row["group_id"]))
    return [KeyTask(a, r, k, tuple(sorted(g))) for (a, r, k), g in sorted(found.items())]


def prove(
    tasks: Iterable[KeyTask],
    window: Window,
    cloudtrail_for: Callable[[str, str], Any],
    *,
    advance: Callable[[str], None] = lambda _: None,
    limiter_factory: Callable[[], RateLimiter] = RateLimiter,
    max_pages: int = MAX_PAGES_PER_KEY,
) -> list[KeyUse]:
    """Read every key's use: account/Regions in parallel (each has its own quota), keys of one Region in turn."""
    by_place: dict[tuple[str, str], list[KeyTask]] = {}
    for task in tasks:
        by_place.setdefault((task.account, task.region), []).append(task)

    def run_place(place: tuple[str, str]) -> list[KeyUse]:
        limiter, results = limiter_factory(), []
        client = cloudtrail_for(*place)
        for task in by_place[place]:
            use = KeyUse(task.account, task.region, task.key_arn, list(task.groups))
            read_key_use(client, use, window, limiter, max_pages=max_pages)
            results.append(use)
            advance(task.key_arn)
        return results

    if not by_place:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_REGIONS, len(by_place))) as pool:
        return [use for uses in pool.map(run_place, sorted(by_place)) for use in uses]


def problems(uses: Iterable[KeyUse]) -> list[str]:
    """One sentence per account/Region whose key use could not be read (throttled, denied), naming the keys."""
    failed: dict[tuple[str, str], list[KeyUse]] = {}
    for use in uses:
        if use.error is not None:
            failed.setdefault((use.account, use.region), []).append(use)
    sentences = []
    for (account, region), uses_here in sorted(failed.items()):
        keys = ", ".join(u.key_arn for u in uses_here)
        sentences.append(
            f"{LOOKUP_OPERATION} could not be read in account {account}, {region} for {len(uses_here)} key(s) "
            f"({keys}): {uses_here[0].error}; their use is not proven, run again later."
        )
    return sentences


# --- CloudTrail Lake ----------------------------------------------------------------------------------------------

LAKE_OPERATION = "cloudtrail:StartQuery"
LAKE_POLL_SECONDS = 2.0
LAKE_MAX_POLLS = 450  # 15 minutes
_EVENT_DATA_STORE = re.compile(r"^(?:arn:[\w-]+:cloudtrail:[\w-]+:\d{12}:eventdatastore/)?([A-Za-z0-9-]{1,128})$")


def event_data_store_id(value: str) -> str:
    """The id an event data store is queried by (``FROM <id>``), from its id or ARN; anything else is refused, so
    nothing but that id reaches the SQL text."""
    match = _EVENT_DATA_STORE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not a CloudTrail Lake event data store id or ARN")
    return match.group(1)


def lake_query(store_id: str, window: Window) -> str:
    """One SQL query for every key: ElastiCache's key-use calls in the window, per key, account, Region and day.

    CloudTrail Lake runs Trino SQL over the event's fields, ``FROM`` the event data store's id
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-limitations.html); ``requestParameters`` is a
    map of strings, so the key comes from ``element_at(requestParameters, 'keyId')``. Only our own validated id and
    timestamps are put into the text.
    """
    start, end = (moment.strftime("%Y-%m-%d %H:%M:%S") for moment in (window.start, window.end))
    # StartQuery has no bind parameters for a free-form statement; the only inserted values are the validated id
    # and our own timestamps.
    columns = (
        "SELECT element_at(requestParameters, 'keyId') AS key_id, recipientAccountId AS account, awsRegion AS region, "
        "date(eventTime) AS day, count(*) AS calls, min(eventTime) AS first_seen, max(eventTime) AS last_seen, "
        "max(eventID) AS example"
    )
    source = f"FROM {store_id}"
    conditions = (
        "WHERE eventSource = 'kms.amazonaws.com' AND (eventName = 'Decrypt' OR eventName LIKE 'GenerateDataKey%') "
        f"AND eventTime >= '{start}' AND eventTime < '{end}' "
        f"AND (userIdentity.invokedBy = '{ELASTICACHE}' OR sourceIPAddress = '{ELASTICACHE}') GROUP BY 1, 2, 3, 4"
    )
    return " ".join((columns, source, conditions))


def _matches_key(key_arn: str, key_id: str) -> bool:
    return key_id == key_arn or key_arn.endswith(f":key/{key_id}")


def prove_with_lake(
    tasks: Iterable[KeyTask],
    window: Window,
    cloudtrail: Any,
    store: str,
    *,
    sleep: Callable[[float], None] | None = None,
) -> list[KeyUse]:
    """Every key's use from one CloudTrail Lake query (``StartQuery``, then ``GetQueryResults`` until FINISHED)."""
    sleep = sleep or time.sleep
    uses = [KeyUse(t.account, t.region, t.key_arn, list(t.groups)) for t in tasks]
    if not uses or window.empty:
        return uses
    try:
        query_id = cloudtrail.start_query(QueryStatement=lake_query(event_data_store_id(store), window))["QueryId"]
        rows = _lake_rows(cloudtrail, store, query_id, sleep)
    except (ClientError, BotoCoreError) as error:
        failure = call_error(LAKE_OPERATION, error)
        for use in uses:
            use.error = failure
        return uses
    except RuntimeError as error:
        for use in uses:
            use.error = AwsCallError(LAKE_OPERATION, str(error))
        return uses
    for row in rows:
        for use in uses:
            same_place = use.account == row.get("account") and use.region == row.get("region")
            if same_place and _matches_key(use.key_arn, str(row.get("key_id", ""))):
                _add_lake_row(use, row)
    return uses


def _lake_rows(cloudtrail: Any, store: str, query_id: str, sleep: Callable[[float], None]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    token: str | None = None
    for _ in range(LAKE_MAX_POLLS):
        request: dict[str, Any] = {"EventDataStore": store, "QueryId": query_id}
        if token:
            request["NextToken"] = token
        answer = cloudtrail.get_query_results(**request)
        status = answer.get("QueryStatus")
        if status in ("QUEUED", "RUNNING"):
            sleep(LAKE_POLL_SECONDS)
            continue
        if status != "FINISHED":
            raise RuntimeError(f"the CloudTrail Lake query {query_id} ended {status}: {answer.get('ErrorMessage', '')}")
        for row in answer.get("QueryResultRows", []):
            rows.append({name: value for column in row for name, value in column.items()})
        token = answer.get("NextToken")
        if not token:
            return rows
    raise RuntimeError(f"the CloudTrail Lake query {query_id} did not finish in {LAKE_MAX_POLLS} polls")


def _add_lake_row(use: KeyUse, row: Mapping[str, str]) -> None:
    calls = int(row.get("calls") or 0)
    first, last = _parse_lake_time(row.get("first_seen")), _parse_lake_time(row.get("last_seen"))
    use.count += calls
    if first is not None:
        use.daily[first.date()] += calls
        use.first_seen = first if use.first_seen is None else min(use.first_seen, first)
    if last is not None and (use.last_seen is None or last >= use.last_seen):
        use.last_seen, use.example_event_id = last, row.get("example") or None


def _parse_lake_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
