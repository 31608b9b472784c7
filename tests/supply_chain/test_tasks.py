"""tasks.py's set-up and ``newest`` steps: the demo environment is pinned like the tests', and ``newest`` says so
when the package index cannot be reached instead of passing without having installed anything."""

from __future__ import annotations

import os

import pytest

import tasks


def test_the_demo_environment_is_constrained_to_every_pin() -> None:
    pins = tasks.pinned_constraints()
    names = [pin.split("==")[0].lower() for pin in pins]
    assert "moto==5.2.5" in pins  # written moto[server]==5.2.5: pip refuses extras in a constraints file
    assert not [pin for pin in pins if "[" in pin]
    for needed in ("botocore", "boto3", "aws-lambda-powertools", "rich", "python-hcl2", "pyyaml"):
        assert needed in names, needed
    assert len(names) == len(set(names))  # one pin a package across requirements.txt and requirements-dev.txt


def test_only_the_demo_skips_the_development_environment() -> None:
    assert tasks.TASKS["demo"][0] is tasks.setup_demo
    assert {name for name, (prepare, _) in tasks.TASKS.items() if prepare is not tasks.setup} == {"demo"}


def test_newest_fails_saying_the_index_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An index on a closed loopback port (and no configured file or link that could answer instead)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tasks, "INDEX_TIMEOUT", "2")
    with pytest.raises(SystemExit) as exited:
        tasks.newest()
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("tasks.py newest: the package index could not be reached (")
    assert "the smoke tests with the newest dependencies did NOT run" in err
