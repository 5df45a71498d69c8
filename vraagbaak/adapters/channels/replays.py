"""Each platform update is answered once: platforms resend an update when a webhook answers slowly.

The update ids already seen are kept for a day: in this process (bounded, oldest dropped first), or in
Redis when the tracker store is Redis (production, several replicas), with `SET key 1 NX EX ttl`.
An id is marked before the answer, so a resend that arrives while the first is still being answered is
dropped too. Ids only, never user text.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Callable, Protocol

from redis import asyncio as redis_asyncio
from redis.exceptions import RedisError

from vraagbaak.core.settings import REDIS_PASSWORD_ENV, Settings

logger = logging.getLogger(__name__)

TTL_SECONDS = 24 * 60 * 60  # Telegram keeps resending an unanswered update for up to a day
MAX_REMEMBERED = 100_000  # per process; ids are short, so this stays a few MB
KEY_PREFIX = "vraagbaak:replay:"


class Replays(Protocol):
    """Remembers update ids already answered."""

    async def first_time(self, key: str) -> bool:
        """True the first time this key is seen (within the expiry), False for a replay."""


class MemoryReplays:
    """Seen ids in this process: bounded and expiring, least recent dropped first."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        limit: int = MAX_REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.limit, self.clock = ttl, limit, clock
        self.seen: OrderedDict[str, float] = OrderedDict()  # key -> when first seen, oldest first

    async def first_time(self, key: str) -> bool:
        now = self.clock()
        while self.seen and (
            next(iter(self.seen.values())) <= now - self.ttl or len(self.seen) >= self.limit
        ):
            self.seen.popitem(last=False)
        if key in self.seen:
            return False
        self.seen[key] = now
        return True


class RedisReplays:
    """Seen ids in Redis, shared by every replica; each key expires by itself."""

    def __init__(self, client: redis_asyncio.Redis, ttl: int = TTL_SECONDS) -> None:
        self.client, self.ttl = client, ttl

    async def first_time(self, key: str) -> bool:
        try:
            return bool(await self.client.set(KEY_PREFIX + key, 1, nx=True, ex=self.ttl))
        except (RedisError, OSError) as error:
            # Answering twice is better than not answering at all.
            logger.error("Redis niet bereikbaar voor de herhaalcontrole (%s)", type(error).__name__)
            return True


def replays_for(settings: Settings | None = None) -> Replays:
    """Redis in production (where the tracker and lock stores are Redis), this process otherwise."""
    settings = settings or Settings.from_env()
    if not settings.production:
        return MemoryReplays()
    client = redis_asyncio.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        db=settings.redis_db,
        password=Settings.secret(REDIS_PASSWORD_ENV) or None,
    )
    return RedisReplays(client)
