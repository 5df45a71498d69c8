"""Bounds in bytes on every entry of the real servers: ids, metadata, bodies, socket.io packets, stored conversations.

Each bound is shown to hold at its limit and to refuse one byte over it.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import requests

from tests.e2e.socketio_client import SocketIO, run_socketio, session_of
from tests.support.bot import MODEL, Servers, answer_parts, load_trained_agent
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.core.bounds import MAX_SENDER_LENGTH
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.user_input import MAX_LENGTH, MAX_MESSAGE_BYTES
from vraagbaak.ops.processes import RunningServers, process_tree_rss, running_servers

pytestmark = pytest.mark.servers
KB = knowledge_base()
MB = 1024 * 1024
QUESTION = "Wat vindt Amnesty van pooiers?"
TOO_LONG = KB.message("invoer_te_lang", maximum=str(MAX_LENGTH))
BAD_SENDER = KB.message("afzender_ongeldig", lengte=str(MAX_SENDER_LENGTH))
FORGOTTEN = KB.message("vergeten")
# Within this of where it was after 20 requests of 4 MB each (the brief of the security review).
MEMORY_SLACK = 50 * MB


def new_sender() -> str:
    return f"bounds-{uuid.uuid4().hex[:12]}"


def rest(url: str, body: Dict[str, Any] | bytes, timeout: float = 60) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{url}/webhooks/rest/webhook",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [str(m["text"]) for m in messages if m.get("text")]


def stored(servers: Servers, conversation: str) -> str:
    """The stored conversation as JSON, through the (test-only) HTTP API."""
    response = requests.get(
        f"{servers.rasa_url}/conversations/{conversation}/tracker",
        params={"token": servers.token},
        timeout=30,
    )
    response.raise_for_status()
    return response.text


def assert_still_answers(url: str) -> None:
    assert answer_parts(rest(url, {"sender": new_sender(), "message": QUESTION}).json())["topic"] == "pooiers"


# --- conversation ids ------------------------------------------------------------------------------------------


def test_20_requests_with_4_mb_sender_ids_leave_rasa_memory_where_it_was(servers: Servers) -> None:
    assert_still_answers(servers.rasa_url)  # warm: the first answer loads what every later one uses
    before = process_tree_rss(servers.running.rasa.pid)
    for number in range(20):
        response = rest(servers.rasa_url, {"sender": f"{number}-" + "x" * (4 * MB), "message": "hallo"})
        # Refused before it is decoded: the body is larger than any message.
        assert response.status_code == 413 and texts(response.json()) == [TOO_LONG]
    grown = process_tree_rss(servers.running.rasa.pid) - before
    assert grown < MEMORY_SLACK, f"{grown / MB:.0f} MB"
    assert_still_answers(servers.rasa_url)


@pytest.mark.parametrize(
    "sender, accepted",
    [
        ("a" * MAX_SENDER_LENGTH, True),
        ("a" * (MAX_SENDER_LENGTH + 1), False),
        ("a" * 60_000, False),
        ("whatsapp:+31612345678", True),
        ("met spatie", False),
        ("café", False),
        ("a/../b", False),
    ],
    ids=["at-the-limit", "one-over", "60-KB", "phone-number", "space", "accent", "slash"],
)
def test_sender_ids_are_bounded_and_plain_or_get_a_dutch_400(
    servers: Servers, sender: str, accepted: bool
) -> None:
    response = rest(servers.rasa_url, {"sender": sender, "message": QUESTION})
    if accepted:
        assert response.status_code == 200 and answer_parts(response.json())["topic"] == "pooiers"
    else:
        assert response.status_code == 400 and texts(response.json()) == [BAD_SENDER]


def test_a_refused_sender_id_leaves_no_conversation(servers: Servers) -> None:
    sender = "x" * (MAX_SENDER_LENGTH + 1)
    assert (
        rest(servers.rasa_url, {"sender": sender, "message": "geheim-7d1 wat met pooiers"}).status_code == 400
    )
    assert "geheim-7d1" not in stored(servers, conversation_id("rest", sender))


def test_input_channel_is_the_channel_not_what_the_caller_writes(servers: Servers) -> None:
    sender = new_sender()
    rest(servers.rasa_url, {"sender": sender, "message": QUESTION, "input_channel": "z" * 50_000})
    events = json.loads(stored(servers, conversation_id("rest", sender)))["events"]
    assert {e["input_channel"] for e in events if e["event"] == "user"} == {"rest"}


# --- metadata ---------------------------------------------------------------------------------------------------


def test_rest_metadata_is_not_kept(servers: Servers) -> None:
    sender, marker = new_sender(), f"META-{uuid.uuid4().hex}"
    metadata = {"customData": {"taal": "nl"}, "x": marker * 1000}  # about 40 KB, under the body bound
    response = rest(servers.rasa_url, {"sender": sender, "message": QUESTION, "metadata": metadata})
    assert response.status_code == 200 and answer_parts(response.json())["topic"] == "pooiers"
    tracker = stored(servers, conversation_id("rest", sender))
    assert marker not in tracker and "customData" not in tracker
    assert json.loads(tracker)["slots"].get("session_started_metadata") is None


def test_socketio_metadata_is_not_kept(servers: Servers) -> None:
    marker = f"META-{uuid.uuid4().hex}"

    async def dialogue(sio: SocketIO) -> tuple:
        session = await sio.session()
        await sio.emit(
            "user_uttered", {"message": QUESTION, "session_id": session, "metadata": {"x": marker * 500}}
        )
        return session, await sio.bot_messages()

    session, replies = run_socketio(servers.rasa_url, dialogue)
    assert answer_parts(replies)["topic"] == "pooiers"
    assert marker not in stored(servers, conversation_id("socketio", session))


# --- bodies and packets: decoded only up to MAX_MESSAGE_BYTES ------------------------------------------------


def rest_body_of(size: int, sender: str) -> bytes:
    """A REST body of exactly `size` bytes asking QUESTION, padded with a field the bot does not read."""
    body = {"sender": sender, "message": QUESTION, "opvulling": ""}
    padding = size - len(json.dumps(body).encode())
    body["opvulling"] = "x" * padding
    data = json.dumps(body).encode()
    assert len(data) == size
    return data


def test_a_rest_body_at_the_bound_is_answered_and_one_byte_over_is_refused_undecoded(
    servers: Servers,
) -> None:
    at_limit = rest(servers.rasa_url, rest_body_of(MAX_MESSAGE_BYTES, new_sender()))
    assert at_limit.status_code == 200 and answer_parts(at_limit.json())["topic"] == "pooiers"
    sender = new_sender()
    over = rest(servers.rasa_url, rest_body_of(MAX_MESSAGE_BYTES + 1, sender))
    assert over.status_code == 413 and texts(over.json()) == [TOO_LONG]
    assert QUESTION not in stored(servers, conversation_id("rest", sender))


def socketio_packet_of(size: int, session: str) -> str:
    """A socket.io user_uttered packet of exactly `size` bytes (what python-socketio would decode)."""
    data = {"message": QUESTION, "session_id": session, "opvulling": ""}
    base = len("2" + json.dumps(["user_uttered", data]))
    data["opvulling"] = "x" * (size - base)
    packet = "2" + json.dumps(["user_uttered", data])
    assert len(packet.encode()) == size
    return packet


def test_a_socketio_event_at_the_bound_is_answered_and_one_byte_over_gets_too_long(servers: Servers) -> None:
    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        replies = []
        for size in (MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES + 1):
            await sio.ws.send_str("4" + socketio_packet_of(size, session))  # "4": an engine.io message
            replies.append(await sio.bot_messages())
        return replies

    at_limit, over = run_socketio(servers.rasa_url, dialogue)
    assert answer_parts(at_limit)["topic"] == "pooiers"
    assert texts(over) == [TOO_LONG]


def test_binary_socketio_events_are_refused_and_the_connection_goes_on(servers: Servers) -> None:
    """python-socketio would wait for the announced attachments and treat every later frame as one."""

    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        await sio.ws.send_str('459999999999-["user_uttered",{"_placeholder":true,"num":0}]')
        refused = await sio.bot_messages(first=10)
        for _ in range(3):
            await sio.ws.send_bytes(b"x" * MB)
        return [refused, await sio.ask(session, QUESTION)]

    refused, normal = run_socketio(servers.rasa_url, dialogue)
    assert texts(refused) == [KB.message("alleen_tekst")]
    assert answer_parts(normal)["topic"] == "pooiers"


def test_4_mb_session_ids_over_socketio_leave_memory_where_it_was(servers: Servers) -> None:
    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        replies = []
        for number in range(20):
            await sio.emit("user_uttered", {"message": "hallo", "session_id": f"{number}" + "x" * (4 * MB)})
            replies.append(await sio.bot_messages(first=20))
        return replies

    assert_still_answers(servers.rasa_url)
    before = process_tree_rss(servers.running.rasa.pid)
    for replies in run_socketio(servers.rasa_url, dialogue, timeout=300):
        assert texts(replies) == [TOO_LONG]
    assert process_tree_rss(servers.running.rasa.pid) - before < MEMORY_SLACK


def test_the_quick_exit_beacon_is_read_up_to_its_bound(servers: Servers) -> None:
    """1 KB, what the widget's beacon needs: at the limit it forgets, one byte over gets a Dutch 400 unread."""
    from vraagbaak.adapters.channels.socketio import MAX_FORGET_BYTES

    async def visitor(sio: SocketIO) -> str:
        session = await sio.session(f"vb_{uuid.uuid4().hex[:20]}")
        await sio.ask(session, "geheim-5c2 wat met pooiers")
        return session

    session = run_socketio(servers.rasa_url, visitor)
    url, beacon = f"{servers.rasa_url}/webhooks/socketio/forget", {"Content-Type": "text/plain"}

    def body_of(size: int) -> bytes:
        body = {"sender": session, "message": "/gesprek_vergeten", "opvulling": ""}
        body["opvulling"] = "x" * (size - len(json.dumps(body)))
        return json.dumps(body).encode()

    over = requests.post(url, data=body_of(MAX_FORGET_BYTES + 1), headers=beacon, timeout=30)
    assert (over.status_code, over.text) == (400, KB.message("ongeldig_verzoek"))
    assert "geheim-5c2" in stored(servers, conversation_id("socketio", session_of(session)))
    assert requests.post(url, data=body_of(MAX_FORGET_BYTES), headers=beacon, timeout=60).status_code == 204
    assert "geheim-5c2" not in stored(servers, conversation_id("socketio", session_of(session)))


