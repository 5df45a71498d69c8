"""The tracker stores keep only the current session, forget idle conversations and hold a bounded number."""
from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_RESTART_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from tests.support.trackers import SLOT, long_session, turn
from vraagbaak.adapters import stores
from vraagbaak.adapters.stores import (
    Conversations,
    ForgetfulInMemoryTrackerStore,
    ForgetfulRedisTrackerStore,
    current_session_only,
)
from vraagbaak.core.paths import PROJECT_DIR

STORE_CLASS = "vraagbaak.adapters.stores.ForgetfulInMemoryTrackerStore"
HOUR = 3600.0
OLD = "OUD-GEHEIM-7f3a"
NEW = "nieuwe vraag over pooiers"


class FakeClock:
    """A monotonic clock that only moves when the test advances it."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def now(self) -> float:
        """The current time in seconds."""
        return self.seconds

    def advance(self, seconds: float) -> None:
        """Let time pass without sleeping."""
        self.seconds += seconds


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    """The project's real domain (sessions expire after 60 minutes, slots are not carried over)."""
    return Domain.load(str(PROJECT_DIR / "domain.yml"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def fresh_process_conversations(monkeypatch: pytest.MonkeyPatch) -> Conversations:
    """Every test starts as a fresh Rasa process: no conversations held yet."""
    conversations = Conversations()
    monkeypatch.setattr(stores, "PROCESS_CONVERSATIONS", conversations)
    return conversations


def store_with(domain: Domain, clock: FakeClock, **kwargs: Any) -> ForgetfulInMemoryTrackerStore:
    return ForgetfulInMemoryTrackerStore(domain, clock=clock.now, **kwargs)


def session(text: str, slot_value: List[str] | None = None) -> List[Event]:
    """Events of one conversation session as Rasa logs them: session start, a question, an answer."""
    events: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": "faq_pooiers", "confidence": 1.0}),
        BotUttered(f"antwoord op {text}"),
    ]
    if slot_value is not None:
        events.append(SlotSet(SLOT, slot_value))
    return events + [ActionExecuted(ACTION_LISTEN_NAME)]


def restart() -> List[Event]:
    """Events of 'Vergeet dit gesprek' as Rasa logs them."""
    return [ActionExecuted(ACTION_RESTART_NAME), Restarted()]


def tracker(domain: Domain, sender_id: str, events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)


def stored_text(store: ForgetfulInMemoryTrackerStore) -> str:
    return "\n".join(store.store.values())


def event_types(tracker: DialogueStateTracker) -> List[str]:
    return [type(event).__name__ for event in tracker.events]


async def test_idle_conversation_stays_until_the_session_expires_then_vanishes(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    store = store_with(rasa_domain, clock)
    await store.save(tracker(rasa_domain, "a", session(OLD)))
    clock.advance(HOUR)
    assert await store.keys() == ["a"]
    kept = await store.retrieve("a")
    assert kept is not None and kept.latest_message.text == OLD
    clock.advance(HOUR + 1)
    await store.save(tracker(rasa_domain, "b", session(NEW)))
    assert list(store.store) == ["b"]
    assert OLD not in stored_text(store)


async def test_retrieving_an_expired_conversation_returns_none_and_deletes_it(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    store = store_with(rasa_domain, clock)
    await store.save(tracker(rasa_domain, "a", session(OLD)))
    clock.advance(HOUR + 1)
    assert "a" in store.store
    assert await store.retrieve("a") is None
    assert store.store == {}
    assert await store.retrieve_full_tracker("a") is None
    assert await store.keys() == []


@pytest.mark.parametrize(
    "session_config, expiry",
    [
        ({"session_expiration_time": 5}, 300.0),
        ({"session_expiration_time": 0}, HOUR),
        ({}, HOUR),
    ],
)
async def test_expiry_follows_the_domain_with_an_hour_as_fallback(
    session_config: Dict[str, Any], expiry: float, clock: FakeClock
) -> None:
    store = ForgetfulInMemoryTrackerStore(clock=clock.now)
    # Like Rasa's Agent: the store is created first and gets the model's domain later.
    store.domain = Domain.from_dict({"session_config": session_config})
    assert store.expiry_seconds() == expiry
    await store.save(tracker(store.domain, "a", session(OLD)))
    clock.advance(expiry)
    assert await store.keys() == ["a"]
    clock.advance(expiry + 0.5)
    assert await store.keys() == []


async def test_the_cap_evicts_the_least_recently_active_and_keeps_recently_retrieved(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    store = store_with(rasa_domain, clock, max_conversations=3)
    for sender_id in "abc":
        await store.save(tracker(rasa_domain, sender_id, session(f"vraag van {sender_id}")))
        clock.advance(1)
    assert await store.retrieve("a") is not None
    await store.save(tracker(rasa_domain, "d", session(NEW)))
    assert set(store.store) == {"a", "c", "d"}
    await store.save(tracker(rasa_domain, "e", session(NEW)))
    assert set(store.store) == {"a", "d", "e"}
    assert "vraag van b" not in stored_text(store) and "vraag van c" not in stored_text(store)


async def test_saving_a_known_conversation_at_the_cap_evicts_nothing(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    store = store_with(rasa_domain, clock, max_conversations=2)
    await store.save(tracker(rasa_domain, "a", session(OLD)))
    await store.save(tracker(rasa_domain, "b", session(NEW)))
    await store.save(tracker(rasa_domain, "a", session(OLD) + session(NEW)))
    assert set(store.store) == {"a", "b"}


@pytest.mark.parametrize("count", [0, 1, 2, 250])
@pytest.mark.parametrize("cap", [1, 100, 10_000])
async def test_the_store_works_with_zero_one_and_many_conversations(
    rasa_domain: Domain, clock: FakeClock, count: int, cap: int
) -> None:
    store = store_with(rasa_domain, clock, max_conversations=cap)
    for number in range(count):
        await store.save(tracker(rasa_domain, f"gesprek-{number}", session(f"vraag {number}")))
        clock.advance(0.01)
    expected = [f"gesprek-{number}" for number in range(max(0, count - cap), count)]
    assert sorted(await store.keys()) == sorted(expected)
    assert await store.retrieve("onbekend") is None
    if count:
        last = await store.retrieve(f"gesprek-{count - 1}")
        assert last is not None and last.latest_message.text == f"vraag {count - 1}"


@pytest.mark.parametrize("cap", [0, -1])
def test_a_cap_below_one_is_refused(rasa_domain: Domain, cap: int) -> None:
    with pytest.raises(ValueError):
        ForgetfulInMemoryTrackerStore(rasa_domain, max_conversations=cap)


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(session(OLD) + session(NEW), id="new session"),
        pytest.param(session(OLD) + restart() + session(NEW), id="restart, then session start"),
        pytest.param(session(OLD) + session(OLD + " nog eens") + session(NEW), id="three sessions"),
    ],
)
async def test_only_the_current_session_is_stored(
    rasa_domain: Domain, clock: FakeClock, history: List[Event]
) -> None:
    store = store_with(rasa_domain, clock)
    await store.save(tracker(rasa_domain, "a", history))
    assert OLD not in stored_text(store)
    assert NEW in stored_text(store)
    full = await store.retrieve_full_tracker("a")
    assert full is not None and full.events[0] == ActionExecuted(ACTION_SESSION_START_NAME)
    assert event_types(full).count("SessionStarted") == 1


async def test_a_restart_still_forgets(rasa_domain: Domain, clock: FakeClock) -> None:
    store = store_with(rasa_domain, clock)
    after = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(NEW)]
    await store.save(tracker(rasa_domain, "a", session(OLD) + restart() + after))
    assert OLD not in stored_text(store)
    full = await store.retrieve_full_tracker("a")
    assert full is not None and event_types(full) == ["ActionExecuted", "UserUttered"]
    assert full.latest_message.text == NEW


@pytest.mark.parametrize(
    "history, first_kept, texts",
    [
        pytest.param(session("een"), "ActionExecuted", ["een"], id="one session"),
        pytest.param(session("een") + session("twee"), "ActionExecuted", ["twee"], id="two sessions"),
        pytest.param(
            session("een") + restart() + [UserUttered("twee")], "UserUttered", ["twee"], id="restart last"
        ),
        pytest.param(
            session("een") + restart() + session("twee"), "ActionExecuted", ["twee"], id="session start last"
        ),
        pytest.param(
            [UserUttered("een"), UserUttered("twee")], "UserUttered", ["een", "twee"], id="no boundary"
        ),
    ],
)
def test_current_session_only_starts_at_the_later_boundary(
    rasa_domain: Domain, history: List[Event], first_kept: str, texts: List[str]
) -> None:
    """The pure function that both the in-memory and the Redis store save with."""
    kept = current_session_only(tracker(rasa_domain, "a", history), rasa_domain.slots)
    assert event_types(kept)[0] == first_kept
    assert [event.text for event in kept.events if isinstance(event, UserUttered)] == texts


@pytest.mark.parametrize("new_value", [None, ["kritiek", "bewijzen"]])
def test_slots_of_the_current_session_survive_and_earlier_ones_do_not(
    rasa_domain: Domain, new_value: List[str] | None
) -> None:
    full = tracker(rasa_domain, "a", session(OLD, ["pooiers"]) + session(NEW, new_value))
    kept = current_session_only(full, rasa_domain.slots)
    rebuilt = DialogueStateTracker.from_events("a", list(kept.events), slots=rasa_domain.slots)
    assert rebuilt.get_slot(SLOT) == new_value
    assert rebuilt.get_slot(SLOT) == full.get_slot(SLOT)
    assert not any(isinstance(e, SlotSet) and e.value == ["pooiers"] for e in rebuilt.events)


def redis_store(domain: Domain, port: int, **kwargs: Any) -> ForgetfulRedisTrackerStore:
    """A Redis store on the test's server, with a key prefix of its own so that tests share nothing."""
    prefix = uuid.uuid4().hex
    return ForgetfulRedisTrackerStore(
        domain, host="127.0.0.1", port=port, record_exp=3600, key_prefix=prefix, **kwargs
    )


async def test_the_redis_store_overwrites_with_the_current_session(
    rasa_domain: Domain, redis_port: int
) -> None:
    store = redis_store(rasa_domain, redis_port)
    await store.save(tracker(rasa_domain, "a", session(OLD)))
    assert OLD in store.red.get(store.key_prefix + "a")
    await store.save(tracker(rasa_domain, "a", session(OLD) + session(NEW)))
    assert OLD not in store.red.get(store.key_prefix + "a")
    assert NEW in store.red.get(store.key_prefix + "a")
    assert 3590 < store.red.ttl(store.key_prefix + "a") <= 3600


def test_endpoints_yml_creates_the_store_with_its_cap(rasa_domain: Domain) -> None:
    config = read_endpoint_config(str(PROJECT_DIR / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, domain=rasa_domain)
    # Rasa silently falls back to its own InMemoryTrackerStore when the class cannot be loaded.
    assert type(store) is ForgetfulInMemoryTrackerStore
    assert store.max_conversations == 10_000
    assert store.max_total_bytes == stores.DEFAULT_MAX_TOTAL_BYTES
    assert store.expiry_seconds() == HOUR


async def test_endpoint_kwargs_reach_the_store(rasa_domain: Domain) -> None:
    store = TrackerStore.create(EndpointConfig(type=STORE_CLASS, max_conversations=2), domain=rasa_domain)
    assert isinstance(store, ForgetfulInMemoryTrackerStore) and store.max_conversations == 2
    for sender_id in "abc":
        await store.save(tracker(rasa_domain, sender_id, session(NEW)))
    assert len(await store.keys()) == 2


async def test_a_new_store_of_the_same_process_keeps_the_running_conversations(rasa_domain: Domain) -> None:
    """Rasa's PUT /model (model activation) creates a new tracker store; no conversation may be lost."""
    config = read_endpoint_config(str(PROJECT_DIR / "endpoints.yml"), "tracker_store")
    before = TrackerStore.create(config, domain=rasa_domain)
    await before.save(tracker(rasa_domain, "lopend", session(NEW, ["pooiers", "kritiek"])))
    # What rasa.core.agent.load_agent does when a model is activated: create the store again.
    after = TrackerStore.create(config, domain=rasa_domain)
    assert after is not before
    kept = await after.retrieve("lopend")
    assert kept is not None and kept.latest_message.text == NEW
    assert kept.get_slot(SLOT) == ["pooiers", "kritiek"]
    await after.save(tracker(rasa_domain, "nieuw", session(OLD)))
    assert sorted(await before.keys()) == ["lopend", "nieuw"]


async def test_forgetting_still_works_across_store_instances(rasa_domain: Domain, clock: FakeClock) -> None:
    first = store_with(rasa_domain, clock)
    await first.save(tracker(rasa_domain, "a", session(OLD)))
    second = store_with(rasa_domain, clock)
    clock.advance(HOUR + 1)
    assert await second.retrieve("a") is None
    assert first.store == {} and OLD not in stored_text(second)


async def test_a_store_with_its_own_conversations_shares_nothing(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    shared = store_with(rasa_domain, clock)
    await shared.save(tracker(rasa_domain, "a", session(OLD)))
    own = store_with(rasa_domain, clock, conversations=Conversations())
    assert await own.keys() == []


# --- Within a session: only the last turns and the slots ---------------------------------------------------


def test_a_long_session_keeps_its_opening_the_slots_and_the_last_turns(rasa_domain: Domain) -> None:
    full = tracker(rasa_domain, "a", long_session(300, slot_every=7))
    kept = stores.what_to_keep(full, rasa_domain.slots)
    texts = [e.text for e in kept.events if isinstance(e, UserUttered)]
    assert texts == [f"vraag {n}" for n in range(300 - stores.KEPT_TURNS, 300)]
    assert event_types(kept)[:2] == ["ActionExecuted", "SessionStarted"]
    # The slot was last set in turn 294, before the kept turns: the snapshot carries it.
    assert kept.get_slot(SLOT) == full.get_slot(SLOT) == ["onderwerp-294"]
    assert kept.latest_message.text == "vraag 299"
    # Each kept turn starts at its action_listen, as Rasa logged it.
    assert event_types(kept)[2:5] == ["SlotSet", "ActionExecuted", "UserUttered"]
    assert len(kept.events) <= 3 + 5 * stores.KEPT_TURNS + 1


def test_a_slot_set_in_the_kept_turns_wins_over_the_snapshot(rasa_domain: Domain) -> None:
    events = long_session(10, slot_every=1)
    kept = stores.what_to_keep(tracker(rasa_domain, "a", events), rasa_domain.slots)
    assert kept.get_slot(SLOT) == ["onderwerp-9"]


def test_a_short_session_is_kept_as_it_is(rasa_domain: Domain) -> None:
    full = tracker(rasa_domain, "a", long_session(stores.KEPT_TURNS))
    assert stores.recent_turns_only(full, rasa_domain.slots) is full


async def test_the_stores_hold_a_bounded_number_of_events_however_long_the_conversation(
    rasa_domain: Domain, clock: FakeClock, redis_port: int
) -> None:
    memory = store_with(rasa_domain, clock)
    redis = redis_store(rasa_domain, redis_port)
    sizes = []
    for turns in (10, 100, 300):
        full = tracker(rasa_domain, "a", long_session(turns))
        await memory.save(full)
        await redis.save(full)
        from_memory, from_redis = await memory.retrieve("a"), await redis.retrieve("a")
        assert from_memory is not None and from_redis is not None
        assert from_memory.latest_message.text == from_redis.latest_message.text == f"vraag {turns - 1}"
        sizes.append((len(from_memory.events), len(from_redis.events)))
    assert sizes[0] == sizes[1] == sizes[2]


async def test_saving_turn_after_turn_keeps_the_stored_size_flat(
    rasa_domain: Domain, clock: FakeClock
) -> None:
    """As Rasa does it: load, add a turn, save; 300 times."""
    store = store_with(rasa_domain, clock)
    await store.save(tracker(rasa_domain, "a", long_session(1)))
    sizes = []
    for number in range(1, 300):
        stored = await store.retrieve("a")
        assert stored is not None
        for event in turn(number, [f"onderwerp-{number}"]) + [ActionExecuted(ACTION_LISTEN_NAME)]:
            stored.update(event)
        await store.save(stored)
        sizes.append(len(store.store["a"]))
    kept = await store.retrieve("a")
    assert kept is not None and kept.get_slot(SLOT) == ["onderwerp-299"]
    assert len(kept.events) <= 3 + 6 * stores.KEPT_TURNS + 1
    assert max(sizes[50:]) - min(sizes[50:]) < 200  # characters: only timestamps and numbers differ


@pytest.mark.parametrize("turns", [1, 12])
def test_the_number_of_kept_turns_is_a_setting(rasa_domain: Domain, turns: int) -> None:
    kept = stores.what_to_keep(tracker(rasa_domain, "a", long_session(30)), rasa_domain.slots, turns)
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == [
        f"vraag {n}" for n in range(30 - turns, 30)
    ]
