"""How many messages one Rasa process works on at once; the others wait their turn in arrival order.

Why: asyncio interleaves every message a process has accepted, so with 25 messages in one event loop each of
them waits for the steps of all the others and the slowest take several times the median. A few at once,
first come first served, keeps the throughput and brings the slowest close to the median (docs/performance.md).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from typing import Any, Awaitable, Callable, TypeVar

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from vraagbaak.core.knowledge_base import knowledge_base
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


def in_turn(
    on_new_message: Callable[[UserMessage], Awaitable[Any]]
) -> Callable[[UserMessage], Awaitable[Any]]:
    """on_new_message that first waits for one of the process's turns; when too many wait, a Dutch apology."""

    async def handle(message: UserMessage) -> Any:
        try:
            return await gate().run(lambda: on_new_message(message))
        except TurnQueueFull:
            logger.warning("Te veel wachtende berichten: geweigerd (%d tekens)", len(message.text or ""))
            await apologise(message)
            return None

    return handle


def install_turn_gate() -> None:
    """Patch Rasa's Agent in this process: every message, whatever its channel, waits for one of the turns."""
    if getattr(Agent, "vraagbaak_turns", False):
        return
    original = Agent.handle_message

    async def handle_message(self: Agent, message: UserMessage) -> Any:
        return await in_turn(functools.partial(original, self))(message)

    Agent.handle_message = handle_message  # type: ignore[method-assign]
    Agent.vraagbaak_turns = True  # type: ignore[attr-defined]


async def apologise(message: UserMessage) -> None:
    """The technical-problem reply on the message's own channel; nothing of the message was handled yet."""
    try:
        text = knowledge_base().message("technisch_probleem")
        await message.output_channel.send_response(message.sender_id, {"text": text})
    except Exception as error:  # noqa: BLE001 (the platform is away too: the log keeps the event, no text)
        logger.error("Excuus niet verstuurd (%s)", type(error).__name__)
