"""The remembered event-class lookup gives Rasa's own answer for every event type, and stops walking the classes."""
from __future__ import annotations

from typing import Iterator, List, Type

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from tests.support.trackers import long_session
from vraagbaak.adapters.rasa_patches import event_types

EVENT_CLASSES = rasa.shared.utils.common.all_subclasses(Event)


@pytest.fixture
def installed() -> Iterator[None]:
    event_types.PATCH.install()
    yield
    event_types.PATCH.uninstall()


@pytest.mark.parametrize("name", sorted({cls.type_name for cls in EVENT_CLASSES}))
def test_every_event_type_resolves_to_the_class_rasa_finds(installed: None, name: str) -> None:
    rasa_answer = event_types._rasa_resolve(name)
    assert Event.resolve_by_type(name) is rasa_answer
    assert Event.resolve_by_type(name) is rasa_answer  # and again, from what was remembered


def test_unknown_types_behave_as_in_rasa(installed: None) -> None:
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("bestaat_niet")
    assert Event.resolve_by_type("bestaat_niet", SlotSet) is SlotSet
    # A default is the caller's choice, never remembered for the next caller.
    with pytest.raises(ValueError):
        Event.resolve_by_type("bestaat_niet")
    assert Event.resolve_by_type("topic") is None


def test_a_stored_conversation_reads_back_equal_and_walks_the_classes_once_per_type(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = long_session(40, slot_every=7)
    stored = [event.as_dict() for event in session]
    walks: List[Type[Event] | None] = []
    original = rasa.shared.utils.common.all_subclasses

    def counting(cls: Type[Event]) -> List[Type[Event]]:
        if cls is Event:  # the walk's start, not its recursive steps
            walks.append(cls)
        return original(cls)

    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", counting)
    events = [Event.from_parameters(data) for data in stored]
    assert events == session
    kinds = {type(event) for event in events}
    assert {UserUttered, ActionExecuted} <= kinds
    # Rasa's own lookup walks the classes once per event: here once per kind of event.
    assert len(walks) == len(kinds) < len(stored)


def test_without_the_lookup_rasa_walks_the_classes_for_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    # The counter above can tell the two apart: Rasa's own lookup fails its last assertion.
    stored = [event.as_dict() for event in long_session(40)]
    walks: List[Type[Event]] = []
    original = rasa.shared.utils.common.all_subclasses

    def counting(cls: Type[Event]) -> List[Type[Event]]:
        if cls is Event:
            walks.append(cls)
        return original(cls)

    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", counting)
    [Event.from_parameters(data) for data in stored]
    assert len(walks) == len(stored)
