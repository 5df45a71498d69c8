"""Telegram, Twilio (WhatsApp/SMS) and Messenger end to end: real webhook payloads into the real Rasa server,
outgoing platform calls recorded by a fake API server on loopback."""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from rasa.core.channels.facebook import FacebookInput
from twilio.request_validator import RequestValidator

from tests.support.bot import MODEL
from vraagbaak.adapters.channels.formatting import (
    MESSENGER_LIMIT,
    MESSENGER_MAX_BUTTONS,
    MESSENGER_PAYLOAD_LIMIT,
    MESSENGER_TEMPLATE_LIMIT,
    MESSENGER_TITLE_LIMIT,
    MORE_PREFIX,
    TELEGRAM_LIMIT,
    TWILIO_LIMIT,
    utf16_length,
)
from vraagbaak.core.knowledge_base import Topic, knowledge_base
from vraagbaak.core.user_input import MAX_LENGTH
from vraagbaak.ops import channel_credentials as credentials
from vraagbaak.ops.processes import RunningServers, running_servers

pytestmark = pytest.mark.servers

PUBLIC = "https://vraagbaak.example.org/webhooks"  # what the platforms see; the test talks to loopback
TELEGRAM_TOKEN = "123456:TEST-token_abc"
TELEGRAM_BOT = "VraagbaakTestBot"
TELEGRAM_SECRET = "test-geheim_123"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "twilio-test-token"
TWILIO_NUMBER = "+3197010000000"
FB_VERIFY = "verifieer-mij"
FB_SECRET = "meta-app-secret"
FB_VERSION = "v25.0"
CHANNEL_ENV = {
    "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
    "TELEGRAM_BOT_NAME": TELEGRAM_BOT,
    "TELEGRAM_WEBHOOK_URL": f"{PUBLIC}/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_NUMBER": TWILIO_NUMBER,
    "TWILIO_WEBHOOK_URL": f"{PUBLIC}/twilio/webhook",
    "FB_VERIFY": FB_VERIFY,
    "FB_SECRET": FB_SECRET,
    "FB_PAGE_ACCESS_TOKEN": "EAAtestpagetoken",
}
KB = knowledge_base()
_ids = itertools.count(1)


# --- the fake Telegram / Twilio / Graph API --------------------------------------------------------


@dataclass
class Call:
    """One outgoing platform API call as the fake server received it."""

    service: str  # telegram | twilio | meta
    method: str
    query: Dict[str, List[str]]
    data: Dict[str, Any]
    status: int = 200  # what the fake answered; a planned failure is >= 400
    received: float = 0.0  # time.monotonic() when the call came in
    answered: float | None = None  # ... and when the fake answered it (None: not yet, or never)

    @property
    def is_message(self) -> bool:
        """A message to a user (not getMe, a sender action or a button acknowledgement)."""
        if self.service == "telegram":
            return self.method == "sendMessage"
        return self.service == "twilio" or "message" in self.data

    @property
    def recipient(self) -> str | None:
        """Who the call is for (chat id, phone number, page-scoped id)."""
        if self.service == "telegram":
            return self.data.get("chat_id")
        if self.service == "twilio":
            return self.data.get("To")
        return (self.data.get("recipient") or {}).get("id")


