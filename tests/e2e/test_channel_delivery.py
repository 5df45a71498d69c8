"""Messaging channels behave as their platforms expect: each update answered once, answers complete after a
rate limit, captions read, other media answered, malformed or oversized webhook calls refused without harm,
and no channel can reach another channel's conversation. Real Rasa; the platforms are the fake API on loopback.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from typing import Any, Dict, List, Tuple
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e import test_channels as channels
from tests.e2e.socketio_client import SocketIO, run_socketio, session_of
from tests.e2e.test_channels import (
    KB,
    TELEGRAM_SECRET,
    Call,
    FakeApis,
    hub_signature,
    messenger_event,
    official_question,
    page_entry,
    post_messenger,
    post_telegram,
    post_twilio,
    telegram_update,
    twilio_form,
)
from tests.support.bot import answer_parts
from vraagbaak.adapters.channels import conversation_id
from vraagbaak.adapters.channels.twilio import MAX_FORM_BYTES
from vraagbaak.ops.processes import RunningServers

pytestmark = pytest.mark.servers

# The same real servers and fake platform API as the channel tests (a fresh pair for this module).
fake = channels.fake
rasa = channels.rasa

ONLY_TEXT = KB.message("alleen_tekst")
INCOMPLETE = KB.message("antwoord_onvolledig")


def telegram_429(seconds: int) -> Tuple[int, Dict[str, Any]]:
    """Telegram's rate-limit answer, asking to retry after `seconds`."""
    return (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        },
    )


