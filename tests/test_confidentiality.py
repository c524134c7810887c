"""EO 34/41 and data-handling rules, checked against what the service actually does."""

from __future__ import annotations

import ast
import logging
import re
import time
from pathlib import Path

from dispatch import events, keys
from dispatch.records import RequestRecord
from dispatch.requests import RequestStore
from dispatch.states import State
from tests.support.signing import signed_post

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = re.compile(r"immigra|citizenship|visa status|undocumented|green card|legal status|alien", re.IGNORECASE)


def _spoken_or_shown_strings(path: Path) -> list[tuple[int, str]]:
    """String literals a person could hear, read or be asked (docstrings excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_field_prompt_or_export_mentions_immigration_status():
    offenders = []
    for folder in ("dispatch", "webhooks", "workers", "config"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file():
                continue
            if path.suffix == ".py":
                lines = _spoken_or_shown_strings(path)
            elif path.suffix in {".html", ".js", ".csv", ".yaml"}:
                lines = [
                    (n, line)
                    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                    if not line.lstrip().startswith("#")
                ]
            else:
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{n}: {text.strip()[:80]}" for n, text in lines if FORBIDDEN.search(text)
            ]
    assert offenders == []
    assert not any(FORBIDDEN.search(f) for f in RequestRecord.__dataclass_fields__)


def test_logs_carry_no_full_number_and_no_auth_token(client, settings, ctx, jobs, caplog):
    from dispatch.routing import Dispatcher

    caplog.set_level(logging.DEBUG)
    line = ctx.roster.precincts[0].lines[0]
    spa = ctx.catalog.get("spa")
    signed_post(client, settings, "/voice/incoming", {"From": line, "CallSid": "CA1"})
    signed_post(
        client, settings, "/voice/incoming/language?t=0", {"From": line, "CallSid": "CA1", "Digits": spa.keypad}
    )
    signed_post(
        client, settings, "/voice/incoming/confirm?lang=spa&t=0&c=0", {"From": line, "CallSid": "CA1", "Digits": "1"}
    )
    jobs.drain(Dispatcher(ctx))
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "request R" in text, "the flow was logged"
    numbers = [line] + [l.phone for l in ctx.roster.liaisons] + [ctx.roster.vendor.number]
    for number in numbers:
        assert number not in text and number[2:] not in text, f"{number} appears in the logs"
    assert settings.twilio_auth_token not in text


def test_request_records_expire_after_the_retention_period(r):
    store = RequestStore(r, retention_seconds=1)
    rec = store.create({"channel": "voice", "language": "spa"}, state=State.QUEUED)
    store.apply(rec.id, "abandon")
    time.sleep(1.3)
    assert store.get(rec.id) is None
    assert not r.exists(keys.history(rec.id))


def test_audit_log_is_append_only_with_utc_times(r):
    events.audit(r, "sergeant", "cancel", "R00001", "done")
    events.audit(r, "sergeant", "to_vendor", "R00002", "refused")
    entries = events.audit_entries(r)
    assert [e["action"] for e in entries] == ["to_vendor", "cancel"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]) for e in entries)
    assert r.type(keys.AUDIT) == b"stream", "a stream: entries are added, never edited in place"
