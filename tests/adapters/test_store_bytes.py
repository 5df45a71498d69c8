"""The tracker stores bound a conversation in bytes, not only in turns, and forget one of any size."""
from __future__ import annotations

import json
import uuid
from typing import Any, List

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from vraagbaak.adapters import stores
from vraagbaak.adapters.stores import (
    Conversations,
    ForgetfulInMemoryTrackerStore,
    ForgetfulRedisTrackerStore,
    within_bytes,
)
from vraagbaak.core.paths import PROJECT_DIR

SLOT = "aangeboden_keuzes"
MB = 1024 * 1024
SECRET = "GEHEIM-b0a7"


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_DIR / "domain.yml"))


def user_turn(text: str, metadata: Any = None) -> List[Event]:
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": "faq_pooiers", "confidence": 1.0}, metadata=metadata),
        ActionExecuted("action_beantwoord_faq"),
        BotUttered(f"antwoord op {text}"),
        SlotSet(SLOT, [f"onderwerp bij {text[:10]}"]),
    ]


def conversation(domain: Domain, *turns: List[Event], sender: str = "a") -> DialogueStateTracker:
    events: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    for turn in turns:
        events += turn
    return DialogueStateTracker.from_events(
        sender, events + [ActionExecuted(ACTION_LISTEN_NAME)], slots=domain.slots
    )


def serialise(tracker: DialogueStateTracker) -> str:
    return InMemoryTrackerStore.serialise_tracker(tracker)


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


# --- what is kept: oldest turns first, then the opening, then nothing ----------------------------------------


def test_a_normal_conversation_is_kept_as_the_turn_bound_keeps_it(rasa_domain: Domain) -> None:
    full = conversation(rasa_domain, *(user_turn(f"vraag {n}") for n in range(6)))
    kept, _ = within_bytes(full, rasa_domain.slots, serialise)
    by_turns = stores.what_to_keep(full, rasa_domain.slots)
    assert [type(e) for e in kept.events] == [type(e) for e in by_turns.events]
    assert user_texts(kept) == user_texts(by_turns) == ["vraag 3", "vraag 4", "vraag 5"]
    assert kept.get_slot(SLOT) == ["onderwerp bij vraag 5"]


def test_at_the_limit_all_turns_stay_and_one_byte_less_drops_the_oldest(rasa_domain: Domain) -> None:
    full = conversation(rasa_domain, *(user_turn(f"vraag {n}") for n in range(3)))
    size = len(serialise(stores.what_to_keep(full, rasa_domain.slots)))
    at_limit, text = within_bytes(full, rasa_domain.slots, serialise, limit=size)
    assert len(text) == size and user_texts(at_limit) == ["vraag 0", "vraag 1", "vraag 2"]
    over, text = within_bytes(full, rasa_domain.slots, serialise, limit=size - 1)
    assert len(text) <= size - 1 and user_texts(over) == ["vraag 1", "vraag 2"]


def test_a_huge_old_turn_goes_and_the_latest_turn_and_slots_stay(rasa_domain: Domain) -> None:
    full = conversation(
        rasa_domain, user_turn(f"{SECRET} " + "x" * MB), user_turn("vraag 1"), user_turn("vraag 2")
    )
    kept, text = within_bytes(full, rasa_domain.slots, serialise)
    assert len(text) <= stores.MAX_STORED_BYTES and SECRET not in text
    assert user_texts(kept) == ["vraag 1", "vraag 2"]
    assert kept.get_slot(SLOT) == ["onderwerp bij vraag 2"]


def test_a_huge_latest_turn_leaves_only_the_opening(rasa_domain: Domain) -> None:
    full = conversation(rasa_domain, user_turn("vraag 0"), user_turn("vraag 1", metadata={"x": SECRET * MB}))
    kept, text = within_bytes(full, rasa_domain.slots, serialise)
    assert len(text) <= stores.MAX_STORED_BYTES and SECRET not in text
    assert user_texts(kept) == [] and kept.events[0].action_name == ACTION_SESSION_START_NAME


def test_below_the_size_of_the_opening_nothing_is_kept(rasa_domain: Domain) -> None:
    full = conversation(rasa_domain, user_turn("vraag 0"))
    empty = serialise(DialogueStateTracker.from_events("a", [], slots=rasa_domain.slots))
    kept, text = within_bytes(full, rasa_domain.slots, serialise, limit=len(empty) + 1)
    assert list(kept.events) == [] and text == empty


# --- the in-memory store -------------------------------------------------------------------------------------


def memory_store(domain: Domain, **kwargs: Any) -> ForgetfulInMemoryTrackerStore:
    return ForgetfulInMemoryTrackerStore(domain, conversations=Conversations(), **kwargs)


async def test_the_in_memory_store_keeps_a_conversation_within_its_bytes(rasa_domain: Domain) -> None:
    store = memory_store(rasa_domain)
    await store.save(conversation(rasa_domain, user_turn(SECRET + "x" * MB), user_turn("vraag 1")))
    assert len(store.store["a"]) <= stores.MAX_STORED_BYTES and SECRET not in store.store["a"]
    kept = await store.retrieve("a")
    assert kept is not None and kept.latest_message.text == "vraag 1"


async def test_all_conversations_together_stay_within_the_total_and_the_oldest_go(
    rasa_domain: Domain,
) -> None:
    one = len(
        serialise(stores.what_to_keep(conversation(rasa_domain, user_turn("vraag")), rasa_domain.slots))
    )
    store = memory_store(rasa_domain, max_bytes=one + 100, max_total_bytes=3 * one + 300)
    for number in range(10):
        await store.save(conversation(rasa_domain, user_turn("vraag"), sender=f"c{number}"))
        assert store.shared.total_bytes == sum(len(text) for text in store.store.values())
        assert store.shared.total_bytes <= 3 * one + 300
    assert sorted(await store.keys()) == ["c7", "c8", "c9"]


