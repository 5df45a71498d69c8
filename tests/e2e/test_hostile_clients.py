"""Hostile clients against real servers: a burst from one conversation never holds up anyone else.

Every case runs a bystander alongside the flood who must get the official answer, within a bound that is
generous for this machine and far below what the same floods cost before fair turns (a bystander waited 35.5 s
behind 40 socket.io frames and 16.2 s behind 20 concurrent REST requests; 600 frames silenced the bot for
minutes). The servers run with the production limits and are this module's own, so their log holds only this
module's traffic.
"""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.support.bot import MODEL
from vraagbaak.bench.hostile_clients import (
    Socket,
    ask_socket,
    flood_socket,
    new_client,
    open_socket,
    post_rest,
    rest_burst,
)
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import Settings
from vraagbaak.ops.processes import RunningServers, running_servers

pytestmark = pytest.mark.servers
KB = knowledge_base()
ONE_AT_A_TIME = KB.message("een_bericht_tegelijk")
TOO_MANY = KB.message("te_veel_berichten")
TECHNICAL = KB.message("technisch_probleem")
QUESTION = "Wat vindt Amnesty van pooiers?"
TOPIC = "pooiers"
# A marker in every flooded message: it must appear in no log.
MARKER = f"vloedmerk{uuid.uuid4().hex[:10]}"
FLOOD_TEXT = f"{QUESTION} {MARKER}"
# The bystander's bound: generous for a busy 2-core machine, and a fraction of the waits this suite replaced.
BOUND_SECONDS = 5.0
LIMITS = Settings.from_env({})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServers]:
    """Real Rasa and action servers with the default (production) limits, for this module alone."""
    with running_servers(MODEL, tmp_path_factory.mktemp("hostile-clients")) as running:
        yield running


def classify(texts: List[str]) -> List[str]:
    """Each flood reply as a kind: the two notices, the technical problem, or part of an answer."""
    kinds = {
        ONE_AT_A_TIME: "een_bericht_tegelijk",
        TOO_MANY: "te_veel_berichten",
        TECHNICAL: "technisch_probleem",
    }
    return [kinds.get(text, "antwoord") for text in texts]


async def socket_bystander(url: str, questions: int) -> List[float]:
    """A widget visitor on a connection of its own: seconds to each official answer (asked one by one)."""
    async with new_client() as client:
        socket = await open_socket(client, url)
        try:
            session = await socket.session()
            timings = []
            for _ in range(questions):
                seconds, topic = await ask_socket(socket, session, QUESTION)
                assert topic == TOPIC
                timings.append(seconds)
            return timings
        finally:
            await socket.close()


async def socket_flood(url: str, frames: int, started: asyncio.Event) -> Socket:
    """One connection sends `frames` messages at once; returns it after its replies went quiet."""
    async with new_client() as client:
        socket = await open_socket(client, url)
        session = await socket.session()
        await flood_socket(socket, session, frames, FLOOD_TEXT)
        started.set()
        await socket.quiet(3.0)
        # And afterwards: the flooder is answered normally again once it waits for its next token.
        await asyncio.sleep(60 / LIMITS.rate_per_minute + 0.5)
        _, topic = await ask_socket(socket, session, QUESTION)
        assert topic == TOPIC
        await socket.close()
        return socket


async def flood_with_bystander(url: str, frames: int) -> tuple[Socket, List[float]]:
    started = asyncio.Event()
    flood = asyncio.ensure_future(socket_flood(url, frames, started))
    await asyncio.wait_for(started.wait(), 60)
    timings = await socket_bystander(url, 3)
    return await flood, timings


@pytest.mark.parametrize("frames", [40, 600])
async def test_a_socketio_flood_from_one_connection_never_holds_up_a_bystander(
    stack: RunningServers, frames: int
) -> None:
    flooder, timings = await flood_with_bystander(stack.rasa_url, frames)
    assert len(timings) == 3 and max(timings) < BOUND_SECONDS, timings
    kinds = classify(flooder.bot_texts())
    assert "technisch_probleem" not in kinds
    # Its first burst passed the connection's bucket; of those one ran, a few waited, the rest heard "one at a
    # time"; everything over the bucket was refused with one notice, not one per frame.
    assert 2 <= len(flooder.topics()) <= LIMITS.rate_burst + 1
    assert kinds.count("een_bericht_tegelijk") >= 1
    assert kinds.count("te_veel_berichten") == 1


