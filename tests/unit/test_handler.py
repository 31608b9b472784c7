"""Handler wiring that needs no AWS: when tracing is built (it costs ~180 ms of cold start)."""

from __future__ import annotations

import pytest

from cmk_rule import handler


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
