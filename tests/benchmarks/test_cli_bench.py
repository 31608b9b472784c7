"""The command line's benchmark section of RESULTS.md: written from its numbers, and kept by the main benchmark."""

from __future__ import annotations

from pathlib import Path

from benchmarks import cli, report

from .test_report import _results


def _section(scan: float, custodian: float) -> str:
    starts = [
        cli.Timing("cmk-rule --version", [0.1, 0.2, 0.15], 0),
        cli.Timing("cmk-rule scan (empty Region: start-up + 2 calls)", [0.4, 0.45, 0.42], 0),
    ]
    return cli.markdown(
        starts, cli.Timing("cmk-rule scan", [scan], 1), cli.Timing("custodian run", [custodian], 0), 1, "now"
    )


def test_the_section_reports_ratio_and_targets() -> None:
    met = _section(1.0, 4.0)
    assert "**0.25x** wall (target ≤ 0.5x: met)" in met and "| `cmk-rule --version` | 0.150 |" in met
    assert "(target ≤ 0.5x: NOT met)" in _section(3.0, 4.0)


def test_the_section_sets_the_ratio_beside_the_listing_floor() -> None:
    starts = [
        cli.Timing("cmk-rule --version", [0.1], 0),
        cli.Timing("cmk-rule scan (empty Region: start-up + 2 calls)", [0.4], 0),
    ]
    section = cli.markdown(
        starts,
        cli.Timing("cmk-rule scan", [1.2], 1),
        cli.Timing("custodian run", [2.0], 0),
        1,
        "now",
        floor=cli.Timing("listing", [0.9], 0),
    )
    assert "| listing floor (" in section and "| 0.900 |" in section
    assert "The listing alone is 0.45x custodian's time" in section
    assert "cmk-rule spends 0.300 s" in section and "custodian 1.100 s" in section
    assert "**0.27x** (≤ 0.5x: met)" in section
    assert "listing floor" not in _section(1.0, 4.0)  # older runs without the floor still render


def test_the_section_replaces_itself_and_survives_the_main_benchmark(tmp_path: Path) -> None:
    results = tmp_path / report.RESULTS_FILE
    results.write_text("# Benchmark results\n\nold main text\n")
    cli.write_section(_section(1.0, 4.0), results)
    cli.write_section(_section(1.0, 2.0), results)  # replaced, not appended twice
    text = results.read_text()
    assert text.count(cli.SECTION_START) == 1 and "**0.50x**" in text and "old main text" in text
    report.write(_results(), tmp_path, command="python -m benchmarks")
    rewritten = results.read_text()
    assert "old main text" not in rewritten  # the main benchmark rewrote its part ...
    assert rewritten.count(cli.SECTION_START) == 1 and "**0.50x**" in rewritten  # ... and kept the CLI's
