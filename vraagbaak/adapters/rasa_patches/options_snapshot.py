"""The options slot as it was when a platform message arrived, noted on its output channel.

Why: a platform's replies are sent after the shared turn and may not arrive. The action stores the offered
options while it builds the reply, before the platform has the message; when that list is not delivered,
`channels/last_list.py` sets the slot back to this noted value, so a typed number means the list on screen.
Rasa's `MessageProcessor.log_message` is wrapped: it runs unchanged (the session start included, so an expired
session's list is not kept) and the noting happens after it, only for the platforms' output channels.
"""
from __future__ import annotations

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from vraagbaak.adapters.channels.delivery import CompleteOrNothing
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.outcomes import OPTIONS_SLOT

_rasa_log_message = MessageProcessor.log_message


async def log_message(
    self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
) -> DialogueStateTracker:
    """Rasa's log_message, then the options before this turn noted on a platform's output channel."""
    tracker = await _rasa_log_message(self, message, should_save_tracker)
    if isinstance(message.output_channel, CompleteOrNothing):
        message.output_channel.options_before = tracker.get_slot(OPTIONS_SLOT)
    return tracker


PATCH = Patch(
    name="options_snapshot",
    why="A platform's list that never arrived must not become the list a typed number picks from.",
    proof="tests/e2e/test_channel_delivery.py",
    replacements=lambda settings: [Replacement(MessageProcessor, "log_message", log_message)],
)
