"""Static security analysis of the code shipped to Lambda: bandit over lambda/ must report no HIGH-severity finding
and no MEDIUM-severity finding with HIGH confidence. Findings are listed in full when the test fails."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BANDIT = Path(sys.executable).with_name("bandit")


@functools.cache
def _bandit(target: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - the project's own bandit, fixed arguments
        [str(BANDIT), "-r", str(target), "-f", "json", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: findings were reported
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def blocking(report: dict[str, Any]) -> list[str]:
    """The findings that fail the gate, one line each."""
    return [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}/{r['issue_confidence']}: "
        f"{r['issue_text']}"
        for r in report["results"]
        if r["issue_severity"] == "HIGH" or (r["issue_severity"] == "MEDIUM" and r["issue_confidence"] == "HIGH")
    ]


def test_bandit_scans_every_module_of_the_rule() -> None:
    report = _bandit(ROOT / "lambda")
    assert report["errors"] == []
    scanned = {Path(name).name for name in report["metrics"] if name != "_totals"}
    shipped = {path.name for path in (ROOT / "lambda" / "cmk_rule").glob("*.py")}
    assert shipped <= scanned, sorted(shipped - scanned)
    assert report["metrics"]["_totals"]["loc"] > 1000


def test_no_high_severity_and_no_confident_medium_finding() -> None:
    found = blocking(_bandit(ROOT / "lambda"))
    assert found == [], "\n".join(found)


def test_the_gate_catches_a_real_finding(tmp_path: Path) -> None:
    # The same gate over a module with a shell injection (B602, HIGH/HIGH) must fail.
    (tmp_path / "bad.py").write_text(
        "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
    )
    found = blocking(_bandit(tmp_path))
    assert any("B602" in line and "HIGH/HIGH" in line for line in found), found
