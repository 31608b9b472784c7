"""A disk that fills up under one folder: the writes the code makes there stop half-way with ENOSPC.

There is no small file system to fill on a test machine (no root, no loop devices), so the test replaces ``os.write`` --
the one call :mod:`cmk_rule_cli.reports.files` writes through -- with one that, for a file under ``folder``, writes the
first half of what it is given for real and then fails as a full disk does. Writes anywhere else (pytest's capture,
moto's server, logs) pass through untouched."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


def fill_disk_under(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """From now on until the test ends, writes under ``folder`` fail half-way; returns the paths that failed."""
    real_write = os.write
    failed: list[str] = []
    root = str(folder.resolve())

    def write(fd: int, data: bytes | memoryview) -> int:
        try:
            where = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            where = ""
        if not where.startswith(root):
            return real_write(fd, data)
        real_write(fd, bytes(data)[: len(data) // 2])
        failed.append(where)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)
    return failed
