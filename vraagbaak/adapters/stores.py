"""Conversation stores that keep only the current session's last turns and forget idle conversations (locks: locks.py)."""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, Tuple

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, TrackerDeserialisationException
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONVERSATIONS = 10_000
FALLBACK_EXPIRY_MINUTES = 60.0
# The most one stored conversation may take, serialised. With the channels' bounds (1,001 characters of
# text, a 128-character id, no metadata) three turns take about 10-20 KB; the oldest turns go first.
MAX_STORED_BYTES = 256 * 1024
# The most all conversations of one process may take together: 10,000 at their bound would be 2.5 GB.
DEFAULT_MAX_TOTAL_BYTES = 256 * 1024 * 1024


class Conversations:
    """The serialised conversations of one Rasa process, their sizes and when each was last active."""

    def __init__(self) -> None:
        self.trackers: Dict[str, str] = {}
        # Least recently active first: expired and evictable conversations are always at the front.
        self.last_active: OrderedDict[str, float] = OrderedDict()
        self.sizes: Dict[str, int] = {}
        self.total_bytes = 0


# Rasa's `PUT /model` (the staff console's "activate") builds a new Agent with a new tracker store
# (rasa.core.agent.load_agent calls TrackerStore.create again). Every in-memory store of this process
# therefore shares these conversations, so a model change never loses a conversation that is going on.
PROCESS_CONVERSATIONS = Conversations()


def current_session_only(tracker: DialogueStateTracker, slots: Iterable[Slot]) -> DialogueStateTracker:
    """A copy of the tracker from its last restart or last session start, whichever is later."""
    events, start = list(tracker.events), 0
    for index, event in enumerate(events):
        if isinstance(event, Restarted):
            start = index + 1
        elif isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
            start = index  # kept, so that Rasa still sees where the session began
    if start == 0:
        return tracker
    return DialogueStateTracker.from_events(
        tracker.sender_id, events[start:], slots=slots, sender_source=tracker.sender_source
    )


# Turns kept within a session. The policies are rules of one user message and one action, and the actions read
# the latest message, the slots and (opt-in insights, "Geen van deze") the question asked one turn before.
# Three turns leave a margin; every turn kept costs time on each message (loading, rules, the action call).
KEPT_TURNS = 3


def recent_turns_only(
    tracker: DialogueStateTracker, slots: Iterable[Slot], turns: int = KEPT_TURNS
) -> DialogueStateTracker:
    """A copy with the session's opening, a snapshot of the slots and only the last `turns` user turns.

    What Rasa keeps, loads and sends to the action server then stays the same size however long a
    conversation gets; without this every message costs more than the one before.
    """
    events = list(tracker.events)
    user_turns = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    if len(user_turns) <= turns:
        return tracker
    first, cut = user_turns[0], user_turns[-turns]
    # A turn begins at the action_listen before its user message, as Rasa logged it.
    if first > 0 and _is_listen(events[first - 1]):
        first -= 1
    if cut > 0 and _is_listen(events[cut - 1]):
        cut -= 1
    # Replayed after the opening, so the slots are as they were; SlotSet events in the kept turns follow them.
    snapshot = [
        SlotSet(slot.name, slot.value) for slot in tracker.slots.values() if slot.value != slot.initial_value
    ]
    # The opening's own SlotSet events are an earlier snapshot; the new one replaces them, so nothing piles up.
    opening = [event for event in events[:first] if not isinstance(event, SlotSet)]
    return DialogueStateTracker.from_events(
        tracker.sender_id,
        opening + snapshot + events[cut:],
        slots=slots,
        sender_source=tracker.sender_source,
    )


def _is_listen(event: Any) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME


def what_to_keep(
    tracker: DialogueStateTracker, slots: Iterable[Slot], turns: int = KEPT_TURNS
) -> DialogueStateTracker:
    """What the stores keep of a conversation: the current session's last turns and its slots."""
    slots = list(slots)
    return recent_turns_only(current_session_only(tracker, slots), slots, turns)


