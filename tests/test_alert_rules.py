"""deploy/prometheus/alerts.yml: valid, every alert unit-tested with promtool, and the service's
own /metrics lint-clean by Prometheus's standards (names, units, `_total` counters).

promtool comes from Debian's `prometheus` package (.ci/run installs it); without it these
tests skip, unless CI is set (tests/support/promtool.py).
"""

from __future__ import annotations

import requests
import yaml

from tests.support import promtool
from tests.support.dashboard import open_request


def test_the_rules_file_is_valid():
    checked = promtool.run("check", "rules", str(promtool.RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_every_alert_passes_its_promtool_unit_test():
    tested = promtool.run("test", "rules", promtool.RULE_TESTS.name, cwd=promtool.RULE_TESTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_unit_test_that_sees_it_fire_and_stay_quiet():
    alerts = {r["alert"] for g in yaml.safe_load(promtool.RULES.read_text())["groups"] for r in g["rules"]}
    cases = [c for t in yaml.safe_load(promtool.RULE_TESTS.read_text())["tests"] for c in t["alert_rule_test"]]
    firing = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert firing == alerts and quiet == alerts, (alerts - firing, alerts - quiet)


def test_the_service_metrics_pass_promtools_lint(gunicorn, app):
    open_request(app, "spa")  # some samples in every family
    server = gunicorn()
    text = requests.get(server.url + "/metrics", timeout=10).text
    assert "ird_redis_up 1.0" in text
    linted = promtool.run("check", "metrics", stdin=text)
    assert linted.returncode == 0 and not (linted.stdout + linted.stderr).strip(), linted.stdout + linted.stderr