async def test_a_connection_that_opens_a_new_conversation_for_every_frame_is_limited_too(
    stack: RunningServers,
) -> None:
    # One conversation per message escapes the per-conversation line; the connection's bucket still holds.
    async def rotating() -> Socket:
        async with new_client() as client:
            socket = await open_socket(client, stack.rasa_url)
            for _ in range(60):
                session = await socket.session()
                await socket.emit("user_uttered", {"message": FLOOD_TEXT, "session_id": session})
            await socket.quiet(3.0)
            await socket.close()
            return socket

    flood = asyncio.ensure_future(rotating())
    await asyncio.sleep(0.3)
    timings = await socket_bystander(stack.rasa_url, 3)
    flooder = await flood
    assert max(timings) < BOUND_SECONDS, timings
    assert len(flooder.topics()) <= LIMITS.rate_burst + 1
    assert "te_veel_berichten" in classify(flooder.bot_texts())


async def test_twenty_concurrent_rest_requests_from_one_sender_never_hold_up_a_bystander(
    stack: RunningServers,
) -> None:
    sender = f"vloed-{uuid.uuid4().hex[:8]}"
    async with new_client() as client:
        texts = [f"{FLOOD_TEXT} {n}" for n in range(20)]
        burst = asyncio.ensure_future(rest_burst(client, stack.rasa_url, sender, texts))
        await asyncio.sleep(0.05)
        bystander = [await post_rest(client, stack.rasa_url, f"omstander-{n}", QUESTION) for n in range(3)]
        replies = await burst
        tracker = await (
            await client.get(
                f"{stack.rasa_url}/conversations/rest:{sender}/tracker", params={"token": stack.token}
            )
        ).json()
    assert [r.status for r in bystander] == [200] * 3
    assert [r.topic for r in bystander] == [TOPIC] * 3
    assert max(r.seconds for r in bystander) < BOUND_SECONDS, [r.seconds for r in bystander]
    # All 20 fit the sender's bucket, so the conversation's own line decided: answers in turn, and "one at a
    # time" for those beyond the line, at once and without model work.
    assert [r.status for r in replies] == [200] * 20
    answered = {text for text, r in zip(texts, replies, strict=True) if r.topic == TOPIC}
    refused = [r for r in replies if r.texts == [ONE_AT_A_TIME]]
    assert len(answered) + len(refused) == 20
    assert answered and refused
    # A refused message never reached the bot: the stored turns (the last few) are all answered ones.
    stored = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert stored and set(stored) <= answered
    assert max(r.seconds for r in refused) < BOUND_SECONDS


async def test_a_rest_sender_over_its_limit_gets_429_with_the_dutch_reply_and_when_to_retry(
    stack: RunningServers,
) -> None:
    sender = f"vloed-{uuid.uuid4().hex[:8]}"
    async with new_client() as client:
        sequential = [
            await post_rest(client, stack.rasa_url, sender, "1") for _ in range(LIMITS.rate_burst + 5)
        ]
        other = await post_rest(client, stack.rasa_url, f"omstander-{uuid.uuid4().hex[:6]}", QUESTION)
    statuses = [r.status for r in sequential]
    assert statuses[: LIMITS.rate_burst] == [200] * LIMITS.rate_burst
    assert 429 in statuses[LIMITS.rate_burst :]
    limited = next(r for r in sequential if r.status == 429)
    assert limited.texts == [TOO_MANY]
    assert limited.retry_after is not None and 1 <= int(limited.retry_after) <= 60
    assert other.status == 200 and other.topic == TOPIC  # another sender is not limited


def test_the_floods_left_no_text_in_the_log_and_the_refusals_are_logged_as_events(
    stack: RunningServers,
) -> None:
    log = Path(stack.rasa_log).read_text(encoding="utf-8", errors="replace")
    assert MARKER not in log
    assert "te veel berichten" in log.lower()
    for sender_fragment in ("vloed-", "omstander-"):
        assert sender_fragment not in log
