"""Helpers for tests of tracker stores and events: long conversations as Rasa logs them."""
from __future__ import annotations

from typing import List

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

SLOT = "aangeboden_keuzes"


def turn(number: int, slot_value: List[str] | None = None) -> List[Event]:
    """One user turn as Rasa logs it: listen, the question, the answer, maybe the offered options."""
    events: List[Event] = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(f"vraag {number}", {"name": "faq_pooiers", "confidence": 1.0}),
        ActionExecuted("action_beantwoord_faq"),
        BotUttered(f"antwoord {number}"),
    ]
    if slot_value is not None:
        events.append(SlotSet(SLOT, slot_value))
    return events


def long_session(turns: int, slot_every: int = 0) -> List[Event]:
    events: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    for number in range(turns):
        slot = [f"onderwerp-{number}"] if slot_every and number % slot_every == 0 else None
        events += turn(number, slot)
    return events + [ActionExecuted(ACTION_LISTEN_NAME)]
