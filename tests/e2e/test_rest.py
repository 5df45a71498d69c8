"""End to end over REST against the real Rasa server and action server."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.support.bot import Servers, answer_parts, ask_until_clarified, post_rest_body
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.user_input import MAX_LENGTH

pytestmark = pytest.mark.servers
TOPIC_IDS = [t.id for t in knowledge_base().topics]


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_official_question_gets_the_exact_answer_and_related_buttons(
    servers: Servers, kb: KnowledgeBase, topic_id: str
) -> None:
    topic = kb.by_id(topic_id)
    question = topic.official_question if topic.section == "Q&A" else topic.title
    reply = answer_parts(servers.send(new_sender(), question))
    assert reply["topic"] == topic.id
    assert reply["text"] == topic.answer_text
    assert [b["title"] for b in reply["buttons"]] == [kb.by_id(r).title for r in topic.related]


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_each_related_button_payload_answers_that_topic(
    servers: Servers, kb: KnowledgeBase, topic_id: str
) -> None:
    sender = new_sender()
    buttons = answer_parts(servers.send(sender, f"/{kb.by_id(topic_id).intent}"))["buttons"]
    for button, related_id in zip(buttons, kb.by_id(topic_id).related, strict=True):
        reply = answer_parts(servers.send(sender, button["payload"]))
        assert reply["topic"] == related_id
        assert reply["text"] == kb.by_id(related_id).answer_text


def test_numbered_reply_after_related_questions(servers: Servers, kb: KnowledgeBase) -> None:
    sender = new_sender()
    servers.send(sender, "/faq_pooiers")
    reply = answer_parts(servers.send(sender, "2"))
    second = kb.by_id(kb.by_id("pooiers").related[1])
    assert reply["topic"] == second.id and reply["text"] == second.answer_text


def test_numbered_reply_after_menu(servers: Servers, kb: KnowledgeBase) -> None:
    sender = new_sender()
    menu = servers.send(sender, "welke vragen kan ik stellen")
    assert len(menu[-1]["buttons"]) == len(kb.topics)
    reply = answer_parts(servers.send(sender, "de derde"))
    assert reply["topic"] == kb.topics[2].id


def clarification(servers: Servers, kb: KnowledgeBase, sender: str) -> list:
    """The buttons of the first clarification the bot offers in this conversation."""
    return ask_until_clarified(lambda text: servers.send(sender, text), kb)[1]


def test_numbered_reply_after_clarification(servers: Servers, kb: KnowledgeBase) -> None:
    sender = new_sender()
    buttons = clarification(servers, kb, sender)
    assert 2 <= len(buttons) <= 4  # 1-3 topics plus "Geen van deze"
    reply = answer_parts(servers.send(sender, "1"))
    assert reply["topic"] == kb.by_intent(buttons[0]["payload"].lstrip("/")).id


def test_none_of_these_by_number_explains_and_offers_the_menu(servers: Servers, kb: KnowledgeBase) -> None:
    sender = new_sender()
    buttons = clarification(servers, kb, sender)
    messages = servers.send(sender, str(len(buttons)))
    assert messages[0]["text"] == kb.message("geen_van_deze")
    assert messages[0]["buttons"][0]["payload"] == "/chat_wat_kan_je"
    assert len(servers.send(sender, "1")[0]["buttons"]) == len(kb.topics)  # the menu, chosen by number


def test_typed_button_title_answers_that_topic(servers: Servers, kb: KnowledgeBase) -> None:
    topic = kb.by_id("belgie")
    reply = answer_parts(servers.send(new_sender(), topic.title.upper()))
    assert reply["topic"] == "belgie"


BAD_INPUT = [
    ("", "invoer_leeg"),
    ("   ", "invoer_leeg"),
    ("a" * (MAX_LENGTH + 500), "invoer_te_lang"),
    ("\x00\x07\x1b", "invoer_onleesbaar"),
    ("/faq_bestaat_niet", "onbekende_knop"),
    ('/faq_bestaat_niet{"onderwerp": "x"}', "onbekende_knop"),
    ("/onbekende_knop_payload", "onbekende_knop"),
    ('/keuze_nummer{"nummer": "99"}', "onbekende_keuze"),
]


@pytest.mark.parametrize("text, key", BAD_INPUT)
def test_bad_input_gets_dutch_reply_and_conversation_goes_on(
    servers: Servers, kb: KnowledgeBase, text, key
) -> None:
    sender = new_sender()
    messages = servers.send(sender, text)
    assert messages[0]["text"] == kb.message(key, maximum=str(MAX_LENGTH))
    after = answer_parts(servers.send(sender, "Wat met de pooiers?"))
    assert after["text"] == kb.by_id("pooiers").answer_text


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert('x')</script>",
        "'; DROP TABLE trackers; --",
        "wat\x00met\x1bde pooiers",
    ],
)
def test_html_sql_and_control_characters_get_a_dutch_reply(servers: Servers, kb: KnowledgeBase, text) -> None:
    sender = new_sender()
    messages = servers.send(sender, text)
    assert messages and all(m.get("text") or m.get("custom") for m in messages)
    after = answer_parts(
        servers.send(sender, "Wat is het verschil tussen legaliseren en decriminaliseren van sekswerk?")
    )
    assert after["topic"] == "legaliseren_decriminaliseren"


@pytest.mark.parametrize(
    "body",
    [
        b"{niet json",
        b"[1, 2, 3]",
        b'{"sender": {"a": 1}, "message": "hoi"}',
        b'{"sender": "x", "message": ["lijst"]}',
        b"\xff\xfe",
    ],
)
def test_malformed_json_gets_400_with_dutch_text(servers: Servers, kb: KnowledgeBase, body: bytes) -> None:
    response = post_rest_body(servers.rasa_url, body)
    assert response.status_code == 400
    assert response.json()[0]["text"] == kb.message("ongeldig_verzoek")
    assert answer_parts(servers.send(new_sender(), "Wat met de pooiers?"))["topic"] == "pooiers"


@pytest.mark.parametrize("text", ["vergeet dit gesprek", "opnieuw beginnen", "/restart"])
def test_forget_deletes_the_stored_conversation(servers: Servers, kb: KnowledgeBase, text: str) -> None:
    sender = new_sender()
    secret = f"geheim-{uuid.uuid4().hex[:6]} wat met de pooiers"
    servers.send(sender, secret)
    assert secret in json.dumps(servers.tracker(sender))
    messages = servers.send(sender, text)
    assert messages[0]["text"] == kb.message("vergeten")
    stored = servers.tracker(sender)
    assert secret not in json.dumps(stored)
    assert not [e for e in stored["events"] if e["event"] == "user"]


def test_near_duplicate_questions_get_one_answer_each(servers: Servers, kb: KnowledgeBase) -> None:
    for topic_id in ("oproep_decriminaliseren", "voor_decriminalisering"):
        reply = answer_parts(servers.send(new_sender(), kb.by_id(topic_id).official_question))
        assert reply["topic"] == topic_id


def test_user_text_never_reaches_the_log(servers: Servers) -> None:
    marker = f"uniekezin{uuid.uuid4().hex}"
    servers.send(new_sender(), f"{marker} wat met de pooiers")
    assert marker not in servers.log_path.read_text(encoding="utf-8", errors="replace")


def test_a_300_turn_conversation_keeps_a_bounded_tracker_and_its_context(
    servers: Servers, kb: KnowledgeBase
) -> None:
    """What Rasa stores stays the same size however long the conversation; a typed "1" still works."""
    sender = new_sender()
    questions = [t for t in kb.topics if t.section == "Q&A"]
    stored_events = {}
    for turn in range(300):
        if turn % 2 == 0:
            topic = questions[(turn // 2) % len(questions)]
            assert answer_parts(servers.send(sender, topic.official_question))["topic"] == topic.id
        else:  # the first related question of the answer before: needs the offered options (a slot)
            assert answer_parts(servers.send(sender, "1"))["topic"] == topic.related[0]
        if turn + 1 in (30, 300):
            stored_events[turn + 1] = len(servers.tracker(sender)["events"])
    assert stored_events[300] == stored_events[30] < 40


def test_many_messages_at_once_each_get_their_own_answer(servers: Servers, kb: KnowledgeBase) -> None:
    # More messages than the process's turns at once (4): the rest wait their turn; none is lost or crossed,
    # and two at once from one sender (which also wait for the conversation lock) do not deadlock.
    from concurrent.futures import ThreadPoolExecutor

    twin = new_sender()
    asks = [(new_sender(), topic) for topic in kb.topics] + [(twin, kb.topics[0]), (twin, kb.topics[1])]

    def ask(item: tuple) -> tuple:
        sender, topic = item
        return topic.id, answer_parts(servers.send(sender, f"/{topic.intent}", timeout=60))

    with ThreadPoolExecutor(max_workers=len(asks)) as pool:
        replies = list(pool.map(ask, asks))
    assert len(replies) == 20
    for topic_id, reply in replies:
        assert reply["topic"] == topic_id
        assert reply["text"] == kb.by_id(topic_id).answer_text
