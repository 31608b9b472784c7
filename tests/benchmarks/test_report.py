"""RESULTS.md and results.png are written from a run's numbers, and say where a target was missed."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from benchmarks import coldstart, report
from benchmarks.counting import DESCRIBE_KEY, floor
from benchmarks.results import (
    BaselineRun,
    BenchmarkResults,
    ColdStart,
    CostMode,
    CostRun,
    FleetResult,
    RuleRun,
)


def _run(groups: int, keys: int, *, extra_keys: int = 0, peak: float = 90.0) -> RuleRun:
    expected = floor(groups=groups, keys=keys, previous_results=groups, existing_findings=groups)
    calls = {**expected, DESCRIBE_KEY: keys + extra_keys}
    return RuleRun(wall_seconds=groups / 1000, peak_rss_mb=peak, calls=calls, items={}, floor=expected)


def _fleet(groups: int, keys: int, **run_args: float) -> FleetResult:
    return FleetResult(
        groups=groups,
        keys=keys,
        first=_run(groups, keys),
        steady=_run(groups, keys, **run_args),  # type: ignore[arg-type]
        baseline=BaselineRun(groups / 100, {"kms:DescribeKey": groups, "securityhub:BatchImportFindings": groups}, {}),
        import_seconds=0.5,
        rss_after_import_mb=60.0,
    )


def _results() -> BenchmarkResults:
    results = BenchmarkResults(
        started_at="2026-11-28 12:00 UTC",
        machine={"nproc": "2", "python": "3.11.7", "platform": "Linux", "cpu": "test CPU"},
        quick=True,
        fleets=[_fleet(100, 5), _fleet(100, 100), _fleet(1_000, 5), _fleet(1_000, 1_000)],
        total_seconds=75,
    )
    results.cold_start = ColdStart(
        boto3_import=[0.2, 0.25, 0.22],
        handler_import=[0.5, 0.6, 0.55],
        handler_import_lambda_like=[0.6],
        first_invocation=[0.4],
        warm_invocation=[0.1],
        invocation_groups=100,
    )
    results.cost = CostMode(
        groups=1_000,
        keys=5,
        changed=10,
        runs=[CostRun("all", "first run", 1_000, 1_000, 55), CostRun("changes", "first run", None, None, None, "boom")],
        changes_note="REPORTING_MODE=changes failed: boom",
    )
    return results


def test_results_md_has_the_date_the_machine_and_every_fleet(tmp_path: Path) -> None:
    text = report.write(_results(), tmp_path, command=".venv/bin/python -m benchmarks --quick")

    assert (tmp_path / "RESULTS.md").read_text() == text
    assert "2026-11-28 12:00 UTC" in text
    assert "2 CPUs (nproc)" in text and "Python 3.11.7" in text
    assert "took 1 min 15 s" in text
    for fleet in ("| 100 / K=5 |", "| 100 / K=N |", "| 1,000 / K=5 |", "| 1,000 / K=N |"):
        assert fleet in text
    assert "Every run made exactly the floor's calls" in text
    assert "| `import cmk_rule.handler` (tracing disabled) | 550 | 2.500 |" in text
    assert "REPORTING_MODE=changes failed: boom" in text


def test_a_run_above_the_floor_or_over_128_mb_is_called_out(tmp_path: Path) -> None:
    results = _results()
    results.fleets.append(_fleet(10_000, 5, extra_keys=3, peak=140.0))

    text = report.write(results, tmp_path, command="x")

    assert "**Missed:** 10,000 / K=5 steady run: kms:DescribeKey +3 against the floor" in text
    assert "**Missed:** 10,000 / K=5 steady run: peak RSS 140.0 MB ≥ 128 MB" in text
    assert report.misses(results)


def test_the_chart_is_a_valid_png(tmp_path: Path) -> None:
    report.write(_results(), tmp_path, command="x")
    data = (tmp_path / "results.png").read_bytes()

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat_length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    pixels = zlib.decompress(data[41 : 41 + idat_length])
    assert len(pixels) == height * (1 + 3 * width)
    assert len(set(pixels)) > 3  # something was drawn on the white background


def test_importtime_tree_finds_unneeded_subtrees_and_who_imported_them() -> None:
    text = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 |     aws_xray_sdk.version",
            "import time:    200000 |     200100 |   aws_xray_sdk.core",
            "import time:      1000 |       1000 |       aws_lambda_powertools.utilities.data_classes.sqs_event",
            "import time:      4000 |       5000 |     aws_lambda_powertools.utilities.data_classes",
            "import time:      3000 |       8000 |   cmk_rule.request",
            "import time:      5000 |     213100 | cmk_rule.handler",
        ]
    )
    lines = coldstart.parse_importtime(text)

    heavy = coldstart.heavy_imports(lines)

    assert [(h.module, round(h.cumulative_ms), h.imported_by) for h in heavy] == [
        ("aws_xray_sdk", 200, "cmk_rule.handler"),
        ("aws_lambda_powertools.utilities.data_classes", 5, "cmk_rule.request"),
    ]
    assert coldstart.by_package_ms(lines)["aws_xray_sdk"] == 200.1
