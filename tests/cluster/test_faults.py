"""Fault drills on the real stack under supervisord: poison messages, crashes, hangs, concurrent turns, cleanup.

The tests run in file order on one cluster; the last one kills supervisord itself and stops everything.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import requests

from tests.support.bot import answer_parts
from tests.support.cluster import KEPT_TURNS, ClusterClient, wait_until
from vraagbaak.adapters.conversation_queue import MAX_WAITING
from vraagbaak.bench.hostile_clients import (
    RestReply,
    ask_socket,
    flood_socket,
    new_client,
    open_socket,
    post_rest,
    rest_burst,
)
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.settings import Settings
from vraagbaak.ops.processes import port_is_free
from vraagbaak.ops.supervision import session_members, stop_cluster

pytestmark = pytest.mark.cluster

# The brief's bound for a crashed process to be running again.
RESTART_BOUND = 10.0
# Messages of one sender sent at once in the lock drill: one running and MAX_WAITING waiting per replica.
CONCURRENT = 2 * (1 + MAX_WAITING)
# A bystander's answer during a flood: generous for a busy machine, a fraction of what the floods cost before.
FLOOD_BOUND = 8.0
QUESTION = "Wat vindt Amnesty van pooiers?"
FLOOD_TEXT = f"{QUESTION} (vloed)"


def new_sender() -> str:
    return f"storing-{uuid.uuid4().hex[:10]}"


def replica_pids(cluster: ClusterClient) -> List[int]:
    return [cluster.cluster.pid(f"rasa-{i}") for i in range(len(cluster.spec.rasa_ports))]


def all_replicas_answer(cluster: ClusterClient) -> None:
    for replica in cluster.rasa_urls:
        assert answer_parts(cluster.send(new_sender(), "Wat met de pooiers?", replica))["topic"] == "pooiers"


def unread_bytes(port: int) -> int:
    """Bytes waiting unread in established connections to this loopback port (from /proc/net/tcp)."""
    waiting = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
            waiting += int(fields[4].split(":")[1], 16)
    return waiting


def listener_pids(port: int) -> List[int]:
    """PIDs holding the listening socket of this loopback port (via /proc/net/tcp inodes and /proc/*/fd)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                holders.append(int(fd_dir.parent.name))
        except OSError:
            continue
    return holders


def descends_from(pid: int, ancestor: int) -> bool:
    while pid not in (0, 1):
        if pid == ancestor:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
    return False


# -- poison messages -----------------------------------------------------------------------------------------


def test_60kb_and_1mb_messages_through_nginx_leave_both_replicas_up(cluster: ClusterClient) -> None:
    before = replica_pids(cluster)
    reply = cluster.post(new_sender(), "woord " * 10_000)  # 60 KB: under nginx's limit, bounded by Rasa
    assert reply.status_code == 200
    assert "te lang" in reply.json()[0]["text"]
    try:
        assert cluster.post(new_sender(), "x" * 1_000_000).status_code == 413  # refused by nginx
    except requests.ConnectionError:
        pass  # nginx may close the connection before the whole body was sent: refused there too
    assert replica_pids(cluster) == before
    all_replicas_answer(cluster)


def test_a_message_that_crashed_a_replica_is_not_passed_to_the_other(
    cluster: ClusterClient, kb: KnowledgeBase
) -> None:
    supervisor = cluster.cluster.supervisor
    supervisor.stop("watchdog")  # it would restart the paused replicas on its own
    names = [f"rasa-{i}" for i in range(len(cluster.spec.rasa_ports))]
    pids = [cluster.cluster.kill(name, signal.SIGSTOP) for name in names]
    replies: List[requests.Response] = []
    sender = new_sender()
    poster = threading.Thread(target=lambda: replies.append(cluster.post(sender, "Wat met de pooiers?")))
    try:
        poster.start()
        # The paused replica that received the message has it unread in its socket: crash exactly that one.
        wait_until(
            lambda: any(unread_bytes(p) > 100 for p in cluster.spec.rasa_ports), 10, "bericht niet verstuurd"
        )
        target = next(i for i, port in enumerate(cluster.spec.rasa_ports) if unread_bytes(port) > 100)
        os.kill(pids[target], signal.SIGKILL)
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        supervisor.start("watchdog")
    poster.join(timeout=90)
    # Not retried on the other replica (which would have answered 200): the Dutch 503 instead.
    assert replies and replies[0].status_code == 503
    assert [m["text"] for m in replies[0].json()] == [kb.message("technisch_probleem")]
    access = (cluster.cluster.nginx_prefix / "logs" / "nginx-access.log").read_text().splitlines()
    last_rest = [line for line in access if " POST rest " in line][-1]
    assert ", " not in last_rest.split()[-2], last_rest  # one upstream address: no second attempt
    # The crashed replica is back by itself; the other one never stopped.
    wait_until(
        lambda: cluster.cluster.pid(names[target]) not in (0, pids[target]), RESTART_BOUND, "niet herstart"
    )
    assert cluster.cluster.pid(names[1 - target]) == pids[1 - target]
    cluster.cluster.wait_ready(names[target])
    all_replicas_answer(cluster)


# -- crashes and hangs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["redis", "actions-0", "nginx", "rasa-1"])
def test_a_killed_process_comes_back_by_itself(cluster: ClusterClient, name: str) -> None:
    spec = cluster.spec
    port = {"redis": spec.redis_port, "actions-0": spec.action_ports[0], "nginx": spec.public_port}.get(
        name, spec.rasa_ports[-1]
    )
    killed = cluster.cluster.kill(name, signal.SIGKILL)
    wait_until(
        lambda: cluster.cluster.pid(name) not in (0, killed)
        and cluster.cluster.supervisor.info(name)["statename"] == "RUNNING",
        RESTART_BOUND,
        f"{name} draait niet opnieuw",
    )
    cluster.cluster.wait_ready(name)

    def new_process_listens() -> bool:
        # Not a leftover of the killed one (an nginx worker outlives its master) answering in its place.
        holders, current = listener_pids(port), cluster.cluster.pid(name)
        return bool(holders) and all(descends_from(pid, current) for pid in holders)

    wait_until(new_process_listens, RESTART_BOUND, f"de nieuwe {name} luistert niet op zijn poort")
    assert answer_parts(cluster.send(new_sender(), "Wat met de pooiers?"))["topic"] == "pooiers"


def test_a_hung_replica_is_restarted_by_the_watchdog(cluster: ClusterClient) -> None:
    hung = cluster.cluster.kill("rasa-0", signal.SIGSTOP)  # alive for supervisord, answering nobody
    # About a minute without an answer (watchdog.FAILURES misses), then supervisord starts it again.
    wait_until(
        lambda: cluster.cluster.pid("rasa-0") not in (0, hung), 150, "de watchdog herstartte rasa-0 niet"
    )
    cluster.cluster.wait_ready("rasa-0")
    all_replicas_answer(cluster)


# -- one conversation, many messages at once -----------------------------------------------------------------


def concurrent_round(cluster: ClusterClient, sender: str) -> Tuple[List[int], List[int]]:
    """Eight messages from one sender at once, four to each replica directly (one runs and three wait in each:
    the most a conversation may have in one replica); the HTTP statuses and the lock's remaining lifetimes (ms)
    sampled while they ran."""
    redis = cluster.cluster.redis_client()
    start = threading.Barrier(CONCURRENT)
    statuses: List[int] = []
    lock_ttls: List[int] = []

    def send(index: int) -> None:
        start.wait()
        replica = cluster.rasa_urls[index % 2]
        statuses.append(cluster.post(sender, f"Wat met de pooiers? ({index})", replica).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        lock_ttls += [int(redis.pttl(key)) for key in redis.scan_iter(stored_keys("lock", sender))]
        time.sleep(0.01)
    return statuses, lock_ttls


def stored_keys(kind: str, sender: str) -> str:
    """Redis key pattern of a sender's tracker or lock (the conversation id may carry a channel prefix)."""
    return f"vraagbaak:{kind}:*{sender}"


def test_eight_concurrent_messages_from_one_sender_over_two_replicas_lose_no_turn(
    cluster: ClusterClient,
) -> None:
    redis = cluster.cluster.redis_client()
    for _ in range(5):
        sender = new_sender()
        statuses, lock_ttls = concurrent_round(cluster, sender)
        assert statuses == [200] * CONCURRENT
        [key] = list(redis.scan_iter(stored_keys("tracker", sender)))
        stored = json.loads(redis.get(key))
        assert len([e for e in stored["events"] if e["event"] == "user"]) == CONCURRENT
        # The lock existed while messages waited, always with an expiry (-1 would be a key that never expires),
        # and it is gone afterwards.
        assert any(ttl > 0 for ttl in lock_ttls) and -1 not in lock_ttls
        assert not list(redis.scan_iter(stored_keys("lock", sender)))


# -- hostile clients through nginx: a burst from one conversation never holds up another ---------------------


async def socket_flood_with_bystanders(cluster: ClusterClient, frames: int) -> Dict[str, Any]:
    """One socket.io connection floods through nginx; a widget visitor on the same replica (same route cookie)
    and a back end over REST ask meanwhile. Seconds to each bystander answer, and the flooder's replies."""
    route = {"Cookie": f"vb_route={uuid.uuid4().hex}"}  # nginx hashes it: both sockets on one replica
    rest = {"Authorization": f"Bearer {cluster.rest_token}"}
    async with new_client() as client:
        flooder = await open_socket(client, cluster.public_url, route)
        visitor = await open_socket(client, cluster.public_url, route)
        flood_session, visitor_session = await flooder.session(), await visitor.session()
        await flood_socket(flooder, flood_session, frames, FLOOD_TEXT)
        socket_seconds, rest_seconds = [], []
        for number in range(3):
            seconds, topic = await ask_socket(visitor, visitor_session, QUESTION)
            assert topic == "pooiers"
            socket_seconds.append(seconds)
            reply = await post_rest(
                client, cluster.public_url, f"omstander-{number}-{new_sender()}", QUESTION, rest
            )
            assert reply.status == 200 and reply.topic == "pooiers", (reply.status, reply.texts[:1])
            rest_seconds.append(reply.seconds)
        await flooder.quiet(3.0)
        await flooder.close()
        await visitor.close()
    return {"socket": socket_seconds, "rest": rest_seconds, "flooder": flooder}


@pytest.mark.parametrize("frames", [40, 600])
def test_a_socketio_flood_through_nginx_never_holds_up_a_bystander_on_its_replica(
    cluster: ClusterClient, kb: KnowledgeBase, frames: int
) -> None:
    found = asyncio.run(socket_flood_with_bystanders(cluster, frames))
    assert max(found["socket"]) < FLOOD_BOUND and max(found["rest"]) < FLOOD_BOUND, found
    texts = found["flooder"].bot_texts()
    assert kb.message("technisch_probleem") not in texts
    assert texts.count(kb.message("te_veel_berichten")) == 1
    assert kb.message("een_bericht_tegelijk") in texts
    assert 1 <= len(found["flooder"].topics()) <= Settings.from_env({}).rate_burst


def test_twenty_concurrent_token_rest_messages_through_nginx_never_hold_up_a_bystander(
    cluster: ClusterClient, kb: KnowledgeBase
) -> None:
    sender, rest = new_sender(), {"Authorization": f"Bearer {cluster.rest_token}"}
    texts = [f"{FLOOD_TEXT} {n}" for n in range(20)]

    async def burst_and_bystander() -> Tuple[List[RestReply], List[RestReply]]:
        async with new_client() as client:
            burst = asyncio.ensure_future(rest_burst(client, cluster.public_url, sender, texts, rest))
            await asyncio.sleep(0.05)
            bystander = [
                await post_rest(client, cluster.public_url, new_sender(), QUESTION, rest) for _ in range(3)
            ]
            return await burst, bystander

    replies, bystander = asyncio.run(burst_and_bystander())
    assert [(r.status, r.topic) for r in bystander] == [(200, "pooiers")] * 3
    assert max(r.seconds for r in bystander) < FLOOD_BOUND, [r.seconds for r in bystander]
    # nginx spread the burst over both replicas; in each, one message of the conversation ran at a time (the
    # Redis lock between them), a few waited, and the rest heard "one at a time" at once.
    assert [r.status for r in replies] == [200] * 20
    answered = [text for text, r in zip(texts, replies, strict=True) if r.topic == "pooiers"]
    refused = [r for r in replies if r.texts == [kb.message("een_bericht_tegelijk")]]
    assert answered and refused and len(answered) + len(refused) == 20
    redis = cluster.cluster.redis_client()
    [key] = list(redis.scan_iter(stored_keys("tracker", sender)))
    stored = [e["text"] for e in json.loads(redis.get(key))["events"] if e["event"] == "user"]
    # No answered turn lost or overwritten (the store keeps the last KEPT_TURNS), and no refused one stored.
    assert set(stored) <= set(answered) and len(stored) == min(len(answered), KEPT_TURNS)
    assert not list(redis.scan_iter(stored_keys("lock", sender)))


# -- last: supervisord itself dies, cluster-down still stops everything --------------------------------------


def test_cluster_down_stops_everything_even_after_supervisord_died(cluster: ClusterClient) -> None:
    workdir = cluster.cluster.workdir
    session = int((workdir / "pids" / "supervisor.pid").read_text())
    members = session_members(session)
    assert len(members) >= 8  # supervisord, watchdog, Redis, nginx (+ worker), 2 action servers, 2 replicas
    os.kill(session, signal.SIGKILL)
    wait_until(lambda: session not in session_members(session), 10, "supervisord leeft nog")
    orphans = session_members(session)
    assert orphans  # its programs live on without it
    stopped = stop_cluster(workdir)
    assert set(orphans) <= set(stopped)
    assert session_members(session) == []
    assert all(port_is_free(port) for port in cluster.cluster.ports())
    with pytest.raises(requests.ConnectionError):
        requests.get(cluster.public_url, timeout=2)
