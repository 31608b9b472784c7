"""The command line's own benchmark: start-up of each command, and ``cmk-rule scan`` against ``custodian run``.

``python3 tasks.py bench --cli`` (or ``.venv/bin/python -m benchmarks.cli``) measures, every time as a whole process
(fork, interpreter, imports, work, exit), median of :data:`RUNS` runs:

1. start-up: ``cmk-rule --version``, ``--help``, ``scan --help``, ``check --help``, a ``check`` of one template, and
   ``scan`` of an empty Region of moto's server (start-up plus two calls: what every scan pays before its first page);
2. side by side, interleaved in one run on the same seeded moto-server fleet (1,000 groups, K=5 keys, in its own
   process: :mod:`benchmarks.server`): ``cmk-rule scan`` and Cloud Custodian's ``custodian run`` with a policy for
   ``aws.elasticache-group`` filtering on at-rest encryption and the KMS key. Custodian pins boto3 exactly, so it
   runs from its own virtual environment, ``.venv-custodian`` (``benchmarks/requirements-custodian.txt``), created
   on first use. Beside them, the listing floor (:mod:`benchmarks.listing_floor`): a bare botocore listing of the same
   pages, which no scan of the fleet can undercut on that server.

The results replace the section between :data:`SECTION_START` and :data:`SECTION_END` in ``benchmarks/RESULTS.md``
(the main benchmark keeps that section when it rewrites the file: :func:`benchmarks.report.write`).
"""

from __future__ import annotations

import argparse
import compileall
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import fleet
from benchmarks.run import lambda_env
from benchmarks.server import MotoServer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION_START = "<!-- section:cli:begin -->"  # the markers of benchmarks.sections: report.write keeps it
SECTION_END = "<!-- section:cli:end -->"
CLI = Path(sys.executable).parent / "cmk-rule"
CUSTODIAN_VENV = ROOT / ".venv-custodian"
CUSTODIAN_REQUIREMENTS = Path(__file__).resolve().parent / "requirements-custodian.txt"
TEMPLATE = ROOT / "tests" / "corpus" / "cloudformation" / "cache-groups.yaml"
LISTING_FLOOR = Path(__file__).resolve().parent / "listing_floor.py"
RUNS = 5
SCAN_GROUPS, SCAN_KEYS = 1_000, 5
TARGETS = {"--version / --help": 0.3, "scan start-up": 0.5, "scan vs custodian": 0.5}
EMPTY_REGION = "eu-north-1"

# Custodian's policy for the same control: unencrypted, no key, or an AWS-managed key (its kms-key filter reads
# the key's KeyManager). https://cloudcustodian.io/docs/aws/resources/elasticache.html
CUSTODIAN_POLICY = """\
policies:
  - name: elasticache-group-cmk
    resource: aws.elasticache-group
    filters:
      - or:
          - type: value
            key: AtRestEncryptionEnabled
            value: false
          - type: value
            key: KmsKeyId
            value: absent
          - type: kms-key
            key: KeyManager
            value: AWS
"""


@dataclass
class Timing:
    """Whole-process wall times of one command line, and the CPU time (user + system) the process used: on a
    shared, busy machine the wall time also counts waiting for a core, the CPU time does not."""

    label: str
    seconds: list[float]
    returncode: int
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


def _environment(endpoint: str | None) -> dict[str, str]:
    """The benchmark's fake-credential environment (:func:`benchmarks.run.lambda_env`); without ``endpoint``, no
    endpoint at all (the commands measured then make no AWS call)."""
    env = lambda_env(endpoint or "")
    if not endpoint:
        env.pop("AWS_ENDPOINT_URL")
    return env


