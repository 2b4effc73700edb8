"""``CAT_NO_SKIPS=1`` (``.ci/run`` sets it): every skipped test fails instead, naming its reason.

A skip is a test that did not run, reported as one letter in a run that
still passes: in CI nobody reads it, and a test that skips everywhere
(a missing tool, a dead branch, a stale reason) protects nothing for as
long as nobody looks.  With the variable set, a skip is a failure whose
message is the skip's reason, so CI cannot pass without running it.
Expected failures (``xfail``) are left alone: they ran.

Skips at collection time (a module-level ``pytest.importorskip``) become
collection errors, which stop the run: loud, as a missing dependency in
CI should be.  Loaded by ``tests/conftest.py``; ``-p no_skips`` loads it
elsewhere.
"""

from __future__ import annotations

import os

import pytest

VARIABLE = "CAT_NO_SKIPS"


def _enabled() -> bool:
    return os.environ.get(VARIABLE) == "1"


def _as_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    longrepr = report.longrepr
    # A skip's longrepr is (file, line, "Skipped: reason").
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    where = f" ({longrepr[0]}:{longrepr[1] + 1})" if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
    report.outcome = "failed"
    report.longrepr = f"skipped, and {VARIABLE}=1 makes every skip a failure: {reason}{where}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _enabled():
        _as_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if report.skipped and _enabled():
        _as_failure(report)
    return report
