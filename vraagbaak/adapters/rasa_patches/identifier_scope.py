"""While Rasa handles a message (its wait for a turn included), its conversation and platform ids are hidden.

Why: Rasa writes the conversation id into log lines (the circuit breaker's warning, lock and tracker-store
messages); every channel's message goes through Agent.handle_message, so one scope covers them all. Installed
after the turn gate, so that it wraps it.
"""
from __future__ import annotations

from typing import Any, List

from rasa.core.agent import Agent

from vraagbaak.adapters.log_privacy import identifiers_in_play
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings


def _replacements(settings: Settings) -> List[Replacement]:
    original = Agent.handle_message

    async def handle_message(self: Agent, message: Any) -> Any:
        conversation = str(message.sender_id or "")
        with identifiers_in_play(conversation, conversation.partition(":")[2]):
            return await original(self, message)

    return [Replacement(Agent, "handle_message", handle_message)]


PATCH = Patch(
    name="identifier_scope",
    why="Rasa names the conversation in log lines; while a message is handled its ids are hidden.",
    proof="tests/e2e/test_log_identifiers.py",
    replacements=_replacements,
)
