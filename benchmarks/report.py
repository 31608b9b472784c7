"""RESULTS.md (Markdown tables) and results.png (time and calls against fleet size) from a benchmark run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks import chart, sections
from benchmarks.counting import FLOOR_OPERATIONS
from benchmarks.memory import LAMBDA_MEMORY_BOUND_MB
from benchmarks.results import BenchmarkResults, ColdStart, CostMode, FleetResult

RESULTS_FILE = "RESULTS.md"
CHART_FILE = "results.png"
FLOOR_FORMULA = (
    "⌈N/100⌉ DescribeReplicationGroups + K DescribeKey + ⌈N/100⌉ PutEvaluations + ⌈N/100⌉ BatchImportFindings + "
    "⌈R/100⌉ GetComplianceDetailsByConfigRule + ⌈F/100⌉ GetFindings, for R previous results and F existing "
    "findings of the rule (at least one page each)"
)
OURS, OURS_N, BASE, BASE_N = (40, 100, 200), (0, 150, 120), (230, 120, 30), (200, 40, 60)


def table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str) -> str:
    """A Markdown table; ``align`` has one of ``l``/``r``/``c`` per column."""
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fleet(result: FleetResult) -> str:
    return f"{result.groups:,} / K={result.key_label}"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "-"


def _delta(value: int) -> str:
    return "0" if value == 0 else f"{value:+d}"


def misses(results: BenchmarkResults, bound_mb: float = LAMBDA_MEMORY_BOUND_MB) -> list[str]:
    """Every target missed: a run off its floor, or a peak over the memory bound (empty when all are met)."""
    found = []
    for fleet in results.fleets:
        for name, run in (("first run", fleet.first), ("steady run", fleet.steady)):
            for operation, extra in run.excess.items():
                found.append(f"{_fleet(fleet)} {name}: {operation} {extra:+d} against the floor")
            if run.retries:
                found.append(f"{_fleet(fleet)} {name}: {run.retries} retried request(s)")
            if run.peak_rss_mb >= bound_mb:
                found.append(f"{_fleet(fleet)} {name}: peak RSS {run.peak_rss_mb:.1f} MB ≥ {bound_mb:.0f} MB")
    return found


def _calls_section(results: BenchmarkResults) -> list[str]:
    fleets = results.fleets
    steady_rows = [
        (
            _fleet(f),
            f"{f.steady.total_calls:,}",
            f"{f.steady.floor_total:,}",
            _delta(f.steady.total_calls - f.steady.floor_total),
            f"{f.baseline.total_calls:,}",
            _ratio(f.steady.total_calls, f.baseline.total_calls),
        )
        for f in fleets
    ]
    first_rows = [
        (
            _fleet(f),
            f"{f.first.total_calls:,}",
            f"{f.first.floor_total:,}",
            _delta(f.first.total_calls - f.first.floor_total),
        )
        for f in fleets
    ]
    operations = list(FLOOR_OPERATIONS) + sorted({op for f in fleets for op in f.steady.calls} - set(FLOOR_OPERATIONS))
    per_operation = [
        (f"`{op}`", *(f"{f.steady.calls.get(op, 0):,} / {f.steady.floor.get(op, 0):,}" for f in fleets))
        for op in operations
    ]
    return [
        "## API calls of one periodic run",
        "",
        "**Steady state** (the rule's previous results and findings exist for every group: every run after the "
        "first). The naive baseline ran in the same process, on the same fleet, right after ours.",
        "",
        table(
            ("groups / keys", "ours", "floor", "ours − floor", "naive baseline", "ours / baseline"),
            steady_rows,
            "lrrrrr",
        ),
        "",
        "**First run** (no previous results, no findings yet):",
        "",
        table(("groups / keys", "ours", "floor", "ours − floor"), first_rows, "lrrr"),
        "",
        f"Floor = {FLOOR_FORMULA}.",
        "",
        "Steady run by operation (ours / floor):",
        "",
        table(("operation", *(_fleet(f) for f in fleets)), per_operation, "l" + "r" * len(fleets)),
    ]


def _time_section(results: BenchmarkResults) -> list[str]:
    rows = []
    for f in results.fleets:
        peak = max(f.first.peak_rss_mb, f.steady.peak_rss_mb)
        rows.append(
            (
                _fleet(f),
                f"{f.steady.wall_seconds:.2f}",
                f"{f.ms_per_group:.2f}",
                f"{f.steady.cpu_seconds:.2f}",
                f"{f.cpu_ms_per_group:.2f}",
                f"{f.first.wall_seconds:.2f}",
                f"{f.baseline.wall_seconds:.2f}",
                _ratio(f.steady.wall_seconds, f.baseline.wall_seconds),
                f"{f.first.peak_rss_mb:.1f} / {f.steady.peak_rss_mb:.1f}",
                "yes" if peak < LAMBDA_MEMORY_BOUND_MB else "**no**",
            )
        )
    after_import = min((f.rss_after_import_mb for f in results.fleets), default=0.0)
    return [
        "## Time and memory of one periodic run",
        "",
        table(
            (
                "groups / keys",
                "steady run (s)",
                "ms / group",
                "rule CPU (s)",
                "CPU ms / group",
                "first run (s)",
                "naive baseline (s)",
                "ours / baseline",
                "peak RSS first / steady (MB)",
                f"< {LAMBDA_MEMORY_BOUND_MB:.0f} MB",
            ),
            rows,
            "lrrrrrrrrc",
        ),
        "",
        "Wall time is against moto on loopback: a few ms a call, most of it moto's own serving time, with no "
        "network latency or throttling, so it tracks the number of calls more than what Lambda would bill. *Rule "
        "CPU* is the rule process's own user+system time (moto excluded); flat *ms / group* across sizes means "
        "linear growth. Peak RSS is `VmHWM` of the rule's own process (a fresh interpreter per run; moto runs in "
        f"another process), including the ~{after_import:.0f} MB the interpreter, boto3 and Powertools take "
        "after import. At 100 groups the fixed cost of a cold container (building four clients) dominates.",
        "",
        *_growth(results),
        "",
        *_memory_section(results),
    ]


def _growth(results: BenchmarkResults) -> list[str]:
    """How the steady run's wall and CPU time grew between the two largest sizes, per K (linear = the size ratio)."""
    lines = []
    for shared in (True, False):
        chosen = sorted((f for f in results.fleets if (f.keys != f.groups) == shared), key=lambda f: f.groups)
        if len(chosen) < 2:
            continue
        small, large = chosen[-2], chosen[-1]
        lines.append(
            f"- Growth from {small.groups:,} to {large.groups:,} groups, K={large.key_label}: wall time "
            f"×{large.steady.wall_seconds / small.steady.wall_seconds:.1f}, rule CPU "
            f"×{large.steady.cpu_seconds / max(small.steady.cpu_seconds, 1e-9):.1f} "
            f"(linear: ×{large.groups / small.groups:.0f})."
        )
    return lines


