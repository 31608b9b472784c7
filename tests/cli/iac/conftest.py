"""Fixtures for ``cmk-rule check``: running the command in-process with its output captured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cmk_rule_cli.main import main

from .support import Run


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``cmk-rule check ARGS`` through ``cmk_rule_cli.main.main``; argparse exits become the exit code.

    JSON unless the test names a format or an output file: the default is a table in a pipe too, and most tests
    read the JSON document (``Run.json``)."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        argv = [str(a) for a in args]
        if not any(a in ("--format", "-o", "--output") or a.startswith(("--format=", "--output=")) for a in argv):
            argv += ["--format", "json"]
        try:
            code = main(["check", *argv])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
