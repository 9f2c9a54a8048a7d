"""Shared fixtures. Tests run against the database DATABASE_URL names (PostgreSQL in CI)."""