def _memory_section(results: BenchmarkResults) -> list[str]:
    """RSS through the run with the highest peak: which step holds the memory."""
    worst = max(results.fleets, key=lambda f: f.steady.peak_rss_mb, default=None)
    if worst is None or not worst.steady.memory_marks:
        return []
    columns = [("first run", worst.first.memory_marks), ("steady run", worst.steady.memory_marks)]
    labels = [label for label, _ in worst.steady.memory_marks]
    rows = []
    for index, label in enumerate(labels):
        cells: list[str] = [label]
        for _, marks in columns:
            if index < len(marks) and marks[index][0] == label:
                change = marks[index][1] - marks[index - 1][1] if index else 0.0
                cells.append(f"{marks[index][1]:.1f} ({change:+.1f})")
            else:
                cells.append("-")
        rows.append(cells)
    return [
        f"Where the memory goes ({_fleet(worst)}, the highest peak): RSS in MB at each step, with the change "
        "from the previous line. The jump before the first step is building the clients; a jump between two "
        "steps is work done between them (e.g. building every finding before the first BatchImportFindings); "
        "memory still held after a step is what that step keeps.",
        "",
        table(("moment", *(name for name, _ in columns)), rows, "lrr"),
    ]


def _cold_section(cold: ColdStart) -> list[str]:
    boto3_ms = cold.median_ms(cold.boto3_import)
    handler_ms = cold.median_ms(cold.handler_import)
    first_ms = cold.median_ms(cold.first_invocation)
    combined = [i + f for i, f in zip(cold.handler_import, cold.first_invocation, strict=False)]
    asset_combined = [i + f for i, f in zip(cold.asset_import, cold.asset_first_invocation, strict=False)]
    rows = [
        ("`import boto3` alone", f"{boto3_ms:.0f}", "1.00"),
        ("`import cmk_rule.handler` (tracing disabled)", f"{handler_ms:.0f}", _ratio(handler_ms, boto3_ms)),
        (
            "`import cmk_rule.handler` (Lambda-like: tracing on)",
            f"{cold.median_ms(cold.handler_import_lambda_like):.0f}",
            _ratio(cold.median_ms(cold.handler_import_lambda_like), boto3_ms),
        ),
        (
            f"first invocation, {cold.invocation_groups} groups (builds the clients)",
            f"{first_ms:.0f}",
            _ratio(first_ms, boto3_ms),
        ),
        ("import + first invocation", f"{cold.median_ms(combined):.0f}", _ratio(cold.median_ms(combined), boto3_ms)),
        (
            "`import cmk_rule.handler` from the Lambda asset (`python -S -B`: the asset only, no byte code)",
            f"{cold.median_ms(cold.asset_import):.0f}",
            _ratio(cold.median_ms(cold.asset_import), boto3_ms),
        ),
        (
            "import + first invocation from the Lambda asset (`python -S -B`)",
            f"{cold.median_ms(asset_combined):.0f}",
            _ratio(cold.median_ms(asset_combined), boto3_ms),
        ),
        (
            "second invocation, same container (warm)",
            f"{cold.median_ms(cold.warm_invocation):.0f}",
            _ratio(cold.median_ms(cold.warm_invocation), boto3_ms),
        ),
    ]
    packages = [(name, f"{ms:.0f}") for name, ms in cold.by_package_ms.items() if ms >= 1]
    lines = [
        "## Cold start",
        "",
        f"Medians of {len(cold.boto3_import)} fresh interpreters (imports) and {len(cold.first_invocation)} fresh "
        "worker processes (invocations).",
        "",
        table(("measurement", "median (ms)", "× import boto3"), rows, "lrr"),
        "",
        "Where `import cmk_rule.handler` spends its time (self time per package, one `python -X importtime` run):",
        "",
        table(("package", "ms"), packages, "lr"),
        "",
        "Heavy imports that are not deferred:",
        "",
    ]
    if not cold.heavy:
        lines.append("- none over 2 ms.")
    for heavy in cold.heavy:
        lines.append(
            f"- `{heavy.module}`: {heavy.cumulative_ms:.0f} ms, imported by `{heavy.imported_by}`. {heavy.advice}"
        )
    return lines


