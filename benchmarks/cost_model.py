"""The monthly cost model in docs/cost.md: AWS Config evaluations, Security Hub finding ingestion and Lambda time.

Prices (us-east-1, public AWS pricing, read 2026-11-28; check the pricing pages before relying on them):

* AWS Config rule evaluations, per account and Region per month: $0.001 each for the first 100,000, $0.0008 for the
  next 400,000, $0.0005 beyond. The same price applies to the managed rule ``ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST``.
* Security Hub (CSPM) finding ingestion, per account and Region per month: the first 10,000 events free, then
  $0.00003 per event.
* Lambda, arm64: $0.0000133334 per GB-second and $0.20 per million requests (free tier not deducted).

Per-run volumes are the ones the benchmark measures (benchmarks/RESULTS.md, "Cost mode"): in reporting mode ``all``
every periodic run records N evaluations and imports N findings; in ``changes`` a run records and imports only the
groups whose verdict changed (the model's change rate: 1% of groups between two runs), plus a refresh of every
unchanged finding once every 30 days (``FINDINGS_REFRESH_DAYS``). Lambda time per run is the benchmark's rule CPU time
per group plus an assumed 30 ms of AWS latency per API call (moto on loopback answers in a few ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RUNS_PER_MONTH = {"1 h": 720, "6 h": 120, "12 h": 60, "24 h": 30}
FLEETS = (100, 1_000, 10_000)
CHANGE_RATE = 0.01
REFRESH_DAYS = 30
KEYS = 5  # distinct CMKs in the fleet (the benchmark's K = 5)
MEMORY_GB = 0.5
CPU_SECONDS_PER_GROUP = 0.00077  # benchmarks/RESULTS.md, 10,000 / K=5 steady run
LATENCY_PER_CALL_SECONDS = 0.03
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
SECURITY_HUB_FREE_EVENTS = 10_000
SECURITY_HUB_EVENT = 0.00003
CONFIG_TIERS = ((100_000, 0.001), (400_000, 0.0008), (math.inf, 0.0005))


def config_cost(evaluations: float) -> float:
    """Monthly AWS Config cost of ``evaluations`` recorded evaluations (tiered)."""
    cost, left = 0.0, evaluations
    for size, price in CONFIG_TIERS:
        used = min(left, size)
        cost += used * price
        left -= used
        if left <= 0:
            break
    return cost


def security_hub_cost(events: float) -> float:
    """Monthly Security Hub finding-ingestion cost (first 10,000 events free)."""
    return max(0.0, events - SECURITY_HUB_FREE_EVENTS) * SECURITY_HUB_EVENT


def calls_per_run(groups: int, *, changes: bool) -> int:
    """API calls of one steady periodic run (the floor the benchmark proves the rule meets)."""
    pages = math.ceil(groups / 100)
    reported_pages = max(1, math.ceil(groups * CHANGE_RATE / 100)) if changes else pages
    return pages + KEYS + reported_pages + reported_pages + pages + pages  # list, keys, put, import, results, findings


def lambda_cost(groups: int, runs: int, *, changes: bool) -> float:
    """Monthly Lambda cost (arm64, 512 MB) of ``runs`` periodic runs."""
    seconds = groups * CPU_SECONDS_PER_GROUP + calls_per_run(groups, changes=changes) * LATENCY_PER_CALL_SECONDS
    return runs * (seconds * MEMORY_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST)


@dataclass(frozen=True)
class MonthlyCost:
    """One row of the cost table (docs/cost.md)."""

    groups: int
    frequency: str
    managed_rule: float
    all_mode: float
    changes_mode: float
    evaluations_all: int
    evaluations_changes: int


def monthly(groups: int, frequency: str) -> MonthlyCost:
    """The month's cost for ``groups`` replication groups evaluated every ``frequency``."""
    runs = RUNS_PER_MONTH[frequency]
    evaluations_all = groups * runs
    evaluations_changes = round(groups * CHANGE_RATE * runs)
    findings_changes = evaluations_changes + groups * 30 / REFRESH_DAYS
    all_mode = (
        config_cost(evaluations_all) + security_hub_cost(evaluations_all) + lambda_cost(groups, runs, changes=False)
    )
    changes_mode = (
        config_cost(evaluations_changes) + security_hub_cost(findings_changes) + lambda_cost(groups, runs, changes=True)
    )
    return MonthlyCost(
        groups, frequency, config_cost(evaluations_all), all_mode, changes_mode, evaluations_all, evaluations_changes
    )


def markdown_table() -> str:
    """The cost table of docs/cost.md."""
    lines = [
        "| groups | every | managed rule (Config only) | this rule, `all` | this rule, `changes` (1% change a run) |"
        " evaluations a month (`all` / `changes`) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for groups in FLEETS:
        for frequency in RUNS_PER_MONTH:
            row = monthly(groups, frequency)
            lines.append(
                f"| {groups:,} | {frequency} | ${row.managed_rule:,.2f} | ${row.all_mode:,.2f}"
                f" | ${row.changes_mode:,.2f} | {row.evaluations_all:,} / {row.evaluations_changes:,} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
