"""The Procfile's entries as commands, so `make run`, the benchmarks and the tests start exactly what
production starts (same gunicorn settings, same per-process environment) instead of copies
that drift from it.

An entry is `name: [VAR=value ...] program args`, with `${VAR:-default}` expanded from the
environment as a shell would.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

PROCFILE = Path(__file__).resolve().parents[1] / "Procfile"
_EXPANSION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def entries(path: Path = PROCFILE) -> dict[str, str]:
    """Process type → its command line, as written."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            out[name.strip()] = command.strip()
    return out


def expand(text: str, env: Mapping[str, str]) -> str:
    """`${VAR:-default}` → env's value when set and not empty, else the default."""
    return _EXPANSION.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def command(name: str, env: Mapping[str, str], path: Path = PROCFILE) -> tuple[dict[str, str], list[str]]:
    """The entry `name` as (the variables it sets, argv), expanded from `env`."""
    words = shlex.split(expand(entries(path)[name], env))
    assigned = {}
    while words and _ASSIGNMENT.match(words[0]):
        key, _, value = words.pop(0).partition("=")
        assigned[key] = value
    return assigned, words


def process(
    kind: str, env: Mapping[str, str], bind: str | None = None, log_level: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """The entry `kind` with this virtualenv's programs (python, gunicorn), gunicorn's
    `--bind` replaced (a loopback `host:port`, or `fd://N` for a socket the caller bound)."""
    assigned, argv = command(kind, env)
    here = Path(sys.executable).parent
    at = 3 if argv[0] == "nice" else 0  # `nice -n N program ...`
    argv[at] = sys.executable if argv[at] == "python" else str(here / argv[at])
    if bind is not None:
        argv = with_option(argv, "--bind", bind)
    if log_level is not None:
        argv = with_option(argv, "--log-level", log_level)
    return assigned, argv


def option(argv: list[str], flag: str) -> str | None:
    """The value after `flag` in argv (e.g. `--threads`), if present."""
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def with_option(argv: list[str], flag: str, value: str) -> list[str]:
    """argv with `flag`'s value replaced (e.g. a loopback `--bind`), or the flag added before the app."""
    out = list(argv)
    if flag in out[:-1]:
        out[out.index(flag) + 1] = value
    else:
        out[-1:-1] = [flag, value]
    return out
