"""No crash reports to Rasa's Sentry, and no user text in Rasa's structlog events or its '/' warnings.

Why: Rasa 3.6 starts Sentry error reporting from its CLI; it logs user text in structlog events, and it quotes
a whole message in a warning when a '/' text names no known intent.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, List

from vraagbaak.adapters.log_privacy import hide_identifier, private_text
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

# The fields Rasa's own anonymizer would hand to Rasa Pro's anonymization plugins.
TEXT_FIELDS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "user_input",
        "metadata",
    }
)
ID_FIELDS = frozenset({"sender_id", "conversation_id", "sender", "recipient_id", "session_id", "sid"})


def without_user_text(_: Any, __: str, event: Dict[str, Any]) -> Dict[str, Any]:
    """structlog processor: Rasa's text-bearing fields become their length, ids their pseudonym, at any level."""
    for key in list(event):
        if key in TEXT_FIELDS:
            event[key] = f"<{len(str(event[key]))} tekens weggelaten>"
        elif key in ID_FIELDS:
            event[key] = hide_identifier(str(event[key]))
    return event


def _replacements(settings: Settings) -> List[Replacement]:
    import rasa.telemetry
    import rasa.utils.log_utils

    show = warnings.showwarning

    def showwarning(message: Any, *args: Any, **kwargs: Any) -> None:
        if "Failed to parse" in str(message):
            return
        # A warning is written to stderr by itself, not through a logging handler: the same rules here.
        show(private_text(str(message)), *args, **kwargs)

    return [
        Replacement(rasa.telemetry, "initialize_error_reporting", lambda: None),
        # Rasa's anonymizer only calls Rasa Pro plugins; configure_structlog looks it up when it runs.
        Replacement(rasa.utils.log_utils, "_anonymizer", without_user_text),
        # Rasa's CLI puts its own warning filters in front of any filter set here, so the message is dropped
        # at display time.
        Replacement(warnings, "showwarning", showwarning),
    ]


PATCH = Patch(
    name="log_user_text",
    why="No Sentry crash reports; no user text in Rasa's structlog events or in its warnings about '/' texts.",
    proof="tests/ops/test_launcher.py and tests/e2e/test_log_identifiers.py",
    replacements=_replacements,
)