def _by_operation(calls: dict[str, int]) -> str:
    """``Operation n, ...`` in the floor's order, then any other operation."""
    order = {name: index for index, name in enumerate(FLOOR_OPERATIONS)}
    ranked = sorted(calls.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return ", ".join(f"{name.split(':', 1)[-1]} {count:,}" for name, count in ranked) or "-"


def _cost_section(cost: CostMode) -> list[str]:
    errors = any(run.error for run in cost.runs)
    header = ["REPORTING_MODE", "run", "evaluations recorded", "findings imported", "API calls", "by operation"]
    rows = []
    for run in cost.runs:
        row = [
            f"`{run.mode}`",
            run.state,
            "-" if run.evaluations is None else f"{run.evaluations:,}",
            "-" if run.findings is None else f"{run.findings:,}",
            "-" if run.calls is None else f"{run.calls:,}",
            _by_operation(run.by_operation),
        ]
        rows.append([*row, (run.error or "")[:120]] if errors else row)
    return [
        "## Cost mode (`REPORTING_MODE`)",
        "",
        f"{cost.groups:,} groups, K={cost.keys}; each run in a fresh process; the change moves {cost.changed} "
        "groups onto a disabled key (their verdict flips). Config bills per evaluation recorded, Security Hub per "
        "finding ingested.",
        "",
        table([*header, "error"] if errors else header, rows, "llrrrll" if errors else "llrrrl"),
        "",
        cost.changes_note,
    ]


def _summary(results: BenchmarkResults) -> list[str]:
    missed = misses(results)
    largest = max(results.fleets, key=lambda f: f.groups) if results.fleets else None
    lines = ["## Verdict", ""]
    if not missed:
        lines.append("- Every run made exactly the floor's calls, and every peak stayed under 128 MB.")
    for miss in missed:
        lines.append(f"- **Missed:** {miss}")
    if largest is not None:
        peak = max(f.steady.peak_rss_mb for f in results.fleets if f.groups == largest.groups)
        lines.append(f"- Largest fleet ({largest.groups:,} groups): peak RSS {peak:.1f} MB.")
        ratios = [f.steady.total_calls / f.baseline.total_calls for f in results.fleets if f.baseline.total_calls]
        if ratios:
            lines.append(
                f"- Calls against the naive baseline: {min(ratios):.3f}-{max(ratios):.3f}x "
                f"(the baseline makes {max(f.baseline.total_calls for f in results.fleets):,} calls at most)."
            )
    return lines


def markdown(results: BenchmarkResults, *, command: str) -> str:
    """The whole RESULTS.md."""
    machine = results.machine
    minutes, seconds = divmod(round(results.total_seconds), 60)
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{command}` on {results.started_at}; the command took {minutes} min {seconds} s.",
        "",
        f"Machine: {machine.get('nproc')} CPUs (nproc), {machine.get('cpu')}, Python {machine.get('python')}, "
        f"{machine.get('platform')}; boto3 {machine.get('boto3')}, aws-lambda-powertools {machine.get('powertools')}, "
        f"moto {machine.get('moto')} (server in its own process, on loopback).",
        "",
        "Every run is the real `cmk_rule.handler.lambda_handler` with a ScheduledNotification event "
        "(`SECURITY_HUB_MODE=direct`, Security Hub enabled, no rule parameters) in a fresh process, like a cold "
        "Lambda container; every AWS call goes over HTTP to moto's server. Fleets: N replication groups, all "
        "encrypted, sharing K customer-managed keys round-robin (K=N: one key per group).",
        "",
        *_summary(results),
        "",
        *_calls_section(results),
        "",
        *_time_section(results),
        "",
    ]
    if results.cold_start is not None:
        lines += [*_cold_section(results.cold_start), ""]
    if results.cost is not None:
        lines += [*_cost_section(results.cost), ""]
    lines += ["## Chart", "", f"![time and API calls of one periodic run against fleet size]({CHART_FILE})", ""]
    return "\n".join(lines)


def chart_panels(results: BenchmarkResults) -> list[tuple[str, list[chart.Series]]]:
    """Wall time and API calls of the steady run, ours and the baseline, for K=5 and K=N."""

    def series(shared: bool, label: str, color: chart.Color, *, baseline: bool, calls: bool) -> chart.Series:
        chosen = [f for f in results.fleets if (f.keys == f.groups) != shared or (f.groups <= 5)]
        points = [
            (
                float(f.groups),
                float(f.baseline.total_calls if baseline else f.steady.total_calls)
                if calls
                else (f.baseline.wall_seconds if baseline else f.steady.wall_seconds),
            )
            for f in chosen
        ]
        return chart.Series(label, points, color, dashed=baseline)

    def panel(calls: bool) -> list[chart.Series]:
        return [
            series(True, "ours K=5", OURS, baseline=False, calls=calls),
            series(False, "ours K=N", OURS_N, baseline=False, calls=calls),
            series(True, "naive K=5", BASE, baseline=True, calls=calls),
            series(False, "naive K=N", BASE_N, baseline=True, calls=calls),
        ]

    return [("wall time of one run (s)", panel(False)), ("API calls of one run", panel(True))]


def write(results: BenchmarkResults, directory: Path, *, command: str) -> str:
    """Write RESULTS.md and results.png into ``directory``; returns the Markdown. Sections other benchmarks wrote
    into the old RESULTS.md (the organization simulation's) are kept (:mod:`benchmarks.sections`)."""
    text = sections.keep(directory / RESULTS_FILE, markdown(results, command=command))
    (directory / RESULTS_FILE).write_text(text)
    if results.fleets:
        chart.write_chart(
            directory / CHART_FILE,
            chart_panels(results),
            title="elasticache-cmk-rule: one periodic run (steady state) against moto",
            x_label="replication groups (log scale)",
        )
    return text
