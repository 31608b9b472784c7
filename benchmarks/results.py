"""What one benchmark run measured, as plain data: written to RESULTS.md and drawn in results.png by report.py."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from benchmarks.counting import BATCH_IMPORT, PUT_EVALUATIONS, excess


@dataclass
class RuleRun:
    """One invocation of the real handler, counted against its floor."""

    wall_seconds: float
    peak_rss_mb: float
    calls: dict[str, int]
    items: dict[str, int]
    floor: dict[str, int]
    retries: int = 0
    error: str | None = None
    cpu_seconds: float = 0.0
    memory_marks: list[tuple[str, float]] = field(default_factory=list)  # (moment, RSS MB) through the run
    previous_results: int = 0
    existing_findings: int = 0

    @classmethod
    def from_worker(cls, invocation: dict[str, Any], floor: dict[str, int], **extra: Any) -> RuleRun:
        """Build from one entry of the worker's ``invocations``."""
        return cls(
            wall_seconds=float(invocation["wall_seconds"]),
            peak_rss_mb=float(invocation["peak_rss_mb"]),
            calls=dict(invocation["calls"]),
            items=dict(invocation["items"]),
            floor=floor,
            retries=int(invocation.get("retries", 0)),
            error=invocation.get("error"),
            cpu_seconds=float(invocation.get("cpu_seconds", 0.0)),
            memory_marks=[(str(label), float(mb)) for label, mb in invocation.get("memory_marks", [])],
            **extra,
        )

    @property
    def total_calls(self) -> int:
        """Every API call of the run."""
        return sum(self.calls.values())

    @property
    def floor_total(self) -> int:
        """The floor's total."""
        return sum(self.floor.values())

    @property
    def excess(self) -> dict[str, int]:
        """Operation -> calls above (or below) the floor; empty when the run is exactly at the floor."""
        return excess(self.calls, self.floor)

    @property
    def evaluations(self) -> int:
        """Evaluations sent with PutEvaluations."""
        return self.items.get(PUT_EVALUATIONS, 0)

    @property
    def findings(self) -> int:
        """Findings sent with BatchImportFindings."""
        return self.items.get(BATCH_IMPORT, 0)


@dataclass
class BaselineRun:
    """One run of the naive rule, on the same fleet, in the same process, right after ours."""

    wall_seconds: float
    calls: dict[str, int]
    items: dict[str, int]

    @property
    def total_calls(self) -> int:
        """Every API call of the run."""
        return sum(self.calls.values())


@dataclass
class FleetResult:
    """Everything measured on one fleet of N groups sharing K keys."""

    groups: int
    keys: int
    first: RuleRun  # no previous results, no findings: the first run after deployment
    steady: RuleRun  # previous results and findings for every group: every run after the first
    baseline: BaselineRun
    import_seconds: float
    rss_after_import_mb: float
    seed_seconds: float = 0.0

    @property
    def key_label(self) -> str:
        """K as the tables write it."""
        return "N" if self.keys == self.groups and self.groups != 5 else str(self.keys)

    @property
    def ms_per_group(self) -> float:
        """Steady-run wall time per group, in milliseconds (flat across sizes means linear growth)."""
        return self.steady.wall_seconds * 1000 / self.groups

    @property
    def cpu_ms_per_group(self) -> float:
        """Steady-run CPU time of the rule's own process per group, in milliseconds (moto's time excluded)."""
        return self.steady.cpu_seconds * 1000 / self.groups


@dataclass
class HeavyImport:
    """A module subtree imported by ``cmk_rule.handler`` at import time that the handler does not need then."""

    module: str
    cumulative_ms: float
    imported_by: str
    advice: str


@dataclass
class ColdStart:
    """Import and first-invocation times (each a list of samples from fresh interpreters), in seconds."""

    boto3_import: list[float]
    handler_import: list[float]
    handler_import_lambda_like: list[float]
    first_invocation: list[float]
    warm_invocation: list[float]
    invocation_groups: int
    by_package_ms: dict[str, float] = field(default_factory=dict)
    heavy: list[HeavyImport] = field(default_factory=list)
    # The same, from the built Lambda asset (infra/lambda_asset.py) run as Lambda runs it (coldstart.ASSET_FLAGS).
    asset_import: list[float] = field(default_factory=list)
    asset_first_invocation: list[float] = field(default_factory=list)

    @staticmethod
    def median_ms(samples: list[float]) -> float:
        """The median of ``samples`` in milliseconds (0 when there are none)."""
        return statistics.median(samples) * 1000 if samples else 0.0


@dataclass
class CostRun:
    """Evaluations and findings one run recorded, for one REPORTING_MODE and fleet state."""

    mode: str
    state: str
    evaluations: int | None
    findings: int | None
    calls: int | None
    error: str | None = None
    by_operation: dict[str, int] = field(default_factory=dict)


@dataclass
class CostMode:
    """The cost-mode section: runs per mode, and whether ``REPORTING_MODE=changes`` is implemented yet."""

    groups: int
    keys: int
    changed: int
    runs: list[CostRun] = field(default_factory=list)
    changes_supported: bool | None = None
    changes_note: str = ""


@dataclass
class BenchmarkResults:
    """The whole benchmark."""

    started_at: str
    machine: dict[str, str]
    quick: bool
    fleets: list[FleetResult] = field(default_factory=list)
    cold_start: ColdStart | None = None
    cost: CostMode | None = None
    total_seconds: float = 0.0
