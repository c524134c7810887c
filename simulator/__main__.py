"""`python -m simulator --port 8091 --app-url http://127.0.0.1:8000 --account-sid AC… --auth-token … --number +1…`"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from simulator.config import SimulatorConfig
from simulator.server import Simulator


def parse_args(argv: list[str] | None = None) -> SimulatorConfig:
    p = argparse.ArgumentParser(prog="python -m simulator", description="A local, Twilio-compatible phone network.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8091)
    p.add_argument("--app-url", required=True, help="the app's base URL (webhooks live under it)")
    p.add_argument("--account-sid", required=True)
    p.add_argument("--auth-token", required=True)
    p.add_argument("--number", required=True, help="the service number, E.164")
    p.add_argument("--time-scale", type=float, default=1.0, help="multiplies Say/Play/Pause/Gather durations")
    p.add_argument("--default-answer-after", type=float, default=1.0)
    p.add_argument("--webhook-timeout", type=float, default=15.0)
    p.add_argument("--voice-url", default="")
    p.add_argument("--voice-fallback-url", default="")
    p.add_argument("--voice-status-url", default="")
    p.add_argument("--sms-url", default="")
    p.add_argument("--quiet", action="store_true", help="do not print event lines")
    a = p.parse_args(argv)
    return SimulatorConfig(
        app_url=a.app_url,
        account_sid=a.account_sid,
        auth_token=a.auth_token,
        number=a.number,
        host=a.host,
        port=a.port,
        time_scale=a.time_scale,
        default_answer_after=a.default_answer_after,
        webhook_timeout=a.webhook_timeout,
        echo=not a.quiet,
        voice_url=a.voice_url,
        voice_fallback_url=a.voice_fallback_url,
        voice_status_url=a.voice_status_url,
        sms_url=a.sms_url,
    )


def main(argv: list[str] | None = None) -> None:
    sim = Simulator(parse_args(argv))

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=sim.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        sim.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
