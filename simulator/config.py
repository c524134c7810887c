"""Everything the simulated network needs to know about the app it serves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimulatorConfig:
    """One Twilio account with one service number, wired to one app.

    Durations the app's TwiML asks for (Say, Play, Pause, Gather timeout, wait music)
    are multiplied by `time_scale` so tests run fast. Durations that belong to people
    and to the app's own clock (a party's answer_after / hangup_after, ring timeouts
    from the REST `Timeout` or `<Dial timeout>`) are wall-clock seconds, unscaled: the
    app measures its own deadlines in real seconds, and they must agree.
    """

    app_url: str = "http://127.0.0.1:8000"
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "simulator-auth-token"
    number: str = "+12125550100"
    host: str = "127.0.0.1"
    port: int = 0
    time_scale: float = 1.0
    default_answer_after: float = 1.0
    webhook_timeout: float = 15.0  # Twilio gives a webhook 15 s
    echo: bool = True  # print each event line on stdout
    voice_url: str = ""  # default {app_url}/voice/incoming
    voice_method: str = "POST"
    voice_fallback_url: str = ""  # default {app_url}/voice/fallback
    voice_status_url: str = ""  # default {app_url}/voice/status
    sms_url: str = ""  # default {app_url}/sms/incoming
    log_limit: int = 50_000  # oldest log entries are dropped past this

    def __post_init__(self) -> None:
        base = self.app_url.rstrip("/")
        self.voice_url = self.voice_url or f"{base}/voice/incoming"
        self.voice_fallback_url = self.voice_fallback_url or f"{base}/voice/fallback"
        self.voice_status_url = self.voice_status_url or f"{base}/voice/status"
        self.sms_url = self.sms_url or f"{base}/sms/incoming"
        if self.time_scale < 0:
            raise ValueError("time_scale must be >= 0")

    def scaled(self, seconds: float) -> float:
        """How long a TwiML-requested duration really takes here."""
        return max(0.0, seconds) * self.time_scale
