"""The whole pipeline on 10 groups: moto's server in its own process, the real handler in a fresh worker."""

from __future__ import annotations

import io

from benchmarks import fleet, run
from benchmarks.counting import BATCH_IMPORT, DESCRIBE_KEY, PUT_EVALUATIONS


def test_a_tiny_fleet_is_counted_against_its_floor_next_to_the_baseline() -> None:
    result = run.measure_fleet(fleet.FleetSpec(groups=10, keys=5), out=io.StringIO())

    assert result.first.error is None and result.steady.error is None
    assert (result.first.previous_results, result.first.existing_findings) == (0, 0)
    assert (result.steady.previous_results, result.steady.existing_findings) == (10, 10)
    assert result.first.calls == result.first.floor
    assert result.steady.calls == result.steady.floor
    assert result.steady.items == {PUT_EVALUATIONS: 10, BATCH_IMPORT: 10}
    # The naive rule: one listing page, one DescribeKey and one BatchImportFindings per group, one PutEvaluations.
    assert result.baseline.calls[DESCRIBE_KEY] == 10
    assert result.baseline.calls[BATCH_IMPORT] == 10
    assert result.baseline.total_calls == 22
    assert 0 < result.steady.peak_rss_mb < 1024
    assert result.steady.wall_seconds > 0
