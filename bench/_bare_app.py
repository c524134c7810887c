"""The baseline for bench/webhooks.py: a bare Flask app that answers every POST with one fixed
TwiML document (no signature check, no Redis, no TwiML building). Served by gunicorn with
the same settings as the real app, it shows what Flask + gunicorn alone cost on this machine.

    gunicorn bench._bare_app:app
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US" voice="Polly.Joanna">'
    'Interpretation service.</Say><Gather action="http://127.0.0.1/voice/incoming/language?t=0" '
    'actionOnEmptyResult="true" finishOnKey="#" hints="Spanish, Mandarin" input="dtmf speech" '
    'language="en-US" method="POST" speechTimeout="auto" timeout="6"><Say language="en-US" '
    'voice="Polly.Joanna">Enter the language code followed by the pound key, or say the language. '
    "Press 0 if you do not know the language. Press 9 for an urgent request.</Say></Gather></Response>"
)

app = Flask(__name__)


@app.post("/<path:anything>")
def fixed(anything: str) -> Response:
    return Response(TWIML, mimetype="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
