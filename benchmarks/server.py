"""moto's server in its own process, with the project's mock Config store, driven over a pipe.

The rule's memory must be measured without moto in the same process, so the server runs in a child process:
``python -m benchmarks.server`` (a fresh interpreter, nothing inherited). That child applies
``cmk_rule_cli.mock.account.config_results_store()`` (the Config operations moto lacks, patched into moto *in-process*,
which is why a launcher is needed at all), starts ``ThreadedMotoServer`` on a free loopback port, and then answers
control commands from the benchmark (seed a fleet, issue a result token, count results and findings), one JSON line
each way over its stdin/stdout. Anything else the child prints goes to its stderr.

A few moto behaviours are also adjusted in that process, each because it would otherwise measure moto instead of the
rule, or break fidelity with AWS (the call counts are compared with AWS's page sizes):

* ``DescribeReplicationGroups``: moto's generic paginator scans the whole list for the marker on every page (O(N) a
  page, O(N²) a listing: ~9 s of server time at 10,000 groups). Offset markers give the same pages in O(page).
* ``GetFindings``: moto ignores ``Filters``, so every other product's findings (here: the naive baseline's) would
  show up in the rule's pages. The ``EQUALS`` string filters the reporter uses are applied, as Security Hub does.
* ``BatchImportFindings``: moto looks each finding id up by a linear scan (O(N²) over a run); an id index is used.
* The mock Config store (``cmk_rule_cli.mock.account``) sorts every stored result on every
  ``GetComplianceDetailsByConfigRule`` page (O(R) a page, ~60 ms at 10,000 results); the sorted list is kept until
  the next write. Same pages, same order.
* moto's dispatcher lists and stats its own package directory on every request (~180 ``stat`` calls, ~1 ms); the
  list is computed once. This only makes the mock faster; it answers exactly as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from benchmarks import fleet

COMPLIANCE_TYPES_READ = ("COMPLIANT", "NON_COMPLIANT")  # what the rule's stale-cleanup query asks Config for
STOP = "stop"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60


class MotoServer:
    """The parent's handle on the server process; a context manager that always stops it."""

    def __init__(self, log: IO[str] | None = None) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        try:
            self.endpoint: str = self.call("endpoint")
        except BaseException:
            self.close()
            raise

    def call(self, command: str, **arguments: Any) -> Any:
        """Run one control command in the server process and return its answer (errors are re-raised here)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps([command, arguments]) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(f"moto server: exited (code {self._process.poll()}) while answering {command}")
        ok, value = json.loads(answer)
        if not ok:
            raise RuntimeError(f"moto server: {command} failed: {value}")
        return value

    def close(self) -> None:
        """Stop the server and its process (only this process, by its handle)."""
        if self._process.poll() is None:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                self.call(STOP)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.terminate()
                self._process.wait(timeout=5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Commands:
    """What the benchmark may ask of the server process. Runs between invocations, never during one."""

    def __init__(self, store: Any, endpoint: str) -> None:
        self._store = store
        self._endpoint = endpoint

    def endpoint(self) -> str:
        return self._endpoint

    def seed(self, groups: int, keys: int, region: str = fleet.REGION) -> dict[str, Any]:
        return fleet.seed(fleet.FleetSpec(groups=groups, keys=keys, region=region))

    def change_fraction(self, fraction: float, region: str = fleet.REGION) -> list[str]:
        return fleet.change_fraction(region, fraction)

    def issue_token(self, rule_name: str, region: str = fleet.REGION) -> str:
        return str(self._store.issue_token(rule_name, region))

    def previous_results(self, rule_name: str, region: str = fleet.REGION) -> int:
        """How many results the rule's stale-cleanup query will page through."""
        results = self._store.for_rule(rule_name, region).values()
        return sum(1 for result in results if result.compliance_type in COMPLIANCE_TYPES_READ)

    def existing_findings(self, generator_id: str, product_arn: str, region: str = fleet.REGION) -> int:
        """How many findings the Security Hub reporter's filtered GetFindings will page through."""
        from moto.securityhub.models import securityhub_backends

        backend = securityhub_backends[fleet.ACCOUNT_ID][region]
        return sum(
            1
            for finding in backend.findings
            if finding.data.get("GeneratorId") == generator_id and finding.data.get("ProductArn") == product_arn
        )


