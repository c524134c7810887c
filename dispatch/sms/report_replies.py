"""The texts of issue 17: answers to `inc`, `ID` and what they expect, and the receipt a
texting supervisor gets when the call ends. One GSM-7 segment each (replies.finish)."""

from __future__ import annotations

from dispatch.receipt import Receipt, duration_text
from dispatch.report_facts import MAX_LENGTH
from dispatch.sms.replies import finish, fits, to_gsm7

BAD_INCIDENT = finish(
    f"An incident number is letters, digits and dashes, at most {MAX_LENGTH}: e.g. SPANISH INC 2026-012345. "
    "Nothing was requested."
)
BAD_ID = finish(
    f"To record an interpreter's ID text ID, the request number and the ID (letters, digits, dashes, "
    f"at most {MAX_LENGTH}): e.g. ID R00012 4711"
)


def not_yours(request_id: str) -> str:
    return finish(f"Request {request_id} is not one of your requests (or has expired). Nothing was recorded.")


def id_recorded(request_id: str, value: str, replaced: bool) -> str:
    what = "corrected to" if replaced else "recorded:"
    return finish(f"Request {request_id}: interpreter ID {what} {value}. It is on the receipt.")


def receipt_text(receipt: Receipt) -> str:
    """The receipt in one text: who interpreted, for which incident, when (UTC), how long. The
    liaison's roster id, then the preference, are left out first when a long name needs room."""
    for with_id, with_preference in ((True, True), (False, True), (False, False)):
        text = _receipt(receipt, with_id, with_preference)
        if fits(text):
            return text
    return finish(text)


def _receipt(receipt: Receipt, with_id: bool, with_preference: bool) -> str:
    parts = [f"Receipt {receipt.request}: {to_gsm7(receipt.language)}"]
    who = to_gsm7(receipt.interpreter)
    if receipt.interpreter_kind == "liaison":
        who = f"liaison {who}" + (f" ({receipt.liaison_id})" if with_id else "")
    if receipt.interpreter_id:
        who += f" ID {receipt.interpreter_id}"
    if receipt.interpreter_kind:
        parts.append(who)
    if receipt.incident:
        parts.append(f"inc {receipt.incident}")
    if receipt.connected_at:
        end = receipt.ended_at[11:16] if receipt.ended_at else "?"
        parts.append(f"{receipt.connected_at[:10]} {receipt.connected_at[11:16]}-{end} UTC")
    if receipt.time_to_interpreter is not None:
        parts.append(f"wait {duration_text(receipt.time_to_interpreter)}")
    if receipt.duration is not None:
        parts.append(f"{duration_text(receipt.duration)} long")
    if receipt.preference and with_preference:
        parts.append(f"{receipt.preference} asked" + ("" if receipt.preference_passed else ", not passed on"))
    return " ".join(to_gsm7(", ".join(parts) + ".").split())
