"""A question about privacy gets an honest answer for its channel, wipes nothing, and the list before it
stays the one a typed number picks from. On every channel: REST, socket.io, Telegram, WhatsApp through
Twilio and Messenger. Real Rasa and action servers; the platforms are the fake API on loopback.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import pytest
import requests

from tests.e2e import test_channels as channels
from tests.e2e.socketio_client import SocketIO, run_socketio
from tests.e2e.test_channel_delivery import messenger_sent, telegram_sent, twilio_sent
from tests.e2e.test_channels import (
    KB,
    FakeApis,
    messenger_event,
    page_entry,
    post_messenger,
    post_telegram,
    post_twilio,
    telegram_update,
    twilio_form,
)
from tests.support.bot import answer_parts
from vraagbaak.ops.processes import RunningServers

pytestmark = pytest.mark.servers

fake = channels.fake
rasa = channels.rasa

# The two questions users asked that used to wipe the conversation or get "buiten bereik".
QUESTIONS = ("bewaren jullie mijn berichten?", "kan iemand anders dit gesprek lezen?")
TOPIC = KB.by_id("pooiers")
SECOND = KB.by_id(TOPIC.related[1])
EXPLAINED = KB.message("privacy")
FORGOTTEN = KB.message("vergeten")


def rest(rasa: RunningServers, sender: str, text: str) -> List[Dict[str, Any]]:
    reply = requests.post(
        f"{rasa.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert reply.status_code == 200
    return reply.json()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text", "") for m in messages]


def test_rest_privacy_question_explains_for_the_web_and_keeps_the_list(rasa: RunningServers) -> None:
    for n, question in enumerate(QUESTIONS):
        sender = f"privacy-rest-{n}"
        assert answer_parts(rest(rasa, sender, f"/{TOPIC.intent}"))["topic"] == TOPIC.id
        assert texts(rest(rasa, sender, question)) == [EXPLAINED, KB.message("privacy_web")]
        chosen = answer_parts(rest(rasa, sender, "2"))
        assert chosen["topic"] == SECOND.id, "the list before the question still counts"


def test_socketio_privacy_question_explains_for_the_web_and_keeps_the_list(rasa: RunningServers) -> None:
    async def visitor(sio: SocketIO) -> List[List[Dict[str, Any]]]:
        session = await sio.session()
        return [await sio.ask(session, text) for text in (f"/{TOPIC.intent}", QUESTIONS[0], "2")]

    _, explained, chosen = run_socketio(rasa.rasa_url, visitor)
    assert [m.get("text") for m in explained] == [EXPLAINED, KB.message("privacy_web")]
    assert answer_parts(chosen)["topic"] == SECOND.id


def telegram(
    rasa: RunningServers, fake: FakeApis, n: int
) -> Tuple[Callable[[str], object], Callable[[], List[str]]]:
    chat = 7600 + n
    return (lambda text: post_telegram(rasa, telegram_update(chat, text))), (
        lambda: telegram_sent(fake, chat)
    )


def whatsapp(
    rasa: RunningServers, fake: FakeApis, n: int
) -> Tuple[Callable[[str], object], Callable[[], List[str]]]:
    sender = f"whatsapp:+3161234760{n}"
    return (lambda text: post_twilio(rasa, twilio_form(sender, text))), (lambda: twilio_sent(fake, sender))


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("channel, key", [(telegram, "privacy_telegram"), (whatsapp, "privacy_whatsapp")])
def test_telegram_and_whatsapp_privacy_question_says_what_that_app_keeps(
    rasa: RunningServers, fake: FakeApis, question: str, channel: Callable, key: str
) -> None:
    post, sent = channel(rasa, fake, QUESTIONS.index(question))
    post(f"/{TOPIC.intent}")
    before = len(sent())
    assert post(question) == 200
    assert sent()[before:] == [EXPLAINED, KB.message(key)]
    before = len(sent())
    post("2")
    assert "".join(sent()[before:-1]) == SECOND.answer_text, "the list before the question still counts"


@pytest.mark.parametrize("question", QUESTIONS)
def test_messenger_privacy_question_says_what_messenger_keeps(
    rasa: RunningServers, fake: FakeApis, question: str
) -> None:
    sender = f"psid-privacy-{QUESTIONS.index(question)}"
    post_messenger(rasa, page_entry(messenger_event(sender, f"/{TOPIC.intent}")))
    before = len(messenger_sent(fake, sender))
    assert post_messenger(rasa, page_entry(messenger_event(sender, question))) == 200
    texts = [m.get("text") for m in messenger_sent(fake, sender)[before:]]
    assert texts == [EXPLAINED, KB.message("privacy_messenger")]
    before = len(messenger_sent(fake, sender))
    post_messenger(rasa, page_entry(messenger_event(sender, "2")))
    answer = "".join(m.get("text", "") for m in messenger_sent(fake, sender)[before:] if "text" in m)
    assert answer.startswith(SECOND.answer_text)


def test_only_an_explicit_request_forgets(rasa: RunningServers) -> None:
    sender = "privacy-rest-forget"
    rest(rasa, sender, f"/{TOPIC.intent}")
    assert texts(rest(rasa, sender, "vergeet dit gesprek"))[:1] == [FORGOTTEN]
    assert texts(rest(rasa, sender, "2"))[0] == KB.message(
        "onbekende_keuze"
    ), "after forgetting, no list is left"