# --- a stored conversation of any size can be forgotten -------------------------------------------------------


SECRET = "GEHEIM-VAN-30-MB"


def oversized_tracker(conversation: str) -> str:
    """A stored conversation of about 30 MB, as an older version could have kept it (10 MB metadata a turn).

    Its last two turns alone are more than the action server reads (16 MiB): without the bound, Rasa's
    call for "vergeet dit gesprek" was refused, the user got "technisch probleem" and the data stayed.
    """
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.0},
    ]
    for turn in range(3):
        events += [
            {"event": "action", "name": "action_listen", "timestamp": 2.0 + turn},
            {
                "event": "user",
                "text": f"{SECRET} vraag {turn}",
                "parse_data": {"intent": {"name": "faq_pooiers", "confidence": 1.0}, "entities": []},
                "metadata": {"x": "m" * (10 * MB)},
                "timestamp": 2.1 + turn,
            },
        ]
    return json.dumps({"events": events, "name": conversation})


async def test_an_oversized_in_memory_conversation_is_forgotten(servers: Servers) -> None:
    """Written straight into the store of a real agent (the model, the NLU, the action server of these tests)."""
    from rasa.utils.endpoints import EndpointConfig

    from vraagbaak.adapters.stores import Conversations, ForgetfulInMemoryTrackerStore

    agent = load_trained_agent()
    store = ForgetfulInMemoryTrackerStore(agent.domain, conversations=Conversations())
    agent.tracker_store = agent.processor.tracker_store = store
    agent.action_endpoint = agent.processor.action_endpoint = EndpointConfig(
        f"{servers.running.action_url}/webhook"
    )
    conversation = conversation_id("rest", new_sender())
    store.store[conversation] = oversized_tracker(conversation)
    store._touch(conversation, store.clock())
    replies = await agent.handle_text("vergeet dit gesprek", sender_id=conversation)
    assert texts(replies or [])[:1] == [FORGOTTEN]
    assert SECRET not in "".join(store.store.values())


