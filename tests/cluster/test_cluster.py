"""The production stack on loopback: shared context via Redis, load, failures, expiry and security.

The tests run in file order on one cluster; the last one kills a Rasa replica for good.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import requests

from tests.e2e.log_scan import FORGED, log_findings, secrets_on_command_lines
from tests.e2e.socketio_client import (
    Overheard,
    SocketIO,
    forged_proposals,
    open_socketio,
    run_in_thread,
    run_socketio,
    second_connection,
    session_of,
)
from tests.support.bot import answer_parts, ask_until_clarified
from tests.support.cluster import OTHER_SITE, RECORD_EXP, ClusterClient, wait_until
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.bench.cluster import question_for, run_load, topic_of
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.ops.supervision import session_members
from vraagbaak.ops.watchdog import compact_aof

pytestmark = pytest.mark.cluster


def new_sender() -> str:
    return f"cluster-{uuid.uuid4().hex[:10]}"


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


# -- context shared between replicas -------------------------------------------------------------------------


def test_conversation_keeps_its_context_across_alternating_replicas(
    cluster: ClusterClient, kb: KnowledgeBase
) -> None:
    sender = new_sender()
    replicas = cluster.rasa_urls
    turn = 0

    def send_alternating(text: str) -> List[Dict[str, Any]]:
        nonlocal turn
        turn += 1
        return cluster.send(sender, text, replicas[(turn - 1) % 2])

    _, buttons = ask_until_clarified(send_alternating, kb)
    # The clarification was offered by one replica; the choice by number goes to the other one.
    chosen = kb.by_intent(buttons[0]["payload"].lstrip("/"))
    assert chosen is not None
    reply = answer_parts(cluster.send(sender, "1", replicas[turn % 2]))
    turn += 1
    assert reply["topic"] == chosen.id
    assert reply["text"] == chosen.answer_text
    # And the related question by number, on the first replica again.
    related = kb.by_id(chosen.related[1])
    reply = answer_parts(cluster.send(sender, "2", replicas[turn % 2]))
    assert reply["topic"] == related.id and reply["text"] == related.answer_text


def test_forget_deletes_the_conversation_from_redis(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    sender = new_sender()
    secret = f"geheim{uuid.uuid4().hex[:8]}"
    cluster.send(sender, f"{secret} wat met de pooiers", cluster.rasa_urls[0])
    redis = cluster.cluster.redis_client()
    key = f"vraagbaak:tracker:{conversation_id('rest', sender)}"
    assert secret in redis.get(key)
    messages = cluster.send(sender, "vergeet dit gesprek", cluster.rasa_urls[1])
    assert messages[0]["text"] == kb.message("vergeten")
    stored = redis.get(key)
    assert secret not in stored
    assert not [e for e in json.loads(stored)["events"] if e["event"] == "user"]
    assert 0 < redis.ttl(key) <= RECORD_EXP


def test_forgotten_text_leaves_the_append_only_file(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    """Redis rewrites the file only when it doubled; the watchdog's regular rewrite takes forgotten text off disk."""
    data_dir = cluster.cluster.workdir / "redis"

    def on_disk(marker: str) -> bool:
        return any(marker.encode() in path.read_bytes() for path in data_dir.rglob("*") if path.is_file())

    sender = new_sender()
    secret = f"geheim{uuid.uuid4().hex[:8]}"
    cluster.send(sender, f"{secret} wat met de pooiers", cluster.rasa_urls[0])
    # Written once a second (appendfsync everysec): the check below can fail.
    wait_until(lambda: on_disk(secret), 10, "het bericht staat niet in het append-only-bestand")
    cluster.send(sender, "vergeet dit gesprek", cluster.rasa_urls[1])
    assert on_disk(secret), "before the rewrite the old file still holds it"
    redis = cluster.cluster.redis_client()
    wait_until(lambda: compact_aof(cluster.cluster.config_dir / "redis.conf"), 30, "geen herschrijving")
    wait_until(
        lambda: not int(redis.info("persistence")["aof_rewrite_in_progress"]) and not on_disk(secret),
        30,
        "vergeten tekst staat nog op schijf",
    )


