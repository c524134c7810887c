"""The phone simulator for benchmarks: `python -m simulator` plus an arrival recorder.

Same arguments as `python -m simulator`, plus `--cpu-idle`: run every thread of the
simulator under Linux's SCHED_IDLE policy, so that it gets only the CPU the service leaves
(the phone network is not on the service's machine; on a shared 2-CPU box its hundreds of
call threads, all woken by a burst of ring timeouts, otherwise take both CPUs for a second
or more).

Every REST call-create is timestamped (epoch seconds, taken when the simulator's handler
accepts it) with its `To` and `Url`, and `GET /bench/arrivals` returns the list, so a
benchmark can tell when the first call for a request reached the phone network. Loopback
only, like every bench process.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from flask import jsonify, request

from simulator.__main__ import parse_args
from simulator.server import Simulator


def main() -> None:
    argv = sys.argv[1:]
    if "--cpu-idle" in argv:
        argv.remove("--cpu-idle")
        # Threads inherit the policy of the thread that starts them: set it before any starts.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    sim = Simulator(parse_args(argv))
    net = sim.network
    arrivals: list[dict] = []
    lock = threading.Lock()
    original = net.create_outbound

    def create_outbound(**kwargs):  # type: ignore[no-untyped-def]
        with lock:
            arrivals.append({"t": time.time(), "to": kwargs.get("to", ""), "url": kwargs.get("url") or ""})
        return original(**kwargs)

    net.create_outbound = create_outbound  # type: ignore[method-assign]
    original_reset = net.reset

    def reset() -> None:
        with lock:
            arrivals.clear()
        original_reset()

    net.reset = reset  # type: ignore[method-assign]

    @sim.app.get("/bench/arrivals")
    def bench_arrivals():  # type: ignore[no-untyped-def]
        since = int(request.args.get("since", "0") or 0)
        with lock:
            return jsonify(arrivals[since:])

    signal.signal(signal.SIGTERM, lambda s, f: threading.Thread(target=sim.stop, daemon=True).start())
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
