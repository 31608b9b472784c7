"""Why each mutant that survives ``python3 tasks.py mutate`` is equivalent or harmless (mutmut's mutant name -> one
sentence). benchmarks/MUTATION.md lists a survivor without an entry here as "not explained": that is a missing test."""

from __future__ import annotations

EXPLAINED: dict[str, str] = {
    # --- request.py, parameters.py, verdict.py, keys.py ---
    # --- aws.py, config_reporter.py, securityhub_reporter.py, engine.py, runner.py ---
}
