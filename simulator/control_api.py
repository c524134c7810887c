"""The simulator's own JSON API, for tests and the local launcher (see client.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from simulator import sms
from simulator.network import Network, UpdateError
from simulator.parties import PartyError

bp = Blueprint("sim_control", __name__, url_prefix="/sim")


def net() -> Network:
    return current_app.extensions["sim_network"]


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def bad(message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), 400


@bp.post("/parties")
def set_parties() -> Any:
    try:
        count = net().parties.merge(body())
    except PartyError as exc:
        return bad(str(exc))
    return jsonify({"ok": True, "parties": count})


@bp.get("/parties")
def get_parties() -> Any:
    return jsonify(net().parties.all())


@bp.post("/reset")
def reset() -> Any:
    net().reset()
    return jsonify({"ok": True})


@bp.post("/calls")
def place_call() -> Any:
    data = body()
    from_ = str(data.get("from") or "").strip()
    if not from_:
        return bad("'from' is required")
    overrides: dict[str, Any] = {}
    if "inputs" in data:
        overrides["inputs"] = data["inputs"]
    if "hangup_after" in data:
        overrides["hangup_after"] = data["hangup_after"]
    try:
        call = net().place_inbound(from_, str(data.get("to") or ""), **overrides)
    except (PartyError, TypeError, ValueError) as exc:
        return bad(str(exc))
    return jsonify({"sid": call.sid}), 201


@bp.get("/calls")
def list_calls() -> Any:
    return jsonify(net().snapshot_calls())


@bp.get("/calls/<sid>")
def get_call(sid: str) -> Any:
    with net().lock:
        call = net().calls.get(sid)
        if call is None:
            return jsonify({"error": f"no call {sid}"}), 404
        return jsonify(call.snapshot())


@bp.post("/calls/<sid>/hangup")
def hang_up(sid: str) -> Any:
    try:
        net().party_hangup(sid)
    except UpdateError:
        return jsonify({"error": f"no call {sid}"}), 404
    return jsonify({"ok": True})


@bp.post("/messages")
def send_sms() -> Any:
    data = body()
    from_ = str(data.get("from") or "").strip()
    if not from_:
        return bad("'from' is required")
    media = data.get("media_urls") or []
    if not isinstance(media, list):
        return bad("media_urls must be a list")
    sid = sms.receive(
        net(), from_, str(data.get("to") or net().config.number), str(data.get("body") or ""), [str(m) for m in media]
    )
    return jsonify({"sid": sid}), 201


@bp.get("/messages")
def list_messages() -> Any:
    with net().lock:
        outbound = [{k: v for k, v in m.items() if k != "generation"} for m in net().messages]
        if request.args.get("direction") == "inbound":
            return jsonify([dict(m) for m in net().inbound_messages])
    return jsonify(outbound)


@bp.post("/faults")
def faults() -> Any:
    """Queue REST faults ("rest") and status callbacks to lose ("lose_callbacks")."""
    data = body()
    rest, lose = data.get("rest", []), data.get("lose_callbacks", [])
    if not isinstance(rest, list):
        return bad("'rest' must be a list")
    if not isinstance(lose, list):
        return bad("'lose_callbacks' must be a list")
    queued = []
    for item in rest:
        if not isinstance(item, dict) or not ("status" in item or "hang" in item):
            return bad(f"each fault needs 'status' or 'hang': {item!r}")
        one: dict[str, Any] = {"hang": float(item["hang"])} if "hang" in item else {"status": int(item["status"])}
        for key in ("method", "path"):
            if item.get(key):
                one[key] = str(item[key])
        queued.extend([one] * max(1, int(item.get("count", 1))))
    losses = []
    for item in lose:
        if not isinstance(item, dict):
            return bad(f"each lost callback needs a 'count': {item!r}")
        losses.append({"path": str(item.get("path") or ""), "count": max(1, int(item.get("count", 1)))})
    pending = net().faults.add(queued, losses)
    return jsonify({"ok": True, "pending": pending})


@bp.delete("/faults")
def clear_faults() -> Any:
    net().faults.clear()
    return jsonify({"ok": True})


@bp.get("/log")
def event_log() -> Any:
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        return bad("'after' must be an integer")
    return jsonify(net().log.after(after))


@bp.get("/conferences")
def conferences() -> Any:
    with net().lock:
        return jsonify(net().rooms.snapshot())
