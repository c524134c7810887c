"""Load clients for bench/stream.py, run as separate processes so their timing is not
disturbed by the benchmark driver (which opens requests from several threads).

    python -m bench._clients sse  --base URL --cookies FILE --seconds S --out FILE [--settle S]
    python -m bench._clients pace --base URL --reqs FILE --rate R --seconds S --out FILE

sse:  one asyncio loop playing one dashboard page per cookie, as dashboard.js behaves
      (event stream whose messages carry the changed rows, applied on arrival; a snapshot
      read when the stream connects, every FIGURES_MS for the figures, and after a message
      it cannot apply; 3 s polling and back-off while the server refuses the stream);
      chunked HTTP/1.1 parsed by hand. For every message: arrival time (when its chunk was
      read) minus the time in its stream id (Redis's clock, ms) = delivery latency. Also
      reports its own CPU per second and how late its loop ran (after --settle seconds),
      so that a reader can tell the pages kept up and the latency is the server's.
pace: signed webhook POSTs at a fixed rate (open loop: latency is measured from the
      moment a request was due, so a stalled server cannot hide its queue).
Both stop by themselves after --seconds and write JSON to --out. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import queue
import random
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit


# ------------------------------------------------------------------------------ SSE streams
async def _read_chunks(reader: asyncio.StreamReader):  # type: ignore[no-untyped-def]
    """Yield (arrival time, the complete lines) of each chunk of a chunked HTTP body.

    The time is taken as soon as the chunk is read, before anything is parsed, and the
    messages in it are found by one regex pass over the bytes: this one process plays 50
    pages, and per-line Python work made it fall behind in a surge (the server had written
    a batch within 70 ms; the pages read it 400-640 ms later), which the latency counted.
    """
    pending = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        data = await reader.readexactly(size + 2)
        now = time.time()
        text = pending + data[:-2]
        cut = text.rfind(b"\n") + 1
        pending = text[cut:]
        yield now, text[:cut]


class _Http:
    """One keep-alive HTTP/1.1 connection for a browser's snapshot fetches."""

    def __init__(self, host: str, port: int, cookie: str):
        self.host, self.port, self.cookie = host, port, cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                assert self.reader is not None
                self.writer.write(
                    (
                        f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                        f"Accept: application/json\r\nCookie: {self.cookie}\r\n\r\n"
                    ).encode()
                )
                head = await self.reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await self.reader.readexactly(length)
                return int(head[9:12]), body
            except (OSError, asyncio.IncompleteReadError, ValueError):
                if self.writer is not None:
                    self.writer.close()
                self.writer = None
        return -1, b""


_LAST_EVENT = re.compile(rb'"last_event_id":"([0-9]+)-([0-9]+)"')
_MESSAGE = re.compile(rb"^id: ([0-9]+)-([0-9]+)\n(?:data: ([^\n]*))?", re.MULTILINE)
_APPLICABLE = re.compile(rb'"row":|"liaison":\{|"audit":\[')  # dashboard.js applicable(): drawn in place


def _page_timings() -> tuple[float, float, float, float, float]:
    """dashboard.js's debounce, polling and figures intervals (seconds) and the ages it accepts
    for the figures' and the polls' snapshots, read from the page's own script."""
    js = (Path(__file__).resolve().parents[1] / "webhooks" / "static" / "dashboard" / "dashboard.js").read_text()

    def number(name: str, default: float) -> float:
        found = re.search(name + r"\s*=\s*(\d+)", js)
        return float(found.group(1)) if found else default

    return (
        number("DEBOUNCE_MS", 500) / 1e3,
        number("POLL_MS", 3000) / 1e3,
        number("FIGURES_MS", 15000) / 1e3,
        number("FIGURES_MAX_AGE", 0),
        number("POLL_MAX_AGE", 0),
    )


DEBOUNCE_S, POLL_S, FIGURES_S, FIGURES_MAX_AGE, POLL_MAX_AGE = _page_timings()


