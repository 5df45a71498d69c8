"""Hostile and unlucky input against real servers: bounded cost, isolated conversations, no user text in logs.

The servers here are started for this module alone, so their logs hold only this module's traffic.
"""
from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from tests.e2e.socketio_client import SocketIO, run_socketio, session_of
from tests.support.bot import MODEL, answer_parts, post_rest_body
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.user_input import MAX_LENGTH, MAX_REQUEST_BYTES
from vraagbaak.ops.processes import (
    free_port,
    process_tree_rss,
    running_servers,
    start_process,
    stop_processes,
    wait_for,
    web_server_command,
)

pytestmark = pytest.mark.servers
KB = knowledge_base()
TOO_LONG = KB.message("invoer_te_lang", maximum=str(MAX_LENGTH))
MB = 1024 * 1024
# Rasa may keep some of a burst's memory in its allocator; more than this would mean the text was processed.
MEMORY_SLACK = 100 * MB


@dataclass
class Stack:
    """Rasa, the action server and the demo web server, each with its own log file."""

    rasa_url: str
    action_url: str
    web_url: str
    token: str
    rasa_pid: int
    logs: Dict[str, Path]

    def rest(self, sender: Any, message: Any, timeout: float = 60) -> requests.Response:
        body: Dict[str, Any] = {"message": message}
        if sender is not None:
            body["sender"] = sender
        return requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=timeout)

    def rest_raw(self, body: str | bytes) -> requests.Response:
        """POST a body as it is (JSON that Python's encoder would never write)."""
        return post_rest_body(self.rasa_url, body)

    def tracker_text(self, sender: str, channel: str = "rest") -> str:
        conversation = conversation_id(channel, sender)
        response = requests.get(
            f"{self.rasa_url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=10
        )
        response.raise_for_status()
        return response.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A fresh set of real servers for this module."""
    workdir = tmp_path_factory.mktemp("hostile")
    web_port = free_port()
    with running_servers(MODEL, workdir) as running:
        web_log = workdir / "web.log"
        web = start_process(web_server_command(web_port, running.rasa_url), web_log)
        try:
            wait_for(f"http://127.0.0.1:{web_port}/", web, timeout=30)
            yield Stack(
                running.rasa_url,
                running.action_url,
                f"http://127.0.0.1:{web_port}",
                running.token,
                running.rasa.pid,
                {"rasa": running.rasa_log, "actions": running.action_log, "web": web_log},
            )
        finally:
            stop_processes([web])


def with_lone_surrogate(sender: str, text: str) -> str:
    """A REST body whose message starts with an unpaired surrogate escape."""
    return json.dumps({"sender": sender, "message": f"SURROGATE {text}"}).replace("SURROGATE", "\\ud800")


def new_sender() -> str:
    return f"hostile-{uuid.uuid4().hex[:12]}"


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [str(m.get("text")) for m in messages if m.get("text")]


def assert_normal_answer(messages: List[Dict[str, Any]], kb: KnowledgeBase) -> None:
    """A normal question still gets its official answer."""
    assert answer_parts(messages)["topic"] == "pooiers", texts(messages)


NORMAL_QUESTION = "Wat vindt Amnesty van pooiers?"


# --- Bounded cost ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, status", [(60 * 1024, 200), (100 * 1024, 413), (10 * MB, 413)], ids=["60KB", "100KB", "10MB"]
)
def test_oversized_rest_message_gets_too_long_and_costs_no_memory(
    stack: Stack, kb: KnowledgeBase, size: int, status: int
) -> None:
    before = process_tree_rss(stack.rasa_pid)
    sender = new_sender()
    response = stack.rest(sender, "a" * size)
    # A body above MAX_MESSAGE_BYTES (64 KB) is refused before it is decoded; below, the channel answers it.
    assert response.status_code == status
    assert texts(response.json()) == [TOO_LONG]
    assert "a" * 100 not in stack.tracker_text(sender)  # answered by the channel: nothing of it stored
    assert process_tree_rss(stack.rasa_pid) - before < MEMORY_SLACK
    assert_normal_answer(stack.rest(new_sender(), NORMAL_QUESTION).json(), kb)


def test_body_over_the_request_limit_gets_a_dutch_413(stack: Stack, kb: KnowledgeBase) -> None:
    response = stack.rest_raw(json.dumps({"sender": new_sender(), "message": "a" * (MAX_REQUEST_BYTES + 1)}))
    assert response.status_code == 413
    assert texts(response.json()) == [TOO_LONG]
    assert_normal_answer(stack.rest(new_sender(), NORMAL_QUESTION).json(), kb)


@pytest.mark.parametrize("size", [100 * 1024, 10 * MB], ids=["100KB", "10MB"])
def test_oversized_socketio_message_gets_too_long_and_costs_no_memory(
    stack: Stack, kb: KnowledgeBase, size: int
) -> None:
    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        return [await sio.ask(session, "a" * size), await sio.ask(session, NORMAL_QUESTION)]

    before = process_tree_rss(stack.rasa_pid)
    oversized, normal = run_socketio(stack.rasa_url, dialogue)
    assert texts(oversized) == [TOO_LONG]
    assert_normal_answer(normal, kb)
    assert process_tree_rss(stack.rasa_pid) - before < MEMORY_SLACK


def test_socketio_packet_over_the_limit_closes_only_that_connection(stack: Stack, kb: KnowledgeBase) -> None:
    async def dialogue(sio: SocketIO) -> str:
        session = await sio.session()
        try:
            await sio.emit("user_uttered", {"message": "a" * (MAX_REQUEST_BYTES + 1), "session_id": session})
            await sio.bot_messages(first=30)
        except ConnectionError as closed:  # the server may close while the packet is still being sent
            return str(closed)
        return "open"

    assert run_socketio(stack.rasa_url, dialogue) != "open"
    assert_normal_answer(stack.rest(new_sender(), NORMAL_QUESTION).json(), kb)


# --- Unlucky input gets a Dutch answer --------------------------------------------------------------------------


def test_lone_surrogate_gets_an_answer_not_silence(stack: Stack) -> None:
    response = stack.rest_raw(with_lone_surrogate(new_sender(), "pooiers ?"))
    assert response.status_code == 200 and texts(response.json())


def test_slash_sentence_is_read_as_a_sentence(stack: Stack, kb: KnowledgeBase) -> None:
    messages = stack.rest(new_sender(), "/ik word nu bedreigd door een klant, help").json()
    assert kb.message("nood").split("\n")[0] in "\n".join(texts(messages))


def test_unknown_payload_still_gets_the_unknown_button_reply(stack: Stack, kb: KnowledgeBase) -> None:
    assert texts(stack.rest(new_sender(), "/faq_bestaat_niet").json()) == [kb.message("onbekende_knop")]


# --- Isolation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", [None, "", "   "], ids=["absent", "empty", "spaces"])
def test_rest_without_sender_gets_a_dutch_400(stack: Stack, kb: KnowledgeBase, sender: Any) -> None:
    response = stack.rest(sender, NORMAL_QUESTION)
    assert response.status_code == 400
    assert texts(response.json()) == [kb.message("afzender_ontbreekt")]


def test_socketio_cannot_write_into_another_session(stack: Stack, kb: KnowledgeBase) -> None:
    secret = f"geheim-{uuid.uuid4().hex[:8]}"

    async def victim(sio: SocketIO) -> str:
        session = await sio.session()
        await sio.ask(session, NORMAL_QUESTION)
        return session

    victim_session = run_socketio(stack.rasa_url, victim)
    before = stack.tracker_text(session_of(victim_session), "socketio")

    async def attacker(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        unconfirmed = await sio.ask(victim_session, secret)  # before any session_request
        await sio.session()
        foreign = await sio.ask(victim_session, secret)  # confirmed for another session
        return [unconfirmed, foreign]

    for messages in run_socketio(stack.rasa_url, attacker):
        assert texts(messages) == [kb.message("sessie_ongeldig")]
    after = stack.tracker_text(session_of(victim_session), "socketio")
    assert secret not in after and after == before


def test_malformed_socketio_events_get_answers_and_keep_the_server_up(
    stack: Stack, kb: KnowledgeBase
) -> None:
    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        replies = []
        for data in (["lijst"], "tekst", None, {"session_id": session, "message": ["lijst"]}):
            await sio.emit("user_uttered", data)
            replies.append(await sio.bot_messages(first=10))
        replies.append(await sio.ask(session, NORMAL_QUESTION))
        return replies

    *malformed, normal = run_socketio(stack.rasa_url, dialogue)
    for messages in malformed:
        assert texts(messages), "every malformed event gets a Dutch reply"
    assert_normal_answer(normal, kb)


# --- No user text in any log -------------------------------------------------------------------------------------


def _raw_http(url: str, request: bytes, read: bool = True) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        return conn.recv(65536) if read else b""


def _post_and_leave(url: str, body: Dict[str, Any]) -> None:
    """A client that sends its whole request and disconnects before the reply."""
    data = json.dumps(body).encode()
    head = "POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    _raw_http(url, head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data, read=False)


def _send_marker_everywhere(stack: Stack, marker: str) -> Dict[str, str]:
    """Send the marker through every entry point; returns which paths were exercised (for the report)."""
    paths: Dict[str, str] = {}
    stack.rest(new_sender(), f"wat met pooiers {marker}")
    paths["rest"] = "normal question"
    stack.rest(f"{marker}-sender", "hallo")
    paths["rest-sender"] = "marker as sender id"
    _post_and_leave(stack.rasa_url, {"sender": new_sender(), "message": f"wat is decriminalisering {marker}"})
    paths["rest-disconnect"] = "client left mid-request"
    stack.rest_raw(with_lone_surrogate(new_sender(), f"{marker} lone"))
    paths["rest-surrogate"] = "lone surrogate"
    stack.rest(new_sender(), marker * (1_000_001 // len(marker) + 1))
    paths["rest-million"] = "over a million characters"
    stack.rest(new_sender(), f"/ik word bedreigd, mijn naam is {marker}")
    paths["rest-slash"] = "'/' sentence"
    stack.rest(new_sender(), f"/{marker.replace('-', '_')}")
    paths["rest-payload"] = "'/' payload of an unknown intent"
    stack.rest(None, marker)
    paths["rest-nosender"] = "no sender"
    requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=f"{{{marker}", timeout=30)
    paths["rest-badjson"] = "malformed JSON"

    async def dialogue(sio: SocketIO) -> None:
        session = await sio.session()
        await sio.ask(session, f"wat met pooiers {marker}")
        await sio.ask(session, f"/{marker} zin")
        await sio.emit("user_uttered", {"message": marker, "session_id": f"{marker}x"})
        await sio.bot_messages(first=10)
        await sio.emit("user_uttered", [marker])
        await sio.bot_messages(first=10)
        await sio.emit("session_request", {"session_id": marker})
        await sio.bot_messages(first=3)
        await sio.emit(marker, {"message": marker})
        await sio.bot_messages(first=3)

    run_socketio(stack.rasa_url, dialogue)
    paths["socketio"] = "normal, '/' sentence, foreign session, malformed events"

    for body in (
        f'{{"next_action": "action_beantwoord_faq", "tracker": "{marker}"}}',
        f'{{"{marker}": ',
        f'{{"next_action": "{marker}", "tracker": {{"sender_id": "{marker}"}}}}',
    ):
        requests.post(
            f"{stack.action_url}/webhook", data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
    paths["actions"] = "failing requests to the action server"

    for request in (
        f"GET /{marker} HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET /?q={marker} HTTP/1.1\r\nHost: x\r\nX-Note: {marker}\r\n\r\n",
        f"{marker}\r\n\r\n",
        f"GET /{marker} HTTP/2.0\r\n\r\n",
    ):
        _raw_http(stack.web_url, request.encode())
    paths["web"] = "web server: path, header, malformed request lines"
    return paths


@pytest.fixture(scope="module")
def marked_logs(stack: Stack) -> Dict[str, str]:
    """Every log of the stack after the marker went through every path."""
    marker = f"MERKTEKEN-{uuid.uuid4().hex}"
    _send_marker_everywhere(stack, marker)
    time.sleep(2)  # let the servers finish writing
    logs = {name: path.read_text(encoding="utf-8", errors="replace") for name, path in stack.logs.items()}
    return {name: text.replace(marker, "<<MARKER>>") for name, text in logs.items()}


@pytest.mark.parametrize("log", ["rasa", "actions", "web"])
def test_no_user_text_in_any_log(marked_logs: Dict[str, str], log: str) -> None:
    text = marked_logs[log]
    assert text.strip(), f"{log}: the log is empty, so the scan would prove nothing"
    assert "<<MARKER>>" not in text, [line for line in text.splitlines() if "<<MARKER>>" in line][:3]
    assert "127.0.0.1" not in text.replace("http://127.0.0.1:", "") or log != "web"


@pytest.mark.parametrize(
    "log, event",
    [
        ("rasa", "REST: client vertrok voor het antwoord"),
        ("actions", "onbekende actie of onleesbaar verzoek geweigerd"),
        ("actions", "verzoek mislukt"),
        ("web", "web: 400"),
        ("web", "web: 404"),
    ],
)
def test_the_hostile_paths_reached_the_servers(marked_logs: Dict[str, str], log: str, event: str) -> None:
    """The scan proves something only if the marked requests got there: each path leaves its event line."""
    assert event in marked_logs[log]
