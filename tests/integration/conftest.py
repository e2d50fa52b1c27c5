"""Fixtures for tests that drive real processes (module-scoped services)."""

from tests.e2e_support import broker_db, pg_schema_url

__all__ = ["broker_db", "pg_schema_url"]
