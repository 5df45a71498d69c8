"""Slowing down password guessing: growing waits per (name, address), per name and per address.

Never a lock-out of the whole console: every count belongs to one name, one address, or one of each, so an
attacker who keeps failing for account A from address X never stops the owner of account B anywhere else.
Three counts, on purpose of different strength:

* **name and address together** (strict): after 3 failures a wait of 2 seconds, then 4, 8, … up to 15
  minutes. This stops one person guessing one account from one place, and touches nobody else.
* **name** (looser): after 10 failures from any addresses a wait that grows to at most 1 minute. It slows
  guessing one account from many addresses; and because it stays short, the owner, working from another
  address, waits a minute at most, however long an attacker keeps trying: an attacker can slow an account
  down, never lock its owner out.
* **address** (looser): after 10 failures for any names, up to 15 minutes. It stops one address trying one
  password on many names, or hunting for names that exist.

A name and address that logged in successfully (remembered for 30 days, in memory) are held back by their
own count only: neither a stranger guessing at the account elsewhere nor one failing from the same office or
proxy address can stop the people who normally log in there.

A refused attempt is never checked and never counted, so hammering does not make anybody's wait longer.
Names without an account count exactly like real ones (the key is the typed name), so the waits reveal
nothing about which names exist. Every table is bounded (MAX_ENTRIES, the least recently failed first out)
and forgets a key a day after its last failure. Nothing is written to disk; a restart forgets everything.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, Tuple, TypeVar

Clock = Callable[[], float]
Key = TypeVar("Key", bound=Hashable)

MAX_ENTRIES = 10_000
FORGET_SECONDS = 24 * 60 * 60
KNOWN_SECONDS = 30 * 24 * 60 * 60
LONGEST_WAIT = 15 * 60


@dataclass(frozen=True)
class Limit:
    """Failures allowed before the first wait, and the longest wait (seconds); waits double in between."""

    free: int
    longest: float

    def wait_after(self, failures: int) -> float:
        """The wait after this many failures in a row: 0, then 2, 4, 8, … seconds, at most `longest`."""
        if failures < self.free:
            return 0.0
        return min(self.longest, 2.0 ** min(failures - self.free + 1, 30))


PAIR_LIMIT = Limit(free=3, longest=LONGEST_WAIT)
NAME_LIMIT = Limit(free=10, longest=60)
ADDRESS_LIMIT = Limit(free=10, longest=LONGEST_WAIT)


@dataclass
class _Count:
    failures: int
    last: float
    until: float


class FailureTable(Generic[Key]):
    """Failures per key, with the time until which the key must wait; bounded, oldest failure first out."""

    def __init__(self, limit: Limit, max_entries: int = MAX_ENTRIES, forget: float = FORGET_SECONDS) -> None:
        self.limit = limit
        self.max_entries = max_entries
        self.forget = forget
        self._counts: OrderedDict[Key, _Count] = OrderedDict()

    def wait(self, key: Key, now: float) -> float:
        """Seconds this key must still wait (0: it may try)."""
        count = self._counts.get(key)
        if count is None:
            return 0.0
        if now - count.last >= self.forget:
            del self._counts[key]
            return 0.0
        return max(0.0, count.until - now)

    def fail(self, key: Key, now: float) -> int:
        """Count a failure; the number of failures in a row for this key."""
        count = self._counts.pop(key, None)
        if count is None or now - count.last >= self.forget:
            count = _Count(0, now, now)
        count.failures += 1
        count.last = now
        count.until = now + self.limit.wait_after(count.failures)
        self._counts[key] = count  # at the end: the most recent failure is evicted last
        while len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)
        return count.failures

    def clear(self, key: Key) -> None:
        """Forget the key's failures."""
        self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)


class LoginThrottle:
    """The three counts of the module docstring, and the name-address pairs that logged in before."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        max_entries: int = MAX_ENTRIES,
        pair: Limit = PAIR_LIMIT,
        name: Limit = NAME_LIMIT,
        address: Limit = ADDRESS_LIMIT,
    ) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self.pairs: FailureTable[Tuple[str, str]] = FailureTable(pair, max_entries)
        self.names: FailureTable[str] = FailureTable(name, max_entries)
        self.addresses: FailureTable[str] = FailureTable(address, max_entries)
        self._known: OrderedDict[Tuple[str, str], float] = OrderedDict()

    def seconds_to_wait(self, name: str, address: str) -> float:
        """How long this name from this address must wait before the next try (0: try now)."""
        now = self.clock()
        wait = self.pairs.wait((name, address), now)
        if self._is_known((name, address), now):
            return wait
        return max(wait, self.names.wait(name, now), self.addresses.wait(address, now))

    def failed(self, name: str, address: str) -> int:
        """Count a wrong name or password on all three counts; the failures in a row of this pair."""
        now = self.clock()
        self.names.fail(name, now)
        self.addresses.fail(address, now)
        return self.pairs.fail((name, address), now)

    def succeeded(self, name: str, address: str) -> None:
        """A correct login: this pair starts again from zero and is known from now on.

        The name and address counts stay: a success here says nothing about failures elsewhere.
        """
        pair = (name, address)
        self.pairs.clear(pair)
        self._known.pop(pair, None)
        self._known[pair] = self.clock()
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)

    def _is_known(self, pair: Tuple[str, str], now: float) -> bool:
        since = self._known.get(pair)
        if since is None:
            return False
        if now - since >= KNOWN_SECONDS:
            del self._known[pair]
            return False
        return True