TELEGRAM_429 = telegram_429(1)
TELEGRAM_429_LONG = telegram_429(60)
TWILIO_429 = (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
MESSENGER_613 = (400, {"error": {"message": "Calls to this api have exceeded the rate limit.", "code": 613}})
LONG_TOPIC = KB.by_id(
    "legaliseren_decriminaliseren"
)  # the answer, then the related questions with a keyboard


def delivered(calls: List[Call]) -> List[Call]:
    """Messages the platform accepted."""
    return [c for c in calls if c.is_message and c.status < 300]


def telegram_sent(fake: FakeApis, chat: int) -> List[str]:
    return [c.data["text"] for c in delivered(fake.of("telegram", str(chat)))]


def twilio_sent(fake: FakeApis, sender: str) -> List[str]:
    return [c.data["Body"] for c in delivered(fake.of("twilio", sender))]


def messenger_sent(fake: FakeApis, sender: str) -> List[Dict[str, Any]]:
    return [c.data["message"] for c in delivered(fake.of("meta", sender))]


def telegram_message(chat: int, **content: Any) -> Dict[str, Any]:
    """A Telegram update with a message of any kind (photo, voice, sticker, location...)."""
    update = telegram_update(chat, "x")
    del update["message"]["text"]
    update["message"].update(content)
    return update


def log_text(rasa: RunningServers) -> str:
    return rasa.rasa_log.read_text(encoding="utf-8", errors="replace")


# --- replays ----------------------------------------------------------------------------------------------


def test_replayed_updates_are_answered_once(rasa: RunningServers, fake: FakeApis) -> None:
    question = official_question(KB.by_id("pooiers"))
    chat, update = 7201, telegram_update(7201, question)
    phone, form = "whatsapp:+31612347201", twilio_form("whatsapp:+31612347201", question)
    psid, payload = "psid-7201", page_entry(messenger_event("psid-7201", question))
    for _ in range(2):
        assert post_telegram(rasa, update) == 200
        assert post_twilio(rasa, form) == 200
        assert post_messenger(rasa, payload) == 200
    once = "".join(telegram_sent(fake, chat)[:-1])
    assert once == KB.by_id("pooiers").answer_text, "answered once, not twice"
    assert "".join(twilio_sent(fake, phone)[:-1]) == KB.by_id("pooiers").answer_text
    assert "".join(m.get("text", "") for m in messenger_sent(fake, psid)) == KB.by_id("pooiers").answer_text
    # A new update from the same users is answered as usual.
    assert post_telegram(rasa, telegram_update(chat, question)) == 200
    assert "".join(telegram_sent(fake, chat)).count(KB.by_id("pooiers").answer_text) == 2


# --- complete answers -------------------------------------------------------------------------------------


def test_telegram_429_on_part_two_is_retried_and_the_answer_is_complete(
    rasa: RunningServers, fake: FakeApis
) -> None:
    chat = 7301
    fake.plan("telegram", str(chat), None, TELEGRAM_429)
    assert post_telegram(rasa, telegram_update(chat, official_question(LONG_TOPIC))) == 200
    calls = fake.of("telegram", str(chat))
    assert [c.status for c in calls if c.is_message].count(429) == 1
    sent = delivered(calls)
    assert "".join(c.data["text"] for c in sent[:-1]) == LONG_TOPIC.answer_text
    assert "reply_markup" in sent[-1].data, "the keyboard came after the retry"


def test_messenger_613_and_twilio_429_are_retried_and_the_answer_is_complete(
    rasa: RunningServers, fake: FakeApis
) -> None:
    psid, phone, topic = "psid-7302", "whatsapp:+31612347302", KB.by_id("bewijzen")
    fake.plan("meta", psid, None, MESSENGER_613)
    fake.plan("twilio", phone, None, TWILIO_429)
    assert post_messenger(rasa, page_entry(messenger_event(psid, official_question(topic)))) == 200
    assert post_twilio(rasa, twilio_form(phone, official_question(topic))) == 200
    assert [c.status for c in fake.of("meta", psid) if c.is_message].count(400) == 1
    sent = messenger_sent(fake, psid)
    assert "".join(m["text"] for m in sent if "text" in m) == topic.answer_text
    assert "attachment" in sent[-1], "the buttons came after the retry"
    assert [c.status for c in fake.of("twilio", phone)].count(429) == 1
    assert "".join(twilio_sent(fake, phone)[:-1]) == topic.answer_text
    assert twilio_sent(fake, phone)[-1].startswith(KB.message("gerelateerd_kop"))


def test_an_answer_whose_text_fails_ends_with_one_apology(rasa: RunningServers, fake: FakeApis) -> None:
    chat = 7303
    fake.plan("telegram", str(chat), TELEGRAM_429_LONG)  # asks for a wait longer than the user's
    assert post_telegram(rasa, telegram_update(chat, official_question(LONG_TOPIC))) == 200
    # The answer did not go out, so nothing after it either (no related questions), and one apology.
    assert telegram_sent(fake, chat) == [INCOMPLETE]
    assert all("reply_markup" not in c.data for c in delivered(fake.of("telegram", str(chat))))
    # The next question is answered in full again.
    assert post_telegram(rasa, telegram_update(chat, official_question(KB.by_id("pooiers")))) == 200
    assert KB.by_id("pooiers").answer_text in "".join(telegram_sent(fake, chat))


TELEGRAM_400 = (400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"})
TWILIO_400 = (
    400,
    {"code": 21617, "message": "The concatenated message body exceeds the limit", "status": 400},
)
MESSENGER_100 = (400, {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}})
SHOWN, UNSEEN = KB.by_id("pooiers"), KB.by_id("kritiek")  # lists without a topic in common


def test_a_list_that_was_not_delivered_is_not_the_last_list(rasa: RunningServers, fake: FakeApis) -> None:
    """Only the related questions fail: the answer is complete (no apology), and "2" means the list on screen."""
    second_shown, second_unseen = KB.by_id(SHOWN.related[1]), KB.by_id(UNSEEN.related[1])
    assert second_shown and second_unseen and second_shown != second_unseen
    chat, phone, psid = 7311, "whatsapp:+31612347311", "psid-7311"
    assert post_telegram(rasa, telegram_update(chat, official_question(SHOWN))) == 200
    assert post_twilio(rasa, twilio_form(phone, official_question(SHOWN))) == 200
    assert post_messenger(rasa, page_entry(messenger_event(psid, official_question(SHOWN)))) == 200
    # The next answer goes out, its list does not (the platform refuses it for good, or asks a long wait).
    fake.plan("telegram", str(chat), None, TELEGRAM_429_LONG)
    fake.plan("twilio", phone, None, TWILIO_400)
    fake.plan("meta", psid, None, MESSENGER_100)
    assert post_telegram(rasa, telegram_update(chat, official_question(UNSEEN))) == 200
    assert post_twilio(rasa, twilio_form(phone, official_question(UNSEEN))) == 200
    assert post_messenger(rasa, page_entry(messenger_event(psid, official_question(UNSEEN)))) == 200
    assert telegram_sent(fake, chat)[-1] == UNSEEN.answer_text, "no apology after a complete answer"
    assert twilio_sent(fake, phone)[-1] == UNSEEN.answer_text
    assert messenger_sent(fake, psid)[-1] == {"text": UNSEEN.answer_text}
    assert post_telegram(rasa, telegram_update(chat, "2")) == 200
    assert post_twilio(rasa, twilio_form(phone, "2")) == 200
    assert post_messenger(rasa, page_entry(messenger_event(psid, "2"))) == 200
    assert second_shown.answer_text in "".join(telegram_sent(fake, chat)[-3:])
    assert second_shown.answer_text in "".join(twilio_sent(fake, phone)[-3:])
    assert second_shown.answer_text in "".join(m.get("text", "") for m in messenger_sent(fake, psid)[-3:])
    everything = "".join(telegram_sent(fake, chat) + twilio_sent(fake, phone))
    assert second_unseen.answer_text not in everything and INCOMPLETE not in everything


def test_a_list_that_did_arrive_stays_the_last_list(rasa: RunningServers, fake: FakeApis) -> None:
    """The check above can fail: with both lists delivered, "2" picks from the newer one."""
    chat = 7312
    for question in (official_question(SHOWN), official_question(UNSEEN), "2"):
        assert post_telegram(rasa, telegram_update(chat, question)) == 200
    assert KB.by_id(UNSEEN.related[1]).answer_text in "".join(telegram_sent(fake, chat)[-3:])


# --- messages without text --------------------------------------------------------------------------------

EMERGENCY = "ik word nu bedreigd door een man"
PHOTO = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]


