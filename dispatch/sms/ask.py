"""What a supervisor's texts ask for: the language, URGENT, the number to call back, the interpreter
wanted and the incident number. One value, because a request can take several texts to say it
("URGENT 718 555 0175" then "spanish", or "Reply YES"): it is kept between them (pending.py) and
opens the request once the language is known (supervisor.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.languages import Language
from dispatch.sms.parse import Parsed


@dataclass(frozen=True)
class Ask:
    language: Language | None = None  # None: not named yet, or the vendor's operator identifies it
    urgent: bool = False
    callback: str = ""  # E.164 to call back; "" for the phone that texted
    gender: str = ""  # "female" | "male": the interpreter asked for
    incident: str = ""

    @classmethod
    def over(cls, kept: Mapping[str, str] | None, p: Parsed) -> Ask:
        """What this text says over what the sender's earlier text left (`kept`, from pending.py);
        the language is the caller's to read."""
        kept = kept or {}
        return cls(
            urgent=p.urgent or kept.get("urgent") == "1",
            callback=p.callback or kept.get("callback") or "",
            gender=p.gender or kept.get("gender", ""),
            incident=p.incident or kept.get("incident", ""),
        )
