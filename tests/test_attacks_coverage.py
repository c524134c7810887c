"""The coverage report and its commands against the real service: the operator's `flask coverage`
commands in a process of their own, and the report over HTTP on a real gunicorn to a viewer, a
tool's API token, a stranger and hostile query strings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from config.settings import ROOT
from dispatch import api_tokens
from dispatch.census_store import CensusStore
from tests.support.dashboard_http import Browser, bearer
from tests.support.stack import settings_env

FLASK = str(Path(sys.executable).parent / "flask")
PAGES = ("/dashboard/coverage", "/dashboard/coverage/precincts.csv", "/dashboard/coverage/priorities.csv")


def coverage(server, *args: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    """`flask --app wsgi coverage ARGS` with the server's settings, as an operator runs it."""
    env = dict(os.environ, **settings_env(server.settings))
    return subprocess.run(
        [FLASK, "--app", "wsgi", "coverage", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_operator_commands_run_in_their_own_process(gunicorn, r, tmp_path):
    server = gunicorn()
    done = coverage(server, "import-acs", "config/acs_b16001.sample.csv")
    assert done.returncode == 0, done.stderr
    assert "imported 6 geographies" in done.stdout and len(CensusStore(r).load()) == 6
    bad = tmp_path / "acs.csv"
    bad.write_text(
        "Geography,Estimate!!Total:!!Spanish:,"
        '"Estimate!!Total:!!Spanish:!!Speak English less than ""very well"""\nx,1\n'
    )
    done = coverage(server, "import-acs", str(bad))
    assert done.returncode != 0 and f"{bad}:2: 2 fields, the header has 3" in done.stderr
    assert len(CensusStore(r).load()) == 6  # nothing replaced
    done = coverage(server, "rebuild")
    assert done.returncode == 0 and "0 records in retention" in done.stdout


def test_only_sergeants_and_commanders_see_it_over_http(gunicorn, r):
    server = gunicorn()
    token = api_tokens.create(r, "wallboard")
    for path in PAGES:
        stranger = requests.get(server.url + path, timeout=30, allow_redirects=False)
        assert stranger.status_code == 302 and "/dashboard/signin" in stranger.headers["Location"]
        tool = requests.get(server.url + path, headers=bearer(token), timeout=30, allow_redirects=False)
        assert tool.status_code == 302  # a token reads the JSON API, not the report
    viewer = Browser(server.url)
    assert viewer.sign_in("viewer").status_code == 303
    commander = Browser(server.url)
    assert commander.sign_in("commander").status_code == 303
    for path in PAGES:
        assert viewer.get(server.url + path, timeout=30).status_code == 403
        assert commander.get(server.url + path, timeout=30).status_code == 200


def test_hostile_query_strings_get_a_plain_refusal(gunicorn):
    server = gunicorn()
    commander = Browser(server.url)
    assert commander.sign_in("commander").status_code == 303
    for query in (
        "period=custom&from=0001-01-01&to=9999-12-31",
        "period=custom&from=" + "9" * 1000 + "&to=2026-01-01",
        "period=custom&from=2026-01-01%00&to=2026-01-02",
        "period=%3Cscript%3Ealert(1)%3C/script%3E",
        "period=365&period=7&from=x",
    ):
        page = commander.get(f"{server.url}/dashboard/coverage?{query}", timeout=30)
        assert page.status_code in (200, 400), (query, page.status_code)
        assert "<script>alert" not in page.text
        csv = commander.get(f"{server.url}/dashboard/coverage/hours.csv?{query}", timeout=30)
        assert csv.status_code in (200, 400), (query, csv.status_code)
    for name in ("..%2F..%2Fetc%2Fpasswd", "precincts.csv%00", "PRECINCTS"):
        assert commander.get(f"{server.url}/dashboard/coverage/{name}.csv", timeout=30).status_code == 404
    assert "Traceback" not in server.log()
