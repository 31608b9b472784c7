"""Fixtures for the reliability tests: one seeded 250-group fleet per module, a fresh harness per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.harness import Fleet, Harness, harness, module_fleet


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with module_fleet() as seeded:
        yield seeded


@pytest.fixture
def rig(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with harness(fleet, monkeypatch) as ready:
        yield ready
