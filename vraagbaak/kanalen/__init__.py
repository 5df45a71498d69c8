"""Rasa input channels with Vraagbaak's safety fixes."""

from typing import Any, Dict, Iterable

from rasa.shared.exceptions import RasaException


def required_settings(
    label: str, credentials: Dict[str, Any] | None, required: Iterable[str]
) -> Dict[str, Any]:
    """The channel's credentials, refusing to start when a required setting is missing."""
    credentials = credentials or {}
    missing = [key for key in required if not credentials.get(key)]
    if missing:
        raise RasaException(f"{label}: ontbrekende instellingen {missing}")
    return credentials
