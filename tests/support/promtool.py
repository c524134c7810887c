"""Prometheus's promtool for tests: its path, or a skip with the reason where it is not installed.

CI installs it (.ci/run: Debian's `prometheus` package) and sets CI, and there a missing
promtool fails the test instead of skipping it: the rules would otherwise go untested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dispatch.json"


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    reason = "promtool not installed (apt-get install prometheus; .ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: the alerting rules must be tested here")
    pytest.skip(reason)


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd)