def _time_once(argv: Sequence[str], env: dict[str, str], cwd: Path, timing: Timing | None = None) -> int:
    """Run once; record wall and CPU seconds into ``timing``. The CPU time is the rusage of waited-for children
    before and after: the moto server, also a child, is only waited for at the very end, so the delta is this run's."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own and Custodian's console scripts
        list(argv), env=env, cwd=cwd, capture_output=True, timeout=600, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    if timing is not None:
        timing.seconds.append(elapsed)
        timing.cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        timing.returncode = done.returncode
    return done.returncode


def measure(label: str, argv: Sequence[str], env: dict[str, str], runs: int = RUNS, cwd: Path = ROOT) -> Timing:
    """``runs`` whole-process runs of ``argv`` (after one warm-up run that fills the page cache)."""
    _time_once(argv, env, cwd)
    timing = Timing(label, [], 0)
    for _ in range(runs):
        _time_once(argv, env, cwd, timing)
    return timing


def compile_project() -> None:
    """Byte-compile ``cli/`` and ``lambda/`` as ``pip install`` does for a wheel (Custodian's venv was installed that
    way). The editable install here leaves them as source, and the measured processes run with
    ``PYTHONDONTWRITEBYTECODE=1``: without this, every ``cmk-rule`` run would compile its own modules again."""
    for folder in ("cli", "lambda"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def custodian_bin() -> Path:
    """Custodian's console script in its own venv, installed from the pinned requirements on first use."""
    script = CUSTODIAN_VENV / "bin" / "custodian"
    if not script.exists():
        venv.EnvBuilder(with_pip=True).create(CUSTODIAN_VENV)
        pip = [str(CUSTODIAN_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(CUSTODIAN_REQUIREMENTS)], check=True)  # noqa: S603
    return script


def side_by_side(endpoint: str, runs: int, workdir: Path) -> tuple[Timing, Timing, Timing]:
    """``cmk-rule scan``, ``custodian run`` and the listing floor (:mod:`benchmarks.listing_floor`) on the same
    fleet, interleaved run by run (same machine load)."""
    env = _environment(endpoint)
    policy = workdir / "policy.yml"
    policy.write_text(CUSTODIAN_POLICY)
    ours = [str(CLI), "scan", "--region", fleet.REGION, "--format", "json", "--quiet", "-o", str(workdir / "scan.json")]
    theirs = [
        str(custodian_bin()),
        "run",
        "--cache-period",
        "0",
        "-r",
        fleet.REGION,
        "-s",
        str(workdir / "custodian-out"),
        str(policy),
    ]
    listing = [sys.executable, str(LISTING_FLOOR), fleet.REGION]
    for argv in (ours, theirs, listing):  # warm-up: page cache, moto's per-service apps
        _time_once(argv, env, workdir)
    mine, custodian, floor = Timing("cmk-rule scan", [], 0), Timing("custodian run", [], 0), Timing("listing", [], 0)
    for _ in range(runs):
        for timing, argv in ((mine, ours), (custodian, theirs), (floor, listing)):
            _time_once(argv, env, workdir, timing)
    return mine, custodian, floor


def startup(endpoint: str, runs: int) -> list[Timing]:
    """Start-up of each command (no AWS at all, or two calls against an empty Region)."""
    offline, online = _environment(None), _environment(endpoint)
    return [
        measure("cmk-rule --version", [str(CLI), "--version"], offline, runs),
        measure("cmk-rule --help", [str(CLI), "--help"], offline, runs),
        measure("cmk-rule scan --help", [str(CLI), "scan", "--help"], offline, runs),
        measure("cmk-rule check --help", [str(CLI), "check", "--help"], offline, runs),
        measure("cmk-rule check (one template)", [str(CLI), "check", str(TEMPLATE), "--format", "json"], offline, runs),
        measure(
            "cmk-rule scan (empty Region: start-up + 2 calls)",
            [str(CLI), "scan", "--region", EMPTY_REGION, "--format", "json"],
            online,
            runs,
        ),
    ]