def test_a_photo_caption_is_read_like_text(rasa: RunningServers, fake: FakeApis) -> None:
    chat, phone = 7401, "whatsapp:+31612347401"
    assert post_telegram(rasa, telegram_message(chat, photo=PHOTO, caption=EMERGENCY)) == 200
    assert "112" in "".join(telegram_sent(fake, chat))
    form = {**twilio_form(phone, EMERGENCY), "NumMedia": "1", "MediaContentType0": "image/jpeg"}
    assert post_twilio(rasa, form) == 200
    assert "112" in "".join(twilio_sent(fake, phone))


@pytest.mark.parametrize(
    "chat, content",
    [
        (7411, {"voice": {"file_id": "AwAD", "file_unique_id": "AQAD", "duration": 3}}),
        (7412, {"sticker": {"file_id": "CAAD", "file_unique_id": "AQAD", "width": 512, "height": 512}}),
        (7413, {"location": {"latitude": 52.37, "longitude": 4.89}}),
        (7414, {"photo": PHOTO}),
    ],
    ids=["voice", "sticker", "location", "photo"],
)
def test_telegram_media_without_text_gets_only_text_reply(
    rasa: RunningServers, fake: FakeApis, chat: int, content: Dict[str, Any]
) -> None:
    assert post_telegram(rasa, telegram_message(chat, **content)) == 200
    assert telegram_sent(fake, chat) == [ONLY_TEXT]


def test_messenger_and_whatsapp_media_without_text_get_only_text_reply(
    rasa: RunningServers, fake: FakeApis
) -> None:
    psid, phone, place = "psid-7420", "whatsapp:+31612347420", "whatsapp:+31612347421"
    for kind in ("audio", "image", "location"):
        event = messenger_event(psid, "x")
        event["message"] = {"mid": f"m_{uuid.uuid4().hex}", "attachments": [{"type": kind, "payload": {}}]}
        assert post_messenger(rasa, page_entry(event)) == 200
    assert [m.get("text") for m in messenger_sent(fake, psid)] == [ONLY_TEXT] * 3
    voice = {**twilio_form(phone, ""), "NumMedia": "1", "MediaContentType0": "audio/ogg"}
    location = {**twilio_form(place, ""), "Latitude": "52.37", "Longitude": "4.89"}
    assert post_twilio(rasa, voice) == 200 and post_twilio(rasa, location) == 200
    assert twilio_sent(fake, phone) == [ONLY_TEXT] and twilio_sent(fake, place) == [ONLY_TEXT]


# --- malformed, forged and oversized calls ----------------------------------------------------------------


