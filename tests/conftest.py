"""Hooks for every test: ``CAT_NO_SKIPS=1`` turns skips into failures (see ``no_skips``)."""

from no_skips import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401 - hooks, found by name
