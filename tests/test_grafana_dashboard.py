"""deploy/grafana/dispatch.json: a dashboard over the service's /metrics.

Every PromQL expression in it, and in deploy/prometheus/alerts.yml, names only metrics that
a running service exports (its /metrics scraped from a real gunicorn and read with
prometheus_client's parser), every family the service exports is on the dashboard, and
every expression parses (promtool).
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import promtool
from tests.support.dashboard import open_request
from tests.support.promql import metric_names

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
# Grafana's own variables, set when a panel is drawn: any duration will do for a syntax check.
GRAFANA_VARIABLES = re.compile(r"\$__(?:rate_interval|interval|range)|\$\{__(?:rate_interval|interval|range)\}")


def dashboard() -> dict:
    return json.loads(promtool.DASHBOARD.read_text())


def panels(board: dict) -> list[dict]:
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return out


def dashboard_expressions() -> dict[str, str]:
    """Where → expression, for every query of every panel."""
    return {
        f"panel {p['title']!r} {t['refId']}": t["expr"]
        for p in panels(dashboard())
        for t in p.get("targets", [])
        if t.get("expr")
    }


def rule_expressions() -> dict[str, str]:
    rules = yaml.safe_load(promtool.RULES.read_text())
    return {f"alert {r['alert']}": r["expr"] for g in rules["groups"] for r in g["rules"]}


@pytest.fixture
def exported(gunicorn, app) -> dict[str, str]:
    """Sample name → family type, from a running service's /metrics."""
    open_request(app, "spa")
    server = gunicorn()
    text = requests.get(server.url + "/metrics", timeout=10).text
    names = {}
    for family in text_string_to_metric_families(text):
        for suffix in SUFFIXES.get(family.type, ("",)):
            names[family.name + suffix] = family.type
        for sample in family.samples:
            names[sample.name] = family.type
    return names


def test_every_expression_names_only_metrics_the_service_exports(exported):
    expressions = {**dashboard_expressions(), **rule_expressions()}
    assert len(expressions) > 20
    unknown = {
        where: sorted(metric_names(expr) - set(exported))
        for where, expr in expressions.items()
        if metric_names(expr) - set(exported)
    }
    assert not unknown, unknown
    assert all(metric_names(expr) for expr in expressions.values()), "an expression that reads no metric"


def test_every_family_the_service_exports_is_on_the_dashboard(exported):
    shown = set().union(*(metric_names(e) for e in dashboard_expressions().values()))
    families = {name for name, kind in exported.items() if kind != "histogram" or name.endswith("_bucket")}
    families -= {name for name in families if name.endswith("_created")}
    assert families <= shown, sorted(families - shown)


def test_a_misspelt_metric_is_caught():
    """The check above can fail: a name the service does not export is reported."""
    assert metric_names('sum by (state) (max without (instance) (ird_request{state="queued"}))') == {"ird_request"}
    assert metric_names("histogram_quantile(0.9, rate(ird_time_to_interpreter_bucket[5m])) > 1e3") == {
        "ird_time_to_interpreter_bucket"
    }


def test_every_expression_parses(tmp_path):
    """promtool checks the expressions, as recording rules, with Grafana's variables set."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": GRAFANA_VARIABLES.sub("5m", expr)}
        for i, expr in enumerate(dashboard_expressions().values())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = promtool.run("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_panel_reads_the_chosen_prometheus():
    board = dashboard()
    assert board["uid"] and board["title"]
    assert [v["name"] for v in board["templating"]["list"] if v["type"] == "datasource"] == ["datasource"]
    for panel in panels(board):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
