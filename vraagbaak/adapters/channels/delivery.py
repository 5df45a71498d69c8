"""Answers go out completely or not at all: retries on rate limits, then a short apology instead of the rest.

A platform cannot unsend what it already delivered, so "nothing" means: once a part fails for good, no
later part or button of that answer is sent, and the user gets one short Dutch message saying the answer
did not come through completely (if even that fails, it is logged). Rate limits (Telegram 429 with
retry_after, Twilio 429, Messenger 613) are retried a few times, honouring the wait the platform asks for
as long as it is short; a longer wait counts as a failure, because the user is waiting too.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, TypeVar

from rasa.core.channels.channel import OutputChannel

from vraagbaak.adapters.channels import platform_id
from vraagbaak.core.knowledge_base import knowledge_base

logger = logging.getLogger(__name__)

MAX_RETRIES = 2
MAX_WAIT_SECONDS = 5.0  # longest retry_after honoured; a platform asking more is treated as a failure
DEFAULT_WAIT_SECONDS = 1.0  # for platforms that do not say how long to wait

T = TypeVar("T")


class DeliveryFailed(Exception):
    """A message could not be delivered, even after retries."""


class RateLimited(Exception):
    """The platform asked to wait before sending again."""

    def __init__(self, wait: float = DEFAULT_WAIT_SECONDS) -> None:
        super().__init__(f"retry after {wait} s")
        self.wait = wait


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
    for good, the rest of the answer is dropped and one apology goes out instead.
    """

    failed = False

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Send one bot message to the platform user behind this conversation id."""
        if self.failed:
            return
        recipient = platform_id(self.name(), recipient_id)
        if recipient is None:
            logger.warning("%s: antwoord voor een gesprek buiten dit kanaal niet verstuurd", self.name())
            return
        try:
            await super().send_response(recipient, message)
        except DeliveryFailed as error:
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
