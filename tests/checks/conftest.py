"""The check tests use local mode's `local_platform` (tests/support/local_fixtures.py)."""
