"""Mutation testing of the rule's decision and reporting code with mutmut, one module at a time.

``python3 tasks.py mutate [module ...]`` (not part of the test run). For each module in :data:`MODULES` a fresh
workspace is laid out under ``build/mutation/<module>/`` in the layout mutmut 3 understands (``src/cmk_rule/``: mutmut
names a mutant by its file path and only strips a ``src.`` prefix, while the project ships ``lambda/cmk_rule/``), with
a ``[tool.mutmut]`` that mutates only that module and collects only the fast tests that exercise it. mutmut then runs
the tests that reach each mutated function (it records which ones do), fastest first, stopping at the first failure.

The results are written to ``benchmarks/MUTATION.md``: the score per module and every surviving mutant, each with the
sentence from :data:`benchmarks.mutation_survivors.EXPLAINED` that says why it is equivalent or harmless (a survivor
without one is listed as "not explained": a test is missing).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
REPORT = ROOT / "benchmarks" / "MUTATION.md"
MUTMUT = Path(sys.executable).parent / "mutmut"

# module -> the fast tests that exercise it: its unit tests (and a neighbour's, where that module's tests drive it
# through the real code). The integration, reliability and property tests are left out: they exercise the same code
# through moto at seconds a test, which made a run 40 minutes for five modules and killed no mutant the unit tests
# missed (measured when the selections were narrowed: benchmarks/MUTATION.md, minutes per module).
MODULES: dict[str, tuple[str, ...]] = {
    "verdict.py": ("tests/unit/test_verdict.py", "tests/unit/test_findings.py"),
    "keys.py": ("tests/unit/test_keys.py", "tests/unit/test_verdict.py"),
    "parameters.py": ("tests/unit/test_parameters.py",),
    "request.py": ("tests/unit/test_request.py",),
    "aws.py": ("tests/unit/test_aws.py", "tests/unit/test_keys.py", "tests/unit/test_inventory.py"),
    "config_reporter.py": ("tests/unit/test_config_reporter.py",),
    "securityhub_reporter.py": ("tests/unit/test_securityhub_reporter.py",),
    "engine.py": ("tests/unit/test_engine.py",),
    "runner.py": ("tests/unit/test_runner.py",),
    "inventory.py": ("tests/unit/test_inventory.py",),
}
COPIED = ("tests", "cli", "benchmarks", "infra")


@dataclass
class ModuleResult:
    """mutmut's verdict on every mutant of one module."""

    module: str
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return self.counts.get("killed", 0) + self.counts.get("timeout", 0)

    @property
    def scored(self) -> int:
        """Mutants that count: every mutant except those no selected test reaches ('no tests' are survivors too)."""
        return self.total - self.counts.get("skipped", 0)


