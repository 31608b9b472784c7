"""The property tests' example budget: at least 10,000 examples in total per CI run, each test's count stated."""

from __future__ import annotations

import importlib
import pkgutil

from hypothesis import settings

import tests.properties
from tests.properties.budget import CI_BUDGET, CI_EXAMPLES_PER_100, MINIMUM, PROFILES


def _given_tests() -> dict[str, int]:
    """Every @given test of tests/properties and the max_examples it runs with in the active profile."""
    found = {}
    for module_info in pkgutil.iter_modules(tests.properties.__path__):
        module = importlib.import_module(f"tests.properties.{module_info.name}")
        for name, value in vars(module).items():
            if name.startswith("test_") and getattr(value, "is_hypothesis_test", False):
                found[name] = value._hypothesis_internal_use_settings.max_examples
    return found


def test_every_property_test_states_its_ci_examples_and_they_add_up_to_ten_thousand() -> None:
    given = _given_tests()
    assert set(given) == set(CI_BUDGET), set(given) ^ set(CI_BUDGET)
    assert sum(CI_BUDGET.values()) >= 10_000


def test_the_active_profile_scales_every_tests_stated_examples() -> None:
    scale = settings.default.max_examples / CI_EXAMPLES_PER_100
    assert scale in {per_100 / CI_EXAMPLES_PER_100 for per_100 in PROFILES.values()}
    for name, examples in _given_tests().items():
        assert examples == max(MINIMUM, round(CI_BUDGET[name] * scale)), name
