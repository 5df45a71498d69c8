"""Malformed and unexpected requests against the real servers: a Dutch answer every time, never silence or a traceback.

Covers Rasa's own payloads, a socket.io event without data, broken HTTP on Rasa (5005) and the staff console
(8090), and cross-site simple POSTs to REST.
"""
from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml
from rasa.shared.core.constants import DEFAULT_INTENTS

from tests.e2e.socketio_client import SocketIO, run_socketio
from tests.support.bot import Servers, answer_parts
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.console.accounts import Account, write_accounts
from vraagbaak.console.app import ERROR_TEXTS
from vraagbaak.console.password import hash_password
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.ops.processes import console_command, free_port, start_process, stop_processes, wait_for

pytestmark = pytest.mark.servers
KB = knowledge_base()
QUESTION = "Wat vindt Amnesty van pooiers?"
UNREADABLE = KB.message("ongeldig_verzoek")
TECHNICAL = KB.message("technisch_probleem")
DOMAIN_INTENTS = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["intents"]


def new_sender() -> str:
    return f"kapot-{uuid.uuid4().hex[:12]}"


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [str(m["text"]) for m in messages if m.get("text")]


class LogSince:
    """What a log gained from the moment this was made."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, path.stat().st_size

    def text(self) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode("utf-8", "replace")


# --- every payload the domain knows gets a reply of its own ---------------------------------------------------


EXPECTED = {
    "session_start": KB.message("groet"),
    "back": KB.message("onbekende_knop"),
    "out_of_scope": KB.message("buiten_bereik"),
    "restart": KB.message("vergeten"),
    "gesprek_vergeten": KB.message("vergeten"),
}


@pytest.mark.parametrize("intent", DOMAIN_INTENTS + list(DEFAULT_INTENTS))
def test_every_payload_the_domain_knows_gets_a_reply(servers: Servers, intent: str) -> None:
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": f"/{intent}"},
        timeout=60,
    )
    assert response.status_code == 200
    said = texts(response.json())
    assert said and TECHNICAL not in said, said
    assert len(said) == len(set(said)), said  # a fallback loop repeats its reply up to ten times
    if intent in EXPECTED:
        assert said[0] == EXPECTED[intent]


def test_an_intent_without_a_rule_is_answered_once(servers: Servers) -> None:
    """Rasa's rules would repeat the fallback until its circuit breaker stops at ten replies."""
    conversation = conversation_id("rest", new_sender())
    response = requests.post(
        f"{servers.rasa_url}/conversations/{conversation}/trigger_intent",
        params={"token": servers.token, "output_channel": "latest"},
        json={"name": "out_of_scope"},
        timeout=60,
    )
    response.raise_for_status()
    assert [m.get("text") for m in response.json()["messages"]] == [KB.message("onbekende_knop")]


def test_an_unknown_payload_gets_the_unknown_button_reply(servers: Servers) -> None:
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": "/bestaat_echt_niet"},
        timeout=60,
    )
    assert texts(response.json()) == [KB.message("onbekende_knop")]


