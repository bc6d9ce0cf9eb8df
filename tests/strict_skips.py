"""A pytest plugin: under ``$DLGRADE_STRICT_SKIPS=1`` a skipped test is reported as failed.

CI sets it. On the machine CI uses every test can run (``.ci/run`` installs chromium, capsh,
setpriv and runs as root), so a skip there means a missing install step, not a platform limit.
Expected failures (``xfail``) are left alone.
"""

from __future__ import annotations

import os

import pytest

STRICT_SKIPS = "DLGRADE_STRICT_SKIPS"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(STRICT_SKIPS) == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped, but ${STRICT_SKIPS}=1 makes a skip a failure: {reason}\n"
                           "install what the test needs (see .ci/run) or run it where it can run")
