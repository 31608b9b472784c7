"""Typed outcomes: what a run could not finish, as a small value instead of a sentinel string.

A :class:`Skip` travels unchanged from the engine (:class:`cmk_rule.engine.RunResult.skipped`) to the runner, the
reporters and the CLI. It says *what* was not done (a group, or a step of the run such as the listing), *why* (one
sentence), the AWS operation and error code when an AWS call was the cause, and whether the failure is transient
(worth retrying in a later run). Nothing downstream parses the sentence: it is for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cmk_rule.errors import AwsCallError


class Step(StrEnum):
    """A step of a run that is not about one group; its failure leaves the run incomplete."""

    LISTING = "replication group listing"
    PREVIOUS_RESULTS = "previous results"
    # The bulk read of the exemption tags (tag:GetResources). Its failure costs no verdict: the run falls back to one
    # ListTagsForResource per group, but it is named so the missing permission or the fault is seen.
    EXEMPTION_TAGS = "exemption tags"
    RECORDED_RESULTS = "recorded results"  # cmk-rule scan/evidence: Config's recorded results for --rule-name

    @property
    def label(self) -> str:
        """How the step is named among group ids (in brackets, so it can never collide with a group id)."""
        return f"({self.value})"


OUT_OF_TIME = "not judged: the Lambda's remaining time ran out"


@dataclass(frozen=True)
class Skip:
    """One group not judged, or one step not completed, and why."""

    reason: str
    group_id: str | None = None
    step: Step | None = None
    operation: str | None = None  # e.g. "kms:DescribeKey"
    error_code: str | None = None  # the AWS error code, e.g. "AccessDeniedException"
    transient: bool = False

    def __post_init__(self) -> None:
        if (self.group_id is None) == (self.step is None):
            raise ValueError("a Skip names exactly one of a group id or a step")

    @property
    def name(self) -> str:
        """The group id, or the step's bracketed label (the key in ``RunResult.skipped`` and in error messages)."""
        if self.group_id is not None:
            return self.group_id
        return self.step.label if self.step is not None else ""  # __post_init__ guarantees a step here

    @property
    def is_group(self) -> bool:
        return self.group_id is not None

    def __str__(self) -> str:
        return self.reason

    @classmethod
    def from_error(
        cls, error: AwsCallError, *, group_id: str | None = None, step: Step | None = None, detail: str = ""
    ) -> Skip:
        """A skip caused by an AWS call; ``detail`` is appended to the error's sentence."""
        reason = f"{error} ({detail})" if detail else str(error)
        return cls(
            reason,
            group_id=group_id,
            step=step,
            operation=error.operation,
            error_code=error.code or None,
            transient=error.transient,
        )

    @classmethod
    def out_of_time(cls, group_id: str) -> Skip:
        """A group left unjudged because the Lambda's remaining time ran out (retried by the next run)."""
        return cls(OUT_OF_TIME, group_id=group_id, transient=True)