def _workspace(module: str, tests: tuple[str, ...]) -> Path:
    work = WORK / module.removesuffix(".py")
    shutil.rmtree(work, ignore_errors=True)
    (work / "src").mkdir(parents=True)
    shutil.copytree(
        ROOT / "lambda" / "cmk_rule", work / "src" / "cmk_rule", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in COPIED:
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.md", "*.png"))
    existing = [test for test in tests if (work / test).exists()]
    selection = ", ".join(f'"{test}"' for test in existing)
    (work / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'pythonpath = ["cli", "."]\n'
        'addopts = "-p no:randomly -p no:cacheprovider --hypothesis-profile=dev"\n'
        'markers = ["slow: exercises the CDK CLI or a large fleet"]\n\n'
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["src/cmk_rule/{module}"]\n'
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
        'also_copy = ["cli", "benchmarks", "infra"]\n'
        "use_setproctitle = false\n"
    )
    return work


def run_module(module: str, *, children: int) -> ModuleResult:
    """Mutate one module in its own workspace and collect mutmut's results."""
    work = _workspace(module, MODULES[module])
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(  # noqa: S603 - our own venv's mutmut, fixed arguments
        [str(MUTMUT), "run", "--max-children", str(children)], cwd=work, env=env, check=False
    )
    listing = subprocess.run(  # noqa: S603
        [str(MUTMUT), "results", "--all", "true"], cwd=work, env=env, check=False, capture_output=True, text=True
    ).stdout
    result = ModuleResult(module, seconds=time.monotonic() - started)
    for line in listing.splitlines():
        match = re.match(r"^\s*(\S+__mutmut_\d+): (.+)$", line)
        if not match:
            continue
        name, status = match.groups()
        status = status.strip()
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in ("survived", "no tests"):
            result.survivors.append(name)
    return result


def _diff(module: str, mutant: str) -> str:
    work = WORK / module.removesuffix(".py")
    shown = subprocess.run(  # noqa: S603
        [str(MUTMUT), "show", mutant], cwd=work, check=False, capture_output=True, text=True
    ).stdout
    lines = [line for line in shown.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    return " / ".join(line.strip() for line in lines)[:300]


def write_report(results: list[ModuleResult], *, children: int) -> None:
    """benchmarks/MUTATION.md from the modules' results. A module not run this time keeps its earlier row and its
    earlier survivors section, so modules can be re-run one at a time and the report stays whole."""
    from benchmarks.mutation_survivors import EXPLAINED

    rows, sections = _earlier_report()
    for result in results:
        score = 100.0 * result.killed / result.scored if result.scored else 100.0
        rows[result.module] = (
            f"| `{result.module}` | {result.total} | {result.killed} | {len(result.survivors)} | "
            f"{result.counts.get('skipped', 0)} | {score:.1f}% | {result.seconds / 60:.1f} |"
        )
        survivors = [
            f"| `{mutant}` | `{_diff(result.module, mutant)}` | "
            f"{EXPLAINED.get(mutant, '**not explained: a test is missing**')} |"
            for mutant in result.survivors
        ]
        sections[result.module] = [
            f"### `{result.module}` (run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            "| mutant | change | why it is equivalent or harmless |",
            "|---|---|---|",
            *(survivors or ["| (none) | | |"]),
            "",
        ]
    totals = _totals(rows)
    lines = [
        "# Mutation testing",
        "",
        "Generated by `python3 tasks.py mutate` (benchmarks/mutation.py; mutmut, pinned in requirements-dev.txt).\n"
        "Each module is mutated in its own workspace against the fast tests that exercise it (listed in "
        "`benchmarks/mutation.py::MODULES`); a mutant is killed when one of those tests fails. "
        "Not part of the test run.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {children} worker(s), modules of this run: "
        f"{', '.join(r.module for r in results)}. All modules listed: killed {totals[0]} of {totals[1]} "
        f"({100.0 * totals[0] / totals[1] if totals[1] else 100.0:.1f}%), {totals[2]:.1f} minutes in all.",
        "",
        "| module | mutants | killed | survived | skipped | score | minutes |",
        "|---|---|---|---|---|---|---|",
        *[rows[m] for m in MODULES if m in rows],
        "",
        "## Surviving mutants",
        "",
        *[line for m in MODULES if m in sections for line in sections[m]],
    ]
    REPORT.write_text("\n".join(lines))


def _totals(rows: dict[str, str]) -> tuple[int, int, float]:
    """(killed, scored, minutes) over every module row of the report."""
    killed = scored = 0
    minutes = 0.0
    for line in rows.values():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        total, kills, skipped = int(cells[1]), int(cells[2]), int(cells[4])
        killed += kills
        scored += total - skipped
        minutes += float(cells[6])
    return killed, scored, minutes


def _earlier_report() -> tuple[dict[str, str], dict[str, list[str]]]:
    """The module rows and the survivors sections of the report on disk, by module."""
    rows: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    if not REPORT.exists():
        return rows, sections
    current: str | None = None
    for line in REPORT.read_text().splitlines():
        row = re.match(r"^\| `([a-z_]+\.py)` \| \d", line)
        if row:
            rows[row.group(1)] = line
            continue
        header = re.match(r"^### `([a-z_]+\.py)`", line)
        if header:
            current = header.group(1)
            sections[current] = []
        elif line.startswith("## "):
            current = None
        if current:
            sections[current].append(line)
    return rows, sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    parser.add_argument("--children", type=int, default=2, help="parallel mutmut workers (default 2)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module {unknown[0]}; choose from {', '.join(MODULES)}")
    results = [run_module(module, children=args.children) for module in (args.modules or MODULES)]
    write_report(results, children=args.children)
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
