"""Rasa finds an event's class by walking every Event subclass for every stored event it reads; here once per type."""
from __future__ import annotations

from typing import Callable, Dict, Type

from rasa.shared.core.events import Event

_rasa_resolve: Callable[..., Type[Event] | None] = Event.resolve_by_type
_found: Dict[str, Type[Event]] = {}


def resolve_by_type(type_name: str, default: Type[Event] | None = None) -> Type[Event] | None:
    """Rasa's answer for this event type, remembered once Rasa found a class of that very name."""
    known = _found.get(type_name)
    if known is not None:
        return known
    resolved = _rasa_resolve(type_name, default)
    # Only a real match is remembered: a default or the legacy "topic" None depends on the caller.
    if resolved is not None and getattr(resolved, "type_name", None) == type_name:
        _found[type_name] = resolved
    return resolved


def install_event_type_lookup() -> None:
    """Patch Rasa's Event.resolve_by_type in this process (every event class is imported with Rasa itself)."""
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def uninstall_event_type_lookup() -> None:
    """Put Rasa's own lookup back (for tests)."""
    Event.resolve_by_type = staticmethod(_rasa_resolve)  # type: ignore[method-assign]
    _found.clear()
