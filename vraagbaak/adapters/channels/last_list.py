"""A typed number picks from the list the user last received: a list that never arrived is not "the last list".

The action stores the offered options (slot `aangeboden_keuzes`) while it builds the reply, before the
platform has the message. When the message with the options is not delivered (after the retries), the slot
goes back to what it was before that turn, so a later "2" means the second option of the list on screen.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import SlotSet

from vraagbaak.adapters.channels.delivery import CompleteOrNothing
from vraagbaak.core.outcomes import OPTIONS_SLOT

logger = logging.getLogger(__name__)


async def forget_undelivered_list(agent: Agent, message: UserMessage, previous: Any) -> None:
    """Set the options slot back to `previous`, if this message's turn is still the conversation's latest.

    Called with the conversation's lock held, after its replies went out.
    """
    store = agent.tracker_store
    tracker = await store.retrieve(message.sender_id)  # type: ignore[union-attr]
    latest = tracker.latest_message if tracker is not None else None
    if tracker is None or latest is None or latest.message_id != message.message_id:
        return  # forgotten meanwhile, or a later message has its own list
    if tracker.get_slot(OPTIONS_SLOT) == previous:
        return
    tracker.update(SlotSet(OPTIONS_SLOT, previous))
    await store.save(tracker)  # type: ignore[union-attr]
    logger.info("Keuzelijst niet aangekomen: de vorige lijst geldt weer")


async def deliver_and_settle(agent: Agent, message: UserMessage) -> None:
    """Send the replies held during the turn; when their list did not arrive, the previous list stands."""
    out = message.output_channel
    if not isinstance(out, CompleteOrNothing):
        return
    await out.deliver_held()
    if out.list_lost:
        try:
            await forget_undelivered_list(agent, message, out.options_before)
        except Exception as error:  # noqa: BLE001 (the store is away: the answer went out, only the log knows)
            logger.error("Vorige keuzelijst niet hersteld (%s)", type(error).__name__)
