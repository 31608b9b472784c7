"""The documentation site holds together: every page is in the nav (and every nav entry is a page), the README's
relative links and anchors resolve, the README sections the pages include exist, and `mkdocs build --strict` passes.

Anchors are checked with pymdown-extensions' GitHub-style slugs, the ones mkdocs.yml configures for the site too, so a
link from the README into a page works on GitHub and on the site alike.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from pymdownx.slugs import slugify

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


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    build = subprocess.run(  # noqa: S603 - a fixed argv
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "", "HOME": str(tmp_path)},
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "site" / "rule" / "index.html").read_text(encoding="utf-8").count("key-not-enabled") >= 1
