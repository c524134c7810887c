"""The README as a reader follows it: its links lead somewhere, the files it names exist, the
paths it names are served, and every setting is in its configuration table.

The paths are asked of the app itself (a signed-in sergeant's session where the path needs
one); "answers" means anything but 404 — a webhook answering a GET with 405, or the
stream with 503 on a process that holds none, is still a path that exists. The simulator's
paths (`/sim/...`) are asked of the simulator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields
from pathlib import Path

import pytest

from config.settings import Settings
from tests.support.dashboard import session_for

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")

_LINK = re.compile(r"(?<!!)\[[^\]]+\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`\n]+)`")
_APP_URL = re.compile(r"https?://(?:127\.0\.0\.1:80\d\d|<[a-z ]+host>)(/[^\s`|),]*)")
_REPO_PATH = re.compile(r"\.{0,2}/?[\w.-]+(?:/[\w.-]+)*/?")


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    outside_code = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", outside_code, flags=re.M)}


def _ignored_runtime_dirs() -> set[str]:
    """Directories made at run time (`/var/` in .gitignore): named in the README, not committed."""
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return {line.strip().lstrip("/") for line in lines if line.strip().startswith("/") and line.strip().endswith("/")}


def test_every_relative_link_leads_to_a_file_and_heading_that_exist():
    links = _LINK.findall(TEXT)
    assert "docs/design.md" in links, "the README links the design"
    for target in links:
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (README.parent / path).resolve() if path else README
        assert file.is_file(), f"README links {target}: {path} does not exist"
        assert ROOT in file.parents or file == README, f"README links {target}, outside the repository"
        if anchor:
            assert anchor in _anchors(file.read_text(encoding="utf-8")), f"README links {target}: no such heading"


def test_every_file_named_in_code_exists():
    """`docs/reliability.md`, `config/roster.sample.yaml`, ...: nothing outside the repository
    (the old `../shared/DESIGN.md`), nothing renamed away."""
    runtime = _ignored_runtime_dirs()
    named = []
    for code in _CODE.findall(TEXT):
        if "/" not in code or code.startswith("/") or "://" in code or " " in code:
            continue
        if not _REPO_PATH.fullmatch(code) or code in runtime:
            continue
        named.append(code)
        assert not code.startswith(".."), f"README names {code}, outside the repository"
        assert (ROOT / code).exists(), f"README names {code}, which does not exist"
    assert "docs/reliability.md" in named and len(named) >= 8


def _named_paths() -> set[str]:
    """Absolute paths the README names in code (`/dashboard/api/queue`) or in URLs of the app."""
    paths = {code.split()[0] for code in _CODE.findall(TEXT) if code.startswith("/")}
    paths |= set(_APP_URL.findall(TEXT))
    return {p.rstrip(".,;:") for p in paths}


@pytest.fixture
def readme_app(rewire):
    """The app, holding no event streams (the stream answers at once, 503, instead of streaming)."""
    from webhooks import create_app

    app = create_app(rewire(dashboard_max_streams=0))
    app.config["TESTING"] = True
    return app


def test_every_path_named_is_served(readme_app):
    client = readme_app.test_client()
    session_for(readme_app, client, "sergeant")
    paths = _named_paths()
    prefixes = {rule.rule for rule in readme_app.url_map.iter_rules()}
    static = Path(readme_app.static_folder or "")
    for path in sorted(paths):
        if path.startswith("/sim/"):
            continue  # the simulator's: test_simulator_paths_named_are_served
        path = path.replace("*", "")
        if "<" in path:  # a pattern (`/requests/<id>/receipt`): some route must take it
            concrete = re.sub(r"<[^>]+>", "R00001", path)
            adapter = readme_app.url_map.bind("localhost")
            assert adapter.test(concrete, method="GET"), f"README names {path}, which no route takes"
            continue
        status = client.get(path).status_code
        if status == 404 and path.endswith("/"):
            # A prefix ("route /dashboard/ to the dashboard process"): something is served under it.
            under = any(rule.startswith(path) for rule in prefixes) or (
                path.startswith("/static/") and (static / path.removeprefix("/static/")).is_dir()
            )
            assert under, f"README names {path}: nothing is served under it"
            continue
        assert status != 404, f"README names {path}, which answers 404"
    assert {"/dashboard/api/liaisons", "/dashboard/stream", "/healthz", "/codes", "/voice/incoming"} <= paths


def test_simulator_paths_named_are_served():
    from simulator import Simulator, SimulatorConfig

    named = {p for p in _named_paths() if p.startswith("/sim/")}
    assert named, "the README names the simulator's event log"
    client = Simulator(SimulatorConfig(echo=False)).app.test_client()
    for path in named:
        assert client.get(path).status_code != 404, path


def test_every_setting_is_in_the_configuration_table():
    rows = [line for line in TEXT.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    missing = sorted(f.name.upper() for f in fields(Settings) if f.name.upper() not in documented)
    assert missing == [], f"settings missing from the README's configuration table: {missing}"
    for variable in ("PORT", "SIM_PORT", "LOCAL_REDIS_PORT", "SIGNIN_MAX_FAILURES", "SIGNIN_LOCK_SECONDS"):
        assert variable in documented, variable