def markdown(
    starts: list[Timing], mine: Timing, custodian: Timing, runs: int, started_at: str, *, floor: Timing | None = None
) -> str:
    """The RESULTS.md section (``floor``: the bare listing of the same fleet, when it was measured)."""
    ratio = mine.median / custodian.median
    # What each tool spends beyond the bare listing of the same pages (its own code): the ratio a scan can change.
    own_ratio = (mine.median - floor.median) / (custodian.median - floor.median) if floor else float("nan")
    cpu_ratio = mine.cpu_median / custodian.cpu_median
    help_worst = max(t.median for t in starts if "help" in t.label or "version" in t.label)
    scan_start = next(t for t in starts if t.label.startswith("cmk-rule scan (empty"))
    lines = [
        SECTION_START,
        "## Command line (start-up, and scan against Cloud Custodian)",
        "",
        f"Generated by `python3 tasks.py bench --cli` on {started_at}: whole processes (interpreter start, imports, "
        f"work, exit), median of {runs} runs after one warm-up; moto's server in its own process; both tools' "
        "modules byte-compiled, as `pip install` leaves them.",
        "",
        "| command | median (s) | min (s) | max (s) | CPU (s) | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for timing in starts:
        target = (
            "≤ 0.5" if timing is scan_start else "≤ 0.3" if "help" in timing.label or "version" in timing.label else ""
        )
        lines.append(
            f"| `{timing.label}` | {timing.median:.3f} | {min(timing.seconds):.3f} | {max(timing.seconds):.3f} "
            f"| {timing.cpu_median:.3f} | {target} |"
        )
    lines += [
        "",
        f"Side by side on the same fleet ({SCAN_GROUPS:,} replication groups, K={SCAN_KEYS} keys, one Region), "
        "interleaved run by run:",
        "",
        "| command | median (s) | min (s) | max (s) | CPU (s) |",
        "|---|---:|---:|---:|---:|",
        f"| `cmk-rule scan --format json` (verdict per group, 11-row decision table) | {mine.median:.3f} | "
        f"{min(mine.seconds):.3f} | {max(mine.seconds):.3f} | {mine.cpu_median:.3f} |",
        f"| `custodian run` (c7n, policy on `aws.elasticache-group`: encryption, key, KeyManager) | "
        f"{custodian.median:.3f} | {min(custodian.seconds):.3f} | {max(custodian.seconds):.3f} | "
        f"{custodian.cpu_median:.3f} |",
        *(
            [
                "| listing floor (`benchmarks/listing_floor.py`: interpreter, botocore, the same "
                f"{SCAN_GROUPS // 100} `DescribeReplicationGroups` pages parsed; nothing else) | {floor.median:.3f} | "
                f"{min(floor.seconds):.3f} | {max(floor.seconds):.3f} | {floor.cpu_median:.3f} |"
            ]
            if floor
            else []
        ),
        "",
        f"- Ratio cmk-rule / custodian: **{ratio:.2f}x** wall (target ≤ 0.5x: {'met' if ratio <= 0.5 else 'NOT met'}), "
        f"{cpu_ratio:.2f}x CPU. Both include moto's answers over loopback (its server time is in neither CPU column).",
        *(
            [
                f"- The listing alone is {floor.median / custodian.median:.2f}x custodian's time: any scan of this "
                "fleet on this server takes at least that, so a ratio below it cannot be reached by the scan's own "
                f"code. Beyond the listing, cmk-rule spends {mine.median - floor.median:.3f} s (verdicts, key reads, "
                f"its imports, the report), custodian {custodian.median - floor.median:.3f} s: "
                f"**{own_ratio:.2f}x** (≤ 0.5x: {'met' if own_ratio <= 0.5 else 'NOT met'})."
            ]
            if floor
            else []
        ),
        f"- Slowest `--version`/`--help`: {help_worst:.3f} s (target ≤ 0.3 s: "
        f"{'met' if help_worst <= 0.3 else 'NOT met'}); scan start-up {scan_start.median:.3f} s (target ≤ 0.5 s: "
        f"{'met' if scan_start.median <= 0.5 else 'NOT met'}).",
        "",
        SECTION_END,
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path = RESULTS) -> None:
    """Replace (or append) the CLI section of RESULTS.md, leaving the rest as the main benchmark wrote it."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write the RESULTS.md section, print it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="measured runs per command (median reported)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the RESULTS.md to update")
    args = parser.parse_args(argv)
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    compile_project()
    with MotoServer() as server, tempfile.TemporaryDirectory() as scratch:
        server.call("seed", groups=SCAN_GROUPS, keys=SCAN_KEYS)
        starts = startup(server.endpoint, args.runs)
        mine, custodian, floor = side_by_side(server.endpoint, args.runs, Path(scratch))
    section = markdown(starts, mine, custodian, args.runs, started_at, floor=floor)
    write_section(section, args.results)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
