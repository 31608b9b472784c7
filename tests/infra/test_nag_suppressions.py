"""All cdk-nag acknowledgments live in infra/nag_suppressions.py, and each has a reason."""

from __future__ import annotations

from infra import nag_suppressions, permissions
from tests.infra.support import REPO


def test_acknowledgments_only_in_nag_suppressions() -> None:
    for path in [*sorted((REPO / "infra").rglob("*.py")), REPO / "app.py"]:
        if path.name == "nag_suppressions.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert ".acknowledge(" not in text, f"{path} acknowledges a rule outside infra/nag_suppressions.py"
        assert "NagSuppressions" not in text, f"{path} uses the cdk-nag v2 API"


def test_every_wildcard_resource_has_a_reason() -> None:
    wildcard_templates = {
        value for name, value in vars(permissions).items() if name.isupper() and isinstance(value, str) and "*" in value
    }
    assert wildcard_templates == set(nag_suppressions.WILDCARD_REASONS)
    for reason in [*nag_suppressions.WILDCARD_REASONS.values(), nag_suppressions.FAILURE_QUEUE_REASON]:
        assert len(reason) > 80
