"""How platforms start, share and change conversations: start payloads and Messenger's "Get started" greet (a
link may name a topic), a Telegram group gets one note and never a shared conversation, an edited message
gets a short note on every platform that sends edits, and update kinds without text are answered or ignored
on purpose. Real Rasa; the platforms are the fake API on loopback.
"""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from tests.e2e import test_channels as channels
from tests.e2e.test_channel_delivery import delivered, messenger_sent, telegram_message, telegram_sent
from tests.e2e.test_channels import (
    KB,
    TELEGRAM_BOT,
    FakeApis,
    messenger_event,
    official_question,
    page_entry,
    post_messenger,
    post_telegram,
    telegram_update,
)
from vraagbaak.ops.processes import RunningServers

pytestmark = pytest.mark.servers

fake = channels.fake
rasa = channels.rasa

GREETING = KB.message("groet")
POOIERS = KB.by_id("pooiers")


def texts_of(fake: FakeApis, chat: int) -> List[str]:
    return telegram_sent(fake, chat)


# --- Telegram /start and deep links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chat, command",
    [
        (8001, "/start"),
        (8002, "/start abc123"),
        (8003, "/start vergeet_dit_gesprek"),  # a payload that reads like a request: still only a greeting
        (8004, f"/start@{TELEGRAM_BOT}"),
        (8005, "/start onderwerp_faq_bestaat_niet"),  # no such topic
        (8006, "/start onderwerp_gesprek_vergeten"),  # an intent, but no topic
    ],
)
def test_telegram_start_with_any_payload_only_greets(
    rasa: RunningServers, fake: FakeApis, chat: int, command: str
) -> None:
    assert post_telegram(rasa, telegram_update(chat, command)) == 200
    assert texts_of(fake, chat) == [GREETING]


def test_telegram_start_with_a_topic_payload_greets_then_answers_that_topic(
    rasa: RunningServers, fake: FakeApis
) -> None:
    chat = 8010
    assert post_telegram(rasa, telegram_update(chat, f"/start onderwerp_{POOIERS.intent}")) == 200
    sent = texts_of(fake, chat)
    assert sent[0] == GREETING
    assert "".join(sent[1:-1]) == POOIERS.answer_text
    assert sent[-1] == KB.message("gerelateerd_kop")
    # The topic's related questions are the list a number picks from.
    assert post_telegram(rasa, telegram_update(chat, "1")) == 200
    first = KB.by_id(POOIERS.related[0])
    assert first is not None and first.answer_text in "".join(texts_of(fake, chat))


def test_telegram_help_addressed_to_the_bot_shows_the_menu(rasa: RunningServers, fake: FakeApis) -> None:
    chat = 8011
    assert post_telegram(rasa, telegram_update(chat, f"/help@{TELEGRAM_BOT}")) == 200
    calls = delivered(fake.of("telegram", str(chat)))
    assert calls and "reply_markup" in calls[-1].data


# --- Messenger "Get started" and m.me links ---------------------------------------------------------------


def test_messenger_get_started_greets(rasa: RunningServers, fake: FakeApis) -> None:
    psid = "psid-8020"
    assert post_messenger(rasa, page_entry(messenger_event(psid, postback="GET_STARTED"))) == 200
    assert messenger_sent(fake, psid) == [{"text": GREETING}]


def test_messenger_get_started_from_a_topic_link_greets_then_answers(
    rasa: RunningServers, fake: FakeApis
) -> None:
    psid, other = "psid-8021", "psid-8022"
    event = messenger_event(psid, postback="GET_STARTED")
    event["postback"]["referral"] = {"ref": f"onderwerp_{POOIERS.intent}", "source": "SHORTLINK"}
    assert post_messenger(rasa, page_entry(event)) == 200
    sent = messenger_sent(fake, psid)
    assert sent[0] == {"text": GREETING}
    assert "".join(m.get("text", "") for m in sent[1:]) == POOIERS.answer_text
    assert "attachment" in sent[-1]
    # A user who already talks to the page and opens a link gets a referral event: the same opening.
    # An unknown ref only greets.
    referral = {"sender": {"id": other}, "recipient": {"id": "PAGE1"}, "timestamp": 1700000000000}
    referral["referral"] = {"ref": "onderwerp_onbekend", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert post_messenger(rasa, page_entry(referral)) == 200
    assert messenger_sent(fake, other) == [{"text": GREETING}]


# --- Telegram groups ---------------------------------------------------------------------------------------


def group_update(chat_id: int, member: int, text: str, kind: str = "supergroup") -> Dict[str, Any]:
    """A message of one member in a group chat."""
    update = telegram_update(chat_id, text)
    update["message"]["chat"] = {"id": chat_id, "title": "Testgroep", "type": kind}
    update["message"]["from"] = {"id": member, "is_bot": False, "first_name": f"Lid {member}"}
    return update


@pytest.mark.parametrize("kind", ["group", "supergroup"])
def test_a_telegram_group_gets_one_note_and_never_a_shared_conversation(
    rasa: RunningServers, fake: FakeApis, kind: str
) -> None:
    group = -1008030 if kind == "supergroup" else -8030
    # Member A asks a topic question (a list would follow), member B types "2", then A asks again.
    for member, text in ((8031, official_question(POOIERS)), (8032, "2"), (8031, "/start")):
        assert post_telegram(rasa, group_update(group, member, text, kind)) == 200
    sent = texts_of(fake, group)
    assert sent == [KB.message("alleen_prive")], "one note, no answer from anyone's list"
    # A private chat with member B is a conversation of its own and is answered as usual.
    assert post_telegram(rasa, telegram_update(8032, official_question(POOIERS))) == 200
    assert POOIERS.answer_text in "".join(texts_of(fake, 8032))


# --- edits and update kinds without text -------------------------------------------------------------------


def test_an_edited_message_gets_a_short_note_on_telegram_and_messenger(
    rasa: RunningServers, fake: FakeApis
) -> None:
    chat, psid = 8040, "psid-8040"
    assert post_telegram(rasa, telegram_update(chat, official_question(POOIERS))) == 200
    edit = telegram_update(chat, "wat vindt amnesty van het scandinavische model?")
    edit["edited_message"] = edit.pop("message")
    edit["edited_message"]["edit_date"] = 1700000100
    before = len(texts_of(fake, chat))
    assert post_telegram(rasa, edit) == 200
    assert texts_of(fake, chat)[before:] == [KB.message("bericht_bewerkt")]
    event = {"sender": {"id": psid}, "recipient": {"id": "PAGE1"}, "timestamp": 1700000000000}
    event["message_edit"] = {"mid": "m_8040", "text": "nieuwe tekst", "num_edit": 1}
    assert post_messenger(rasa, page_entry(event)) == 200
    assert post_messenger(rasa, page_entry(event)) == 200  # a resend of the same edit: answered once
    assert messenger_sent(fake, psid) == [{"text": KB.message("bericht_bewerkt")}]


def test_a_telegram_story_gets_the_only_text_reply_and_a_service_message_nothing(
    rasa: RunningServers, fake: FakeApis
) -> None:
    story = {"story": {"chat": {"id": 8050, "type": "private"}, "id": 7}}
    assert post_telegram(rasa, telegram_message(8050, **story)) == 200
    assert texts_of(fake, 8050) == [KB.message("alleen_tekst")]
    pinned = {
        "pinned_message": {"message_id": 1, "date": 1700000000, "chat": {"id": 8051, "type": "private"}}
    }
    assert post_telegram(rasa, telegram_message(8051, **pinned)) == 200
    assert fake.of("telegram", "8051") == []