async def _browser(host: str, port: int, cookie: str, stop_at: float, out: dict) -> None:
    """What webhooks/static/dashboard/dashboard.js does: an EventSource on /dashboard/stream
    whose messages carry the changed rows (shown on arrival); a snapshot read when the stream
    opens, every FIGURES_MS while it is open (a shared read up to FIGURES_MAX_AGE old will do),
    and (debounced: DEBOUNCE_MS) after a message it cannot apply; while the stream is down
    (e.g. 503: the server has no room) poll the snapshot every POLL_MS and retry the stream
    after 1 s, 2 s, 4 s ... 15 s, re-reading the snapshot first."""
    http = _Http(host, port, cookie)
    state = {"open": False, "pending": False, "again": False}
    told: list[tuple[int, int]] = []  # ids of events this page could not apply, not yet shown
    arrivals: list[tuple[float, int]] = []  # (arrival, the event's ms): latencies worked out at the end
    shown: list[tuple[float, int]] = []  # (shown, the event's ms): on arrival, or by a snapshot read

    async def refresh(max_age: float = 0) -> None:
        if state["pending"]:
            state["again"] = True
            return
        state["pending"] = True
        t = time.time()
        status, body = await http.get("/dashboard/api/snapshot" + (f"?max_age={max_age:g}" if max_age else ""))
        now = time.time()
        out["snapshots"].append((round(t, 3), round((now - t) * 1e3, 2), status))
        m = _LAST_EVENT.search(body)
        if m:
            covered = (int(m.group(1)), int(m.group(2)))
            while told and told[0] <= covered:  # the page now shows these events
                shown.append((now, told.pop(0)[0]))
        state["pending"] = False
        if state["again"]:
            state["again"] = False
            schedule()

    def schedule() -> None:
        if not state.get("timer"):
            state["timer"] = True

            async def later() -> None:
                await asyncio.sleep(DEBOUNCE_S)
                state["timer"] = False
                await refresh()

            asyncio.ensure_future(later())

    async def poller() -> None:
        await asyncio.sleep(random.uniform(0, POLL_S))  # pages opened at different moments
        while time.time() < stop_at:
            await asyncio.sleep(POLL_S)
            if not state["open"] and time.time() < stop_at:
                await refresh(POLL_MAX_AGE)

    async def figures() -> None:
        await asyncio.sleep(random.uniform(0, FIGURES_S))  # pages opened at different moments
        while time.time() < stop_at:
            if state["open"]:
                await refresh(FIGURES_MAX_AGE)
            await asyncio.sleep(FIGURES_S)

    poll_task = asyncio.ensure_future(poller())
    figures_task = asyncio.ensure_future(figures())
    last_id = ""
    delay = random.uniform(1.0, 2.0)  # browsers' retries are not in step either
    try:
        while time.time() < stop_at:
            t_connect = time.time()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            except (TimeoutError, OSError):
                out["errors"] += 1
                await asyncio.sleep(delay)
                continue
            path = "/dashboard/stream" + (f"?last={last_id}" if last_id else "")
            writer.write(
                (
                    f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                    f"Cookie: {cookie}\r\nCache-Control: no-cache\r\n\r\n"
                ).encode()
            )
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), max(0.1, stop_at - time.time()))
                out["first_byte_s"].append(time.time() - t_connect)
                status = int(head[9:12])
                out["status"][str(status)] = out["status"].get(str(status), 0) + 1
                if status != 200:
                    writer.close()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 15.0)
                    await refresh()
                    continue
                state["open"], delay = True, 1.0
                asyncio.ensure_future(refresh())
                # One timeout for the whole response (a wait_for per line cost a task per line).
                async with asyncio.timeout(max(0.0, stop_at - time.time())):
                    async for now, text in _read_chunks(reader):
                        found = None
                        for found in _MESSAGE.finditer(text):
                            event = (int(found.group(1)), int(found.group(2)))
                            arrivals.append((now, event[0]))
                            data = found.group(3)
                            if data is not None and _APPLICABLE.search(data):  # drawn in place at once
                                shown.append((now, event[0]))
                            else:  # re-read the snapshot
                                told.append(event)
                                schedule()
                        if found is not None:
                            last_id = f"{found.group(1).decode()}-{found.group(2).decode()}"
                    out["reconnects"] += 1  # the server ended the response (its lifetime)
            except TimeoutError:
                pass
            except (OSError, asyncio.IncompleteReadError, ValueError):
                out["errors"] += 1
            finally:
                state["open"] = False
                writer.close()
    finally:
        poll_task.cancel()
        figures_task.cancel()
        out["arrivals"], out["shown_at"] = arrivals, shown  # turned into latencies after the run