class FakeApis:
    """Records calls and answers like the three platforms do."""

    def __init__(self) -> None:
        self.calls: List[Call] = []
        self.planned: Dict[tuple, List[tuple | None]] = {}  # (service, recipient) -> answers to give
        self.delays: Dict[tuple, float] = {}  # (service, recipient) -> seconds every call takes
        self.released = threading.Event()  # ends every delay at once (teardown)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handler(self) -> type:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if "json" in (self.headers.get("Content-Type") or ""):
                    data = json.loads(body or "{}")
                else:
                    data = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                call = fake.record(url.path, parse_qs(url.query), data)
                delay = fake.delays.get((call.service, call.recipient))
                if delay and fake.released.wait(delay):
                    return  # released at teardown: the bot stopped waiting long ago
                status, answer = fake.answer(call)
                call.status = status
                raw = json.dumps(answer).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the bot hung up first (its timeout)
                call.answered = time.monotonic()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def record(self, path: str, query: Dict[str, List[str]], data: Dict[str, Any]) -> Call:
        if path.startswith("/bot"):
            call = Call("telegram", path.rsplit("/", 1)[-1], query, data)
        elif path.startswith("/2010-04-01/"):
            call = Call("twilio", "Messages", query, data)
        else:
            call = Call("meta", path, query, data)
        call.received = time.monotonic()
        with self.lock:
            self.calls.append(call)
        return call

    def plan(self, service: str, recipient: str, *answers: tuple | None) -> None:
        """The next messages to this recipient get these (status, body) answers in turn; None: the normal one."""
        with self.lock:
            self.planned[(service, recipient)] = list(answers)

    def slow(self, service: str, recipient: str, seconds: float) -> None:
        """Every later call for this recipient takes `seconds` before it is answered (0: at once again)."""
        with self.lock:
            self.delays[(service, recipient)] = seconds

    def answer(self, call: Call) -> tuple:
        with self.lock:
            planned = self.planned.get((call.service, call.recipient)) if call.is_message else None
            override = planned.pop(0) if planned else None
        if override is not None:
            return override
        if call.service == "telegram":
            return 200, {"ok": True, "result": telegram_result(call)}
        if call.service == "twilio":
            return 201, twilio_result(call)
        return 200, {"recipient_id": call.recipient, "message_id": f"m_{next(_ids)}"}

    def of(self, service: str, recipient: str | None = None) -> List[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.service == service and (recipient is None or c.recipient == recipient)
            ]

    def wait_for(self, service: str, method: str, timeout: float = 30) -> List[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.of(service) if c.method == method]
            if found:
                return found
            time.sleep(0.2)
        return []


def telegram_result(call: Call) -> Any:
    if call.method == "getMe":
        return {"id": 123456, "is_bot": True, "first_name": "Vraagbaak", "username": TELEGRAM_BOT}
    if call.method == "sendMessage":
        chat = {"id": int(call.data["chat_id"]), "type": "private"}
        return {"message_id": next(_ids), "date": 1700000000, "chat": chat, "text": call.data.get("text")}
    return True


def twilio_result(call: Call) -> Dict[str, Any]:
    return {
        "sid": f"SM{next(_ids):032d}",
        "account_sid": TWILIO_SID,
        "to": call.data.get("To"),
        "from": call.data.get("From"),
        "body": call.data.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
        "api_version": "2010-04-01",
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApis]:
    apis = FakeApis()
    thread = threading.Thread(target=apis.server.serve_forever, daemon=True)
    thread.start()
    yield apis
    apis.released.set()
    apis.server.shutdown()


