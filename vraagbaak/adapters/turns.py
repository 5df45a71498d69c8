"""How many messages one Rasa process works on at once; the others wait their turn in arrival order.

Why: asyncio interleaves every message a process has accepted, so with 25 messages in one event loop each of
them waits for the steps of all the others and the slowest take several times the median. A few at once,
first come first served, keeps the throughput and brings the slowest close to the median (docs/performance.md).

A message first waits in its own conversation's line (conversation_queue.py) and for the conversation's lock,
and only then for a shared turn: a conversation holds at most one turn, so a burst from one visitor never
keeps the others waiting. A messaging platform's replies are held during the turn and sent after it is given
back (still in the conversation's line and lock, so they stay in order): a slow platform keeps only its own
user waiting, never the turn.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Awaitable, Callable, TypeVar

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from vraagbaak.adapters.channels.delivery import CompleteOrNothing
from vraagbaak.adapters.channels.last_list import deliver_and_settle
from vraagbaak.adapters.conversation_queue import ConversationBusy, queues
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import FORGET_INTENT
from vraagbaak.core.settings import Settings

logger = logging.getLogger(__name__)
Result = TypeVar("Result")
# Beyond this many waiting messages a process is overloaded: a quick "technical problem" reply beats a timeout.
MAX_WAITING = 500


class TurnQueueFull(RuntimeError):
    """More messages are waiting than MAX_WAITING; the channel answers with its failure reply."""


class TurnGate:
    """A first-come-first-served semaphore that counts, and bounds, the messages waiting for it."""

    def __init__(self, at_once: int, max_waiting: int = MAX_WAITING) -> None:
        self.semaphore = asyncio.Semaphore(at_once)
        self.max_waiting = max_waiting
        self.waiting = 0

    async def run(self, work: Callable[[], Awaitable[Result]]) -> Result:
        """Wait for a turn (or refuse when too many wait), then do the work."""
        if self.semaphore.locked() and self.waiting >= self.max_waiting:
            raise TurnQueueFull(f"{self.waiting} messages waiting")
        self.waiting += 1
        try:
            await self.semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            return await work()
        finally:
            self.semaphore.release()


# One gate per event loop: a semaphore belongs to the loop it first waited in (tests run several loops).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnGate] = weakref.WeakKeyDictionary()


def gate() -> TurnGate:
    """This process's gate for the running loop, sized by VRAAGBAAK_TURNS_AT_ONCE."""
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = TurnGate(Settings.from_env().turns_at_once)
    return _gates[loop]


async def handle_in_turn(agent: Agent, message: UserMessage) -> Any:
    """Rasa's Agent.handle_message, in this order: the conversation's own line, its lock, one shared turn.

    Rasa takes the conversation lock inside the message's turn, so messages of one conversation sat in the
    shared turns while they polled that lock. Here they wait outside: only the running one holds a turn.
    """
    if not agent.is_ready():
        logger.info("Bericht genegeerd: er is (nog) geen model geladen")
        return None
    conversation = message.sender_id
    try:
        # Forgetting may pass a full line by one place: the quick exit is never refused.
        async with queues().turn(conversation, urgent=message.text == f"/{FORGET_INTENT}"):
            async with agent.lock_store.lock(conversation):
                if isinstance(message.output_channel, CompleteOrNothing):
                    message.output_channel.hold()
                try:
                    return await gate().run(lambda: agent.processor.handle_message(message))  # type: ignore[union-attr]
                finally:
                    await deliver_and_settle(agent, message)  # outside the shared turn
    except ConversationBusy:
        logger.warning(
            "Te veel berichten tegelijk in één gesprek: geweigerd (%d tekens)", len(message.text or "")
        )
        await say(message, "een_bericht_tegelijk")
        return None
    except TurnQueueFull:
        logger.warning("Te veel wachtende berichten: geweigerd (%d tekens)", len(message.text or ""))
        await say(message, "technisch_probleem")
        return None


async def say(message: UserMessage, key: str) -> None:
    """A bot message on the message's own channel; nothing of the message was handled."""
    try:
        text = knowledge_base().message(key)
        await message.output_channel.send_response(message.sender_id, {"text": text})
    except Exception as error:  # noqa: BLE001 (the platform is away too: the log keeps the event, no text)
        logger.error("Bericht aan de bezoeker niet verstuurd (%s)", type(error).__name__)
