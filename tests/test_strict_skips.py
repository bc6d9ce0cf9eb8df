"""``$DLGRADE_STRICT_SKIPS=1`` (set by .ci/run) fails a run that skipped anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SKIPPING = """
import pytest

def test_skipped_inside():
    pytest.skip("no chromium here")

@pytest.mark.skipif(True, reason="needs root")
def test_skipped_by_marker():
    pass

@pytest.mark.xfail(reason="a known bug")
def test_expected_failure():
    assert False

def test_passing():
    pass
"""


def _run(tmp_path: Path, strict: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_STRICT_SKIPS"}
    if strict is not None:
        env["DLGRADE_STRICT_SKIPS"] = strict
    env["PYTHONPATH"] = str(REPO)
    env["COLUMNS"] = "400"  # the summary lines carry the whole reason
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.strict_skips",
                           "-p", "no:cacheprovider", str(tmp_path / "test_sample.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_without_strict_mode_skips_are_skips(tmp_path):
    run = _run(tmp_path, None)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in run.stdout


def test_strict_mode_makes_each_skip_a_failure_with_its_reason(tmp_path):
    run = _run(tmp_path, "1")
    assert run.returncode == 1, run.stdout
    assert "makes a skip a failure: Skipped: no chromium here" in run.stdout
    assert "makes a skip a failure: Skipped: needs root" in run.stdout
    # a skip in setup (a skipif marker) is reported as an error: the run fails either way
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in run.stdout
