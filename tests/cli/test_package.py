"""The built wheel, installed into a fresh virtual environment, gives a working ``cmk-rule``.

Tests have no network, so the wheel's dependencies cannot come from PyPI. The approach:

1. build the wheel from a fresh copy of this checkout's sources (a stale ``build/`` directory would otherwise leak
   old files into the wheel) with ``pip wheel --no-deps --no-build-isolation`` (the pinned setuptools of ``.venv``;
   no download);
2. create an empty venv (``venv``, without pip) and install the wheel into it with ``.venv``'s pip
   (``pip --python <venv> install --no-deps --no-index``): the venv then holds this project as a user gets it,
   console script included;
3. make the dependencies importable by a ``.pth`` file in the new venv naming ``.venv``'s site-packages. A *path*
   line in a ``.pth`` file only appends that directory to ``sys.path``; the ``.pth`` files inside it are not run, so
   the editable install of this checkout (a ``.pth`` finder in ``.venv``) stays invisible and every ``cmk_rule_cli``
   import comes from the wheel (checked below).

Then each command's ``--help``, a ``check`` and a ``scan`` against this session's moto server run from that venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from cmk_rule_cli import __version__
from cmk_rule_cli.commands import demo
from cmk_rule_cli.main import COMMAND_MODULES, main
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.reports import vocabulary

from .conftest import FAKE_CREDENTIALS, fresh_account

ROOT = Path(__file__).resolve().parents[2]
CFN_TEMPLATE = ROOT / "tests" / "corpus" / "cloudformation" / "cache-groups.yaml"
TIMEOUT = 120

pytestmark = pytest.mark.slow  # builds a wheel and a venv: about 20 s


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run without PYTHONPATH (a developer's shell may point it at the checkout, which would hide the wheel)."""
    kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs)  # type: ignore[call-overload]  # noqa: S603


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source") / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "cdk.out", "tests", "benchmarks"
        ),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(source)])
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("elasticache_cmk_rule-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's bin directory, with the wheel installed and .venv's site-packages on its path for dependencies."""
    target = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    done = _run([*pip, "install", "--no-deps", "--no-index", str(wheel)])
    assert done.returncode == 0, done.stderr
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    dependencies = [path for path in site.getsitepackages() if Path(path).is_dir()] or [
        sysconfig.get_paths()["purelib"]
    ]
    (purelib / "zz_dependencies_from_dev_venv.pth").write_text("\n".join(dependencies) + "\n")
    return target / "bin"


def test_the_wheel_holds_every_package_and_the_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for source_root, package in ((ROOT / "cli", "cmk_rule_cli"), (ROOT / "lambda", "cmk_rule")):
        for init in (source_root / package).rglob("__init__.py"):
            assert str(init.relative_to(source_root)) in names, init
    assert "/".join(("cmk_rule_cli", "iac", "__init__.py")) in names  # the subpackage a listed config once missed
    assert "/".join(("cmk_rule_cli", vocabulary.SCHEMA_RESOURCE)) in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "infra/"))]


def test_the_metadata_declares_what_the_commands_import(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist") or []
    runtime = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}
    assert {"botocore", "aws-lambda-powertools", "pyyaml", "rich", "python-hcl2"} <= runtime
    assert "boto3" not in runtime  # scan, evidence and the rule use botocore's session alone; boto3 is the demo's
    assert all(">=" in r for r in requires), requires  # every dependency has a lower bound
    demo_extra = [r for r in requires if 'extra == "demo"' in r]
    # moto's core with the two packages its server imports, not moto[server] (cfn-lint, sympy, docker: 175 MB more)
    assert sorted(r.split(";")[0].split(">=")[0] for r in demo_extra) == ["boto3", "flask", "flask-cors", "moto"]
    assert "moto" not in runtime  # the demo's mock is not forced on users of scan, evidence and check


def test_the_metadata_has_the_one_version_and_the_license(wheel: Path) -> None:
    """The version is ``cmk_rule.__version__`` (read by setuptools from the source); the license is the SPDX
    expression and the LICENSE file, the Apache License 2.0's full text, travels in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert len(licenses) == 1, names
        text = archive.read(licenses[0]).decode()
    assert metadata["Version"] == __version__ and wheel.name.startswith(f"elasticache_cmk_rule-{__version__}-")
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert text == (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a notice


def test_no_second_version_is_written_down() -> None:
    """``version = "..."`` in pyproject.toml would be a second definition that drifts from ``__version__``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cmk_rule.__version__"}


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import cmk_rule_cli, cmk_rule; print(cmk_rule_cli.__file__)"])
    assert where.returncode == 0, where.stderr
    assert str(installed.parent) in where.stdout and str(ROOT / "cli") not in where.stdout


@pytest.mark.parametrize("command", [None, *COMMAND_MODULES])
def test_every_help_works_from_the_fresh_venv(installed: Path, command: str | None) -> None:
    done = _run([str(installed / "cmk-rule"), *([command] if command else []), "--help"])
    assert done.returncode == 0, done.stderr
    assert "usage: cmk-rule" in done.stdout and "Traceback" not in done.stderr


def test_version_from_the_fresh_venv_is_the_packages(installed: Path) -> None:
    done = _run([str(installed / "cmk-rule"), "--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"cmk-rule {__version__}\n"


def test_check_and_scan_work_from_the_fresh_venv(installed: Path, moto_endpoint: str) -> None:
    checked = _run([str(installed / "cmk-rule"), "check", str(CFN_TEMPLATE), "--format", "json"])
    assert checked.returncode == 1, checked.stderr  # the corpus template has failing groups
    document = json.loads(checked.stdout)
    assert document["command"] == "check" and document["totals"]["NON_COMPLIANT"] >= 1

    make_client = fresh_account(moto_endpoint)
    seeded = fleet.seed_region(make_client, "eu-west-1", full=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"},
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    approved = seeded.parameters["approvedKmsKeyArns"].split(",")
    flags = [flag for arn in approved for flag in ("--approved-key-arn", arn)]
    scanned = _run([str(installed / "cmk-rule"), "scan", "--region", "eu-west-1", *flags, "--format", "json"], env=env)
    assert scanned.returncode == 1, scanned.stderr
    results = json.loads(scanned.stdout)["results"]
    assert {r["group_id"]: r["compliance"] for r in results} == {
        g.group_id: g.expected_compliance for g in seeded.groups
    }


def test_demo_without_its_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto is present in the test environment, so its absence is simulated where the demo looks for it."""
    monkeypatch.setattr(demo.importlib.util, "find_spec", lambda name, *_: None)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err == f"cmk-rule demo: error: {demo.MISSING_EXTRA}\n"
    assert 'pip install ".[demo]"' in err  # what works today, from a checkout
    assert "elasticache-cmk-rule[demo]" not in err  # not on PyPI yet: never named as if it could be installed


@pytest.mark.parametrize("absent", demo.DEMO_MODULES)
def test_demo_says_so_when_any_module_of_its_extra_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], absent: str
) -> None:
    real = demo.importlib.util.find_spec
    monkeypatch.setattr(demo.importlib.util, "find_spec", lambda name, *a: None if name == absent else real(name, *a))
    assert main(["demo"]) == 2
    assert demo.MISSING_EXTRA in capsys.readouterr().err
