"""The rule's own error types.

Every failure the rule raises on purpose derives from :class:`RuleError`, so the handler (and the people reading
CloudWatch) can tell a diagnosed problem from a bug. Messages always name the field, parameter or groups concerned.
"""

from __future__ import annotations

from collections.abc import Mapping


class RuleError(Exception):
    """Base class of every error the rule raises deliberately."""


class InvalidEventError(RuleError):
    """The invoking event is malformed; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"invalid event field '{field}': {problem}")


class UnsupportedEvaluationModeError(InvalidEventError):
    """Config asked for an evaluation mode this resource type cannot support (PROACTIVE)."""


class InvalidParameterError(RuleError):
    """A rule parameter (Config InputParameters) is unknown or has a bad value; the message names it."""

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter = parameter
        super().__init__(f"invalid rule parameter '{parameter}': {problem}")


class InvalidSettingError(RuleError):
    """A Lambda environment variable has a bad value; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"invalid environment variable '{variable}': {problem}")


class ForbiddenAccountError(RuleError):
    """An event came from an account this deployment does not serve (confused-deputy guard)."""


class AwsCallError(RuleError):
    """An AWS call failed in a way that leaves a fact unknown. Such a failure never becomes a verdict."""

    transient = False

    def __init__(self, operation: str, detail: str, *, code: str | None = None) -> None:
        self.operation = operation
        self.detail = detail
        self._code = code
        kind = "failed transiently" if self.transient else "failed"
        super().__init__(f"{operation} {kind}: {detail}")

    @property
    def code(self) -> str:
        """The AWS error code ('' when none): given explicitly, else read from the botocore ``ClientError`` this
        error was raised from (``raise call_error(...) from error``), so callers never parse the message."""
        if self._code is not None:
            return self._code
        response = getattr(self.__cause__, "response", None)
        if isinstance(response, Mapping):
            error = response.get("Error")
            if isinstance(error, Mapping):
                return str(error.get("Code") or "")
        return ""


class TransientAwsError(AwsCallError):
    """An AWS call still failed after botocore's retries with an error worth retrying later (throttling, 5xx, timeout).

    The affected groups are skipped and named; the next run will judge them.
    """

    transient = True


class IncompleteRunError(RuleError):
    """The run reported everything it could, but some groups (or reports) could not be completed.

    Raised at the very end of an invocation, after every computed verdict was sent, so that the invocation is marked
    failed (Lambda retries asynchronous invocations and the failure is visible) while nothing evaluated is lost.
    """

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{name}: {why}" for name, why in sorted(self.problems.items()))
        if len(listed) > 2000:
            listed = listed[:2000] + " ..."
        super().__init__(f"{len(self.problems)} item(s) were not evaluated or not reported: {listed}")


class InvalidContextError(RuleError):
    """The Lambda context object is missing or unusable (no remaining time to keep a reporting reserve by)."""