def run_sse(base: str, cookies: list[str], seconds: float, settle: float = 0.0) -> dict:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    stop_at = time.time() + seconds
    outs = [{"first_byte_s": [], "status": {}, "errors": 0, "reconnects": 0, "snapshots": []} for _ in cookies]

    per_second: list[float] = []  # this process's CPU in each second: is the measuring client keeping up?
    stalls: list[float] = []  # how late a 10-ms timer fired: the loop could not read meanwhile

    async def meter() -> None:
        await asyncio.sleep(settle)  # the pages connecting: before the benchmark's clock starts
        used, second = time.process_time(), time.time() + 1.0
        while time.time() < stop_at:
            due = time.time() + 0.01
            await asyncio.sleep(0.01)
            stalls.append(time.time() - due)
            if time.time() >= second:
                now = time.process_time()
                per_second.append(now - used)
                used, second = now, second + 1.0

    async def main() -> None:
        # No cyclic GC in this short-lived process: a full collection over the samples piling
        # up here would pause every page at once, and count as the server's delay.
        gc.disable()
        metering = asyncio.ensure_future(meter())
        await asyncio.gather(*[_browser(host, port, c, stop_at, o) for c, o in zip(cookies, outs)])
        metering.cancel()

    asyncio.run(main())
    cpu = time.process_time()
    for o in outs:  # after the run: 300,000 of these at the end of it stalled the last second
        o["latency"] = [(round(t, 4), round(t * 1e3 - ms, 2)) for t, ms in o.pop("arrivals", [])]
        o["shown"] = sorted((round(t, 4), round(t * 1e3 - ms, 2)) for t, ms in o.pop("shown_at", []))
    return {
        "streams": outs,
        "client_cpu_s": cpu,
        "client_cpu_peak": max(per_second, default=0.0),
        "client_stall_max_ms": max(stalls, default=0.0) * 1e3,
        "client_stall_p99_ms": sorted(stalls)[int(len(stalls) * 0.99)] * 1e3 if stalls else 0.0,
    }


# ------------------------------------------------------------------------------ paced webhooks
def run_pace(base: str, reqs: list[list[str]], rate: float, seconds: float, threads: int = 16) -> dict:
    import requests

    todo: queue.Queue[tuple[float, int] | None] = queue.Queue()
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        session = requests.Session()
        while True:
            item = todo.get()
            if item is None:
                return
            due, i = item
            if time.time() > give_up_at:
                with lock:
                    results.append((due, (give_up_at - due) * 1e3, -2))  # never sent: the run is over
                continue
            path, body, sig = reqs[i % len(reqs)]
            status = 0
            try:
                resp = session.post(
                    base + path,
                    data=body,
                    timeout=10,
                    headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig},
                )
                status = resp.status_code
            except requests.RequestException:
                status = -1
            done = time.time()
            with lock:
                results.append((due, (done - due) * 1e3, status))

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    start = time.time() + 0.2
    give_up_at = start + seconds + 10
    n = int(rate * seconds)
    for i in range(n):
        due = start + i / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        todo.put((due, i))
    for _ in pool:
        todo.put(None)
    for t in pool:
        t.join(timeout=15)
    return {"results": results}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("sse", "pace"))
    ap.add_argument("--base", required=True)
    ap.add_argument("--cookies")
    ap.add_argument("--reqs")
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--settle", type=float, default=0.0, help="sse: seconds before the CPU and stall meter starts")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.mode == "sse":
        result = run_sse(a.base, json.loads(Path(a.cookies).read_text()), a.seconds, a.settle)
    else:
        result = run_pace(a.base, json.loads(Path(a.reqs).read_text()), a.rate, a.seconds)
    with open(a.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
