"""Conversation locks in a real Redis: one holder at a time across replicas, keys that always expire."""
from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, List

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from vraagbaak.adapters.locks import RedisConversationLockStore
from vraagbaak.ops.processes import free_port, start_process, stop_processes

PREFIX = "vraagbaak"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private redis-server on a free loopback port (the same binary the cluster runs)."""
    import redis

    binary = shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if not binary:
        pytest.fail("redis-server ontbreekt: draai eerst `make services-deps`")
    workdir = tmp_path_factory.mktemp("redis")
    port, password = free_port(), secrets.token_hex(8)
    process = start_process(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--requirepass",
            password,
            "--dir",
            str(workdir),
        ],
        workdir / "redis.log",
    )
    client = redis.Redis(host="127.0.0.1", port=port, password=password)
    for _ in range(100):
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                break
        threading.Event().wait(0.05)
    try:
        yield port, password, client
    finally:
        stop_processes([process])


def store(redis_server: Any, **kwargs: Any) -> RedisConversationLockStore:
    """A lock store as Rasa creates it from endpoints.yml (one per replica)."""
    port, password, _ = redis_server
    config = EndpointConfig(url="127.0.0.1", port=port, password=password, key_prefix=PREFIX, **kwargs)
    return RedisConversationLockStore(endpoint_config=config)


class NoLockStore(LockStore):
    """A broken lock store that lets everyone in: the checker must catch it."""

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: str, *args: Any, **kwargs: Any) -> AsyncIterator[None]:
        yield None


def lost_updates(stores: List[LockStore], client: Any, turns: int) -> int:
    """Each store (a 'replica', its own thread and event loop) does `turns` read-wait-write turns on one counter
    under the conversation lock, all at once; returns how many turns were lost."""
    key, conversation = f"teller-{secrets.token_hex(4)}", f"gesprek-{secrets.token_hex(4)}"
    client.set(key, 0)

    async def turn(lock_store: LockStore) -> None:
        async with lock_store.lock(conversation, 20, 0.01):
            value = int(client.get(key))
            await asyncio.sleep(0.005)  # the pipeline's work between loading and saving the tracker
            client.set(key, value + 1)

    async def replica(lock_store: LockStore) -> None:
        await asyncio.gather(*(turn(lock_store) for _ in range(turns)))

    threads = [threading.Thread(target=asyncio.run, args=(replica(s),)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(stores) * turns - int(client.get(key))


def test_two_replicas_never_hold_one_conversation_at_once(redis_server: Any) -> None:
    assert lost_updates([store(redis_server), store(redis_server)], redis_server[2], turns=10) == 0


def test_the_lost_turn_check_catches_a_store_that_does_not_lock(redis_server: Any) -> None:
    assert lost_updates([NoLockStore(), NoLockStore()], redis_server[2], turns=10) > 0


def test_the_lock_key_always_has_an_expiry_and_is_gone_after_the_turn(redis_server: Any) -> None:
    client, lock_store = redis_server[2], store(redis_server)

    async def hold() -> int:
        async with lock_store.lock("verloopt", 20):
            return int(client.pttl(f"{PREFIX}:lock:verloopt"))

    assert 0 < asyncio.run(hold()) <= 20_000
    assert not client.exists(f"{PREFIX}:lock:verloopt")


def test_a_lock_left_by_a_killed_replica_expires_by_itself(redis_server: Any) -> None:
    client = redis_server[2]
    # What a replica killed mid-turn leaves behind: its lock, with its lifetime.
    client.set(f"{PREFIX}:lock:verlaten", "dode-replica", px=1000)

    async def next_turn() -> bool:
        async with store(redis_server, max_wait=10).lock("verlaten", 20):
            return client.get(f"{PREFIX}:lock:verlaten") != b"dode-replica"

    assert asyncio.run(next_turn())


def test_a_long_turn_keeps_its_lock_and_others_get_the_lock_error(redis_server: Any) -> None:
    client, holder, other = redis_server[2], store(redis_server), store(redis_server, max_wait=0.3)

    async def scenario() -> List[Any]:
        async with holder.lock("lang", 1):
            await asyncio.sleep(2.5)  # longer than the lifetime: the lock is extended while the turn goes on
            alive = bool(client.exists(f"{PREFIX}:lock:lang"))
            with pytest.raises(LockError):
                async with other.lock("lang", 1):
                    pass
        return [alive, bool(client.exists(f"{PREFIX}:lock:lang"))]

    assert asyncio.run(scenario()) == [True, False]


def test_created_from_endpoints_like_rasa_does(redis_server: Any, tmp_path: Path) -> None:
    port, password, _ = redis_server
    config = EndpointConfig(
        url="127.0.0.1",
        type="vraagbaak.adapters.locks.RedisConversationLockStore",
        port=port,
        password=password,
        key_prefix=PREFIX,
    )
    created = LockStore.create(config)
    assert isinstance(created, RedisConversationLockStore)
    assert created.key("x") == f"{PREFIX}:lock:x"
