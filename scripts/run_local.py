"""`make run`: the whole service on this machine, at human pace.

Starts (launcher/) an embedded Redis, append-only, its files in LOCAL_REDIS_DIR (default
var/), unless REDIS_URL is set; the Procfile's processes (web, callbacks and dashboard under
gunicorn, two RQ workers); and the simulated phone network with scripted liaisons, a vendor
line and a steady trickle of officer calls. With real Twilio credentials (TWILIO_AUTH_TOKEN
and PUBLIC_BASE_URL set) it skips the simulator and the same code talks to Twilio.

- A port already in use is reported before anything starts, with the variable to set; a
  start that fails (a process that dies, a timeout) stops whatever it had started.
- Ctrl-C (or SIGTERM, or the terminal closing) stops every process within 10 s: the
  simulator first, so no call posts callbacks to a process that is gone, then web and
  workers, Redis last; what is still there at the bound is killed. A second Ctrl-C kills
  at once.
- The URLs are printed again every BANNER_EVERY seconds, and on Enter, since the
  simulator's log lines scroll them away.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from types import FrameType

from config.errors import ConfigError
from config.settings import ROOT
from launcher.ports import PortInUse
from launcher.processes import Exited
from launcher.stack import Interrupted, Ports, Stack
from scripts.demo_parties import demo_parties, demo_scripts

TRICKLE_EVERY = 25.0  # seconds between simulated officer calls
BANNER_EVERY = 180.0  # seconds between reprints of the URLs
WATCH = 0.5  # how often the running stack is looked at


def seconds(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{name}={text!r}: must be a number of seconds greater than 0")
    return value


def local_env(environ: dict[str, str], ports: Ports) -> tuple[dict[str, str], bool]:
    """The processes' environment, and whether it talks to the real Twilio."""
    env = dict(environ)
    real_twilio = bool(env.get("TWILIO_AUTH_TOKEN") and env.get("PUBLIC_BASE_URL"))
    if not real_twilio:
        env.update(
            TWILIO_ACCOUNT_SID="AC" + "0" * 31 + "1",
            TWILIO_AUTH_TOKEN=secrets.token_hex(16),
            TWILIO_API_BASE_URL=ports.url("sim"),
            PUBLIC_BASE_URL=ports.url("web"),
            STATUS_CALLBACK_BASE_URL=ports.url("callbacks"),
            LOCAL_MODE="1",
        )
    env.setdefault("SECRET_KEY", secrets.token_hex(32))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env, real_twilio


def banner(stack: Stack, trickle_every: float | None) -> str:
    base, ports = stack.settings.public_base_url, stack.ports
    lines = [
        "",
        f"  Sergeant dashboard: {ports.url('dashboard')}/dashboard   (sign in: sergeant / sergeant-demo, "
        "or viewer / viewer-demo)",
        "                      (the `dashboard` process; in production a proxy sends /dashboard/ there)",
        f"  Coverage report:    {ports.url('dashboard')}/dashboard/coverage   (commander / commander-demo); census:",
        f"                      REDIS_URL={stack.settings.redis_url} LOCAL_MODE=1 .venv/bin/flask --app wsgi "
        "coverage import-acs config/acs_b16001.sample.csv",
        f"  Language code card: {base}/codes",
        f"  Health:             {base}/healthz",
        f"  Metrics:            {base}/metrics",
    ]
    if trickle_every is not None:
        lines.append(
            f"  Simulator log:      {ports.url('sim')}/sim/log   (a simulated officer call every {trickle_every:g} s)"
        )
    lines += ["  Ctrl-C stops everything" + (", Enter prints this again." if sys.stdin.isatty() else "."), ""]
    return "\n".join(lines)


def start_demo(stack: Stack, every: float, stop: threading.Event) -> None:
    """Scripted liaisons and vendor lines, and a simulated officer call every `every` seconds."""
    from simulator.client import SimulatorClient
    from simulator.trickle import trickle

    roster = stack.roster()
    sim = SimulatorClient(stack.ports.url("sim"))
    sim.set_parties(demo_parties(roster))
    callers = [line for p in roster.precincts for line in p.lines] + [s.cell for s in roster.supervisors]
    threading.Thread(
        target=trickle,
        args=(sim, callers, roster.service_number, demo_scripts(), every, stop),
        daemon=True,
        name="trickle",
    ).start()


def enter_pressed(timeout: float, stopping: threading.Event) -> bool:
    """Whether a line was typed on the terminal within `timeout` (a plain wait elsewhere, and
    when running in the background: reading the terminal then would stop this process)."""
    try:
        foreground = sys.stdin.isatty() and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except OSError:
        foreground = False
    if not foreground:
        stopping.wait(timeout)
        return False
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if ready:
        sys.stdin.readline()
        return True
    return False


def main() -> int:
    stopping, hurry = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # The first asks for a stop; another Ctrl-C during the stop kills what is left at once
        # (a SIGTERM then, e.g. from a supervisor repeating itself, does not cut it short).
        if not stopping.is_set():
            stopping.set()
        elif signum == signal.SIGINT and not hurry.is_set():
            hurry.set()
            print("\nCtrl-C again: killing what is left", flush=True)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        ports = Ports.from_env(os.environ)
        trickle_every = seconds(dict(os.environ), "TRICKLE_EVERY", TRICKLE_EVERY)
        banner_every = seconds(dict(os.environ), "BANNER_EVERY", BANNER_EVERY)
        env, real_twilio = local_env(dict(os.environ), ports)
        redis_dir = None if env.get("REDIS_URL") else Path(env.get("LOCAL_REDIS_DIR") or ROOT / "var")
        stack = Stack(
            env,
            ports,
            redis_dir=redis_dir,
            workers=2,
            simulator=None if real_twilio else "simulator",
            interrupt=stopping,
            announce=lambda text: print("  " + text, flush=True),
        )
        stack.roster()  # a bad roster stops here, with its file, line and reason
    except (ConfigError, ValueError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2

    print("Interpretation dispatch — local run", flush=True)
    print(f"  Redis: {stack.settings.redis_url}", flush=True)
    status = 0
    trickling = threading.Event()
    try:
        stack.start()
        if not real_twilio:
            start_demo(stack, trickle_every, trickling)
        text = banner(stack, None if real_twilio else trickle_every)
        print(text, flush=True)
        next_banner = time.monotonic() + banner_every
        while not stopping.is_set():
            dead = stack.exited()
            if dead:
                print(f"\n{Exited(dead[0])}\nstopping the rest", file=sys.stderr, flush=True)
                status = 1
                break
            if enter_pressed(WATCH, stopping) or time.monotonic() >= next_banner:
                print(text, flush=True)
                next_banner = time.monotonic() + banner_every
    except Interrupted:
        pass
    except (PortInUse, Exited, TimeoutError) as exc:
        print(f"\nmake run: could not start: {exc}", file=sys.stderr, flush=True)
        status = 1
    except Exception:
        traceback.print_exc()
        status = 1
    finally:
        trickling.set()
        began = time.monotonic()
        if stopping.is_set():
            print("\nstopping…", flush=True)
        stack.stop(hurry=hurry)
        print(f"stopped in {time.monotonic() - began:.1f} s.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