@contextlib.contextmanager
def channel_servers(fake: FakeApis, workdir: Path, **extra_env: str) -> Iterator[RunningServers]:
    """Real Rasa and action servers with all three channels pointed at the fake API, configured by the
    credentials generator; `extra_env` adds settings (for example a short platform timeout)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    env = {
        **CHANNEL_ENV,
        "TELEGRAM_API_URL": fake.url,
        "TWILIO_API_URL": fake.url,
        "FB_API_URL": fake.url,
        "FB_API_VERSION": FB_VERSION,
        **extra_env,
    }
    path = workdir / "credentials.yml"
    assert credentials.main([str(path)], env=env) == 0
    with running_servers(MODEL, workdir, credentials=path, extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def rasa(fake: FakeApis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServers]:
    """Real Rasa and action servers with all three channels, configured by the credentials generator."""
    with channel_servers(fake, tmp_path_factory.mktemp("kanalen")) as running:
        yield running


def official_question(topic: Topic) -> str:
    return topic.official_question if topic.section == "Q&A" else topic.title


def assert_no_marker(calls: List[Call]) -> None:
    assert all("officieel" not in json.dumps(c.data) for c in calls), "the internal marker must never be sent"


# --- credentials generator ----------------------------------------------------------------------------


def test_generated_credentials_hold_references_not_secrets(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yml"
    assert credentials.main([str(path)], env=CHANNEL_ENV) == 0
    text = path.read_text(encoding="utf-8")
    assert "vraagbaak.adapters.channels.rest.SafeRestInput:" in text and "VraagbaakSocketIOInput:" in text
    assert "secret_token: ${TELEGRAM_SECRET_TOKEN}" in text and "auth_token: ${TWILIO_AUTH_TOKEN}" in text
    assert all(value not in text for value in (TELEGRAM_TOKEN, TELEGRAM_SECRET, TWILIO_TOKEN, FB_SECRET))


def test_channels_without_variables_are_left_out_and_partial_ones_refused(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yml"
    assert credentials.main([str(path)], env={}) == 0
    assert set(credentials.build_credentials({})) == {credentials.REST_KEY, credentials.SOCKETIO_KEY}
    assert credentials.main([str(path)], env={"TWILIO_AUTH_TOKEN": "x"}) == 2
    insecure = {
        **CHANNEL_ENV,
        "TELEGRAM_WEBHOOK_URL": "http://vraagbaak.example.org/webhooks/telegram/webhook",
    }
    assert credentials.main([str(path)], env=insecure) == 2


# --- Telegram ---------------------------------------------------------------------------------------------


def telegram_update(chat_id: int, text: str | None = None, button: str | None = None) -> Dict[str, Any]:
    """A Telegram Update: a text message, or a callback_query for a pressed inline button."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "nl"}
    chat = {"id": chat_id, "first_name": "Test", "type": "private"}
    if button is None:
        message = {"message_id": next(_ids), "from": user, "chat": chat, "date": 1700000000, "text": text}
        return {"update_id": next(_ids), "message": message}
    bot = {"id": 123456, "is_bot": True, "first_name": "Vraagbaak", "username": TELEGRAM_BOT}
    shown = {
        "message_id": next(_ids),
        "from": bot,
        "chat": chat,
        "date": 1700000000,
        "text": "Gerelateerde vragen:",
    }
    query = {"id": str(next(_ids)), "from": user, "message": shown, "chat_instance": "-1", "data": button}
    return {"update_id": next(_ids), "callback_query": query}


