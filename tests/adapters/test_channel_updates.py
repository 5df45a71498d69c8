"""What an incoming platform update asks, and how an answer is delivered: pure parts of the channels, without
servers (the end-to-end proofs are in tests/e2e/test_channel_starts.py and test_channel_delivery.py)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List

import pytest

from vraagbaak.adapters.channels import delivery
from vraagbaak.adapters.channels.delivery import CompleteOrNothing, DeliveryFailed
from vraagbaak.adapters.channels.opening import opening_payloads, telegram_start
from vraagbaak.adapters.channels.telegram import Incoming, group_key, incoming
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import ConfigError, Settings

KB = knowledge_base()


def update(text: str | None = None, chat_type: str = "private", kind: str = "message", **extra: Any) -> Dict:
    message: Dict[str, Any] = {"message_id": 1, "date": 1, "chat": {"id": 42, "type": chat_type}, **extra}
    if text is not None:
        message["text"] = text
    return {"update_id": 1, kind: message}


@pytest.mark.parametrize(
    "payload, expected",
    [
        (None, ["/chat_groet"]),
        ("", ["/chat_groet"]),
        ("abc", ["/chat_groet"]),
        ("onderwerp_faq_pooiers", ["/chat_groet", "/faq_pooiers"]),
        ("onderwerp_gesprek_vergeten", ["/chat_groet"]),  # an intent, not a topic
        ("onderwerp_faq_bestaat_niet", ["/chat_groet"]),
        ("faq_pooiers", ["/chat_groet"]),  # without the prefix
    ],
)
def test_an_opening_greets_and_opens_only_a_known_topic(payload: str | None, expected: List[str]) -> None:
    assert opening_payloads(payload) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/start", ["/chat_groet"]),
        ("  /start  ", ["/chat_groet"]),
        ("/start@VraagbaakBot", ["/chat_groet"]),
        ("/start onderwerp_faq_pooiers", ["/chat_groet", "/faq_pooiers"]),
        ("/START abc", ["/chat_groet"]),
        ("/starten", None),
        ("start", None),
        ("/start twee woorden", None),  # not what a deep link sends: read as text
    ],
)
def test_telegram_start_commands(text: str, expected: List[str] | None) -> None:
    assert telegram_start(text) == expected


def test_telegram_updates_map_to_what_they_ask() -> None:
    assert incoming(update("hallo")) == Incoming("42", ("hallo",))
    assert incoming(update("/start onderwerp_faq_pooiers")) == Incoming("42", ("/chat_groet", "/faq_pooiers"))
    assert incoming(update("/help@VraagbaakBot")) == Incoming("42", ("/chat_wat_kan_je",))
    assert incoming(update("hallo", kind="edited_message")) == Incoming("42", reply="bericht_bewerkt")
    assert incoming(update(story={"id": 1})) == Incoming("42", reply="alleen_tekst")
    assert incoming(update(pinned_message={"message_id": 2})) is None  # a service message: nothing to answer
    for chat_type in ("group", "supergroup", "channel"):
        assert incoming(update("2", chat_type)) == Incoming("42", reply="alleen_prive", group=True)
    assert incoming(update("2", kind="channel_post")) is None


def test_a_group_key_names_no_group() -> None:
    key = group_key("-1001234567")
    assert "1234567" not in key and len(key) == len("telegram:groep:") + 32
    assert key == group_key("-1001234567") != group_key("-1001234568")


class Recorder(CompleteOrNothing):
    """A platform that accepts or refuses each message in turn; records what it was asked to send."""

    def __init__(self, refuse: List[int]) -> None:
        self.refuse, self.calls, self.sent = refuse, 0, []  # type: ignore[var-annotated]

    @classmethod
    def name(cls) -> str:
        return "test"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls in self.refuse:
            raise DeliveryFailed("refused")
        self.sent.append(text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, f"{text} [{len(buttons)} knoppen]")


ANSWER = [
    ("test:1", {"text": "Het antwoord."}),
    ("test:1", {"text": "Gerelateerde vragen:", "buttons": [{"title": "a", "payload": "/a"}]}),
]
SORRY = KB.message("antwoord_onvolledig")


def deliver(refuse: List[int], messages: List[Any] = ANSWER) -> Recorder:
    out = Recorder(refuse)

    async def run() -> None:
        out.hold()
        for recipient, message in messages:
            await out.send_response(recipient, dict(message))
        assert out.sent == [], "held while the turn runs"
        await out.deliver_held()

    asyncio.run(run())
    return out


def test_only_the_list_failing_means_no_apology_and_a_lost_list() -> None:
    out = deliver(refuse=[2])
    assert out.sent == ["Het antwoord."] and out.list_lost


def test_the_answer_failing_means_one_apology_and_a_lost_list() -> None:
    out = deliver(refuse=[1])
    assert out.sent == [SORRY] and out.list_lost


def test_a_complete_answer_keeps_its_list() -> None:
    out = deliver(refuse=[])
    assert out.sent == ["Het antwoord.", "Gerelateerde vragen: [1 knoppen]"] and not out.list_lost


def test_a_list_that_is_the_whole_reply_failing_gets_the_apology() -> None:
    """A menu or a clarification is nothing but its list: when it fails, the user has no answer at all."""
    out = deliver(refuse=[1], messages=ANSWER[1:])
    assert out.sent == [SORRY] and out.list_lost


def test_the_platform_timeout_is_a_setting_of_whole_seconds() -> None:
    assert Settings.from_env({}).platform_timeout == 10
    assert Settings.from_env({"VRAAGBAAK_PLATFORM_TIMEOUT": "3"}).platform_timeout == 3
    for wrong in ("0", "-1", "1.5", "tien"):
        with pytest.raises(ConfigError):
            Settings.from_env({"VRAAGBAAK_PLATFORM_TIMEOUT": wrong})


def test_a_call_past_the_deadline_is_a_failed_send_logged_without_details(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VRAAGBAAK_PLATFORM_TIMEOUT", "1")
    delivery.platform_timeout.cache_clear()
    ended: List[str] = []

    async def never(recipient: str) -> None:
        try:
            await asyncio.sleep(30)
        finally:
            ended.append(recipient)  # cancelled, not left running

    async def quick() -> str:
        return "ok"

    try:
        with caplog.at_level(logging.WARNING):
            assert asyncio.run(delivery.within_deadline("Test", quick())) == "ok"
            with pytest.raises(DeliveryFailed):
                asyncio.run(delivery.within_deadline("Test", never("+31612345678")))
    finally:
        delivery.platform_timeout.cache_clear()
    assert ended == ["+31612345678"]
    assert [r.getMessage() for r in caplog.records] == [
        "Test: platform gaf binnen 1 s geen antwoord; telt als mislukt"
    ]
