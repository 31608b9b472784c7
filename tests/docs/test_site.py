"""The documentation site holds together: every page is in the nav (and every nav entry is a page), the README's
relative links and anchors resolve, the README sections the pages include exist, and the site builds strictly,
offline, with the very command the lint task runs (``tasks.SITE_BUILD``), a command that fails on each kind of
breakage: a missing page, a missing anchor, a page left out of the navigation.

Anchors are checked with pymdown-extensions' GitHub-style slugs, the ones mkdocs.yml configures for the site too, so a
link from the README into a page works on GitHub and on the site alike.
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
from pymdownx.slugs import slugify

import tasks
from tests.docs.pages import DOCS, README, ROOT

github_slug = slugify(case="lower")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SNIPPET = re.compile(r'^--8<-- "README\.md:([\w-]+)"$', re.M)


class _MkDocsLoader(yaml.SafeLoader):
    """mkdocs.yml may name Python callables (``!!python/...``, the toc slugify): read them as None, run nothing."""


_MkDocsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _nav_pages(entries: Any) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [page for entry in entries for page in _nav_pages(entry)]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in _nav_pages(value)]
    return []


def _config() -> dict[str, Any]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_MkDocsLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(config, dict)
    return config


def _anchors(markdown: str) -> set[str]:
    """The GitHub anchors of a Markdown file's headings (outside fenced code)."""
    anchors: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^#{1,6} (.+)$", line)):
            anchors.add(github_slug(heading.group(1).replace("`", ""), "-"))
    return anchors


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    config = _config()
    assert config["strict"] is True
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    nav = _nav_pages(config["nav"])
    assert len(nav) == len(set(nav)), nav
    assert sorted(nav) == pages


def test_strict_validation_fails_on_broken_links_anchors_and_omitted_pages() -> None:
    validation = _config()["validation"]
    assert validation["nav"] == {"omitted_files": "warn", "not_found": "warn", "absolute_links": "warn"}
    assert validation["links"] == {
        "not_found": "warn",
        "anchors": "warn",
        "absolute_links": "warn",
        "unrecognized_links": "warn",
    }


def test_every_relative_link_of_the_readme_resolves() -> None:
    targets = [target for target in LINK.findall(README) if not re.match(r"^[a-z]+:", target)]
    assert len(targets) >= 30, targets
    broken = []
    for target in targets:
        path_part, _, anchor = target.partition("#")
        path = ROOT / path_part if path_part else ROOT / "README.md"
        if not path.is_file() or (anchor and anchor not in _anchors(path.read_text(encoding="utf-8"))):
            broken.append(target)
    assert broken == []


def test_every_readme_section_a_page_includes_is_marked_in_the_readme() -> None:
    included = {name for path in DOCS.rglob("*.md") for name in SNIPPET.findall(path.read_text(encoding="utf-8"))}
    assert included >= {"decision-table", "rule-parameters", "deployment-modes", "peers"}
    for name in included:
        start, end = f"<!-- --8<-- [start:{name}] -->", f"<!-- --8<-- [end:{name}] -->"
        assert README.count(start) == 1 and README.count(end) == 1, name
        assert README.index(start) < README.index(end), name


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
    shutil.copy(ROOT / "README.md", tmp_path)  # the pages include sections of it (pymdownx.snippets)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    return tmp_path


def test_the_site_builds_strictly(project: Path) -> None:
    done = build(project)
    assert done.returncode == 0, done.stderr
    assert (project / "site" / "index.html").is_file()
    assert (project / "site" / "rule" / "index.html").read_text(encoding="utf-8").count("key-not-enabled") >= 1
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
    config = _config()
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in config.get("plugins", [])]
    assert set(plugins) <= {"search"}, plugins
    assert config["theme"]["font"] is False
    assert config["strict"] is True
    for svg in (ROOT / "docs" / "assets").glob("*.svg"):
        assert "@font-face" not in svg.read_text(), svg.name  # rich's export links its font from a CDN