def opening_only(tracker: DialogueStateTracker, slots: Iterable[Slot]) -> DialogueStateTracker:
    """The events before the first user message (the session's start), without slots."""
    events = list(tracker.events)
    first = next((i for i, event in enumerate(events) if isinstance(event, UserUttered)), len(events))
    if 0 < first < len(events) and _is_listen(events[first - 1]):
        first -= 1
    opening = [event for event in events[:first] if not isinstance(event, SlotSet)]
    return DialogueStateTracker.from_events(
        tracker.sender_id, opening, slots=slots, sender_source=tracker.sender_source
    )


def within_bytes(
    tracker: DialogueStateTracker,
    slots: Iterable[Slot],
    serialise: Callable[[DialogueStateTracker], str],
    turns: int = KEPT_TURNS,
    limit: int = MAX_STORED_BYTES,
) -> Tuple[DialogueStateTracker, str]:
    """What to store of a conversation, and its serialisation, in at most `limit` bytes.

    Normally the last `turns` turns; when they are larger, fewer turns; when one turn alone is larger (only
    input past the channels' bounds can do that), the session's opening; and when even that is, nothing.
    """
    slots = list(slots)
    session = current_session_only(tracker, slots)
    user_turns = sum(isinstance(event, UserUttered) for event in session.events)
    # Fewer turns than the session has are the same tracker: each is tried once.
    for kept_turns in range(min(turns, max(user_turns, 1)), 0, -1):
        kept = recent_turns_only(session, slots, kept_turns)
        text = serialise(kept)
        # json.dumps writes ASCII (it escapes the rest), so characters are bytes.
        if len(text) <= limit:
            return kept, text
    kept = opening_only(session, slots)
    text = serialise(kept)
    if len(text) <= limit:
        return kept, text
    # Nothing at all: a few hundred bytes, which any workable limit holds.
    kept = DialogueStateTracker.from_events(tracker.sender_id, [], slots=slots)
    return kept, serialise(kept)


