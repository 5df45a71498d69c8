"""Rasa finds an event's class by walking every Event subclass for every stored event it reads; here once per type."""
from __future__ import annotations

from typing import Callable, Dict, List, Type

from rasa.shared.core.events import Event

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

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


def _replacements(settings: Settings) -> List[Replacement]:
    _found.clear()  # a fresh install learns anew what Rasa answers
    return [Replacement(Event, "resolve_by_type", staticmethod(resolve_by_type))]


PATCH = Patch(
    name="event_types",
    why="Reading a stored conversation back looks up each event's class; Rasa walks every class each time.",
    proof="tests/adapters/test_event_types.py",
    replacements=_replacements,
)
