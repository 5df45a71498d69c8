"""socket.io sessions the server issues and signs, and sockets only from the listed websites.

Real Rasa and action servers, started for this module with one listed website (the way `make run` passes
VRAAGBAAK_CORS to Rasa). A victim talks on one connection while second connections propose the victim's
session in every form but the token itself; none of them may hear the victim's replies or pick from the
victim's list. The same harness, given the real token, does hear and pick: it can fail.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import aiohttp
import pytest
import requests

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
from tests.support.bot import MODEL, answer_parts
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.adapters.channels.socketio import WRONG_WEBSITE
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.session_tokens import TOKEN, signature
from vraagbaak.core.settings import Settings
from vraagbaak.ops.launcher import serve_commands
from vraagbaak.ops.processes import running_servers

pytestmark = pytest.mark.servers
KB = knowledge_base()
SITE = "https://www.voorbeeld.be"
OTHER_SITE = "https://kwaadaardig.example"
MENU = "welke vragen kan ik stellen"
QUESTION = "Wat vindt Amnesty van pooiers?"


@dataclass
class Bot:
    rasa_url: str
    token: str
    log: Path

    def tracker_text(self, session_token: str) -> str:
        conversation = conversation_id("socketio", session_of(session_token))
        response = requests.get(
            f"{self.rasa_url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=10
        )
        response.raise_for_status()
        return response.text


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    workdir = tmp_path_factory.mktemp("sessions")
    # The list exactly as `make run` builds it from VRAAGBAAK_CORS; Rasa's last --cors wins.
    rasa = serve_commands(str(MODEL), Settings.from_env({"VRAAGBAAK_CORS": SITE}), "c.yml", "t").rasa
    cors = rasa[rasa.index("--cors") : rasa.index("--enable-api")]
    assert cors == ["--cors", SITE]
    env = {"VRAAGBAAK_SOCKETIO_KEY_FILE": str(workdir / "socketio.key")}
    with running_servers(MODEL, workdir, cors, extra_env=env) as running:
        yield Bot(running.rasa_url, running.token, running.rasa_log)


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [str(m["text"]) for m in messages if m.get("text")]


def topic_of(messages: List[Dict[str, Any]]) -> str | None:
    return answer_parts(messages)["topic"]


def test_a_second_connection_cannot_take_over_a_session(bot: Bot, kb: KnowledgeBase) -> None:
    marker = f"overname{uuid.uuid4().hex[:8]}"

    async def main() -> Tuple[str, List[Dict[str, Any]], Dict[str, Overheard], List[Dict[str, Any]], str]:
        async with open_socketio(bot.rasa_url) as control:
            fresh_two = await control.ask(await control.session(), "2")  # what "2" gets without a list
        async with open_socketio(bot.rasa_url) as victim:
            token = await victim.session()
            menu = await victim.ask(token, MENU)
            async with open_socketio(bot.rasa_url) as attacker:
                attacker_token = await attacker.session()
            results = {}
            for name, proposal in forged_proposals(token, attacker_token).items():
                results[name] = await second_connection(
                    bot.rasa_url, victim, token, proposal, marker, QUESTION
                )
            picked = await victim.ask(token, "2")
            return token, menu, results, picked, json.dumps(fresh_two)

    token, menu, results, picked, fresh_two = run_in_thread(main, timeout=300)
    assert menu[-1].get("quick_replies") or menu[-1].get("buttons"), "the victim has a list to pick from"
    pooiers = kb.by_id("pooiers")
    for name, seen in results.items():
        assert seen.confirmed != token and session_of(seen.confirmed) != session_of(token), name
        assert TOKEN.fullmatch(seen.confirmed), name
        # Its "2" is answered in its own new session, exactly like anyone's "2" without a list.
        assert json.dumps(seen.two) == fresh_two, name
        assert topic_of(seen.two) is None, name
        assert texts(seen.claimed) == [kb.message("sessie_ongeldig")], name
        # The victim was answered while the second connection listened; it heard none of it.
        assert topic_of(seen.victim_got) == "pooiers", name
        assert seen.heard == [], name
    # The victim's own "2" still picks from the victim's own last list.
    assert topic_of(picked) == pooiers.related[1]
    assert marker not in bot.tracker_text(token), "nothing was written into the victim's conversation"


def test_the_same_harness_with_the_real_token_does_resume(bot: Bot, kb: KnowledgeBase) -> None:
    """The check above can fail: a connection given the victim's real token (a reload of the same tab) hears
    the victim's replies and its "2" picks from the victim's list."""

    async def main() -> Tuple[str, Overheard, List[Dict[str, Any]]]:
        async with open_socketio(bot.rasa_url) as victim:
            token = await victim.session()
            await victim.ask(token, MENU)
            async with open_socketio(bot.rasa_url) as tab:
                resumed = await tab.session(token)
                two = await tab.ask(resumed, "2")
                victim_got = await victim.ask(token, QUESTION)
                heard = await tab.bot_messages(quiet=1.0, first=2.0)
                return token, Overheard(resumed, two, [], heard, victim_got), await tab.ask(token, "2")

    token, seen, second_two = run_in_thread(main, timeout=180)
    assert seen.confirmed == token
    assert topic_of(seen.two) == kb.topics[1].id  # the second question of the victim's menu
    assert topic_of(seen.heard) == "pooiers"
    assert topic_of(second_two) == kb.by_id("pooiers").related[1]


def test_a_forged_token_cannot_make_the_bot_forget_someone_else(bot: Bot) -> None:
    secret = f"hallo geheim-{uuid.uuid4().hex[:8]}"

    async def visitor(sio: SocketIO) -> str:
        token = await sio.session()
        assert await sio.ask(token, secret)
        return token

    token = run_socketio(bot.rasa_url, visitor)
    url = f"{bot.rasa_url}/webhooks/socketio/forget"
    beacon = {"Content-Type": "text/plain", "Origin": SITE}
    session = session_of(token)
    for sender in (session, f"{session}.{'A' * 43}", f"{session}.{signature(b'x' * 32, session)}"):
        body = json.dumps({"sender": sender, "message": "/gesprek_vergeten"})
        assert requests.post(url, data=body, headers=beacon, timeout=30).status_code == 400
    forget = json.dumps({"sender": token, "message": "/gesprek_vergeten"})
    refused = requests.post(url, data=forget, headers={**beacon, "Origin": OTHER_SITE}, timeout=30)
    assert refused.status_code == 403 and refused.text == WRONG_WEBSITE
    assert secret in bot.tracker_text(token), "nothing above reached the conversation"
    assert requests.post(url, data=forget, headers=beacon, timeout=60).status_code == 204
    assert secret not in bot.tracker_text(token)


# --- Origin -------------------------------------------------------------------------------------------------


def handshake_status(rasa_url: str, origin: str) -> Tuple[int, str]:
    """The answer to a websocket handshake from a page of this origin."""

    async def main() -> Tuple[int, str]:
        url = rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        async with aiohttp.ClientSession() as client:
            try:
                async with client.ws_connect(url, headers={"Origin": origin}, timeout=20):
                    return 101, ""
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status, refused.message

    return run_in_thread(main, timeout=60)


@pytest.mark.parametrize(
    "origin", [OTHER_SITE, f"{SITE}.{OTHER_SITE[8:]}", "http://www.voorbeeld.be", "null"]
)
def test_a_wrong_website_is_refused_on_every_transport(bot: Bot, origin: str) -> None:
    status, _ = handshake_status(bot.rasa_url, origin)
    assert status == 403
    polling = requests.get(
        f"{bot.rasa_url}/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}, timeout=10
    )
    assert polling.status_code == 403 and polling.text == WRONG_WEBSITE
    assert "Access-Control-Allow-Origin" not in polling.headers


def test_the_listed_website_connects_and_is_answered(bot: Bot) -> None:
    assert handshake_status(bot.rasa_url, SITE)[0] == 101
    polling = requests.get(
        f"{bot.rasa_url}/socket.io/?EIO=4&transport=polling", headers={"Origin": SITE}, timeout=10
    )
    assert polling.status_code == 200 and polling.headers.get("Access-Control-Allow-Origin") == SITE

    async def visitor(sio: SocketIO) -> List[Dict[str, Any]]:
        return await sio.ask(await sio.session(), QUESTION)

    assert topic_of(run_socketio(bot.rasa_url, visitor, origin=SITE)) == "pooiers"


def test_sessions_and_refusals_leave_no_id_in_the_log(bot: Bot) -> None:
    async def visitor(sio: SocketIO) -> str:
        token = await sio.session(f"{uuid.uuid4().hex}.{'A' * 43}")
        await sio.ask(token, QUESTION)
        await sio.ask(f"{session_of(token)}x", QUESTION)  # refused: not its session
        return token

    token = run_socketio(bot.rasa_url, visitor)
    handshake_status(bot.rasa_url, OTHER_SITE)
    log = bot.log.read_text(encoding="utf-8", errors="replace")
    assert "niet-toegestane website" in log and "niet-bevestigde sessie" in log
    assert session_of(token) not in log and token.partition(".")[2] not in log
    assert OTHER_SITE[8:] not in log