async def socketio_conversation(url: str, transport: str, questions: List[Tuple[str, str]]) -> List[str]:
    """Talk to the bot over socket.io like the widget does; returns every bot text and checks stickiness."""
    import socketio  # python-socketio, installed with Rasa

    client = socketio.AsyncClient(reconnection=False)
    received: List[str] = []
    arrived = asyncio.Event()
    ready = asyncio.Event()
    tokens: List[str] = []

    async def on_confirm(token: str) -> None:
        tokens.append(token)  # the session the server issued: every message names it
        ready.set()

    async def on_bot(data: Dict[str, Any]) -> None:
        received.append(str(data.get("text", "")))
        arrived.set()

    client.on("session_confirm", on_confirm)
    client.on("bot_uttered", on_bot)
    await client.connect(url, transports=[transport], socketio_path="socket.io", wait_timeout=20)
    try:
        await client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(ready.wait(), 20)
        for question, first_paragraph in questions:
            await client.emit("user_uttered", {"message": question, "session_id": tokens[-1]})
            while first_paragraph not in received:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 60)
        assert client.connected
        if transport == "polling":
            assert any(cookie.key == "vb_route" for cookie in client.eio.http.cookie_jar)
    finally:
        await client.disconnect()
    return received


async def raw_websocket_conversation(url: str, questions: List[Tuple[str, str]]) -> List[str]:
    """Engine.IO 4 over one websocket, packet by packet, as web/vraagbaak-widget.js does it."""
    import aiohttp

    received: List[str] = []
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", timeout=20) as ws:

            async def next_event(name: str) -> Any:
                while True:
                    packet = await asyncio.wait_for(ws.receive_str(), 60)
                    if packet == "2":  # ping
                        await ws.send_str("3")
                    elif packet.startswith("42"):
                        event = json.loads(packet[2:])
                        if event[0] == name:
                            return event[1]

            assert (await ws.receive_str()).startswith("0")  # Engine.IO open
            await ws.send_str("40")
            assert (await asyncio.wait_for(ws.receive_str(), 20)).startswith("40")
            await ws.send_str("42" + json.dumps(["session_request", {"session_id": None}]))
            token = await next_event("session_confirm")
            for question, first_paragraph in questions:
                await ws.send_str(
                    "42" + json.dumps(["user_uttered", {"message": question, "session_id": token}])
                )
                while first_paragraph not in received:
                    received.append(str((await next_event("bot_uttered")).get("text", "")))
    return received


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_socketio_through_nginx_stays_on_one_replica(
    cluster: ClusterClient, kb: KnowledgeBase, transport: str
) -> None:
    # Long-polling sends every packet as a new HTTP request: without affinity half of them would reach a
    # replica that does not know the socket, and the connection would break. The widget uses a websocket.
    questions: List[Tuple[str, str]] = []
    for topic_id in ("pooiers", "belgie", "mensenhandel"):
        questions.append((question_for(kb, topic_id), kb.by_id(topic_id).answer_text.split("\n\n")[0]))
    if transport == "polling":
        received = asyncio.run(socketio_conversation(cluster.public_url, "polling", questions))
    else:
        received = asyncio.run(raw_websocket_conversation(cluster.public_url, questions))
    assert all(paragraph in received for _, paragraph in questions)


def test_socketio_takeover_fails_through_nginx_and_the_token_holds_on_every_replica(
    cluster: ClusterClient, kb: KnowledgeBase
) -> None:
    """The takeover test of tests/e2e/test_socketio_sessions.py through nginx; then the victim's real token
    directly on each replica (a reconnect may reach either): both replicas sign with the one key file."""
    marker = f"overname{uuid.uuid4().hex[:8]}"
    question = "Wat vindt Amnesty van pooiers?"

    async def main() -> Tuple[
        str, Dict[str, Overheard], List[str], List[Dict[str, Any]], List[Dict[str, Any]]
    ]:
        async with open_socketio(cluster.public_url) as victim:
            token = await victim.session()
            await victim.ask(token, "welke vragen kan ik stellen")
            async with open_socketio(cluster.public_url) as attacker:
                attacker_token = await attacker.session()
            results = {}
            for name, proposal in forged_proposals(token, attacker_token).items():
                results[name] = await second_connection(
                    cluster.public_url, victim, token, proposal, marker, question
                )
            picked = await victim.ask(token, "2")
            resumed = []
            for url in cluster.rasa_urls:
                async with open_socketio(url) as tab:
                    resumed.append(await tab.session(token))
            async with open_socketio(cluster.rasa_urls[1]) as tab:
                picked_elsewhere = await tab.ask(await tab.session(token), "2")
            return token, results, resumed, picked, picked_elsewhere

    token, results, resumed, picked, picked_elsewhere = run_in_thread(main, timeout=400)
    related = kb.by_id("pooiers").related[1]
    for name, seen in results.items():
        assert session_of(seen.confirmed) != session_of(token), name
        assert answer_parts(seen.two)["topic"] is None, name
        assert texts(seen.claimed) == [kb.message("sessie_ongeldig")], name
        assert answer_parts(seen.victim_got)["topic"] == "pooiers", name
        assert seen.heard == [], name
    # The victim's "2" still picks from the victim's own list.
    assert answer_parts(picked)["topic"] == related
    assert resumed == [token, token]
    # The real token goes on with the victim's list on the other replica: the harness above can fail.
    assert answer_parts(picked_elsewhere)["topic"] == kb.by_id(related).related[1]
    key = f"vraagbaak:tracker:{conversation_id('socketio', session_of(token))}"
    stored = cluster.cluster.redis_client().get(key)
    assert stored and marker not in stored
    assert cluster.spec.socketio_key_file.stat().st_mode & 0o777 == 0o600


