"""What a fork or a user runs from this repository: the CI and release workflows, the composite action, the
pre-commit hook. actionlint (pinned, its binary in the wheel, offline) checks the workflows and, through the
self-test's ``uses: ./``, the action's metadata; these tests add what actionlint does not judge: pinned actions,
least-privilege permissions, trusted publishing, and what the action and the hook actually run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).with_name("actionlint")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    if True in document:  # PyYAML reads the `on:` key as a boolean (YAML 1.1)
        document["on"] = document.pop(True)
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def steps_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the pinned actionlint, fixed arguments
        [str(ACTIONLINT), "-no-color"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},  # nothing else: it must not need the network or a token
    )  # fmt: skip


def test_actionlint_passes_offline() -> None:
    done = actionlint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_wrong_action_input(tmp_path: Path) -> None:
    """The composite action's inputs are read from action.yml: a misspelt input in a workflow fails the lint."""
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    shutil.copy(ROOT / "action.yml", tmp_path)
    (tmp_path / ".git").mkdir()  # actionlint looks for the repository root
    selftest = tmp_path / ".github" / "workflows" / "action.yml"
    selftest.write_text(selftest.read_text().replace("paths: tests/", "path: tests/"))
    done = actionlint(tmp_path)
    assert done.returncode == 1 and 'input "path" is not defined' in done.stdout, done.stdout + done.stderr


def test_every_action_used_is_pinned_to_a_commit() -> None:
    files = [*WORKFLOWS.glob("*.yml"), ROOT / "action.yml"]
    used = [(path.name, step["uses"]) for path in files for step in steps_of(load(path)) if "uses" in step]
    used += [
        (path.name, job["uses"]) for path in WORKFLOWS.glob("*.yml") for job in load(path)["jobs"].values()
        if "uses" in job
    ]  # fmt: skip
    assert len(used) >= 8
    for where, uses in used:
        assert uses.startswith("./") or PINNED.match(uses), f"{where}: {uses}"


def test_every_workflow_grants_least_privilege() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        document = workflow(path.name)
        assert "permissions" in document, path.name  # never the repository's default token scope
        assert document["permissions"] in ({}, {"contents": "read"}), path.name
    release = workflow("release.yml")
    assert release["permissions"] == {}
    granted = {name: job.get("permissions") for name, job in release["jobs"].items()}
    assert granted == {"ci": {"contents": "read"}, "build": {"contents": "read"}, "publish": {"id-token": "write"}}


def test_ci_runs_the_projects_own_ci_script() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert [step["run"] for step in steps_of(ci) if "run" in step] == ["bash .ci/run"]
    assert (ROOT / ".ci" / "run").is_file()


def test_a_tag_runs_ci_then_builds_once_then_publishes_with_trusted_publishing() -> None:
    release = workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["build"]["needs"] == "ci" and jobs["publish"]["needs"] == "build"
    build = "\n".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "python -m build" in build and "cmk_rule.__version__" in build  # the tag must be the package's version
    publish = jobs["publish"]
    assert publish["environment"]["name"] == "pypi"
    (uploader,) = [step for step in publish["steps"] if step["uses"].startswith("pypa/gh-action-pypi-publish@")]
    assert "with" not in uploader or not {"password", "user"} & set(uploader["with"])  # OIDC, no stored token


def test_the_action_checks_and_uploads_sarif() -> None:
    action = load(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    runs = "\n".join(step.get("run", "") for step in steps_of(action))
    assert '"$GITHUB_ACTION_PATH"' in runs  # installs cmk-rule from the tag the user named, not from an index
    assert re.search(r"cmk-rule\" check .*--format sarif --output \"\$SARIF\"", runs)
    (upload,) = [s for s in steps_of(action) if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}" and "always()" in upload["if"]
    for step in steps_of(action):  # inputs reach scripts through env only (no ${{ }} inside a shell script)
        assert "${{" not in step.get("run", ""), step.get("name")


def test_the_pre_commit_manifest_is_valid() -> None:
    done = subprocess.run(  # noqa: S603 - the pinned pre-commit
        [str(Path(sys.executable).with_name("pre-commit")), "validate-manifest", ".pre-commit-hooks.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("path", "fires"),
    [
        ("main.tf", True),
        ("envs/prod.tfvars", True),
        ("templates/cache.yaml", True),
        ("stack.yml", True),
        ("plan.json", True),
        ("cdk.out/CacheStack.template.json", True),
        ("cache.template", True),
        (".github/workflows/ci.yml", False),
        (".github/dependabot.yml", False),
        (".pre-commit-config.yaml", False),
        ("package-lock.json", False),
        ("web/package.json", False),
        ("tsconfig.build.json", False),
        ("cdk.json", False),
        ("mkdocs.yml", False),
        (".vscode/settings.json", False),
        ("docker-compose.yml", False),
        ("README.md", False),
        ("app.py", False),
    ],
)
def test_the_hook_fires_on_infrastructure_code_only(path: str, fires: bool) -> None:
    """pre-commit runs a hook when ``re.search(files)`` matches a changed path and ``re.search(exclude)`` does not."""
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)) is fires


def test_the_hook_runs_the_packages_console_script_on_the_whole_repository() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["entry"] == "cmk-rule check" and hook["args"][0] == "."
    assert 'cmk-rule = "cmk_rule_cli.main:console_main"' in (ROOT / "pyproject.toml").read_text()


def test_the_hook_fires_on_every_suffix_the_check_reads() -> None:
    from cmk_rule_cli.iac.inputs.discovery import SUFFIXES

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for suffix in SUFFIXES:
        assert re.search(hook["files"], f"infra/main{suffix}"), suffix
