"""One conversation at a time across Rasa replicas: a Redis lock per conversation that always expires.

Rasa's RedisLockStore keeps a list of tickets in one Redis value and changes it by reading, editing and writing
the whole value back. Two replicas that do this at the same moment both read the same list, both issue the same
ticket number, and both think it is their turn: they process two messages of one conversation at once and the
later save overwrites the earlier turn. Its lock keys also have no expiry, so a replica killed while holding one
leaves it behind.

This store uses redis-py's Lock instead: `SET key token NX PX lifetime` to take it (atomic, so only one replica
can win), and Lua scripts that extend or delete it only while it still holds our own token. The key always has a
lifetime; while a message is being handled the lock is extended, so a slow turn keeps it and a dead replica's
lock disappears by itself after at most one lifetime.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any, AsyncIterator

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEY_SUFFIX = "lock:"
# How often a waiting message asks again; short, because a turn takes a fraction of a second.
POLL_SECONDS = 0.02


class RedisConversationLockStore(LockStore):
    """Mutual exclusion per conversation in Redis; lock keys expire after `lock_lifetime` seconds."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: str | None = None,
        key_prefix: str | None = None,
        socket_timeout: float = 10,
        max_wait: float | None = None,
        **_: Any,
    ) -> None:
        import redis

        if endpoint_config is not None:
            options = {**endpoint_config.kwargs}
            host = endpoint_config.url or host
            port = int(options.get("port", port))
            db = int(options.get("db", db))
            password = options.get("password", password)
            key_prefix = options.get("key_prefix", key_prefix)
            max_wait = options.get("max_wait", max_wait)
        self.red = redis.StrictRedis(
            host=host, port=int(port), db=int(db), password=password or None, socket_timeout=socket_timeout
        )
        self.key_prefix = f"{key_prefix}:{KEY_SUFFIX}" if key_prefix else KEY_SUFFIX
        # A message that cannot get its turn within this time gets LockError (the channel's Dutch reply).
        self.max_wait = float(max_wait) if max_wait is not None else None
        super().__init__()

    def key(self, conversation_id: str) -> str:
        """The Redis key of a conversation's lock."""
        return self.key_prefix + conversation_id

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A TicketLock stand-in while the conversation is locked (Rasa's interface), else None."""
        return TicketLock(conversation_id) if self.red.exists(self.key(conversation_id)) else None

    def delete_lock(self, conversation_id: str) -> None:
        """Remove a conversation's lock (only for tools and tests; normal release checks the token)."""
        self.red.delete(self.key(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        """Nothing to save: the lock lives only as its Redis key."""

    def is_someone_waiting(self, conversation_id: str) -> bool:
        """Waiting messages are not recorded; only whether the conversation is locked."""
        return self.get_lock(conversation_id) is not None

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the block; raise LockError when it stays taken for too long."""
        from redis.lock import Lock

        lifetime = max(float(lock_lifetime), 1.0)
        redis_lock = Lock(
            self.red,
            self.key(conversation_id),
            timeout=lifetime,
            sleep=POLL_SECONDS,
            thread_local=False,
        )
        await self._acquire(redis_lock, self.max_wait if self.max_wait is not None else lifetime)
        renewal = asyncio.create_task(self._keep_alive(redis_lock, lifetime))
        try:
            yield TicketLock(conversation_id)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            self._release(redis_lock)

    @staticmethod
    async def _acquire(redis_lock: Any, max_wait: float) -> None:
        # Not redis-py's blocking acquire: it sleeps in the thread and would stop every other conversation.
        deadline = time.monotonic() + max_wait
        token = uuid.uuid4().hex.encode()
        while not redis_lock.acquire(blocking=False, token=token):
            if time.monotonic() >= deadline:
                logger.warning("Gesprek bleef vergrendeld na %.1f s", max_wait)
                raise LockError("Could not acquire the conversation lock in time.")
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    async def _keep_alive(redis_lock: Any, lifetime: float) -> None:
        """Extend the lock to a full lifetime every third of it while the turn is still going on."""
        from redis.exceptions import LockError as RedisLockError
        from redis.exceptions import RedisError

        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                redis_lock.reacquire()
            except (RedisLockError, RedisError) as error:
                # Lost (expired, or Redis away): the turn goes on; the stored tracker decides what was kept.
                logger.warning("Gespreksvergrendeling niet verlengd (%s)", type(error).__name__)
                return

    @staticmethod
    def _release(redis_lock: Any) -> None:
        from redis.exceptions import LockError as RedisLockError
        from redis.exceptions import RedisError

        try:
            redis_lock.release()
        except (RedisLockError, RedisError) as error:
            # Expired or Redis away: the key is gone or will expire by itself.
            logger.warning("Gespreksvergrendeling niet vrijgegeven (%s)", type(error).__name__)