def test_a_total_below_one_conversation_is_refused(rasa_domain: Domain) -> None:
    with pytest.raises(ValueError):
        memory_store(rasa_domain, max_bytes=1000, max_total_bytes=999)


def padded(domain: Domain, size: int) -> str:
    """A valid stored conversation of exactly `size` characters (JSON allows trailing spaces)."""
    text = serialise(conversation(domain, user_turn(f"{SECRET} vraag")))
    assert len(text) <= size
    return text + " " * (size - len(text))


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-byte-over"])
async def test_a_conversation_written_around_the_memory_store_is_read_up_to_the_limit(
    rasa_domain: Domain, over: int
) -> None:
    store = memory_store(rasa_domain, max_bytes=4096)
    store.store["a"] = padded(rasa_domain, 4096 + over)
    store._touch("a", store.clock())
    found = await store.retrieve("a")
    if over:
        assert found is None and "a" not in store.store
    else:
        assert found is not None and found.latest_message.text == f"{SECRET} vraag"


async def test_an_oversized_conversation_in_memory_is_deleted_unread(rasa_domain: Domain) -> None:
    store = memory_store(rasa_domain)
    store.store["a"] = padded(rasa_domain, 20 * MB)  # as an older version would have kept it
    store._touch("a", store.clock())
    assert await store.retrieve("a") is None
    assert SECRET not in "".join(store.store.values()) and await store.keys() == []


# --- the Redis store, in a real Redis ------------------------------------------------------------------------


def redis_store(domain: Domain, port: int, **kwargs: Any) -> ForgetfulRedisTrackerStore:
    return ForgetfulRedisTrackerStore(
        domain, host="127.0.0.1", port=port, record_exp=3600, key_prefix=uuid.uuid4().hex, **kwargs
    )


async def test_the_redis_store_keeps_a_conversation_within_its_bytes(
    rasa_domain: Domain, redis_port: int
) -> None:
    store = redis_store(rasa_domain, redis_port)
    await store.save(conversation(rasa_domain, user_turn(SECRET + "x" * MB), user_turn("vraag 1")))
    stored = store.red.get(store.key_prefix + "a")
    assert len(stored) <= stores.MAX_STORED_BYTES and SECRET not in stored
    kept = await store.retrieve("a")
    assert kept is not None and kept.latest_message.text == "vraag 1"


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-byte-over"])
async def test_a_conversation_written_around_the_redis_store_is_read_up_to_the_limit(
    rasa_domain: Domain, redis_port: int, over: int
) -> None:
    store = redis_store(rasa_domain, redis_port, max_bytes=4096)
    store.red.set(store.key_prefix + "a", padded(rasa_domain, 4096 + over))
    found = await store.retrieve("a")
    if over:
        assert found is None and store.red.exists(store.key_prefix + "a") == 0
    else:
        assert found is not None and found.latest_message.text == f"{SECRET} vraag"


@pytest.mark.parametrize("value", ["ascii", "utf-8"])
async def test_an_oversized_conversation_in_redis_is_deleted_unread(
    rasa_domain: Domain, redis_port: int, value: str
) -> None:
    store = redis_store(rasa_domain, redis_port)
    key = store.key_prefix + "a"
    # 20 MB of a tracker; or text whose cut at the bound falls inside a two-byte character.
    store.red.set(key, padded(rasa_domain, 20 * MB) if value == "ascii" else SECRET + "é" * (2 * MB))
    assert await store.retrieve("a") is None
    assert store.red.exists(key) == 0


HALF = stores.MAX_STORED_BYTES // 2


@pytest.mark.parametrize(
    "value",
    ["one-byte-over-in-bytes", "é" * (HALF + 1), "geen json", '{"events": 3}'],
    ids=["one-byte-over-in-bytes", "cut-inside-a-character", "not-json", "not-a-tracker"],
)
async def test_a_conversation_redis_cannot_read_is_deleted_not_an_error(
    rasa_domain: Domain, redis_port: int, value: str
) -> None:
    """Over the bound in bytes (its characters fit), or not a tracker: gone, so nothing stays unforgettable."""
    store = redis_store(rasa_domain, redis_port)
    if value == "one-byte-over-in-bytes":  # a readable tracker, written with UTF-8 instead of escapes
        tracker = conversation(rasa_domain, user_turn("é" * (HALF // 4)))
        text = json.dumps(tracker.as_dialogue().as_dict(), ensure_ascii=False)
        value = text + " " * (stores.MAX_STORED_BYTES + 1 - len(text.encode()))
        assert len(value) < stores.MAX_STORED_BYTES < len(value.encode())
    store.red.set(store.key_prefix + "a", value)
    assert await store.retrieve("a") is None
    assert store.red.exists(store.key_prefix + "a") == 0


def test_the_stored_conversation_of_a_full_session_is_far_below_the_bound(rasa_domain: Domain) -> None:
    """What the channels let through (1,001 characters a message) stays a small part of the bound."""
    full = conversation(rasa_domain, *(user_turn("é" * 1001) for _ in range(10)))
    _, text = within_bytes(full, rasa_domain.slots, serialise)
    assert len(text) < stores.MAX_STORED_BYTES / 4, len(text)
    assert json.loads(text)["events"]
