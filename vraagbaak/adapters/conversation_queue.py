"""One message at a time per conversation, its next few waiting in a short line of their own.

Why: the process's shared turns (turns.py) used to fill with messages of one conversation, each of them waiting
there for that conversation's lock: one visitor who sent 40 messages at once made everyone else wait half a
minute. Here a conversation's messages wait outside the shared turns, in arrival order, and only its running
message ever holds one. Past a small cap a message is refused at once (the caller answers in Dutch).
"""
from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import AsyncIterator, Dict

# Waiting messages per conversation besides the running one: enough for a person who clicks twice.
MAX_WAITING = 3


class ConversationBusy(RuntimeError):
    """The conversation already has its running message and MAX_WAITING waiting; nothing was handled."""


class _Line:
    """One conversation's running message and the ones waiting behind it (asyncio.Lock wakes in FIFO order)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.members = 0  # running + waiting


class ConversationQueues:
    """Per conversation: one message runs, up to `max_waiting` wait in order, the next are refused."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self._lines: Dict[str, _Line] = {}

    def members(self, conversation_id: str) -> int:
        """Messages of this conversation running or waiting in this process."""
        line = self._lines.get(conversation_id)
        return line.members if line else 0

    def __len__(self) -> int:
        """Conversations with a message running or waiting (idle ones are not kept)."""
        return len(self._lines)

    @contextlib.asynccontextmanager
    async def turn(self, conversation_id: str, urgent: bool = False) -> AsyncIterator[None]:
        """Wait until this conversation's earlier messages are done; raise ConversationBusy when too many wait.

        `urgent` (forgetting the conversation) may wait one place beyond the cap: the quick exit must never be
        refused because the same conversation sent a burst just before.
        """
        line = self._lines.get(conversation_id)
        if line is None:
            line = self._lines[conversation_id] = _Line()
        if line.members >= 1 + self.max_waiting + (1 if urgent else 0):
            raise ConversationBusy(f"{line.members} berichten bezig of wachtend")
        line.members += 1
        try:
            async with line.lock:
                yield
        finally:
            line.members -= 1
            if line.members == 0 and self._lines.get(conversation_id) is line:
                del self._lines[conversation_id]


# One per event loop, like the turn gate: asyncio.Lock belongs to the loop it first waited in.
_queues: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, ConversationQueues
] = weakref.WeakKeyDictionary()


def queues() -> ConversationQueues:
    """This process's conversation queues for the running loop."""
    loop = asyncio.get_running_loop()
    if loop not in _queues:
        _queues[loop] = ConversationQueues()
    return _queues[loop]
