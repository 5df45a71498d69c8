"""How many messages one socket.io connection or one REST sender may send: a token bucket per key.

Why: one conversation runs one message at a time (conversation_queue.py), but a client can still send without
pause, or open new conversations on one socket.io connection. A bucket lets a person send a burst (buttons
clicked quickly) and refuses a script before any model work, with a short Dutch reply.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

# Keys (REST senders, socket.io connections) kept at most: a full bucket is the same as a forgotten one, so the
# least recently used go first and memory stays bounded whatever a client invents.
MAX_KEYS = 100_000
# A socket.io connection over its limit hears the notice at most this often; the messages in between are
# dropped unread, so a flood never becomes a flood of replies either.
NOTICE_SECONDS = 5.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`burst` messages at once per key, refilled at `per_minute`; `take` says whether one more may pass."""

    def __init__(
        self,
        burst: int,
        per_minute: float,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = float(burst)
        self.per_second = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def _refilled(self, key: Hashable) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
            self._buckets.move_to_end(key)
        return bucket

    def take(self, key: Hashable) -> bool:
        """Use one token of this key's bucket; False (and nothing used) when it is empty."""
        bucket = self._refilled(key)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def seconds_until_next(self, key: Hashable) -> int:
        """Whole seconds until this key may send again (0 when it may now); for REST's Retry-After."""
        bucket = self._refilled(key)
        return 0 if bucket.tokens >= 1 else math.ceil((1 - bucket.tokens) / self.per_second)

    def forget(self, key: Hashable) -> None:
        """Drop a key (a socket.io connection that closed)."""
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)


class Notices:
    """Whether a refused key should hear (and the log should record) a refusal now, and how many came since."""

    def __init__(
        self,
        interval: float = NOTICE_SECONDS,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self.clock = clock
        self._last: OrderedDict[Hashable, float] = OrderedDict()
        self._dropped: dict[Hashable, int] = {}

    def due(self, key: Hashable) -> int:
        """0 while a notice went out less than `interval` ago (the refusal is counted); else the refusals since
        the last notice, this one included, and the notice counts as sent."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return 0
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.max_keys:
            gone, _ = self._last.popitem(last=False)
            self._dropped.pop(gone, None)
        return 1 + self._dropped.pop(key, 0)

    def forget(self, key: Hashable) -> None:
        """Drop a key (a socket.io connection that closed)."""
        self._last.pop(key, None)
        self._dropped.pop(key, None)