def post_telegram(rasa: RunningServers, update: Dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = requests.post(
        f"{rasa.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60
    )
    return response.status_code


def telegram_texts(calls: List[Call]) -> List[str]:
    return [c.data["text"] for c in calls if c.method == "sendMessage"]


def keyboard(call: Call) -> List[List[Dict[str, str]]]:
    return json.loads(call.data["reply_markup"])["inline_keyboard"]


def test_telegram_webhook_is_registered_with_the_secret(rasa: RunningServers, fake: FakeApis) -> None:
    registered = fake.wait_for("telegram", "setWebhook")
    assert registered, "setWebhook was never called"
    assert registered[-1].data["url"] == CHANNEL_ENV["TELEGRAM_WEBHOOK_URL"]
    assert registered[-1].data["secret_token"] == TELEGRAM_SECRET
    assert str(registered[-1].data["max_connections"]) == "100"


def test_telegram_answer_unchanged_with_a_vertical_keyboard(rasa: RunningServers, fake: FakeApis) -> None:
    chat, topic = 7001, KB.by_id("legaliseren_decriminaliseren")
    assert post_telegram(rasa, telegram_update(chat, official_question(topic))) == 200
    calls = [c for c in fake.of("telegram", str(chat)) if c.method == "sendMessage"]
    assert "".join(telegram_texts(calls[:-1])) == topic.answer_text
    assert all(utf16_length(t) <= TELEGRAM_LIMIT for t in telegram_texts(calls))
    assert calls[-1].data["text"] == KB.message("gerelateerd_kop")
    rows = keyboard(calls[-1])
    assert all(len(row) == 1 for row in rows), "one button per row"
    assert [row[0]["text"] for row in rows] == [KB.by_id(r).title for r in topic.related]
    assert [row[0]["callback_data"] for row in rows] == [f"/{KB.by_id(r).intent}" for r in topic.related]
    assert "reply_markup" not in calls[0].data
    assert_no_marker(fake.of("telegram", str(chat)))


def test_telegram_button_press_answers_that_topic(rasa: RunningServers, fake: FakeApis) -> None:
    chat, topic = 7002, KB.by_id("pooiers")
    post_telegram(rasa, telegram_update(chat, official_question(topic)))
    first = keyboard([c for c in fake.of("telegram", str(chat)) if c.method == "sendMessage"][-1])[0][0]
    before = len(fake.of("telegram", str(chat)))
    update = telegram_update(chat, button=first["callback_data"])
    assert post_telegram(rasa, update) == 200
    acknowledged = [c for c in fake.of("telegram") if c.method == "answerCallbackQuery"]
    assert update["callback_query"]["id"] in [c.data["callback_query_id"] for c in acknowledged]
    texts = telegram_texts(fake.of("telegram", str(chat))[before:])
    assert "".join(texts[:-1]) == KB.by_id(topic.related[0]).answer_text


def test_telegram_start_command_greets(rasa: RunningServers, fake: FakeApis) -> None:
    chat = 7003
    post_telegram(rasa, telegram_update(chat, "/start"))
    assert telegram_texts(fake.of("telegram", str(chat))) == [KB.message("groet")]


@pytest.mark.parametrize(
    "chat, secret", [(7101, "fout-geheim"), (7102, ""), (7103, None), (7104, TELEGRAM_SECRET + "x")]
)
def test_telegram_update_without_the_secret_is_refused(
    rasa: RunningServers, fake: FakeApis, chat: int, secret: str | None
) -> None:
    assert post_telegram(rasa, telegram_update(chat, official_question(KB.by_id("pooiers"))), secret) == 403
    assert fake.of("telegram", str(chat)) == []


# --- Twilio (WhatsApp and SMS) ------------------------------------------------------------------------


def twilio_form(sender: str, body: str) -> Dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp (or SMS) message, blank fields included."""
    whatsapp = sender.startswith("whatsapp:")
    to = f"whatsapp:{TWILIO_NUMBER}" if whatsapp else TWILIO_NUMBER
    sid = f"SM{next(_ids):032d}"
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form.update(
            {"ProfileName": "", "WaId": sender.split("+")[-1], "MessageType": "text", "ReferralNumMedia": "0"}
        )
    return form


def post_twilio(
    rasa: RunningServers,
    form: Dict[str, str],
    url: str = CHANNEL_ENV["TWILIO_WEBHOOK_URL"],
    token: str = TWILIO_TOKEN,
    signed: Dict[str, str] | None = None,
) -> int:
    """POST the form, signed by RequestValidator for `url` (the public URL unless a test forges it)."""
    signature = RequestValidator(token).compute_signature(url, signed if signed is not None else form)
    response = requests.post(
        f"{rasa.rasa_url}/webhooks/twilio/webhook",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=60,
    )
    return response.status_code


def bodies(fake: FakeApis, sender: str, since: int = 0) -> List[str]:
    return [c.data["Body"] for c in fake.of("twilio", sender)[since:]]


def assert_numbered(body: str, topic: Topic) -> None:
    titles = [KB.by_id(r).title for r in topic.related]
    expected = "\n".join(f"{n}. {t}" for n, t in enumerate(titles, 1))
    assert body == f"{KB.message('gerelateerd_kop')}\n{expected}\n\n{KB.message('keuze_hint')}"
    assert "/faq" not in body and "(/" not in body


def test_whatsapp_long_answer_is_split_unchanged_and_buttons_are_numbered(
    rasa: RunningServers, fake: FakeApis
) -> None:
    sender, topic = "whatsapp:+31612340001", KB.by_id("bewijzen")
    assert post_twilio(rasa, twilio_form(sender, official_question(topic))) == 200
    sent = bodies(fake, sender)
    assert len(sent) >= 3, "1889 characters need two WhatsApp messages, then the list"
    assert "".join(sent[:-1]) == topic.answer_text
    assert all(len(b) <= TWILIO_LIMIT for b in sent)
    assert_numbered(sent[-1], topic)
    assert {c.data["From"] for c in fake.of("twilio", sender)} == {f"whatsapp:{TWILIO_NUMBER}"}
    assert_no_marker(fake.of("twilio", sender))


def test_whatsapp_typed_number_answers_that_related_topic(rasa: RunningServers, fake: FakeApis) -> None:
    sender, topic = "whatsapp:+31612340002", KB.by_id("bewijzen")
    post_twilio(rasa, twilio_form(sender, official_question(topic)))
    before = len(bodies(fake, sender))
    assert post_twilio(rasa, twilio_form(sender, "2")) == 200
    second = KB.by_id(topic.related[1])
    sent = bodies(fake, sender, before)
    assert "".join(sent[:-1]) == second.answer_text
    assert_numbered(sent[-1], second)


def test_sms_is_sent_from_the_plain_number(rasa: RunningServers, fake: FakeApis) -> None:
    sender, topic = "+31612340003", KB.by_id("pooiers")
    assert post_twilio(rasa, twilio_form(sender, official_question(topic))) == 200
    assert "".join(bodies(fake, sender)[:-1]) == topic.answer_text
    assert {c.data["From"] for c in fake.of("twilio", sender)} == {TWILIO_NUMBER}


FORGERIES = {
    "wrong token": {"token": "geraden-token"},
    "signed for the internal url": {"url": "INTERNAL"},
    "body changed after signing": {"signed": "OTHER"},
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_twilio_forged_signature_is_refused(rasa: RunningServers, fake: FakeApis, forgery: str) -> None:
    sender = f"whatsapp:+3169999{list(FORGERIES).index(forgery):04d}"
    form = twilio_form(sender, official_question(KB.by_id("pooiers")))
    options: Dict[str, Any] = dict(FORGERIES[forgery])
    if options.get("url") == "INTERNAL":
        options["url"] = f"{rasa.rasa_url}/webhooks/twilio/webhook"
    if options.get("signed") == "OTHER":
        options["signed"] = {**form, "Body": "iets anders"}
    assert post_twilio(rasa, form, **options) == 403
    assert fake.of("twilio", sender) == []


def test_twilio_request_without_signature_is_refused(rasa: RunningServers, fake: FakeApis) -> None:
    sender = "whatsapp:+31612349999"
    response = requests.post(
        f"{rasa.rasa_url}/webhooks/twilio/webhook", data=twilio_form(sender, "hallo"), timeout=30
    )
    assert response.status_code == 403
    assert fake.of("twilio", sender) == []


# --- Messenger ------------------------------------------------------------------------------------------------


def messenger_event(
    sender: str, text: str | None = None, postback: str | None = None, quick_reply: str | None = None
) -> Dict[str, Any]:
    event: Dict[str, Any] = {
        "sender": {"id": sender},
        "recipient": {"id": "PAGE1"},
        "timestamp": 1700000000000,
    }
    if quick_reply is not None:  # Meta sends the button's title as text, and its payload
        event["message"] = {"mid": f"m_{next(_ids)}", "text": text, "quick_reply": {"payload": quick_reply}}
    elif postback is None:
        event["message"] = {"mid": f"m_{next(_ids)}", "text": text}
    else:
        event["postback"] = {"mid": f"m_{next(_ids)}", "title": "knop", "payload": postback}
    return event


def page_entry(*events: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON Meta posts: a page object with entries of messaging events."""
    return {"object": "page", "entry": [{"id": "PAGE1", "time": 1700000000000, "messaging": list(events)}]}


def hub_signature(body: bytes, algorithm: str = "sha256", secret: str = FB_SECRET) -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def post_messenger(
    rasa: RunningServers, payload: Dict[str, Any], headers: Dict[str, str] | None = None
) -> int:
    body = json.dumps(payload).encode("utf-8")
    if headers is None:
        headers = {"x-hub-signature-256": hub_signature(body), "X-Hub-Signature": hub_signature(body, "sha1")}
    headers = {"Content-Type": "application/json", **headers}
    response = requests.post(
        f"{rasa.rasa_url}/webhooks/facebook/webhook", data=body, headers=headers, timeout=60
    )
    return response.status_code


def messages(fake: FakeApis, sender: str, since: int = 0) -> List[Dict[str, Any]]:
    """The messages sent to a user (sender actions such as typing_on left out)."""
    return [c.data["message"] for c in fake.of("meta", sender)[since:] if "message" in c.data]


def templates(sent: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["attachment"]["payload"] for m in sent if "attachment" in m]


def test_messenger_answer_unchanged_with_at_most_three_buttons(rasa: RunningServers, fake: FakeApis) -> None:
    sender, topic = "psid-8001", KB.by_id("legaliseren_decriminaliseren")
    assert post_messenger(rasa, page_entry(messenger_event(sender, official_question(topic)))) == 200
    sent = messages(fake, sender)
    texts = [m["text"] for m in sent if "text" in m]
    assert "".join(texts) == topic.answer_text
    assert all(len(t) <= MESSENGER_LIMIT for t in texts)
    (template,) = templates(sent)
    assert (
        len(template["buttons"]) <= MESSENGER_MAX_BUTTONS
        and len(template["text"]) <= MESSENGER_TEMPLATE_LIMIT
    )
    assert [b["payload"] for b in template["buttons"]] == [f"/{KB.by_id(r).intent}" for r in topic.related]
    assert all(
        b["type"] == "postback" and len(b["title"]) <= MESSENGER_TITLE_LIMIT for b in template["buttons"]
    )
    assert all(KB.by_id(r).title in template["text"] for r in topic.related), "full titles in the text"
    actions = [c.data["sender_action"] for c in fake.of("meta", sender) if "sender_action" in c.data]
    assert actions == ["mark_seen", "typing_on", "typing_off"]
    assert all(c.query.get("appsecret_proof") for c in fake.of("meta", sender))
    assert_no_marker(fake.of("meta", sender))


def test_messenger_postback_answers_that_topic(rasa: RunningServers, fake: FakeApis) -> None:
    sender, topic = "psid-8002", KB.by_id("kritiek")
    assert post_messenger(rasa, page_entry(messenger_event(sender, postback=f"/{topic.intent}"))) == 200
    assert "".join(m["text"] for m in messages(fake, sender) if "text" in m) == topic.answer_text


def test_messenger_menu_shows_three_buttons_then_meer_vragen_pages(
    rasa: RunningServers, fake: FakeApis
) -> None:
    sender, more_title = "psid-8003", KB.message("knop_meer_vragen")
    post_messenger(rasa, page_entry(messenger_event(sender, postback="/chat_wat_kan_je")))
    pages = [m for m in messages(fake, sender) if "attachment" in m]
    assert len(pages) == 1
    while "quick_replies" in pages[-1]:  # tap "Meer vragen" until the last page
        (more,) = pages[-1]["quick_replies"]
        assert more["title"] == more_title and len(more["payload"]) <= MESSENGER_PAYLOAD_LIMIT
        before = len(fake.of("meta", sender))
        event = messenger_event(sender, more_title, quick_reply=more["payload"])
        assert post_messenger(rasa, page_entry(event)) == 200
        (page,) = messages(fake, sender, before)
        pages.append(page)
        assert len(pages) <= 6
    shown = [p["attachment"]["payload"] for p in pages]
    assert all(len(t["buttons"]) == MESSENGER_MAX_BUTTONS for t in shown)
    assert [b["payload"] for t in shown for b in t["buttons"]] == [f"/{t.intent}" for t in KB.topics]
    assert shown[1]["text"].startswith(f"4. {KB.topics[3].title}")
    before = len(fake.of("meta", sender))
    post_messenger(rasa, page_entry(messenger_event(sender, "17")))  # a number from the last page
    answer = "".join(m["text"] for m in messages(fake, sender, before) if "text" in m)
    assert answer == KB.topics[16].answer_text


def test_messenger_forged_meer_vragen_payload_gets_the_unknown_choice_reply(
    rasa: RunningServers, fake: FakeApis
) -> None:
    sender = "psid-8006"
    forged = MORE_PREFIX + '{"vanaf": 4, "knoppen": ["/faq_bestaat_niet"]}'
    event = messenger_event(sender, KB.message("knop_meer_vragen"), quick_reply=forged)
    assert post_messenger(rasa, page_entry(event)) == 200
    assert [m.get("text") for m in messages(fake, sender)] == [KB.message("onbekende_knop")]
    post_messenger(rasa, page_entry(messenger_event(sender, postback="/faq_pooiers")))  # the chat goes on
    assert KB.by_id("pooiers").answer_text in "".join(m.get("text", "") for m in messages(fake, sender))


def test_messenger_handles_every_event_of_a_batch(rasa: RunningServers, fake: FakeApis) -> None:
    first, second = "psid-8004", "psid-8005"
    payload = page_entry(
        messenger_event(first, postback="/faq_pooiers"), messenger_event(second, postback="/faq_belgie")
    )
    assert post_messenger(rasa, payload) == 200
    assert "".join(m["text"] for m in messages(fake, first) if "text" in m) == KB.by_id("pooiers").answer_text
    assert "".join(m["text"] for m in messages(fake, second) if "text" in m) == KB.by_id("belgie").answer_text


def test_messenger_legacy_sha1_signature_is_accepted(rasa: RunningServers, fake: FakeApis) -> None:
    sender = "psid-8006"
    payload = page_entry(messenger_event(sender, postback="/faq_pooiers"))
    body = json.dumps(payload).encode("utf-8")
    assert post_messenger(rasa, payload, {"X-Hub-Signature": hub_signature(body, "sha1")}) == 200
    assert messages(fake, sender)


def messenger_forgeries(body: bytes) -> Dict[str, Dict[str, str]]:
    return {
        "wrong secret": {"X-Hub-Signature-256": hub_signature(body, secret="geraden")},
        "no signature": {},
        "valid sha1 but forged sha256": {
            "X-Hub-Signature-256": hub_signature(body, secret="geraden"),
            "X-Hub-Signature": hub_signature(body, "sha1"),
        },
        "other hash": {"X-Hub-Signature": hub_signature(body, "md5")},
    }


@pytest.mark.parametrize(
    "forgery", ["wrong secret", "no signature", "valid sha1 but forged sha256", "other hash"]
)
def test_messenger_forged_signature_is_refused(rasa: RunningServers, fake: FakeApis, forgery: str) -> None:
    sender = f"psid-forged-{forgery.replace(' ', '-')}"
    payload = page_entry(messenger_event(sender, postback="/faq_pooiers"))
    headers = messenger_forgeries(json.dumps(payload).encode("utf-8"))[forgery]
    assert post_messenger(rasa, payload, headers) == 403
    assert fake.of("meta", sender) == []


def test_messenger_webhook_verification(rasa: RunningServers) -> None:
    url = f"{rasa.rasa_url}/webhooks/facebook/webhook"
    good = {"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY, "hub.challenge": "1158201444"}
    assert requests.get(url, params=good, timeout=10).text == "1158201444"
    assert requests.get(url, params={**good, "hub.verify_token": "fout"}, timeout=10).status_code == 403


def test_rasas_own_facebook_channel_checks_x_hub_signature() -> None:
    """Rasa's FacebookInput does check X-Hub-Signature; ours adds sha256, constant time and a 403."""
    body = b'{"object": "page"}'
    assert FacebookInput.validate_hub_signature(FB_SECRET, body, hub_signature(body, "sha1"))
    assert not FacebookInput.validate_hub_signature(FB_SECRET, body, hub_signature(body, "sha1", "geraden"))
    assert not FacebookInput.validate_hub_signature(FB_SECRET, body, "")


def test_channel_texts_numbers_and_secrets_never_reach_the_log(rasa: RunningServers) -> None:
    """Runs last in this module, after every channel has carried messages."""
    log = rasa.rasa_log.read_text(encoding="utf-8", errors="replace")
    assert KB.by_id("bewijzen").official_question not in log
    assert "31612340001" not in log and "psid-8001" not in log, "no phone numbers or Messenger ids"
    assert all(secret not in log for secret in (TELEGRAM_TOKEN, TELEGRAM_SECRET, TWILIO_TOKEN, FB_SECRET))


# The three messaging channels bound their input like REST and socket.io: 100 KB gets the Dutch "te lang".
OVERSIZED = "a" * (100 * 1024)
TOO_LONG = KB.message("invoer_te_lang", maximum=str(MAX_LENGTH))


def test_telegram_oversized_message_gets_too_long(rasa: RunningServers, fake: FakeApis) -> None:
    chat = 7901
    assert post_telegram(rasa, telegram_update(chat, OVERSIZED)) == 200
    assert telegram_texts(fake.of("telegram", str(chat))) == [TOO_LONG]


def test_twilio_oversized_message_gets_too_long(rasa: RunningServers, fake: FakeApis) -> None:
    sender = "whatsapp:+31612349901"
    assert post_twilio(rasa, twilio_form(sender, OVERSIZED)) == 200
    assert bodies(fake, sender) == [TOO_LONG]


def test_messenger_oversized_message_gets_too_long(rasa: RunningServers, fake: FakeApis) -> None:
    sender = "psid-9901"
    assert post_messenger(rasa, page_entry(messenger_event(sender, text=OVERSIZED))) == 200
    assert [m["text"] for m in messages(fake, sender) if "text" in m] == [TOO_LONG]
