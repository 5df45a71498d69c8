"""Token buckets per REST sender and socket.io connection, and how often a refused client hears about it."""
from __future__ import annotations

import pytest

from vraagbaak.adapters.rate_limit import Notices, TokenBuckets
from vraagbaak.core.settings import ConfigError, Settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def passed(buckets: TokenBuckets, key: str, count: int) -> int:
    return sum(buckets.take(key) for _ in range(count))


def test_a_burst_passes_then_the_rest_is_refused_until_tokens_come_back() -> None:
    clock = Clock()
    buckets = TokenBuckets(burst=5, per_minute=60, clock=clock)
    assert passed(buckets, "a", 40) == 5
    assert buckets.seconds_until_next("a") == 1
    clock.now += 1.0
    assert passed(buckets, "a", 40) == 1
    clock.now += 60.0  # refilled, but never beyond the burst
    assert passed(buckets, "a", 40) == 5


def test_the_limit_check_can_fail() -> None:
    # Mutation: a bucket as big as the flood lets all of it through, so the test above would see 40, not 5.
    buckets = TokenBuckets(burst=40, per_minute=60, clock=Clock())
    assert passed(buckets, "a", 40) == 40


def test_keys_have_buckets_of_their_own() -> None:
    buckets = TokenBuckets(burst=2, per_minute=60, clock=Clock())
    assert passed(buckets, "flood", 10) == 2
    assert passed(buckets, "bystander", 2) == 2
    assert buckets.seconds_until_next("bystander") == 1


def test_a_refused_message_uses_no_token() -> None:
    clock = Clock()
    buckets = TokenBuckets(burst=1, per_minute=60, clock=clock)
    assert passed(buckets, "a", 1000) == 1
    clock.now += 1.0  # one token back, however many were refused meanwhile
    assert buckets.take("a")


def test_memory_stays_bounded_whatever_keys_a_client_invents() -> None:
    buckets = TokenBuckets(burst=1, per_minute=60, max_keys=100, clock=Clock())
    for number in range(10_000):
        buckets.take(f"afzender-{number}")
    assert len(buckets) == 100


def test_the_least_recently_used_key_goes_first() -> None:
    buckets = TokenBuckets(burst=1, per_minute=60, max_keys=2, clock=Clock())
    buckets.take("old")
    buckets.take("recent")
    buckets.take("recent")  # used again
    buckets.take("new")  # evicts "old", not "recent"
    assert not buckets.take("recent")
    assert buckets.take("old")  # forgotten: a full bucket again


def test_a_closed_connection_is_forgotten() -> None:
    buckets = TokenBuckets(burst=1, per_minute=60, clock=Clock())
    buckets.take("sid")
    buckets.forget("sid")
    assert len(buckets) == 0


def test_a_refused_client_hears_it_once_per_interval_with_the_count() -> None:
    clock = Clock()
    notices = Notices(interval=5, clock=clock)
    assert notices.due("a") == 1
    assert [notices.due("a") for _ in range(9)] == [0] * 9
    assert notices.due("b") == 1  # another client is not kept quiet by the first one
    clock.now += 5
    assert notices.due("a") == 10  # nine dropped since the last notice, and this one
    notices.forget("a")
    assert notices.due("a") == 1


def test_the_notice_check_can_fail() -> None:
    # Mutation: without an interval every refusal is announced, so the test above would see 1s, not 0s.
    notices = Notices(interval=0, clock=Clock())
    assert [notices.due("a") for _ in range(3)] == [1, 1, 1]


def test_the_settings_default_to_a_burst_of_20_and_60_a_minute() -> None:
    settings = Settings.from_env({})
    assert (settings.rate_burst, settings.rate_per_minute) == (20, 60)
    assert Settings.from_env({"VRAAGBAAK_RATE_BURST": "5"}).rate_burst == 5


@pytest.mark.parametrize("name", ["VRAAGBAAK_RATE_BURST", "VRAAGBAAK_RATE_PER_MINUTE"])
@pytest.mark.parametrize("value", ["0", "-3", "veel"])
def test_the_settings_refuse_nonsense(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({name: value})
