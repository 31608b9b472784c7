"""Benchmarks for elasticache-cmk-rule: API calls against the floor, time, memory, cold start and cost mode.

Run with ``.venv/bin/python -m benchmarks`` (``--quick`` for 100 and 1,000 groups only). Not part of the test suite:
the numbers are written to ``benchmarks/RESULTS.md`` and ``benchmarks/results.png`` for people to read.

This package's ``__init__`` imports nothing on purpose: :mod:`benchmarks.worker` is the measured process, and
everything imported here would count against the rule's memory.
"""
