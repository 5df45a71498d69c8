"""Every message Rasa's Agent handles, whatever its channel, goes through the fair order of adapters/turns.py.

Why: a few messages at once per process, the rest waiting in arrival order; a conversation holds at most one
of those turns. Rasa took its lock inside the turn, so a burst from one visitor filled them all while it
polled that lock; its messages now wait outside, in a short line of their own.
"""
from __future__ import annotations

from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.adapters.turns import handle_in_turn


async def handle_message(self: Agent, message: UserMessage) -> Any:
    """Rasa's Agent.handle_message, in turn."""
    return await handle_in_turn(self, message)


PATCH = Patch(
    name="turn_gate",
    why="A few messages at once per process in arrival order; a burst from one visitor waits in its own line.",
    proof="tests/adapters/test_turns.py",
    replacements=lambda settings: [Replacement(Agent, "handle_message", handle_message)],
)
