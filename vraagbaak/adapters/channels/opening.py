"""What a conversation opens with when a platform starts it: Telegram's /start (deep links), Messenger's
"Aan de slag" button (GET_STARTED) and m.me links.

Why: such a start is no question. Read as text, "/start abc" or "GET_STARTED" went to the classifier and got
an official answer or even "vergeten en gewist". A start always gets the greeting; a link may name one topic
to open with (`onderwerp_<intent>`, e.g. `https://t.me/<bot>?start=onderwerp_faq_pooiers`), whose answer
follows the greeting. Any other payload only greets.
"""
from __future__ import annotations

import re
from typing import List

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import GREETING_INTENT

TOPIC_PREFIX = "onderwerp_"
# Telegram's /start command, optionally addressed to the bot ("/start@VraagbaakBot"), and its payload.
START_COMMAND = re.compile(r"^/start(?:@\w+)?(?:\s+(?P<payload>\S*))?\s*$", re.IGNORECASE)
# Telegram's /help, also addressed to the bot.
HELP_COMMAND = re.compile(r"^/help(?:@\w+)?\s*$", re.IGNORECASE)
# The payload of Messenger's "Get started" button, as this page configures it.
GET_STARTED = "GET_STARTED"


def opening_payloads(payload: str | None) -> List[str]:
    """The messages for Rasa: the greeting, then the named topic's intent when the payload names a known one."""
    payloads = [f"/{GREETING_INTENT}"]
    name = payload[len(TOPIC_PREFIX) :] if payload and payload.startswith(TOPIC_PREFIX) else ""
    topic = knowledge_base().by_intent(name) if name else None
    if topic is not None:
        payloads.append(f"/{topic.intent}")
    return payloads


def telegram_start(text: str) -> List[str] | None:
    """The opening messages for a /start command (with or without a payload); None for any other text."""
    found = START_COMMAND.match(text.strip())
    return opening_payloads(found.group("payload")) if found else None
