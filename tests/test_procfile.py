"""The Procfile is what production runs, and what `make run` and the benchmarks start (through
launcher/procfile.py): its entries must parse, and each process type's threads must fit its job."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from launcher import procfile
from webhooks.app import DASHBOARD_CONCURRENCY


def _gunicorn(kind: str, env: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    assigned, argv = procfile.command(kind, env or {})
    if argv[0] == "nice":
        assert argv[1] == "-n" and int(argv[2]) >= 0
        argv = argv[3:]
    assert argv[0] == "gunicorn" and argv[-1] == "wsgi:app"
    return assigned, argv


def test_every_process_type_is_there():
    assert set(procfile.entries()) == {"web", "callbacks", "dashboard", "worker"}
    assert procfile.command("worker", {})[1] == ["python", "-m", "workers.worker"]


def test_web_processes_hold_no_streams_and_the_dashboard_process_holds_them():
    web_env, web = _gunicorn("web")
    dash_env, dash = _gunicorn("dashboard")
    assert web_env["DASHBOARD_MAX_STREAMS"] == "0" and _gunicorn("callbacks")[0]["DASHBOARD_MAX_STREAMS"] == "0"
    streams, threads = int(dash_env["DASHBOARD_MAX_STREAMS"]), int(procfile.option(dash, "--threads"))
    # Every stream holds a thread; the rest serve pages, snapshots and actions.
    assert streams >= 50 and threads >= streams + DASHBOARD_CONCURRENCY + Settings.request_concurrency - 2
    assert procfile.option(dash, "--workers") == "1", "one process: one event reader, every page's stream"
    assert int(procfile.option(web, "--threads")) <= Settings.request_concurrency
    assert "--reuse-port" in web, "each web process its own listening socket: connections spread evenly"


def test_an_officer_s_webhook_gets_the_cpu_before_callbacks_and_dashboards():
    def niceness(kind: str) -> int:
        argv = procfile.command(kind, {})[1]
        return int(argv[2]) if argv[0] == "nice" else 0

    assert niceness("web") == 0
    assert niceness("callbacks") > 0 and niceness("dashboard") > 0
    assert procfile.command("dashboard", {"DASHBOARD_NICE": "0"})[1][:3] == ["nice", "-n", "0"]  # an operator's call


def test_variables_override_the_defaults_as_a_shell_would():
    env = {"WEB_THREADS": "6", "PORT": "9000", "WEB_MAX_STREAMS": "", "DASHBOARD_STREAMS": "12"}
    web_env, web = _gunicorn("web", env)
    assert procfile.option(web, "--threads") == "6" and procfile.option(web, "--bind") == "0.0.0.0:9000"
    assert web_env["DASHBOARD_MAX_STREAMS"] == "0", "an empty variable takes the default, as ${VAR:-x} does"
    assert _gunicorn("dashboard", env)[0]["DASHBOARD_MAX_STREAMS"] == "12"


def test_options_are_replaced_or_added_before_the_app():
    argv = ["gunicorn", "--bind", "0.0.0.0:1", "wsgi:app"]
    assert procfile.with_option(argv, "--bind", "127.0.0.1:2") == ["gunicorn", "--bind", "127.0.0.1:2", "wsgi:app"]
    assert procfile.with_option(argv, "--log-level", "warning")[-3:] == ["--log-level", "warning", "wsgi:app"]
    assert procfile.option(argv, "--threads") is None


def test_comments_and_blank_lines_are_skipped(tmp_path: Path):
    path = tmp_path / "Procfile"
    path.write_text("# a comment\n\nweb: A=${X:-1} run --n ${N:-2} app\n")
    assert procfile.command("web", {"N": "5"}, path) == ({"A": "1"}, ["run", "--n", "5", "app"])
