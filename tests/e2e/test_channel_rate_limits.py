"""A messaging-platform sender who floods is refused with one Dutch notice, before Rasa reads the message, and
another sender of the same channel is answered as usual. Real Rasa; the platforms are the fake API on loopback.
"""
from __future__ import annotations

from typing import Callable, Iterator, List

import pytest

from tests.e2e import test_channels as channels
from tests.e2e.test_channel_delivery import messenger_sent, telegram_sent, twilio_sent
from tests.e2e.test_channels import (
    KB,
    FakeApis,
    channel_servers,
    messenger_event,
    official_question,
    page_entry,
    post_messenger,
    post_telegram,
    post_twilio,
    telegram_update,
    twilio_form,
)
from vraagbaak.ops.processes import RunningServers

pytestmark = pytest.mark.servers

fake = channels.fake
BURST = 3
TOO_MANY = KB.message("te_veel_berichten")
TOPIC = KB.by_id("pooiers")


@pytest.fixture(scope="module")
def rasa(fake: FakeApis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServers]:
    """Three messages at once per sender, refilled at one every 20 s: a test can exceed it by typing."""
    workdir = tmp_path_factory.mktemp("te_veel")
    with channel_servers(
        fake, workdir, VRAAGBAAK_RATE_BURST=str(BURST), VRAAGBAAK_RATE_PER_MINUTE="3"
    ) as running:
        yield running


def flood(post: Callable[[str], object], sent: Callable[[], List[str]]) -> List[str]:
    """Six questions in a row; what the sender received."""
    for _ in range(2 * BURST):
        post(official_question(TOPIC))
    return sent()


def test_telegram_flood_gets_one_notice_and_another_chat_is_answered(
    rasa: RunningServers, fake: FakeApis
) -> None:
    received = flood(
        lambda t: post_telegram(rasa, telegram_update(97801931, t)), lambda: telegram_sent(fake, 97801931)
    )
    assert received.count(TOO_MANY) == 1
    assert "".join(received).count(TOPIC.answer_text) == BURST
    post_telegram(rasa, telegram_update(97801932, official_question(TOPIC)))
    assert TOPIC.answer_text in "".join(telegram_sent(fake, 97801932))


def test_whatsapp_flood_gets_one_notice_and_another_sender_is_answered(
    rasa: RunningServers, fake: FakeApis
) -> None:
    sender, other = "whatsapp:+316123497801931", "whatsapp:+316123497801932"
    received = flood(lambda t: post_twilio(rasa, twilio_form(sender, t)), lambda: twilio_sent(fake, sender))
    assert received.count(TOO_MANY) == 1
    assert "".join(received).count(TOPIC.answer_text) == BURST
    post_twilio(rasa, twilio_form(other, official_question(TOPIC)))
    assert TOPIC.answer_text in "".join(twilio_sent(fake, other))


def test_messenger_flood_gets_one_notice_and_another_user_is_answered(
    rasa: RunningServers, fake: FakeApis
) -> None:
    def texts(psid: str) -> List[str]:
        return [m.get("text", "") for m in messenger_sent(fake, psid)]

    received = flood(
        lambda t: post_messenger(rasa, page_entry(messenger_event("psid-97801931", t))),
        lambda: texts("psid-97801931"),
    )
    assert received.count(TOO_MANY) == 1
    assert "".join(received).count(TOPIC.answer_text) == BURST
    post_messenger(rasa, page_entry(messenger_event("psid-97801932", official_question(TOPIC))))
    assert TOPIC.answer_text in "".join(texts("psid-97801932"))


def test_refusals_reach_the_log_as_counts_only(rasa: RunningServers) -> None:
    log = rasa.rasa_log.read_text(encoding="utf-8", errors="replace")
    for label in ("Telegram", "Twilio", "Messenger"):
        assert f"{label}: afzender stuurt te veel berichten (1 geweigerd)" in log
    for secret in ("97801931", "+316123497801931", "psid-97801931"):
        assert secret not in log
