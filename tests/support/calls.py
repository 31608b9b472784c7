"""Recording every AWS API call the code under test makes, with the account whose credentials signed it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client


@dataclass
class CallLog:
    """(service, operation, access key id) per call, in order."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)

    def clear(self) -> None:
        self.calls.clear()
        self.params.clear()

    def count(self, operation: str) -> int:
        return sum(1 for _, op, _ in self.calls if op == operation)

    def operations(self) -> Counter[str]:
        return Counter(op for _, op, _ in self.calls)

    def keys_for(self, operation: str) -> set[str]:
        return {key for _, op, key in self.calls if op == operation}


@contextmanager
def recording() -> Iterator[CallLog]:
    """Patch botocore's single choke point for API calls and record each one (then let it through)."""
    log = CallLog()
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        credentials = self._request_signer._credentials
        access_key = credentials.get_frozen_credentials().access_key if credentials else ""
        log.calls.append((self.meta.service_model.service_name, operation_name, access_key))
        log.params.append(dict(api_params))
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield log
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
