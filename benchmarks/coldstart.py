"""Cold start: how long importing ``cmk_rule.handler`` takes against importing boto3 alone, and what makes it slow.

Each sample is a fresh interpreter (``python -c``), so nothing is cached in ``sys.modules``; the median of several
is reported because the first import after a file-system change is slower. ``python -X importtime`` gives the
import tree, from which the subtrees the handler does not need at import time are picked out and explained.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.results import HeavyImport

SNIPPET = "import time; started = time.perf_counter(); import {module}; print(time.perf_counter() - started)"
HANDLER = "cmk_rule.handler"
# Powertools modules the handler uses (Logger, Metrics, Tracer, MetricUnit, LambdaContext).
USED_POWERTOOLS = (
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.shared",
)
ADVICE = {
    "aws_xray_sdk": (
        "Powertools' Tracer() imports aws_xray_sdk.core in its constructor even with POWERTOOLS_TRACE_DISABLED=true "
        "(Tracer._patch_xray_provider). Build the Tracer only when X-Ray tracing is on (e.g. a TRACING setting, or "
        "_X_AMZN_TRACE_ID present), or drop it: capture_lambda_handler(capture_response=False) only adds a segment."
    ),
    "aws_lambda_powertools.utilities.data_classes": (
        "The package's __init__ imports every event class (~35 modules), and importing any submodule (even "
        "data_classes.aws_config_rule_event directly) runs that __init__ first. Avoidable only by not using "
        "Powertools' AWSConfigRuleEvent (a thin wrapper over the event dict) to read the Config event."
    ),
    "aws_lambda_powertools.utilities.jmespath_utils": (
        "Powertools' Logger imports it itself (correlation-id paths); not deferrable from this project."
    ),
}


@dataclass(frozen=True)
class ImportLine:
    """One line of ``-X importtime`` output."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int


# How the function's asset is run: ``-S`` (no site-packages: only the asset and the standard library, as on Lambda,
# where the runtime's own boto3 sits behind the function's folder) and ``-B`` (no byte code written: the asset ships
# none and Lambda's /var/task is read-only, so every cold start compiles what it imports).
ASSET_FLAGS = ("-S", "-B")


def import_seconds(
    module: str, env: Mapping[str, str], *, runs: int, cwd: Path, flags: tuple[str, ...] = ()
) -> list[float]:
    """Seconds to import ``module`` in ``runs`` fresh interpreters (started with ``flags``)."""
    samples = []
    for _ in range(runs):
        output = subprocess.run(  # noqa: S603 - this interpreter, a fixed snippet
            [sys.executable, *flags, "-c", SNIPPET.format(module=module)],
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return samples


def import_tree(module: str, env: Mapping[str, str], *, cwd: Path) -> list[ImportLine]:
    """The ``-X importtime`` lines for importing ``module`` in a fresh interpreter, in output order."""
    stderr = subprocess.run(  # noqa: S603 - this interpreter, a fixed snippet
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return parse_importtime(stderr)


def parse_importtime(text: str) -> list[ImportLine]:
    """Parse ``import time: <self> | <cumulative> | <indented name>`` lines (the header line is skipped)."""
    lines = []
    for raw in text.splitlines():
        if not raw.startswith("import time:"):
            continue
        parts = raw[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2].rstrip()
        stripped = name.lstrip(" ")
        lines.append(ImportLine(stripped, int(parts[0]), int(parts[1]), (len(name) - len(stripped)) // 2))
    return lines


def parents(lines: list[ImportLine]) -> dict[int, int | None]:
    """Index of each line -> index of the line that imported it (``-X importtime`` prints children first)."""
    result: dict[int, int | None] = {}
    stack: list[int] = []  # indices of lines not yet given a parent, deepest last
    for index, line in enumerate(lines):
        while stack and lines[stack[-1]].depth > line.depth:
            result[stack.pop()] = index
        stack.append(index)
    for index in stack:
        result[index] = None
    return result


def _package(module: str) -> str:
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names or top.startswith("_"):
        return "(standard library)"
    if top in ("botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six"):
        return "boto3 stack (botocore, s3transfer, urllib3, ...)"
    if top == "boto3":
        return "boto3 stack (botocore, s3transfer, urllib3, ...)"
    return top


def by_package_ms(lines: list[ImportLine]) -> dict[str, float]:
    """Self time summed per top-level package, in ms, largest first (the whole import, attributed)."""
    totals: dict[str, float] = {}
    for line in lines:
        package = _package(line.module)
        totals[package] = totals.get(package, 0.0) + line.self_us / 1000
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _unneeded(module: str) -> str | None:
    """The advice key when ``module`` is not needed by the handler at import time, else None."""
    if module.split(".", maxsplit=1)[0] == "aws_xray_sdk":
        return "aws_xray_sdk"
    if module.startswith("aws_lambda_powertools.utilities.") and not module.startswith(USED_POWERTOOLS):
        return ".".join(module.split(".")[:3])
    return None


def heavy_imports(lines: list[ImportLine], *, threshold_ms: float = 2.0) -> list[HeavyImport]:
    """Root-most subtrees of unneeded modules (X-Ray SDK, unused Powertools utilities) costing ``threshold_ms`` +."""
    parent_of = parents(lines)
    found: dict[str, HeavyImport] = {}
    for index, line in enumerate(lines):
        key = _unneeded(line.module)
        if key is None:
            continue
        parent = parent_of[index]
        if parent is not None and _unneeded(lines[parent].module) == key:
            continue  # counted in its parent's subtree
        importer = lines[parent].module if parent is not None else "(top level)"
        previous = found.get(key)
        cumulative = line.cumulative_us / 1000 + (previous.cumulative_ms if previous else 0.0)
        advice = ADVICE.get(key, f"not used by the handler; find why {importer} imports it and defer it")
        found[key] = HeavyImport(key, cumulative, previous.imported_by if previous else importer, advice)
    return sorted((h for h in found.values() if h.cumulative_ms >= threshold_ms), key=lambda h: -h.cumulative_ms)


def lambda_like(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as Lambda would have it with tracing on: Powertools enables the Tracer when it sees a function name."""
    result = {k: v for k, v in env.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    result["AWS_LAMBDA_FUNCTION_NAME"] = "elasticache-cmk-rule"
    return result


def asset_env(base: Mapping[str, str], asset: Path, root: Path) -> dict[str, str]:
    """``base`` with the Lambda asset first on PYTHONPATH, then the repository (``benchmarks``) and ``cli`` (the
    worker's event builder, standard library only): the rule and everything it imports come from the asset."""
    return {**base, "PYTHONPATH": os.pathsep.join((str(asset), str(root), str(root / "cli")))}


def python_env(base: Mapping[str, str], root: Path) -> dict[str, str]:
    """``base`` with the repository on PYTHONPATH, so ``benchmarks`` imports from any working directory."""
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), base.get("PYTHONPATH", "")) if p)
    return env