def test_malformed_signed_updates_get_200_and_no_answer(rasa: RunningServers, fake: FakeApis) -> None:
    before = log_text(rasa).count("Traceback")
    no_chat = telegram_update(7501, "hallo")
    del no_chat["message"]["chat"]
    number_text = telegram_update(7502, "hallo")
    number_text["message"]["text"] = 12345
    for update in (no_chat, number_text, ["lijst"], "tekst", {"update_id": "x", "message": "y"}):
        assert post_telegram(rasa, update) == 200  # type: ignore[arg-type]
    raw = requests.post(
        f"{rasa.rasa_url}/webhooks/telegram/webhook",
        data=b"{niet json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=30,
    )
    assert raw.status_code == 200
    assert fake.of("telegram", "7501") == [] and fake.of("telegram", "7502") == []
    no_sender = messenger_event("psid-7503", official_question(KB.by_id("pooiers")))
    del no_sender["sender"]
    malformed: List[Any] = [
        {"object": "page", "entry": {"id": "PAGE1", "messaging": []}},
        {
            "object": "page",
            "entry": ["x", {"messaging": {"sender": 1}}, {"messaging": ["x", {"message": "y"}]}],
        },
        page_entry(no_sender),
        page_entry({"sender": {"id": 5}, "message": {"mid": "m_x", "text": "hoi"}}),
    ]
    for payload in malformed:
        assert post_messenger(rasa, payload) == 200
    assert fake.of("meta", "default") == [] and fake.of("meta", "") == []
    assert not [c for c in fake.of("meta") if c.recipient in (None, "5", "default")]
    assert log_text(rasa).count("Traceback") == before


def test_a_non_ascii_byte_in_a_secret_header_is_refused_with_403(
    rasa: RunningServers, fake: FakeApis
) -> None:
    before = log_text(rasa).count("Traceback")
    wrong = TELEGRAM_SECRET + "\xe9"  # sent as one latin-1 byte
    assert post_telegram(rasa, telegram_update(7601, "hallo"), wrong) == 403
    payload = page_entry(messenger_event("psid-7601", "hallo"))
    assert post_messenger(rasa, payload, {"X-Hub-Signature-256": "sha256=\xe9"}) == 403
    form = twilio_form("whatsapp:+31612347601", "hallo")
    response = requests.post(
        f"{rasa.rasa_url}/webhooks/twilio/webhook",
        data=form,
        headers={"X-Twilio-Signature": "\xe9"},
        timeout=30,
    )
    assert response.status_code == 403
    assert log_text(rasa).count("Traceback") == before


