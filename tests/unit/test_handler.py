"""Handler wiring that needs no AWS: when tracing is built (it costs ~180 ms of cold start)."""

from __future__ import annotations

import re

import pytest

from cmk_rule import handler
from cmk_rule.errors import InvalidContextError


def plain(event: object, context: object) -> str:
    return "result"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),  # not in Lambda: never
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
    ],
)
def test_tracing_is_built_only_in_lambda_and_only_when_not_disabled(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], wanted: bool
) -> None:
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert handler._tracing_wanted() is wanted
    assert (handler._traced(plain) is plain) is not wanted


class _Context:
    function_name = "f"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    aws_request_id = "r"

    def __init__(self, remaining: object) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> object:
        return self.remaining


@pytest.mark.parametrize(
    ("context", "named"),
    [
        pytest.param(None, "the Lambda context is missing", id="none"),
        pytest.param(object(), "has no function_name", id="not-a-context"),
        pytest.param(_Context("soon"), "remaining time is not a number of milliseconds (str)", id="text"),
        pytest.param(_Context(None), "remaining time is not a number of milliseconds (NoneType)", id="none-time"),
        pytest.param(_Context(float("nan")), "remaining time is not a number", id="nan"),
        pytest.param(_Context(True), "remaining time is not a number of milliseconds (bool)", id="bool"),
    ],
)
def test_a_missing_or_unusable_context_is_one_named_error_before_any_work(context: object, named: str) -> None:
    with pytest.raises(InvalidContextError, match=re.escape(named)):
        handler.lambda_handler({"anything": "at all"}, context)  # type: ignore[arg-type]


def test_a_usable_context_passes_the_check() -> None:
    assert handler._context_problem(_Context(300_000)) is None
