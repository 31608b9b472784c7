"""The Lambda asset (infra/lambda_asset.py): the rule's code with the pinned botocore and Powertools, built offline.

The asset is built once for the module into a temporary folder, exactly as CDK's local bundling builds it, and the
handler is imported from it in a fresh interpreter that sees nothing else (``python -S``: no site-packages, as on
Lambda where the runtime's own boto3 sits behind the function's folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import lambda_asset
from tests.docs.pages import page
from tests.infra.support import REPO, synth_app

LAMBDA_SOURCES = sorted((REPO / "lambda" / "cmk_rule").rglob("*.py"))


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("asset")
    lambda_asset.build(folder)
    return folder


def _in_asset(asset: Path, code: str) -> dict[str, object]:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter with only the asset and the standard library,
    with the environment Lambda gives a traced function (Powertools then builds its X-Ray Tracer)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(asset),
        "LAMBDA_TASK_ROOT": str(asset),
        "AWS_LAMBDA_FUNCTION_NAME": "elasticache-cmk-rule",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # An X-Ray trace header as Lambda sets it with active tracing; the daemon address is never reached (UDP).
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed snippet
        [sys.executable, "-S", "-B", "-c", code], env=env, cwd=asset, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_handler_imports_from_the_asset_alone_with_the_pinned_versions_and_without_boto3(asset: Path) -> None:
    found = _in_asset(
        asset,
        "import json, sys\n"
        "import cmk_rule.handler as handler\n"
        "class Context:\n"
        "    function_name, memory_limit_in_mb, aws_request_id = 'f', 512, 'r'\n"
        "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:f'\n"
        # Powertools' Tracer around a function, as around the handler: the X-Ray SDK, its botocore patch, wrapt.
        "traced = handler._traced(lambda event, context: 42)({}, Context())\n"
        "import botocore, aws_lambda_powertools.shared.version as pt, aws_xray_sdk.version as xr\n"
        "print(json.dumps({'botocore': [botocore.__version__, botocore.__file__], 'powertools': pt.VERSION,\n"
        "  'xray': xr.VERSION, 'boto3': sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer')),\n"
        "  'traced': traced, 'patched': 'aws_xray_sdk.ext.botocore.patch' in sys.modules}))",
    )
    pins = lambda_asset.pinned_versions()
    version, location = found["botocore"]  # type: ignore[misc]
    assert (version, Path(str(location)).parent.parent) == (pins["botocore"], asset)
    assert found["powertools"] == pins["aws-lambda-powertools"]
    assert found["xray"] == pins["aws-xray-sdk"]
    assert found["boto3"] == []
    assert (found["traced"], found["patched"]) == (42, True)


def test_botocore_data_is_trimmed_to_the_services_the_rule_builds_clients_for(asset: Path) -> None:
    found = _in_asset(
        asset,
        "import json, botocore.session\n"
        "session = botocore.session.get_session()\n"
        "services = sorted(session.get_available_services())\n"
        "for name in services: session.create_client(name, region_name='us-east-1')\n"
        "print(json.dumps({'services': services}))",
    )
    assert found["services"] == sorted(lambda_asset.BOTOCORE_SERVICES)


def test_every_service_the_rule_names_is_kept() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in LAMBDA_SOURCES)
    named = set(re.findall(r"\.client\(\s*[\"']([a-z0-9-]+)[\"']", text))
    assert named, "no client(...) call found: the pattern no longer matches the code"
    assert named <= lambda_asset.BOTOCORE_SERVICES, sorted(named - lambda_asset.BOTOCORE_SERVICES)


def test_the_asset_has_no_compiled_code_no_boto3_and_no_tests(asset: Path) -> None:
    names = {path.relative_to(asset).parts[0] for path in asset.iterdir()}
    assert {"cmk_rule", "botocore", "aws_lambda_powertools", "aws_xray_sdk", "wrapt", "jmespath"} <= names
    assert not names & {"boto3", "s3transfer", "moto", "cmk_rule_cli"}
    compiled = [p for p in asset.rglob("*") if p.suffix in (".pyc", ".so", ".pyd") or p.name == "__pycache__"]
    assert compiled == []
    assert sorted(p.name for p in (asset / "cmk_rule").glob("*.py")) == sorted(p.name for p in LAMBDA_SOURCES)


def test_an_installed_version_other_than_the_pin_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = tmp_path / "requirements.txt"
    text = lambda_asset.REQUIREMENTS.read_text(encoding="utf-8")
    requirements.write_text(re.sub(r"^botocore==.*$", "botocore==1.0.0", text, flags=re.MULTILINE), encoding="utf-8")
    monkeypatch.setattr(lambda_asset, "REQUIREMENTS", requirements)
    monkeypatch.setattr(lambda_asset.pinned_versions, "__defaults__", (requirements,))
    with pytest.raises(lambda_asset.AssetError, match=r"pins botocore==1\.0\.0 but .* is installed"):
        lambda_asset.build(tmp_path / "out")


@pytest.mark.parametrize("partition_regions", [("cn-north-1",), ("us-gov-west-1",), ("me-central-1",)])
def test_every_partition_deploys_the_same_code_and_reads_no_public_parameter(partition_regions: tuple[str]) -> None:
    (region,) = partition_regions
    stack = next(iter(synth_app(nag=False, regions=region).stacks.values()))
    function = stack.function()
    reference = next(iter(synth_app(nag=False, regions="us-east-1").stacks.values())).function()
    assert function["Code"]["S3Key"] == reference["Code"]["S3Key"]
    assert "Layers" not in function
    assert set(stack.json.get("Parameters", {})) == {"BootstrapVersion"}


def _zipped_size(asset: Path) -> int:
    archive = asset.parent / "asset.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as output:
        for path in sorted(asset.rglob("*")):
            if path.is_file():
                output.write(path, path.relative_to(asset))
    return archive.stat().st_size


def test_the_docs_state_the_asset_size(asset: Path) -> None:
    """docs/deployment/resources.md: "about X MB zipped (Y MB unzipped)", each within 10% of the built asset."""
    match = re.search(r"about ([0-9.]+) MB zipped \(([0-9.]+) MB unzipped\)", page("deployment/resources.md"))
    assert match, "docs/deployment/resources.md states no asset size"
    unzipped = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
    stated_zipped, stated_unzipped = (float(value) * 1_000_000 for value in match.groups())
    assert abs(stated_zipped - _zipped_size(asset)) / _zipped_size(asset) < 0.10
    assert abs(stated_unzipped - unzipped) / unzipped < 0.10
