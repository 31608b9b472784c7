"""Reports and evidence folders are written whole or not at all: a full disk leaves nothing half-written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from cmk_rule_cli.reports.files import write_atomically, write_sealed_folder
from tests.support.disk import fill_disk_under

FILES = {"evidence.json": b"{}\n" * 1000, "groups.csv": b"a,b\n" * 1000, "manifest.json": b'{"files": []}\n'}


def test_a_report_is_written_whole_and_readable(tmp_path: Path) -> None:
    target = tmp_path / "scan.csv"
    write_atomically(target, b"x" * 100_000)
    assert target.read_bytes() == b"x" * 100_000
    assert [p.name for p in tmp_path.iterdir()] == ["scan.csv"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_full_disk_leaves_no_report_and_the_previous_one_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "scan.json"
    target.write_bytes(b"yesterday's report")
    failed = fill_disk_under(monkeypatch, tmp_path)
    with pytest.raises(OSError, match="No space left on device") as raised:
        write_atomically(target, b"today's report" * 1000)
    assert raised.value.errno == errno.ENOSPC and failed  # the write really was cut half-way
    assert [p.name for p in tmp_path.iterdir()] == ["scan.json"]
    assert target.read_bytes() == b"yesterday's report"


def test_an_interrupted_report_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "scan.md", b"half")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_sealed_by_its_manifest_written_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real_replace = os.replace

    def replace(source: Path, target: Path) -> None:
        order.append(Path(target).name)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    write_sealed_folder(tmp_path / "pack", FILES, seal="manifest.json")
    assert order[-1] == "manifest.json" and sorted(order) == sorted(FILES)
    assert {p.name: p.read_bytes() for p in (tmp_path / "pack").iterdir()} == FILES  # no staging folder left


def test_a_full_disk_leaves_no_folder_it_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_disk_under(monkeypatch, tmp_path)
    with pytest.raises(OSError, match="No space left on device"):
        write_sealed_folder(tmp_path / "pack", FILES, seal="manifest.json")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_an_earlier_pack_whole_when_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = {name: b"earlier " + name.encode() for name in FILES} | {"notes.txt": b"keep me"}
    for name, data in earlier.items():
        (tmp_path / name).write_bytes(data)
    fill_disk_under(monkeypatch, tmp_path)
    with pytest.raises(OSError):
        write_sealed_folder(tmp_path, FILES, seal="manifest.json")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == earlier


def test_a_failure_while_moving_into_place_leaves_no_seal_and_nothing_of_this_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "manifest.json").write_bytes(b"an earlier pack's seal")
    (tmp_path / "notes.txt").write_bytes(b"keep me")
    real_replace = os.replace

    def replace(source: Path, target: Path) -> None:
        if Path(target).name == "groups.csv":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        write_sealed_folder(tmp_path, FILES, seal="manifest.json")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # no seal vouches for a mix of two runs
