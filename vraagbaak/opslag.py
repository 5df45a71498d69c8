"""Tracker stores that really forget: events before a restart are never kept."""
from __future__ import annotations

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import Restarted
from rasa.shared.core.trackers import DialogueStateTracker


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
