"""One assertion for every fault test: the exact verdicts, the exact skipped set, nothing lost or duplicated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cmk_rule.engine import VANISHED_ANNOTATION
from cmk_rule.outcomes import Step
from tests.reliability.harness import SCOPE, Harness, Outcome


def group_ids(indexes: Iterable[int]) -> list[str]:
    return [f"group-{i:04d}" for i in indexes]


def assert_run(
    rig: Harness,
    outcome: Outcome,
    *,
    judged: list[str],
    skipped: set[str],
    parameters: dict[str, str] | None = None,
    retired: Iterable[str] = (),
    untouched: Mapping[str, str] | None = None,
    verdicts: Mapping[str, str] | None = None,
    not_delivered: Iterable[str] = (),
    findings: Iterable[str] | None = None,
) -> None:
    """Assert the whole outcome of one faulted run.

    ``judged``: groups that must now hold a fresh verdict (the fleet's expected one, unless ``verdicts`` overrides);
    ``skipped``: exactly the names the IncompleteRunError must carry (empty: the invocation must succeed);
    ``retired``: stale results that must now be NOT_APPLICABLE; ``untouched``: results seeded before the run that must
    still hold their seeded compliance (never overwritten, never retired); ``not_delivered``: judged groups whose
    PutEvaluations failed (they hold no fresh result); ``findings``: the groups that must hold a Security Hub finding
    (default: every judged group).
    """
    untouched = dict(untouched or {})
    if skipped:
        assert outcome.problems is not None, f"the invocation succeeded; expected it to name {sorted(skipped)[:5]}"
        assert outcome.skipped == skipped, (
            sorted(outcome.skipped - skipped)[:5],
            sorted(skipped - outcome.skipped)[:5],
        )
    else:
        assert outcome.problems is None, f"unexpected problems: {dict(list((outcome.problems or {}).items())[:5])}"
    not_delivered = set(not_delivered)
    expected = {g: (verdicts or {}).get(g) or rig.fleet.expected(g, parameters) for g in judged}
    expected = {g: c for g, c in expected.items() if g not in not_delivered}
    expected.update({g: "NOT_APPLICABLE" for g in retired})
    expected.update(untouched)
    assert rig.recorded() == expected, _diff(rig.recorded(), expected)
    annotations = rig.annotations()
    for group_id in untouched:
        assert annotations[group_id] == "seeded", f"{group_id} was overwritten"
    for group_id in retired:
        assert annotations[group_id] == VANISHED_ANNOTATION
    rig.assert_delivered_once({g for g in judged if g not in not_delivered} | set(retired))
    for name in skipped:
        if name not in {step.label for step in Step}:  # a group, not a step
            assert name not in rig.recorded() or name in untouched, f"a verdict was recorded for skipped {name}"
    hub = set(rig.findings())
    wanted = {SCOPE.finding_id(g) for g in (judged if findings is None else findings)}
    assert hub == wanted, (sorted(hub - wanted)[:5], sorted(wanted - hub)[:5])


def _diff(actual: Mapping[str, str], expected: Mapping[str, str]) -> str:
    extra = sorted(set(actual) - set(expected))
    missing = sorted(set(expected) - set(actual))
    wrong = sorted(g for g in set(actual) & set(expected) if actual[g] != expected[g])
    return (
        f"extra={extra[:5]} ({len(extra)}), missing={missing[:5]} ({len(missing)}), "
        f"wrong={[(g, actual[g], expected[g]) for g in wrong[:5]]} ({len(wrong)})"
    )
