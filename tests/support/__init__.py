"""Helpers shared by the tests (events, API-call recording)."""
