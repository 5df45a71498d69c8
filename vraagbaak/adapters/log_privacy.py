"""Rasa's own logging and reporting, made private: no user text in logs, no crash reports to Rasa's Sentry."""
from __future__ import annotations

import warnings
from typing import Any, Dict


def disable_vendor_error_reporting() -> None:
    """Rasa 3.6 starts Sentry error reporting from its CLI; replace that with a no-op."""
    import rasa.telemetry

    rasa.telemetry.initialize_error_reporting = lambda: None


def _without_user_text(_: Any, __: str, event: Dict[str, Any]) -> Dict[str, Any]:
    """structlog processor: Rasa's text-bearing fields become their length, whatever the log level."""
    for key in list(event):
        if key in TEXT_FIELDS:
            event[key] = f"<{len(str(event[key]))} tekens weggelaten>"
    return event


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
    }
)


def keep_user_text_out_of_logs() -> None:
    """Rasa logs user text in structlog events and in warnings about '/' commands; drop both."""
    import rasa.utils.log_utils

    # Rasa's anonymizer only calls Rasa Pro plugins; configure_structlog looks it up when it runs.
    rasa.utils.log_utils._anonymizer = _without_user_text  # type: ignore[assignment]
    # RegexMessageHandler quotes the whole message when a '/' text names no known intent. Rasa's CLI puts
    # its own warning filters in front of any filter set here, so the message is dropped at display time.
    if getattr(warnings.showwarning, "vraagbaak_private", False):
        return
    show = warnings.showwarning

    def showwarning(message: Any, *args: Any, **kwargs: Any) -> None:
        if "Failed to parse" in str(message):
            return
        show(message, *args, **kwargs)

    showwarning.vraagbaak_private = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
