"""Who answers what in the local demo: scripted liaisons, a vendor line, officer calls."""

from __future__ import annotations

from config.roster import Roster

# Liaisons, in roster order, cycle through these behaviours so every path shows up in the log.
LIAISON_BEHAVIOURS = [
    {"answer": "after", "answer_after": 4.0, "inputs": [{"digits": "1"}], "hangup_after": 45.0},
    {"answer": "after", "answer_after": 3.0, "inputs": [{"digits": "2"}]},  # declines
    {"answer": "after", "answer_after": 5.0, "inputs": [{"digits": "1"}], "hangup_after": 60.0},
    {"answer": "never"},  # lets it ring
    {"answer": "after", "answer_after": 6.0, "inputs": [{"silence": True}]},  # voicemail
]


def demo_parties(roster: Roster) -> dict[str, dict]:
    parties: dict[str, dict] = {}
    for i, liaison in enumerate(roster.liaisons):
        parties[liaison.phone] = LIAISON_BEHAVIOURS[i % len(LIAISON_BEHAVIOURS)]
    parties[roster.vendor.number] = {"answer": "after", "answer_after": 3.0, "hangup_after": 50.0}
    if roster.vendor.alternate:
        parties[roster.vendor.alternate] = {"answer": "after", "answer_after": 2.0, "hangup_after": 50.0}
    return parties


def demo_scripts() -> list[list[dict]]:
    """What simulated officers press or say at the language prompt, then confirm."""
    return [
        [{"digits": "1#"}, {"digits": "1"}],  # keypad code, confirm
        [{"speech": "I need Russian please", "confidence": 0.91}, {"digits": "1"}],
        [{"digits": "77777#"}, {"speech": "Bengali", "confidence": 0.88}, {"digits": "1"}],  # wrong code first
        [{"speech": "Haitian Creole", "confidence": 0.9}, {"digits": "1"}],
        [{"digits": "0#"}],  # language unknown → vendor
        [{"digits": "9"}, {"speech": "Spanish", "confidence": 0.93}],  # urgent → vendor at once
        [{"speech": "Polish", "confidence": 0.9}, {"digits": "1"}],
    ]