# -- load ----------------------------------------------------------------------------------------------------


def test_fifty_users_twenty_messages_through_nginx(cluster: ClusterClient) -> None:
    result = run_load(cluster.public_url, cluster.rest_token, users=50, messages=20)
    assert result.errors == []
    assert result.unanswered == 0
    assert len(result.latencies) == 1000
    # Both replicas did part of the work (round robin).
    access = (cluster.cluster.nginx_prefix / "logs" / "nginx-access.log").read_text()
    for port in cluster.spec.rasa_ports:
        assert f"127.0.0.1:{port}" in access


@pytest.fixture(scope="module")
def direct_rasa(cluster: ClusterClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One more replica as the containers start it (`python -m vraagbaak.ops.production rasa`): HTTP API on with a
    JWT secret, and calling action server 0 directly, without the gateway, so only Rasa's own safety net
    (the `action_failure` patch) stands between a failing action server and silence."""
    from vraagbaak.ops.processes import free_port, port_is_free, stop_processes, wait_for

    port, secret = free_port(), uuid.uuid4().hex
    env = {
        **os.environ,
        **cluster.spec.settings_env(rasa_port=port),
        **cluster.spec.env,
        "VRAAGBAAK_ENABLE_API": "true",
        "VRAAGBAAK_JWT_SECRET": secret,
        "VRAAGBAAK_ACTION_URL": f"{cluster.spec.action_urls[0]}/webhook",
    }
    assert port_is_free(port)
    log = tmp_path_factory.mktemp("api") / "rasa.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vraagbaak.ops.production", "rasa"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/", process, timeout=300)
        yield f"http://127.0.0.1:{port}", secret
    finally:
        stop_processes([process])


def jwt_header(secret: str, username: str, role: str = "user") -> Dict[str, str]:
    import jwt

    token = jwt.encode({"user": {"username": username, "role": role}}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


# -- failures ------------------------------------------------------------------------------------------------


def test_action_servers_down_gives_the_dutch_technical_problem_reply(
    cluster: ClusterClient, kb: KnowledgeBase, direct_rasa: Any
) -> None:
    names = [f"actions-{i}" for i in range(len(cluster.spec.action_ports))]
    for name in names:
        cluster.cluster.stop_process(name)  # kept down (a crash would be restarted at once)
    sender, direct_sender = new_sender(), new_sender()
    try:
        messages = cluster.send(sender, "Wat met de pooiers?")
        assert texts(messages) == [kb.message("technisch_probleem")]
        # Without the gateway, Rasa's own safety net gives the same answer.
        messages = cluster.send(direct_sender, "Wat met de pooiers?", base_url=direct_rasa[0])
        assert texts(messages) == [kb.message("technisch_probleem")]
    finally:
        for name in names:
            cluster.cluster.restart(name)
    assert answer_parts(cluster.send(sender, "Wat met de pooiers?"))["topic"] == "pooiers"
    reply = answer_parts(cluster.send(direct_sender, "Wat met de pooiers?", base_url=direct_rasa[0]))
    assert reply["topic"] == "pooiers"


def test_slow_action_servers_give_the_technical_problem_reply(
    cluster: ClusterClient, kb: KnowledgeBase
) -> None:
    names = [f"actions-{i}" for i in range(len(cluster.spec.action_ports))]
    pids = [cluster.cluster.kill(name, signal.SIGSTOP) for name in names]  # accepting, never answering
    try:
        sender = new_sender()
        assert texts(cluster.send(sender, "Wat met de pooiers?")) == [kb.message("technisch_probleem")]
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # the watchdog may have replaced it already
                os.kill(pid, signal.SIGCONT)
    for name in names:
        cluster.cluster.wait_ready(name)
    assert answer_parts(cluster.send(sender, "Wat met de pooiers?"))["topic"] == "pooiers"


def test_redis_restart_then_the_conversation_goes_on(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    sender = new_sender()
    assert answer_parts(cluster.send(sender, "Wat met de pooiers?"))["topic"] == "pooiers"
    replicas = [cluster.cluster.pid(f"rasa-{i}") for i in range(len(cluster.rasa_urls))]
    cluster.cluster.stop_process("redis")
    try:
        # While Redis is away the user is told so in Dutch, never left without an answer.
        for _ in range(4):  # more than max_fails per replica: nginx must not take them out of service
            response = cluster.post(new_sender(), "Wat met de pooiers?")
            assert response.status_code == 503
            assert texts(response.json()) == [kb.message("technisch_probleem")]
    finally:
        cluster.cluster.start_process("redis")
        cluster.cluster.wait_ready("redis")
    # The conversation was kept in the append-only file: "1" still picks from the list offered before.
    first_related = kb.by_id("pooiers").related[0]
    assert answer_parts(cluster.send(sender, "1"))["topic"] == first_related
    # And the replicas take every request at once: none was marked failed for its Redis 503s.
    for _ in range(30):
        assert answer_parts(cluster.send(new_sender(), "Wat met de pooiers?"))["topic"] == "pooiers"
    # Redis's outage was not the replicas' fault: nothing restarted them.
    assert [cluster.cluster.pid(f"rasa-{i}") for i in range(len(cluster.rasa_urls))] == replicas


def test_conversation_expires_after_record_exp(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    sender = new_sender()
    redis = cluster.cluster.redis_client()
    key = f"vraagbaak:tracker:{conversation_id('rest', sender)}"
    cluster.send(sender, "Wat met de pooiers?")
    assert 0 < redis.ttl(key) <= RECORD_EXP
    wait_until(lambda: not redis.exists(key), RECORD_EXP + 15, "het gesprek is niet verlopen")
    # The offered related questions are forgotten too: "1" no longer points at anything.
    messages = cluster.send(sender, "1")
    assert texts(messages)[0] == kb.message("onbekende_keuze")


# -- security ------------------------------------------------------------------------------------------------


def test_rest_channel_needs_the_token(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    url = f"{cluster.public_url}/webhooks/rest/webhook"
    body = {"sender": new_sender(), "message": "Wat met de pooiers?"}
    for headers in ({}, {"Authorization": "Bearer fout"}, {"Authorization": f"Basic {cluster.rest_token}"}):
        response = requests.post(url, json=body, headers=headers, timeout=30)
        assert response.status_code == 401
        assert topic_of(response.json()) is None
    # Directly at a replica too: nginx is not the only lock.
    assert (
        requests.post(f"{cluster.rasa_urls[0]}/webhooks/rest/webhook", json=body, timeout=30).status_code
        == 401
    )


def test_rasa_api_is_closed_by_default(cluster: ClusterClient) -> None:
    sender = new_sender()
    cluster.send(sender, "Wat met de pooiers?")
    for base in [cluster.public_url, *cluster.rasa_urls]:
        for path in (f"/conversations/{sender}/tracker", "/status", "/version", "/model/parse", "/domain"):
            response = requests.get(f"{base}{path}", timeout=10)
            assert response.status_code == 404, (base, path, response.status_code)


def test_disallowed_origin_is_rejected(cluster: ClusterClient) -> None:
    url = f"{cluster.public_url}/webhooks/rest/webhook"
    body = {"sender": new_sender(), "message": "hoi"}
    auth = {"Authorization": f"Bearer {cluster.rest_token}"}
    evil = requests.post(
        url, json=body, headers={**auth, "Origin": "https://kwaadaardig.example"}, timeout=30
    )
    assert evil.status_code == 403
    socket_evil = requests.get(
        f"{cluster.public_url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://kwaadaardig.example"},
        timeout=10,
    )
    assert socket_evil.status_code == 403
    for origin in (cluster.public_url, OTHER_SITE):
        good = requests.post(url, json=body, headers={**auth, "Origin": origin}, timeout=30)
        assert good.status_code == 200
        assert good.headers.get("Access-Control-Allow-Origin") == origin
    # Rasa itself names only configured origins, also when reached without nginx.
    direct = requests.post(
        f"{cluster.rasa_urls[0]}/webhooks/rest/webhook",
        json=body,
        headers={**auth, "Origin": "https://kwaadaardig.example"},
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in direct.headers
    # And a replica's socket.io refuses a wrong website itself, behind nginx's back too.
    handshake = f"{cluster.rasa_urls[0]}/socket.io/?EIO=4&transport=polling"
    assert (
        requests.get(handshake, headers={"Origin": "https://kwaadaardig.example"}, timeout=10).status_code
        == 403
    )
    assert requests.get(handshake, headers={"Origin": OTHER_SITE}, timeout=10).status_code == 200


def listening_addresses(port: int) -> List[str]:
    """Local IPv4 addresses with a listening socket on this port (from /proc/net/tcp)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            found.append(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_action_servers_are_internal_only(cluster: ClusterClient) -> None:
    for path in ("/webhook", "/health", "/actions", "/webhooks/../webhook", "/%2e%2e/webhook"):
        for method in (requests.get, requests.post):
            response = method(f"{cluster.public_url}{path}", json={}, timeout=10)
            assert response.status_code in (400, 403, 404), (path, response.status_code)
            assert "actions" not in response.text
    for port in [*cluster.spec.action_ports, cluster.spec.gateway_port, cluster.spec.redis_port]:
        assert listening_addresses(port) == ["127.0.0.1"], port


def test_no_user_text_in_any_log(cluster: ClusterClient) -> None:
    """The marker goes through every public path of the stack; no log of any process holds it afterwards."""
    marker = f"uniekezin{uuid.uuid4().hex}"
    cluster.send(new_sender(), f"{marker} wat met de pooiers")
    cluster.send(f"{marker}-afzender", "hallo")
    for message in (marker * 2000, marker * 30_000, f"/ik word bedreigd {marker}", f"/{marker}"):
        cluster.post(new_sender(), message)  # 60 KB is answered "te lang", 1 MB gets nginx's 413
    surrogate = json.dumps({"sender": new_sender(), "message": f"X {marker}"}).replace("X", "\\ud800")
    headers = {"Authorization": f"Bearer {cluster.rest_token}", "Content-Type": "application/json"}
    for body in (surrogate, f'{{"message": "{marker}"}}', f"{{{marker}"):
        requests.post(f"{cluster.public_url}/webhooks/rest/webhook", data=body, headers=headers, timeout=60)
    requests.post(
        f"{cluster.public_url}/webhooks/rest/webhook", json={"sender": "x", "message": marker}, timeout=30
    )
    requests.get(f"{cluster.public_url}/{marker}?q={marker}", timeout=30)

    async def dialogue(sio: SocketIO) -> None:
        session = await sio.session()
        await sio.ask(session, f"{marker} wat met de pooiers")
        await sio.emit("user_uttered", {"message": marker, "session_id": f"{marker}x"})
        await sio.bot_messages(first=10)

    run_socketio(cluster.public_url, dialogue)
    time.sleep(2)
    logs = [*cluster.cluster.logs.glob("*.log"), *(cluster.cluster.nginx_prefix / "logs").glob("*.log")]
    assert len(logs) >= 5 and any(log.stat().st_size for log in logs)
    for log in logs:
        assert marker not in log.read_text(encoding="utf-8", errors="replace"), log.name


def test_no_identifier_in_any_log(cluster: ClusterClient, kb: KnowledgeBase) -> None:
    """Marked ids as REST senders (a name and phone number, a newline, 1 MB), a socket.io session id and in
    metadata, with the payload that tripped Rasa's circuit breaker: in no log, no line too long or forged."""
    markers = {kind: f"MERK{kind}{uuid.uuid4().hex[:16]}" for kind in ("rest", "nl", "large", "meta", "sess")}
    # A name and a phone number in an id the channels accept; ids they refuse (a newline, 1 MB) get a Dutch
    # 400 or 413, and must not reach the log either.
    person = f"Jan_Jansen_0612345678_{markers['rest']}"
    assert texts(cluster.send(person, "/out_of_scope")) == [kb.message("buiten_bereik")]
    cluster.send(person, "Wat met de pooiers?")
    refused = cluster.post(f"{markers['nl']}\n{FORGED} - deze regel schreef de bezoeker", "hallo")
    assert refused.status_code == 400
    # nginx refuses bodies over 64 KB, so the 1 MB sender goes to a replica directly.
    large = markers["large"] * (1024 * 1024 // len(markers["large"]) + 1)
    assert cluster.post(large, "hallo", cluster.rasa_urls[0]).status_code == 413
    response = requests.post(
        f"{cluster.public_url}/webhooks/rest/webhook",
        json={"sender": new_sender(), "message": "hallo", "metadata": {"naam": markers["meta"]}},
        headers={"Authorization": f"Bearer {cluster.rest_token}"},
        timeout=60,
    )
    assert response.status_code == 200

    async def dialogue(sio: SocketIO) -> List[Dict[str, Any]]:
        session = await sio.session(markers["sess"])
        await sio.ask(session, "Wat met de pooiers?")
        return await sio.ask(session, "/out_of_scope")

    assert texts(run_socketio(cluster.public_url, dialogue)) == [kb.message("buiten_bereik")]
    time.sleep(2)
    logs = [*cluster.cluster.logs.glob("*.log"), *(cluster.cluster.nginx_prefix / "logs").glob("*.log")]
    assert any(log.name.startswith("rasa-") and log.stat().st_size for log in logs)
    assert log_findings(logs, markers.values()) == []


def test_no_secret_on_any_command_line(cluster: ClusterClient, direct_rasa: Any) -> None:
    """Any local user can read /proc/*/cmdline: the Redis password, the REST token and the JWT secret of the
    replica with the API on are in no process's command line."""
    _, jwt_secret = direct_rasa
    session = int((cluster.cluster.pids / "supervisor.pid").read_text(encoding="utf-8").split()[0])
    assert len(session_members(session)) >= 7  # supervisord, Redis, nginx, 2 Rasa, 2 action servers, watchdog
    assert secrets_on_command_lines([cluster.spec.redis_password, cluster.rest_token, jwt_secret]) == []


def test_api_needs_a_valid_jwt_and_shows_only_your_own_tracker(
    cluster: ClusterClient, direct_rasa: Any
) -> None:
    url, secret = direct_rasa
    sender = new_sender()
    cluster.send(sender, "Wat met de pooiers?")
    alice, bob = conversation_id("rest", sender), conversation_id("rest", new_sender())
    tracker = f"{url}/conversations/{alice}/tracker"
    assert requests.get(tracker, timeout=10).status_code == 401
    assert requests.get(f"{url}/status", timeout=10).status_code == 401
    assert (
        requests.get(
            tracker, headers=jwt_header("een-ander-geheim-" + uuid.uuid4().hex, alice), timeout=10
        ).status_code
        == 401
    )
    assert requests.get(tracker, headers=jwt_header(secret, bob), timeout=10).status_code == 403
    own = requests.get(tracker, headers=jwt_header(secret, alice), timeout=10)
    assert own.status_code == 200 and own.json()["sender_id"] == alice
    # Writing into someone else's conversation through the API is refused as well.
    event = {"event": "user", "text": "ingebroken"}
    append = requests.post(
        f"{url}/conversations/{alice}/tracker/events", json=event, headers=jwt_header(secret, bob), timeout=10
    )
    assert append.status_code == 403


def test_api_without_jwt_secret_refuses_to_start() -> None:
    env = {
        **os.environ,
        "VRAAGBAAK_ENV": "production",
        "VRAAGBAAK_ENABLE_API": "true",
        "VRAAGBAAK_JWT_SECRET": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "vraagbaak.ops.production", "rasa"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "VRAAGBAAK_JWT_SECRET" in result.stderr


# -- last: a replica dies for good under load ----------------------------------------------------------------


def test_killing_a_rasa_replica_mid_load_every_user_still_gets_answers(cluster: ClusterClient) -> None:
    killed: List[int] = []

    def kill_after_some_replies(count: int) -> None:
        if count >= 60 and not killed:
            killed.append(cluster.cluster.kill("rasa-1", signal.SIGKILL))

    users = 20
    result = run_load(
        cluster.public_url, cluster.rest_token, users=users, messages=10, on_reply=kill_after_some_replies
    )
    assert killed
    assert len(result.latencies) == 200
    assert result.unanswered == 0
    # Only the messages the killed replica was working on failed, each with the Dutch 503 (nginx does not pass a
    # sent message on); at most one per user, plus that user's next "1" if the lost turn held its question.
    assert all("HTTP 503" in error or "in plaats van" in error for error in result.errors), result.errors
    assert len([e for e in result.errors if "HTTP 503" in e]) <= users
    # supervisord started the replica again by itself.
    assert cluster.cluster.pid("rasa-1") not in (0, killed[0])
