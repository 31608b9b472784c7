"""Fixtures for ``cmk-rule check``: running the command in-process with its output captured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cmk_rule_cli.main import main

from .support import Run


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``cmk-rule check ARGS`` through ``cmk_rule_cli.main.main``; argparse exits become the exit code."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        try:
            code = main(["check", *(str(a) for a in args)])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
