"""How many messages one messaging-platform sender may send: the same token bucket as REST and socket.io.

The platforms sign their webhooks, so a flood comes from a real account; it still must not cost more than a
person typing. A refused sender hears "te veel berichten" at most once per notice interval, and the log
counts the refusals by channel, never by sender.
"""
from __future__ import annotations

import enum
import logging
import time
from typing import Callable, Dict

from vraagbaak.adapters.rate_limit import Notices, TokenBuckets
from vraagbaak.core.settings import Settings

logger = logging.getLogger(__name__)


class Admission(enum.Enum):
    """What to do with one incoming message."""

    ADMITTED = "admitted"
    REFUSED_WITH_NOTICE = "refused_with_notice"  # answer "te veel berichten", read nothing
    REFUSED = "refused"  # a notice went out moments ago: read nothing, say nothing


class SenderLimit:
    """Per conversation of one channel, in this process (each replica keeps its own)."""

    def __init__(self, label: str, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.buckets = TokenBuckets(settings.rate_burst, settings.rate_per_minute, clock=clock)
        self.notices = Notices(clock=clock)

    def admit(self, conversation: str) -> Admission:
        """Whether this message may be read, and whether a refusal should be told."""
        if self.buckets.take(conversation):
            return Admission.ADMITTED
        refused = self.notices.due(conversation)
        if not refused:
            return Admission.REFUSED
        logger.warning("%s: afzender stuurt te veel berichten (%d geweigerd)", self.label, refused)
        return Admission.REFUSED_WITH_NOTICE


_LIMITS: Dict[str, SenderLimit] = {}


def sender_limit(label: str) -> SenderLimit:
    """The one limit of a channel in this process, made with the settings on first use."""
    if label not in _LIMITS:
        _LIMITS[label] = SenderLimit(label, Settings.from_env())
    return _LIMITS[label]