@pytest.fixture(scope="module")
def redis_bot(tmp_path_factory: pytest.TempPathFactory, redis_port: int) -> Iterator[RunningServers]:
    """Real servers whose conversations live in a real Redis, as in production."""
    store = {
        "type": "vraagbaak.adapters.stores.ForgetfulRedisTrackerStore",
        "url": "127.0.0.1",
        "port": redis_port,
        "record_exp": 3600,
    }
    workdir = tmp_path_factory.mktemp("bounds-redis")
    with running_servers(MODEL, workdir, endpoints_override={"tracker_store": store}) as running:
        yield running


@pytest.mark.parametrize("message", ["vergeet dit gesprek", QUESTION])
def test_an_oversized_redis_conversation_is_forgotten_or_answered(
    redis_bot: RunningServers, redis_port: int, message: str
) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port)
    sender = new_sender()
    key = f"tracker:{conversation_id('rest', sender)}"
    client.set(key, oversized_tracker(conversation_id("rest", sender)))
    replies = rest(redis_bot.rasa_url, {"sender": sender, "message": message})
    assert replies.status_code == 200
    if message == QUESTION:
        assert answer_parts(replies.json())["topic"] == "pooiers"
    else:
        assert texts(replies.json())[:1] == [FORGOTTEN]
    assert SECRET.encode() not in (client.get(key) or b"")