# --- socket.io events without usable data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "packet",
    [
        '42["user_uttered"]',
        '42["user_uttered",null]',
        '42["user_uttered","tekst"]',
        '42["user_uttered",{},1,2]',
    ],
    ids=["no-data", "null", "text", "extra-arguments"],
)
def test_a_socketio_message_without_data_gets_a_dutch_reply_and_no_traceback(
    servers: Servers, packet: str
) -> None:
    log = LogSince(servers.log_path)

    async def dialogue(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        await sio.ws.send_str(packet)
        return [await sio.bot_messages(first=10), await sio.ask(session, QUESTION)]

    refused, normal = run_socketio(servers.rasa_url, dialogue)
    expected = KB.message("sessie_ongeldig") if packet.endswith("{},1,2]") else UNREADABLE
    assert texts(refused) == [expected]
    assert answer_parts(normal)["topic"] == "pooiers"
    assert "Traceback" not in log.text()


def test_a_session_request_without_data_is_confirmed(servers: Servers) -> None:
    async def dialogue(sio: SocketIO) -> str:
        await sio.ws.send_str('42["session_request"]')
        while True:
            event, data = await sio.next_event(20)
            if event == "session_confirm":
                return str(data)

    assert len(run_socketio(servers.rasa_url, dialogue)) >= 8


# --- broken HTTP --------------------------------------------------------------------------------------------------


def raw_http(url: str, request: bytes, timeout: float = 20) -> bytes:
    """Send bytes as they are and return the whole answer (the server closes after an error)."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.find(b"\r\n\r\n") + 4 + _length(answer):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def status_and_text(answer: bytes) -> tuple:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode("utf-8")


MALFORMED = {
    "target-not-utf-8": b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    "rest-target-not-utf-8": b"POST /webhooks/rest/\xc3(webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    "query-not-utf-8": b"GET /?q=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    "no-request-line": b"ONZIN\r\n\r\n",
    "unknown-version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "header-without-colon": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "length-not-a-number": b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "length-negative": b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
    "lengths-disagree": b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
    b"Content-Length: 3\r\n\r\n{}",
    "bad-chunk": b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_to_rasa_gets_a_dutch_400_and_no_traceback(
    servers: Servers, request_bytes: bytes
) -> None:
    log = LogSince(servers.log_path)
    status, text = status_and_text(raw_http(servers.rasa_url, request_bytes))
    assert status == 400
    assert UNREADABLE in text
    # The server still answers everyone (a negative length used to stop it for good).
    reply = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": QUESTION},
        timeout=30,
    )
    assert answer_parts(reply.json())["topic"] == "pooiers"
    assert "Traceback" not in log.text()


def test_other_rasa_errors_are_dutch_too(servers: Servers) -> None:
    status, text = status_and_text(
        raw_http(servers.rasa_url, b"GET /bestaat-niet HTTP/1.1\r\nHost: x\r\n\r\n")
    )
    assert (status, text) == (404, KB.message("adres_onbekend"))
    status, text = status_and_text(
        raw_http(servers.rasa_url, b"GET /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\n\r\n")
    )
    assert (status, text) == (405, UNREADABLE)


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real staff console in a process of its own, with a password and a workspace of its own."""
    workdir = tmp_path_factory.mktemp("console")
    account = Account("toets", hash_password("een-lang-testwachtwoord"))
    write_accounts({account.key: account}, workdir / "console-accounts")
    port = free_port()
    arguments = ["--accountbestand", str(workdir / "console-accounts"), "--werkmap", str(workdir / "var")]
    arguments += ["--wachtwoordbestand", str(workdir / "wachtwoord")]  # none: nothing to migrate
    arguments += ["--oefenzinnen", str(workdir / "medewerkers.yml"), "--modellen", str(workdir / "modellen")]
    arguments += ["--dekking", str(workdir / "dekking")]
    command = [*console_command(port), *arguments]
    process = start_process(command, workdir / "console.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/static/gezond", process, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_processes([process])


@pytest.mark.parametrize(
    "name",
    ["target-not-utf-8", "query-not-utf-8", "no-request-line", "length-negative", "length-not-a-number"],
)
def test_a_malformed_request_to_the_console_gets_its_dutch_400(console_url: str, name: str) -> None:
    status, text = status_and_text(
        raw_http(console_url, MALFORMED[name].replace(b"/webhooks/rest/webhook", b"/"))
    )
    assert status == 400
    assert ERROR_TEXTS[400] in text
    assert requests.get(f"{console_url}/static/gezond", timeout=30).text == "ok"


# --- REST accepts only JSON: no cross-site simple requests ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_rest_refuses_a_body_that_is_not_declared_json(servers: Servers, content_type: str | None) -> None:
    """A page on another site can send these without a CORS preflight; they must change nothing."""
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "/gesprek_vergeten"})
    headers = {"Origin": "https://andere-site.example"}
    if content_type:
        headers["Content-Type"] = content_type
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook", data=body, headers=headers, timeout=30
    )
    assert response.status_code == 415
    assert texts(response.json()) == [KB.message("alleen_json")]
    tracker = requests.get(
        f"{servers.rasa_url}/conversations/{conversation_id('rest', sender)}/tracker",
        params={"token": servers.token},
        timeout=30,
    ).json()
    assert not [e for e in tracker["events"] if e["event"] == "user"]


def test_rest_accepts_json_with_a_charset(servers: Servers) -> None:
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": new_sender(), "message": QUESTION}).encode(),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
        timeout=30,
    )
    assert response.status_code == 200 and answer_parts(response.json())["topic"] == "pooiers"
