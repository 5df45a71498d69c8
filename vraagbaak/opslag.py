"""Conversation storage that really forgets (events before a restart are never kept), and robust Redis locks."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.events import Restarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig


def forget_before_restart(tracker: DialogueStateTracker, slots: list) -> DialogueStateTracker:
    """A copy of the tracker that holds only the events after its last restart."""
    events = list(tracker.events)
    restarts = [i for i, e in enumerate(events) if isinstance(e, Restarted)]
    if not restarts:
        return tracker
    return DialogueStateTracker.from_events(tracker.sender_id, events[restarts[-1] + 1 :], slots=slots)


class ForgetfulInMemoryTrackerStore(InMemoryTrackerStore):
    """In-memory store where 'Vergeet dit gesprek' deletes the stored conversation."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker without anything said before the last restart."""
        await super().save(forget_before_restart(tracker, self.domain.slots))


class ForgetfulRedisTrackerStore(RedisTrackerStore):
    """Redis store for several Rasa replicas: forgets like the in-memory one and expires after record_exp."""

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Overwrite the stored conversation with the events after the last restart, with a fresh expiry.

        Rasa's RedisTrackerStore merges with what is already stored, which would bring back the events a
        restart is meant to delete, so this writes the tracker as it is instead.
        """
        await self.stream_events(tracker)
        kept = forget_before_restart(tracker, self.domain.slots)
        self.red.set(
            self.key_prefix + kept.sender_id, self.serialise_tracker(kept), ex=timeout or self.record_exp
        )


class ExpiringTicketRedisLockStore(RedisLockStore):
    """Redis conversation locks that give up when their own ticket expires, instead of waiting forever.

    When a replica dies holding a conversation's lock, the message retried on another replica waits for the dead
    ticket to expire. Its own ticket was issued a moment later and expires almost together with it; Rasa 3.6 then
    waits for a ticket that no longer exists. Raising LockError lets the channel retry with a fresh ticket.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None:
                break
            lock.remove_expired_tickets()
            if not any(t.number == ticket for t in lock.tickets):
                break  # our own ticket expired while we waited
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
