"""The Lambda asset: the rule's code with the botocore and Powertools it was tested with, built offline.

Why ship them (AWS Lambda Developer Guide, "Building Lambda functions with Python" > runtime-included SDK: AWS
recommends packaging the SDK version a function was tested with, because the runtime's copy is updated on AWS's
schedule): the rule reads response fields that only recent botocore models carry (a runtime botocore older than those
models drops them silently), and Powertools from a layer needs a Region-limited public SSM parameter (Powertools
publishes it in commercial Regions only: no China, GovCloud, me-central-1 ...). Shipping both makes every Region of
every partition run the same, byte-identical function.

How (no Docker, no network): a CDK local bundling (``BundlingOptions(local=...)``, CDK's ``ILocalBundling``, in
infra/rule_function.py) runs :func:`build`, which copies ``lambda/cmk_rule`` and the files of the installed
distributions -- the ones ``python3 tasks.py setup`` put into the project's virtual environment from
``requirements.txt`` -- into the asset folder. Chosen over ``pip install --target --no-index`` because that needs a
wheel cache the set-up does not keep, while the installed files are exactly what the test suite ran against; the
synthesis fails with one sentence when an installed version differs from its pin. This module needs no CDK, so the
benchmarks build the same asset.

What is shipped: the dependency closure of :data:`ROOT_DISTRIBUTIONS` evaluated for the Lambda runtime (Python 3.14,
Linux arm64). boto3 (and s3transfer) is not: the rule builds its clients on botocore's session alone
(``cmk_rule.aws``), and ``tests/infra/test_lambda_asset.py`` imports the handler from the asset with nothing else on
the path. Compiled extensions are left out (they are built for this machine, not for Lambda's arm64 Python 3.14):
only wrapt has one, and wrapt falls back to its pure-Python implementation (its ``__wrapt__`` module) when it
cannot import it. So is byte code: Python 3.14 byte code cannot be built with the project's Python 3.11, so the
function compiles what it imports on each cold start (measured in benchmarks/RESULTS.md, "Cold start").
botocore's service data is trimmed to :data:`BOTOCORE_SERVICES` (about 90% of botocore's size is the data of ~400
services the rule never calls); a test builds a client of every kept service from the asset and checks that every
service the code names is kept.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.permissions import API_ACTIONS

REPO = Path(__file__).resolve().parent.parent
LAMBDA_SOURCE_DIR = REPO / "lambda"
PACKAGE = "cmk_rule"
REQUIREMENTS = REPO / "requirements.txt"

# What the rule imports: botocore (clients), Powertools (Logger, Metrics, Tracer) and the X-Ray SDK Powertools'
# Tracer needs (its "tracer" extra; the Powertools layer ships it too). Each is pinned in requirements.txt.
ROOT_DISTRIBUTIONS = ("botocore", "aws-lambda-powertools", "aws-xray-sdk")

# PEP 508 marker environment of the Lambda runtime the function uses (infra/rule_function.py: python3.14, arm64).
LAMBDA_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.14.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.14.0",
    "python_version": "3.14",
    "sys_platform": "linux",
}

# botocore service data kept in the asset: every service the rule calls (infra/permissions.API_ACTIONS) and "xray",
# whose client the X-Ray SDK builds for centralized sampling when it does not detect Lambda
# (aws_xray_sdk.core.sampling.connector.ServiceConnector).
BOTOCORE_SERVICES = frozenset({service for service, _ in API_ACTIONS} | {"xray"})

_SKIPPED_PARTS = frozenset({"__pycache__", "tests"})
_SKIPPED_SUFFIXES = (".pyc", ".so", ".pyd", ".dylib")
_SKIPPED_METADATA = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class AssetError(RuntimeError):
    """The installed environment cannot produce the asset; the message says what to do."""


def pinned_versions(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of requirements.txt, by canonical name."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+-]*)\s*(#.*)?", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def runtime_distributions(roots: Iterable[str] = ROOT_DISTRIBUTIONS) -> list[metadata.Distribution]:
    """The installed distributions of ``roots`` and of everything they require on the Lambda runtime, by name.

    Raises :class:`AssetError` when a root is not pinned in requirements.txt, or its installed version differs from
    the pin (the asset must carry what the tests ran against).
    """
    pins = pinned_versions()
    for root in roots:
        name = canonicalize_name(root)
        installed = _installed(name).version
        if pins.get(name) != installed:
            raise AssetError(
                f"requirements.txt pins {root}=={pins.get(name, '(nothing)')} but {installed} is installed; run "
                "`python3 tasks.py setup` so that the Lambda asset carries the pinned version"
            )
    found: dict[str, metadata.Distribution] = {}
    pending = [canonicalize_name(root) for root in roots]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        distribution = found[name] = _installed(name)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return [found[name] for name in sorted(found)]


def _installed(name: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise AssetError(f"{name} is not installed; run `python3 tasks.py setup` before synthesizing") from None


def shipped_files(distribution: metadata.Distribution) -> Iterator[PurePosixPath]:
    """The files of ``distribution`` that go into the asset (relative to site-packages)."""
    for file in distribution.files or []:
        path = PurePosixPath(str(file))
        if path.parts[0] == ".." or _SKIPPED_PARTS & set(path.parts) or path.name.endswith(_SKIPPED_SUFFIXES):
            continue  # console scripts outside site-packages, byte code, tests, compiled extensions
        if path.parts[0].endswith(".dist-info") and path.name in _SKIPPED_METADATA:
            continue
        if _unused_botocore_data(path):
            continue
        yield path


def _unused_botocore_data(path: PurePosixPath) -> bool:
    """botocore/data/<service>/... of a service outside BOTOCORE_SERVICES (top-level data files are kept)."""
    return path.parts[:2] == ("botocore", "data") and len(path.parts) > 3 and path.parts[2] not in BOTOCORE_SERVICES


def build(output_dir: Path) -> None:
    """Write the asset: ``cmk_rule`` and the shipped files of every runtime distribution."""
    shutil.copytree(
        LAMBDA_SOURCE_DIR / PACKAGE,
        output_dir / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    for distribution in runtime_distributions():
        for path in shipped_files(distribution):
            target = output_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(distribution.locate_file(path))), target)
