"""Writing reports and evidence folders whole or not at all.

A full disk, a quota, a Ctrl-C or a crash in the middle of a write must not leave a file that looks finished:

* a report file (``scan -o``, ``check -o``) is written to a hidden temporary file in the same folder (same file
  system, so the rename cannot copy), flushed to disk, and renamed over the target (``os.replace``, atomic on POSIX
  and Windows); on any failure the temporary file is removed and the target is untouched;
* an evidence folder is sealed by its manifest: every file is first written whole into a hidden staging folder
  inside the target, then moved into place, and ``manifest.json`` (each file's SHA-256) is moved last. A folder
  without a manifest is not complete evidence, and a folder whose files do not match the manifest has been changed.
  On any failure the staging folder and the files this run already moved are removed (and the folder itself, if
  this run created it), so nothing half-written remains; an older manifest is removed before the first file of a
  new pack is moved (``--force``), so it can never vouch for a mix of two runs.

Staging inside the target (not beside it) keeps every rename within one file system even when the target is a
mount point. Only the standard library.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_atomically", "write_sealed_folder"]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path`` and flush it to disk (ENOSPC can surface only at fsync)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same folder and a rename: complete or absent."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    temporary = Path(name)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600: a report is as readable as any file the user writes
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_sealed_folder(directory: Path, files: Mapping[str, bytes], seal: str) -> None:
    """Write ``files`` (name -> content) into ``directory``, the file named ``seal`` last (see the module docstring)."""
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=directory))
    moved: list[Path] = []
    try:
        for name, data in files.items():
            _write_synced(staging / name, data)
        (directory / seal).unlink(missing_ok=True)  # an older pack's seal must not vouch for this one
        for name in sorted(files, key=lambda n: n == seal):  # the seal last
            os.replace(staging / name, directory / name)
            moved.append(directory / name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for path in moved:
            path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile; leave it
                directory.rmdir()
        raise