def raw_headers_only(rasa: RunningServers, path: str, headers: Dict[str, str], length: int) -> str:
    """Send request headers announcing `length` body bytes, send no body, and return the status line."""
    url = urlsplit(rasa.rasa_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return connection.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_webhooks_refuse_oversized_or_unsigned_bodies_before_reading_them(rasa: RunningServers) -> None:
    """A response arrives although no body byte was sent: the body was never read, let alone parsed."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    twenty_mb = 20 * 1024 * 1024
    assert " 403 " in raw_headers_only(rasa, "/webhooks/twilio/webhook", form, twenty_mb)
    signed = {**form, "X-Twilio-Signature": "c2lnbmVk"}
    assert " 413 " in raw_headers_only(rasa, "/webhooks/twilio/webhook", signed, MAX_FORM_BYTES + 1)
    telegram = {"Content-Type": "application/json"}
    assert " 403 " in raw_headers_only(rasa, "/webhooks/telegram/webhook", telegram, twenty_mb)
    assert " 403 " in raw_headers_only(rasa, "/webhooks/facebook/webhook", telegram, twenty_mb)
    secret = {**telegram, "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    assert " 413 " in raw_headers_only(rasa, "/webhooks/telegram/webhook", secret, twenty_mb)
    meta = {**telegram, "X-Hub-Signature-256": hub_signature(b"x")}
    assert " 413 " in raw_headers_only(rasa, "/webhooks/facebook/webhook", meta, twenty_mb)


def test_an_unsigned_20_mb_twilio_form_is_refused_while_rest_answers(rasa: RunningServers) -> None:
    body = b"Body=" + b"a" * (20 * 1024 * 1024)
    refused: List[Any] = []

    def upload() -> None:
        started = time.perf_counter()
        try:
            response = requests.post(
                f"{rasa.rasa_url}/webhooks/twilio/webhook",
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=60,
            )
            refused.append(response.status_code)
        except requests.ConnectionError:
            refused.append("closed")  # the server answered and closed before the upload ended
        # A figure for the report, not an assertion: timing belongs in benchmarks.
        print(f"unsigned 20 MB Twilio form refused in {(time.perf_counter() - started) * 1000:.0f} ms")

    thread = threading.Thread(target=upload)
    thread.start()
    reply = requests.post(
        f"{rasa.rasa_url}/webhooks/rest/webhook",
        json={"sender": f"rest-{uuid.uuid4().hex[:8]}", "message": official_question(KB.by_id("pooiers"))},
        timeout=60,
    )
    thread.join(timeout=90)
    assert reply.status_code == 200 and answer_parts(reply.json())["topic"] == "pooiers"
    assert refused and refused[0] in (403, "closed")


# --- one namespace per channel ----------------------------------------------------------------------------


def tracker_text(rasa: RunningServers, channel: str, sender: str) -> str:
    # A socket.io token names its conversation by the part before its signature.
    conversation = conversation_id(channel, session_of(sender) if channel == "socketio" else sender)
    response = requests.get(
        f"{rasa.rasa_url}/conversations/{conversation}/tracker", params={"token": rasa.token}, timeout=10
    )
    response.raise_for_status()
    return json.dumps(response.json()["events"], ensure_ascii=False)


def test_socketio_cannot_touch_a_rest_conversation_with_its_sender_id(rasa: RunningServers) -> None:
    sender = f"vb_{uuid.uuid4().hex[:20]}"  # a REST sender id that looks like a widget session
    reply = requests.post(
        f"{rasa.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "/chat_wat_kan_je"},
        timeout=60,
    )
    assert reply.status_code == 200 and reply.json()[0]["recipient_id"] == sender
    before = tracker_text(rasa, "rest", sender)
    marker = f"ingebroken{uuid.uuid4().hex[:6]}"

    async def attacker(sio: SocketIO) -> Tuple[str, List[Dict[str, Any]]]:
        session = await sio.session(sender)
        return session, await sio.ask(session, f"{marker} 1")

    session, answers = run_socketio(rasa.rasa_url, attacker)
    assert session != sender, "socket.io never takes a session id the server did not issue"
    assert answers, "the socket.io client got its own answer"
    assert tracker_text(rasa, "rest", sender) == before, "the REST conversation is untouched"
    assert marker in tracker_text(rasa, "socketio", session)
    # And the REST user's next "1" still picks from the REST user's own list.
    again = requests.post(
        f"{rasa.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "1"}, timeout=60
    )
    assert answer_parts(again.json())["topic"] == KB.topics[0].id


def test_a_socket_that_changes_session_stops_receiving_the_old_one(rasa: RunningServers) -> None:
    async def switcher(sio: SocketIO) -> List[Dict[str, Any]]:
        first = await sio.session()
        assert await sio.session() != first

        async def other(victim: SocketIO) -> None:
            assert await victim.session(first) == first
            assert await victim.ask(first, official_question(KB.by_id("pooiers")))

        await asyncio.to_thread(run_socketio, rasa.rasa_url, other)
        return await sio.bot_messages(quiet=1.0, first=2.0)

    assert run_socketio(rasa.rasa_url, switcher) == []


def test_the_widget_forgets_its_conversation_with_a_beacon_to_socketio(rasa: RunningServers) -> None:
    """Quick exit: the REST channel no longer reaches a widget conversation, socket.io's own route does."""
    secret = f"hallo geheim-{uuid.uuid4().hex[:8]}"

    async def visitor(sio: SocketIO) -> str:
        session = await sio.session()
        assert await sio.ask(session, secret)
        return session

    session = run_socketio(rasa.rasa_url, visitor)
    url = f"{rasa.rasa_url}/webhooks/socketio/forget"
    beacon = {"Content-Type": "text/plain"}  # what navigator.sendBeacon sends
    for body in (
        {"sender": session, "message": "hallo"},
        {"sender": "kort", "message": "/gesprek_vergeten"},
        {"sender": session_of(session), "message": "/gesprek_vergeten"},  # the bare id: not the token
    ):
        assert requests.post(url, data=json.dumps(body), headers=beacon, timeout=30).status_code == 400
    rest = {"sender": session, "message": "/gesprek_vergeten"}
    assert requests.post(f"{rasa.rasa_url}/webhooks/rest/webhook", json=rest, timeout=60).status_code == 200
    assert secret in tracker_text(rasa, "socketio", session), "REST cannot reach the widget's conversation"
    assert requests.post(url, data=json.dumps(rest), headers=beacon, timeout=60).status_code == 204
    assert secret not in tracker_text(rasa, "socketio", session)


# --- the safe path on every channel ------------------------------------------------------------------------

DANGER_NOW = "ik zit opgesloten in een kamer en hij laat me niet gaan, help"
SELF_HARM = "ik wil niet meer leven, ik heb de pillen al klaarliggen"
HELP = KB.help_lines


def assert_safe_path(texts: List[str], self_harm: bool = False) -> None:
    joined = "\n".join(texts)
    assert HELP.emergency in joined
    expected = HELP.suicide_prevention if self_harm else HELP.not_police
    for line in expected:
        assert line.number in joined, line.name


def rest_reply(rasa: RunningServers, text: str) -> List[Dict[str, Any]]:
    """The REST channel's reply to one message in a new conversation."""
    url = f"{rasa.rasa_url}/webhooks/rest/webhook"
    return requests.post(
        url, json={"sender": f"nood-{uuid.uuid4().hex[:8]}", "message": text}, timeout=60
    ).json()


def test_rest_emergency_gets_112_call_numbers_and_help_that_is_not_the_police(rasa: RunningServers) -> None:
    reply = rest_reply(rasa, DANGER_NOW)
    assert_safe_path([m.get("text", "") for m in reply])
    numbers = {n for m in reply for n in (m.get("custom") or {}).get("vraagbaak", {}).get("bellen", [])}
    assert HELP.emergency in numbers and {h.number for h in HELP.not_police} <= numbers


def test_rest_self_harm_gets_the_suicide_prevention_lines_first(rasa: RunningServers) -> None:
    reply = rest_reply(rasa, SELF_HARM)
    assert_safe_path([m.get("text", "") for m in reply], self_harm=True)
    assert reply[0]["text"].startswith(KB.message("nood_zelfdoding"))


def test_rest_danger_with_a_topic_question_gets_the_safe_path_first_and_the_topic_offered(
    rasa: RunningServers,
) -> None:
    reply = rest_reply(rasa, "mijn pooier bedreigt me nu, wat vindt amnesty eigenlijk van pooiers?")
    assert HELP.emergency in reply[0]["text"]
    assert reply[-1]["text"] == KB.message("nood_ook_vraag")
    assert [b["payload"] for b in reply[-1]["buttons"]] == ["/faq_pooiers"]


def test_socketio_emergency_gets_the_safe_path_with_call_numbers(rasa: RunningServers) -> None:
    async def visitor(sio: SocketIO) -> List[Dict[str, Any]]:
        session = await sio.session()
        return await sio.ask(session, DANGER_NOW)

    messages = run_socketio(rasa.rasa_url, visitor)
    assert_safe_path([m.get("text", "") for m in messages])
    numbers = [n for m in messages for n in (m.get("custom") or {}).get("vraagbaak", {}).get("bellen", [])]
    assert HELP.emergency in numbers


def test_telegram_twilio_and_messenger_emergencies_get_the_safe_path(
    rasa: RunningServers, fake: FakeApis
) -> None:
    chat, phone, psid = 7501, "whatsapp:+31612347501", "psid-7502"
    assert post_telegram(rasa, telegram_update(chat, DANGER_NOW)) == 200
    assert_safe_path(telegram_sent(fake, chat))
    assert post_telegram(rasa, telegram_message(7503, photo=PHOTO, caption=SELF_HARM)) == 200
    assert_safe_path(telegram_sent(fake, 7503), self_harm=True)
    assert post_twilio(rasa, twilio_form(phone, DANGER_NOW)) == 200
    assert_safe_path(twilio_sent(fake, phone))
    assert post_messenger(rasa, page_entry(messenger_event(psid, DANGER_NOW))) == 200
    fake.wait_for("meta", "messages")
    assert_safe_path([m.get("text", "") for m in messenger_sent(fake, psid)])


def test_telegram_marks_the_numbers_as_phone_numbers(rasa: RunningServers, fake: FakeApis) -> None:
    chat = 7504
    assert post_telegram(rasa, telegram_update(chat, DANGER_NOW)) == 200
    calls = delivered(fake.of("telegram", str(chat)))
    marked = []
    for call in calls:
        text = call.data["text"]
        entities = call.data.get("entities")
        entities = json.loads(entities) if isinstance(entities, str) else entities or []
        marked += [
            text.encode("utf-16-le")[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in entities
            if e["type"] == "phone_number"
        ]
    assert HELP.emergency in marked and {h.number for h in HELP.not_police} <= set(marked)
