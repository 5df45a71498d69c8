"""One message at a time per conversation: the rest wait in order in a short line of their own, or are refused."""
from __future__ import annotations

import asyncio
from typing import List

import pytest

from vraagbaak.adapters.conversation_queue import MAX_WAITING, ConversationBusy, ConversationQueues, queues


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_conversation_runs_one_message_at_a_time_in_arrival_order() -> None:
    lines = ConversationQueues(max_waiting=10)
    running, most, order = 0, 0, []

    async def message(number: int) -> None:
        nonlocal running, most
        async with lines.turn("rest:a"):
            running += 1
            most = max(most, running)
            order.append(number)
            await asyncio.sleep(0.001)
            running -= 1

    await asyncio.gather(*(message(n) for n in range(8)))
    assert most == 1
    assert order == list(range(8))


async def test_other_conversations_do_not_wait_for_a_busy_one() -> None:
    lines = ConversationQueues()
    release = asyncio.Event()

    async def held() -> None:
        async with lines.turn("rest:flood"):
            await release.wait()

    flood = asyncio.ensure_future(held())
    await settle()
    async with lines.turn("rest:bystander"):
        pass  # got in at once while the other conversation is still running
    release.set()
    await flood


async def test_past_the_cap_a_message_is_refused_at_once() -> None:
    lines = ConversationQueues(max_waiting=MAX_WAITING)
    release = asyncio.Event()

    async def held() -> None:
        async with lines.turn("rest:a"):
            await release.wait()

    kept = [asyncio.ensure_future(held()) for _ in range(1 + MAX_WAITING)]
    await settle()
    assert lines.members("rest:a") == 1 + MAX_WAITING
    with pytest.raises(ConversationBusy):
        async with lines.turn("rest:a"):
            pytest.fail("a refused message must not run")
    assert lines.members("rest:a") == 1 + MAX_WAITING  # the refusal took no place
    release.set()
    await asyncio.gather(*kept)
    assert len(lines) == 0  # idle conversations are not kept


async def test_the_cap_check_can_fail() -> None:
    # Mutation: a line as long as the burst refuses nothing, so the test above would not see ConversationBusy.
    lines = ConversationQueues(max_waiting=100)
    release = asyncio.Event()

    async def held() -> None:
        async with lines.turn("rest:a"):
            await release.wait()

    kept = [asyncio.ensure_future(held()) for _ in range(20)]
    await settle()
    assert lines.members("rest:a") == 20
    release.set()
    await asyncio.gather(*kept)


async def test_forgetting_passes_a_full_line_by_one_place() -> None:
    lines = ConversationQueues(max_waiting=2)
    release = asyncio.Event()
    done: List[str] = []

    async def held(name: str, urgent: bool = False) -> None:
        async with lines.turn("socketio:s", urgent=urgent):
            await release.wait()
            done.append(name)

    kept = [asyncio.ensure_future(held(f"vraag {n}")) for n in range(3)]
    await settle()
    forget = asyncio.ensure_future(held("vergeten", urgent=True))
    await settle()
    with pytest.raises(ConversationBusy):  # a second urgent one finds the line full too
        async with lines.turn("socketio:s", urgent=True):
            pass
    release.set()
    await asyncio.gather(*kept, forget)
    assert done == ["vraag 0", "vraag 1", "vraag 2", "vergeten"]  # in order: it waits its turn


async def test_a_message_that_fails_or_is_cancelled_frees_its_place() -> None:
    lines = ConversationQueues(max_waiting=1)
    release = asyncio.Event()

    async def held() -> None:
        async with lines.turn("rest:a"):
            await release.wait()

    running = asyncio.ensure_future(held())
    waiting = asyncio.ensure_future(held())
    await settle()
    waiting.cancel()  # a REST client that went away while it waited
    await settle()
    assert lines.members("rest:a") == 1
    with pytest.raises(ValueError):
        async with lines.turn("rest:b"):
            raise ValueError("kapot")
    assert lines.members("rest:b") == 0
    release.set()
    await running
    assert len(lines) == 0


def test_each_event_loop_gets_its_own_queues() -> None:
    async def current() -> ConversationQueues:
        return queues()

    assert asyncio.run(current()) is not asyncio.run(current())