class ForgetfulInMemoryTrackerStore(InMemoryTrackerStore):
    """In-memory store of the current session's last turns that deletes idle conversations and holds a bounded number."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        max_conversations: int = DEFAULT_MAX_CONVERSATIONS,
        clock: Callable[[], float] = time.monotonic,
        conversations: Conversations | None = None,
        max_bytes: int = MAX_STORED_BYTES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain or Domain.empty(), event_broker, **kwargs)
        if int(max_conversations) < 1:
            raise ValueError(f"max_conversations must be at least 1, not {max_conversations!r}.")
        if int(max_total_bytes) < int(max_bytes):
            raise ValueError(f"max_total_bytes must hold one conversation ({max_bytes} bytes).")
        self.max_conversations = int(max_conversations)
        self.max_bytes = int(max_bytes)
        self.max_total_bytes = int(max_total_bytes)
        self.clock = clock
        # Shared with every other store of this process (see PROCESS_CONVERSATIONS), unless a test gives its own.
        self.shared = conversations if conversations is not None else PROCESS_CONVERSATIONS
        self.store = self.shared.trackers
        self._last_active = self.shared.last_active

    def expiry_seconds(self) -> float:
        """Idle time after which a conversation is deleted: the domain's session expiry, or an hour."""
        # Read on every use: Rasa creates the store before the model's domain is loaded and sets it later.
        minutes = self.domain.session_config.session_expiration_time
        return (minutes if minutes and minutes > 0 else FALLBACK_EXPIRY_MINUTES) * 60

    def delete(self, sender_id: str) -> None:
        """Drop a conversation's stored tracker and its activity record."""
        self.store.pop(sender_id, None)
        self._last_active.pop(sender_id, None)
        self.shared.total_bytes -= self.shared.sizes.pop(sender_id, 0)

    def _forget_idle(self, now: float) -> None:
        """Delete every conversation idle for longer than the expiry."""
        deadline = now - self.expiry_seconds()
        # The activity order makes the expired ones a prefix, so each call costs O(1) plus the deletions.
        while self._last_active and next(iter(self._last_active.values())) < deadline:
            self.delete(next(iter(self._last_active)))

    def _touch(self, sender_id: str, now: float) -> None:
        """Record activity in a conversation."""
        self._last_active[sender_id] = now
        self._last_active.move_to_end(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Delete idle conversations, store the current session in bytes, evict the least active above the caps."""
        now = self.clock()
        self._forget_idle(now)
        kept, text = within_bytes(
            tracker, self.domain.slots, self.serialise_tracker, KEPT_TURNS, self.max_bytes
        )
        await self.stream_events(kept)
        sender_id = tracker.sender_id
        self.shared.total_bytes += len(text) - self.shared.sizes.get(sender_id, 0)
        self.store[sender_id], self.shared.sizes[sender_id] = text, len(text)
        self._touch(sender_id, now)
        # The saved conversation is now the most recent, so it is never the one evicted.
        while len(self._last_active) > self.max_conversations or (
            self.shared.total_bytes > self.max_total_bytes and len(self._last_active) > 1
        ):
            self.delete(next(iter(self._last_active)))

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        """The stored tracker unless it expired (then it is deleted); a retrieval counts as activity."""
        now = self.clock()
        self._forget_idle(now)
        size = len(self.store.get(sender_id, ""))
        if size > self.max_bytes:
            # Not written by save, which bounds it: deleted unread, so that it can be forgotten at any size.
            logger.warning("Gesprek boven de grens gewist zonder te lezen (%d tekens)", size)
            self.delete(sender_id)
            return None
        if sender_id not in self._last_active:
            return None
        self._touch(sender_id, now)
        return await super()._retrieve(sender_id, fetch_all_sessions)

    async def keys(self) -> list[str]:
        """Ids of the stored conversations that have not expired."""
        self._forget_idle(self.clock())
        # A copy, so that callers can iterate while other conversations are saved.
        return list(self.store)


class ForgetfulRedisTrackerStore(RedisTrackerStore):
    """Redis store for several Rasa replicas: keeps only the current session's last turns and expires after record_exp."""

    def __init__(
        self, *args: Any, kept_turns: int = KEPT_TURNS, max_bytes: int = MAX_STORED_BYTES, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if int(kept_turns) < 1:
            raise ValueError(f"kept_turns must be at least 1, not {kept_turns!r}.")
        self.kept_turns = int(kept_turns)
        self.max_bytes = int(max_bytes)

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Overwrite the stored conversation with its current session's last turns, with a fresh expiry.

        Rasa's RedisTrackerStore merges with what is already stored, which would bring back the events a
        restart or a new session is meant to drop, so this writes the tracker as it is instead.
        """
        await self.stream_events(tracker)
        _, text = within_bytes(
            tracker, self.domain.slots, self.serialise_tracker, self.kept_turns, self.max_bytes
        )
        self.red.set(self.key_prefix + tracker.sender_id, text, ex=timeout or self.record_exp)

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        """The stored conversation's current session; one above the bound is deleted unread.

        GETRANGE reads at most max_bytes + 1 bytes however large the value, so an oversized conversation
        (from an older version, or written around this store) never costs more than that to notice.
        """
        key = self.key_prefix + sender_id
        try:
            stored = self.red.getrange(key, 0, self.max_bytes)
            # The client decodes UTF-8; this store writes ASCII, but a value written around it may not be.
            oversized = len(stored.encode("utf-8", "surrogateescape")) > self.max_bytes
        except UnicodeDecodeError:  # cut inside a character, so longer than the bound
            stored, oversized = "", True
        if oversized:
            logger.warning(
                "Gesprek boven de grens gewist zonder te lezen (meer dan %d bytes)", self.max_bytes
            )
            self.red.delete(key)
            return None
        if not stored:
            return None
        try:
            tracker = self.deserialise_tracker(sender_id, stored)
        except (ValueError, KeyError, TypeError, TrackerDeserialisationException) as error:
            # Not written by this store (an older version's format): unreadable, so it could never be forgotten.
            logger.warning("Onleesbaar gesprek gewist (%s, %d bytes)", type(error).__name__, len(stored))
            self.red.delete(key)
            return None
        if tracker is None or fetch_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return sessions[-1] if len(sessions) > 1 else tracker
