"""Answers go out completely or not at all: retries on rate limits, then a short apology instead of the rest.

A platform cannot unsend what it already delivered, so "nothing" means: once a part fails for good, no
later part or button of that answer is sent, and the user gets one short Dutch message saying the answer
did not come through completely (if even that fails, it is logged). Rate limits (Telegram 429 with
retry_after, Twilio 429, Messenger 613) are retried a few times, honouring the wait the platform asks for
as long as it is short; a longer wait counts as a failure, because the user is waiting too.

Every platform call has a deadline (`VRAAGBAAK_PLATFORM_TIMEOUT`): a call that takes longer is a failed send.
While a message is worked on in a shared turn, its replies are only held; they go out after the turn is given
back (turns.py), so a slow platform keeps only its own user waiting. When only the list of options under a
complete answer fails, there is no apology, and that list does not become "the last list" (last_list.py).
"""
from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Tuple, TypeVar

from rasa.core.channels.channel import OutputChannel

from vraagbaak.adapters.channels import platform_id
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import Settings

logger = logging.getLogger(__name__)

MAX_RETRIES = 2
MAX_WAIT_SECONDS = 5.0  # longest retry_after honoured; a platform asking more is treated as a failure
DEFAULT_WAIT_SECONDS = 1.0  # for platforms that do not say how long to wait
# A platform call at least this slow is logged (channel and duration only), even when it succeeds.
SLOW_CALL_SECONDS = 2.0

T = TypeVar("T")


class DeliveryFailed(Exception):
    """A message could not be delivered, even after retries."""


class RateLimited(Exception):
    """The platform asked to wait before sending again."""

    def __init__(self, wait: float = DEFAULT_WAIT_SECONDS) -> None:
        super().__init__(f"retry after {wait} s")
        self.wait = wait


@functools.lru_cache(maxsize=1)
def platform_timeout() -> float:
    """Seconds one platform call may take (VRAAGBAAK_PLATFORM_TIMEOUT), read once per process."""
    return float(Settings.from_env().platform_timeout)


async def within_deadline(channel: str, call: Awaitable[T]) -> T:
    """`await call`, cut off after the platform timeout (DeliveryFailed); a slow call is logged as an event.

    Why: a platform that answers slowly or never must not keep its user's conversation, and through it the
    other users' replies, waiting for ever. The HTTP clients are asynchronous, so the cut really ends the call.
    """
    started = time.monotonic()
    limit = platform_timeout()
    try:
        return await asyncio.wait_for(call, limit)
    except asyncio.TimeoutError as error:
        logger.warning("%s: platform gaf binnen %.0f s geen antwoord; telt als mislukt", channel, limit)
        raise DeliveryFailed(f"{channel}: geen antwoord binnen {limit:.0f} s") from error
    finally:
        elapsed = time.monotonic() - started
        if SLOW_CALL_SECONDS <= elapsed < limit:
            logger.warning("%s: platform traag (%.1f s)", channel, elapsed)


async def with_retries(send: Callable[[], Awaitable[T]], label: str) -> T:
    """`send()`, tried again after the wait a rate limit asks for; DeliveryFailed when it keeps failing."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            return await send()
        except RateLimited as limited:
            if attempt == MAX_RETRIES or limited.wait > MAX_WAIT_SECONDS:
                raise DeliveryFailed(f"{label}: rate limit") from limited
            logger.warning(
                "%s: rate limit, opnieuw over %.1f s (poging %d)", label, limited.wait, attempt + 1
            )
            await asyncio.sleep(max(limited.wait, 0.0))
    raise AssertionError("unreachable")


class CompleteOrNothing(OutputChannel):
    """Mixin for a platform output channel, one instance per incoming message.

    Rasa addresses replies to its conversation id ("telegram:123"); this sends them to the platform id of
    this channel's namespace only, never to another channel's id or Rasa's "default". After a part fails
    for good, the rest of the answer is dropped and one apology goes out instead, unless only the list of
    options under an answer that did arrive failed (that answer is complete; the list is simply not there).
    """

    failed = False
    # While a turn works on the message, replies are held here (None: sent at once); see turns.py.
    held: List[Tuple[str, Dict[str, Any]]] | None = None
    delivered = 0  # messages of this answer the platform accepted
    list_lost = False  # a message with options (buttons) of this answer did not reach the user
    # The options slot before this message's turn (set by last_list.py), restored when its list is lost.
    options_before: Any = None

    def hold(self) -> None:
        """From now on keep replies until deliver_held(); the turn that makes them is not held up by a platform."""
        self.held = []

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Send one bot message to the platform user behind this conversation id (or hold it for later)."""
        if self.held is not None:
            self.held.append((recipient_id, copy.deepcopy(message)))
            return
        await self.deliver(recipient_id, message, last=True)

    async def deliver_held(self) -> None:
        """Send the held replies in order, and send any later reply at once."""
        held, self.held = self.held or [], None
        for index, (recipient_id, message) in enumerate(held):
            await self.deliver(recipient_id, message, last=index == len(held) - 1)

    async def deliver(self, recipient_id: str, message: Dict[str, Any], last: bool) -> None:
        """One bot message; `last`: nothing of this answer follows it."""
        has_options = bool(message.get("buttons"))
        if self.failed:
            self.list_lost = self.list_lost or has_options
            return
        recipient = platform_id(self.name(), recipient_id)
        if recipient is None:
            logger.warning("%s: antwoord voor een gesprek buiten dit kanaal niet verstuurd", self.name())
            return
        try:
            await super().send_response(recipient, message)
            self.delivered += 1
        except DeliveryFailed as error:
            self.list_lost = self.list_lost or has_options
            if has_options and last and self.delivered:
                # The answer itself arrived; only its list is missing, so "send it again" would be wrong.
                self.failed = True
                logger.error("%s: keuzelijst onder het antwoord niet verstuurd (%s)", self.name(), error)
                return
            await self.give_up(recipient, error)

    async def give_up(self, recipient: str, error: DeliveryFailed) -> None:
        """Drop the rest of this answer and tell the user, once."""
        if self.failed:
            return
        self.failed = True
        logger.error("%s: antwoord niet volledig verstuurd (%s)", self.name(), error)
        try:
            await self.send_text_message(recipient, knowledge_base().message("antwoord_onvolledig"))
        except DeliveryFailed:
            logger.error("%s: ook de melding over het onvolledige antwoord kwam niet door", self.name())
