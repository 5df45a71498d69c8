"""Update ids answered once (in memory and in a real Redis), namespaced conversation ids, and delivery retries."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import redis
from redis import asyncio as redis_asyncio

from vraagbaak.adapters.channels import conversation_id, delivery, platform_id
from vraagbaak.adapters.channels.delivery import CompleteOrNothing, DeliveryFailed, RateLimited, with_retries
from vraagbaak.adapters.channels.replays import KEY_PREFIX, MemoryReplays, RedisReplays, replays_for
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import Settings
from vraagbaak.ops.processes import free_port


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- namespaces -------------------------------------------------------------------------------------------


def test_a_conversation_id_belongs_to_one_channel_only() -> None:
    assert conversation_id("telegram", "123") == "telegram:123"
    assert platform_id("telegram", "telegram:123") == "123"
    assert platform_id("twilio", "twilio:whatsapp:+316") == "whatsapp:+316"
    # An id of another channel, Rasa's "default" or an empty id never gives a recipient.
    for other in ("rest:123", "123", "default", "telegram:", "telegramx:1", "socketio:telegram:1"):
        assert platform_id("telegram", other) is None, other


# --- replays in memory ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_replays_answer_each_key_once_then_forget_it_after_the_ttl() -> None:
    clock = Clock()
    seen = MemoryReplays(ttl=60, limit=100, clock=clock)
    assert run(seen.first_time("telegram:1"))
    assert not run(seen.first_time("telegram:1"))
    assert run(seen.first_time("telegram:2"))
    clock.now += 61
    assert run(seen.first_time("telegram:1")), "expired: a day-old id may come back"


def test_memory_replays_stay_bounded() -> None:
    seen = MemoryReplays(ttl=3600, limit=3, clock=Clock())
    for key in "abcde":
        assert run(seen.first_time(key))
    assert len(seen.seen) <= 3
    assert not run(seen.first_time("e")) and run(seen.first_time("a")), "the oldest is dropped first"


def test_development_uses_memory_and_production_redis() -> None:
    assert isinstance(replays_for(Settings.from_env({})), MemoryReplays)
    assert isinstance(replays_for(Settings.from_env({"VRAAGBAAK_ENV": "production"})), RedisReplays)


# --- replays in a real Redis ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private redis-server on a free loopback port."""
    binary = shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if binary is None:
        pytest.fail("redis-server ontbreekt: draai eerst `make services-deps`")
    port, workdir = free_port(), Path(tmp_path_factory.mktemp("redis"))
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_redis_replays_answer_each_key_once_with_an_expiry(redis_port: int) -> None:
    async def scenario() -> List[bool]:
        seen = RedisReplays(redis_asyncio.Redis(port=redis_port), ttl=120)
        other_replica = RedisReplays(redis_asyncio.Redis(port=redis_port), ttl=120)
        return [
            await seen.first_time("twilio:SM1"),
            await seen.first_time("twilio:SM1"),
            await other_replica.first_time("twilio:SM1"),
            await other_replica.first_time("twilio:SM2"),
        ]

    assert run(scenario()) == [True, False, False, True]
    ttl = redis.Redis(port=redis_port).ttl(KEY_PREFIX + "twilio:SM1")
    assert 0 < ttl <= 120, "every key expires by itself"


def test_unreachable_redis_means_answering_rather_than_silence() -> None:
    seen = RedisReplays(redis_asyncio.Redis(port=free_port(), socket_connect_timeout=2))
    assert run(seen.first_time("telegram:1"))


# --- complete or nothing ----------------------------------------------------------------------------------


def test_with_retries_waits_as_asked_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: List[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(delivery.asyncio, "sleep", no_sleep)
    answers: List[Any] = [RateLimited(1.5), "ok"]

    async def send() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert run(with_retries(send, "test")) == "ok" and waits == [1.5]
    answers[:] = [RateLimited(1), RateLimited(1), RateLimited(1), "never"]
    with pytest.raises(DeliveryFailed):
        run(with_retries(send, "test"))
    answers[:] = [RateLimited(delivery.MAX_WAIT_SECONDS + 1), "never"]
    with pytest.raises(DeliveryFailed):
        run(with_retries(send, "test"))  # a wait longer than the user's counts as a failure


class Recorder(CompleteOrNothing):
    """A platform output that fails for good on the messages it is told to."""

    def __init__(self, failing: int) -> None:
        self.sent: List[Dict[str, str]] = []
        self.failing = failing

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if len(self.sent) == self.failing and text != knowledge_base().message("antwoord_onvolledig"):
            self.failing = -1
            raise DeliveryFailed("test")
        self.sent.append({"to": recipient_id, "text": text})


def test_after_a_failed_part_the_rest_is_dropped_and_one_apology_sent() -> None:
    out = Recorder(failing=1)

    async def answer() -> None:
        for text in ("deel 1", "deel 2", "deel 3"):
            await out.send_response("telegram:42", {"text": text})

    run(answer())
    apology = knowledge_base().message("antwoord_onvolledig")
    assert out.sent == [{"to": "42", "text": "deel 1"}, {"to": "42", "text": apology}]


def test_replies_to_another_channel_or_default_are_not_sent() -> None:
    out = Recorder(failing=-1)
    for recipient in ("default", "rest:42", "42"):
        run(out.send_response(recipient, {"text": "hallo"}))
    assert out.sent == []
