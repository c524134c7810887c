"""The webhook signature check: the quick signer agrees with the SDK, and what only the
SDK's full check accepts (Twilio's port variants) is still accepted."""
from __future__ import annotations

from hypothesis import given, strategies as st
from twilio.request_validator import RequestValidator

from webhooks.twilio_auth import Signer

TOKEN = "test-auth-token-0123456789abcdef"
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(url=st.sampled_from(["https://dispatch.example/voice/incoming",
                            "http://127.0.0.1:8000/voice/incoming/language?t=1&u=&p=7"]),
       params=st.dictionaries(_text, _text, max_size=10))
def test_the_quick_signer_gives_the_sdk_signature(url, params):
    assert Signer(TOKEN).sign(url, params) == RequestValidator(TOKEN).compute_signature(url, params)


def test_a_different_token_or_field_gives_a_different_signature():
    params = {"From": "+12125550100", "CallSid": "CA" + "a" * 32}
    signer = Signer(TOKEN)
    assert signer.sign("https://x/voice", params) != Signer(TOKEN + "x").sign("https://x/voice", params)
    assert signer.sign("https://x/voice", params) != signer.sign("https://x/voice", {**params, "From": "+1"})


def test_a_signature_over_the_url_without_its_port_is_accepted(client, settings, ctx):
    """Twilio may sign the URL with or without the port; only the SDK's full check tries both."""
    line = ctx.roster.precincts[0].lines[0]
    params = {"From": line, "CallSid": "CA" + "d" * 32, "AccountSid": settings.twilio_account_sid}
    assert ":1" in settings.public_base_url
    without_port = settings.public_base_url.replace(":1", "") + "/voice/incoming"
    sig = RequestValidator(settings.twilio_auth_token).compute_signature(without_port, params)
    response = client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 200 and b"<Gather" in response.data
    forged = client.post("/voice/incoming", data={**params, "From": "+12125550199"},
                         headers={"X-Twilio-Signature": sig})
    assert forged.status_code == 403
