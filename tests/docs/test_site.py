"""The documentation site builds strictly, offline, with the very command the lint task runs (``tasks.SITE_BUILD``),
and that command fails on each kind of breakage: a missing page, a missing anchor, a page left out of the navigation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tasks

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).with_name("mkdocs")


def build(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the pinned mkdocs, fixed arguments
        [str(MKDOCS), *tasks.SITE_BUILD, "--site-dir", str(project / "site")],
        cwd=project, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": str(MKDOCS.parent), "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    return tmp_path


def test_the_site_builds_strictly(project: Path) -> None:
    done = build(project)
    assert done.returncode == 0, done.stderr
    assert (project / "site" / "index.html").is_file()
    for svg in (ROOT / "docs" / "assets").glob("*.svg"):  # the captures are published with the pages
        assert (project / "site" / "assets" / svg.name).is_file()


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        ("[a page](missing.md)", "missing.md"),
        ("[a section](#nowhere)", "#nowhere"),
        ("[another page's section](index.md#nowhere-either)", "index.md#nowhere-either"),
    ],
    ids=["missing-page", "missing-anchor", "missing-anchor-elsewhere"],
)
def test_a_broken_link_fails_the_build(project: Path, breakage: str, said: str) -> None:
    with (project / "docs" / "index.md").open("a") as page:
        page.write(f"\n{breakage}\n")
    done = build(project)
    assert done.returncode == 1
    assert said in done.stderr and "strict mode" in done.stdout + done.stderr


def test_a_page_left_out_of_the_navigation_fails_the_build(project: Path) -> None:
    (project / "docs" / "orphan.md").write_text("# Orphan\n")
    done = build(project)
    assert done.returncode == 1 and "orphan.md" in done.stderr


def test_no_plugin_or_theme_feature_reaches_the_network() -> None:
    """Material's social and privacy plugins fetch at build time; web fonts load from Google in the reader's browser."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "python"))
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in config.get("plugins", [])]
    assert set(plugins) <= {"search"}, plugins
    assert config["theme"]["font"] is False
    assert config["strict"] is True
    for svg in (ROOT / "docs" / "assets").glob("*.svg"):
        assert "@font-face" not in svg.read_text(), svg.name  # rich's export links its font from a CDN