def serve(requests: IO[str], answers: IO[str]) -> None:
    """The server process: patch moto, start it on a free loopback port, answer commands until ``stop``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise

    def answer(ok: bool, value: Any) -> None:
        answers.write(json.dumps([ok, value]) + "\n")
        answers.flush()

    from moto.server import ThreadedMotoServer

    from cmk_rule_cli.mock import account as mock_aws

    _patch_moto()
    with mock_aws.config_results_store() as store:
        _cache_compliance_pages(store)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        commands = _Commands(store, f"http://{host}:{port}")
        _warm_up(f"http://{host}:{port}")
        try:
            for line in requests:
                command, arguments = json.loads(line)
                if command == STOP:
                    answer(True, None)
                    break
                try:
                    answer(True, getattr(commands, command)(**arguments))
                except Exception as error:  # answered to the parent, which raises it there
                    answer(False, f"{type(error).__name__}: {error}")
        finally:
            server.stop()


def _warm_up(endpoint: str) -> None:
    """One cheap call per service the rule uses, from the server process itself (so it is never counted).

    moto's server builds each service's app on that service's first request (hundreds of ms); without this, the
    first measured run of every fleet would pay for it.
    """
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's conventional fake credentials
        region_name=fleet.REGION,
    )
    calls = (
        ("elasticache", "describe_cache_subnet_groups"),
        ("kms", "list_keys"),
        ("config", "describe_config_rules"),
        ("securityhub", "describe_hub"),
    )
    for service, operation in calls:
        client = session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]
        with contextlib.suppress(Exception):  # an error answer warms the app up just as well
            getattr(client, operation)()


def _cache_compliance_pages(store: Any) -> None:
    """Serve GetComplianceDetailsByConfigRule pages from a per-query list rebuilt only after a write.

    Same answers as ``ConfigResultsStore.compliance_details`` (same filter, order, page size and tokens); it just
    does not sort every stored result again for every page.
    """
    from moto.core.exceptions import JsonRESTError

    cache: dict[tuple[Any, ...], tuple[tuple[int, int], list[dict[str, Any]]]] = {}

    def compliance_details(
        region: str, rule_name: str, types: list[str] | None, limit: int, token: str | None
    ) -> dict[str, Any]:
        if limit > 100:
            raise JsonRESTError("InvalidLimitException", "Limit must be at most 100")
        with store.lock:
            version = (len(store.put_calls), len(store.results))  # every write adds a put call or a result
            key = (region, rule_name, tuple(types or ()))
            cached = cache.get(key)
            if cached is None or cached[0] != version:
                results = store.for_rule(rule_name, region).values()
                cached = (version, [r.to_api() for r in results if not types or r.compliance_type in types])
                cache[key] = cached
        matching = cached[1]
        start = int(token or 0)
        page = matching[start : start + (limit or 100)]
        response: dict[str, Any] = {"EvaluationResults": page}
        if start + len(page) < len(matching):
            response["NextToken"] = str(start + len(page))
        return response

    store.compliance_details = compliance_details


def _patch_moto() -> None:
    """The fidelity and speed adjustments described in the module docstring."""
    from moto import backends
    from moto.core.responses import ActionResult
    from moto.elasticache.responses import ElastiCacheResponse
    from moto.securityhub.models import Finding, SecurityHubBackend

    def describe_replication_groups(self: Any) -> Any:
        groups = self.elasticache_backend.describe_replication_groups(
            replication_group_id=self._get_param("ReplicationGroupId")
        )
        limit = int(self._get_param("MaxRecords") or 100)
        start = int(self._get_param("Marker") or 0)
        result: dict[str, Any] = {"ReplicationGroups": groups[start : start + limit]}
        if start + limit < len(groups):
            result["Marker"] = str(start + limit)
        return ActionResult(result)

    index_lock = threading.Lock()

    def _index(backend: Any) -> dict[str, Any]:
        if getattr(backend, "_bench_index", None) is None:
            backend._bench_index = {finding.id: finding for finding in backend.findings}
            backend._bench_version = 0
            backend._bench_cache = {}
        return backend._bench_index  # type: ignore[no-any-return]

    def batch_import_findings(self: Any, findings: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
        failed: list[dict[str, Any]] = []
        with index_lock:
            index = _index(self)
            for data in findings:
                if not isinstance(data.get("Resources"), list) or not data["Resources"] or "Id" not in data:
                    failed.append({"Id": data.get("Id", ""), "ErrorCode": "InvalidInput", "ErrorMessage": "invalid"})
                    continue
                existing = index.get(data["Id"])
                if existing is not None:
                    existing.data.update(data)  # moto's own update semantics
                else:
                    index[data["Id"]] = Finding(data["Id"], data)
                    self.findings.append(index[data["Id"]])
            self._bench_version += 1
        return len(failed), len(findings) - len(failed), failed

    def get_findings(
        self: Any,
        filters: Mapping[str, Any] | None = None,
        sort_criteria: Any = None,
        max_results: Any = None,
        next_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        limit = int(max_results or 100)
        start = int(next_token or 0)
        with index_lock:
            _index(self)
            cache_key = json.dumps(filters or {}, sort_keys=True)
            version, matching = self._bench_cache.get(cache_key, (None, None))
            if version != self._bench_version:
                matching = [f.data for f in self.findings if _matches(f.data, filters or {})]
                self._bench_cache[cache_key] = (self._bench_version, matching)
        page = matching[start : start + limit]
        return page, (str(start + limit) if start + limit < len(matching) else None)

    moto_modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: moto_modules
    ElastiCacheResponse.describe_replication_groups = describe_replication_groups  # type: ignore[method-assign]
    SecurityHubBackend.batch_import_findings = batch_import_findings  # type: ignore[method-assign]
    SecurityHubBackend.get_findings = get_findings  # type: ignore[method-assign,assignment]


def _matches(finding: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Security Hub's string filters: OR within one field's EQUALS values, AND across fields (others: ignored)."""
    for name, conditions in filters.items():
        equals = [c.get("Value") for c in conditions if isinstance(c, Mapping) and c.get("Comparison") == "EQUALS"]
        if equals and finding.get(name) not in equals:
            return False
    return True


def main() -> int:
    """``python -m benchmarks.server``: the protocol owns stdout; anything else printed goes to stderr."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    serve(sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
