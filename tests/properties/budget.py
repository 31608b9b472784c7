"""How many examples each property test runs, per Hypothesis profile.

Each ``@given`` test states its examples for the ``ci`` profile with :func:`examples`; the active profile scales them:

| profile | when | examples per test |
|---------|------|-------------------|
| ``dev`` | default outside CI | a fifth of the CI count (at least 20): a quick local run |
| ``ci``  | ``CI`` is set (``.ci/run``), or ``--hypothesis-profile=ci`` | the stated count; at least 10,000 in total |
| ``deep`` | ``python3 tasks.py deep`` (``--hypothesis-profile=deep``) | 10x the CI count, not derandomized |

The profiles are registered in ``tests/conftest.py``. Each encodes its scale in ``max_examples`` (per 100 CI examples),
so a test module reads the active one from ``settings.default`` when it is imported, after the profile was loaded.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

CI_EXAMPLES_PER_100 = 100
PROFILES = {"dev": 20, "ci": CI_EXAMPLES_PER_100, "deep": 1000}
MINIMUM = 20
# test name -> examples in the ci profile (every @given test registers here through examples()).
CI_BUDGET: dict[str, int] = {}


def register_profiles() -> None:
    """The three profiles; ``deep`` explores new examples each run, the others are reproducible."""
    for name, per_100 in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=per_100,
            deadline=None,
            database=None,
            derandomize=name != "deep",
            print_blob=True,
        )


def examples(test: str, ci: int, *, slow: bool = False) -> settings:
    """Settings for one property test that runs ``ci`` examples in the ``ci`` profile (scaled for the others)."""
    CI_BUDGET[test] = ci
    scale = settings.default.max_examples / CI_EXAMPLES_PER_100
    checks = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow] if slow else []
    return settings(max_examples=max(MINIMUM, round(ci * scale)), suppress_health_check=checks)
