"""Tests of the benchmark machinery (counting, floor, reports, a tiny fleet); not of the benchmark's numbers."""
