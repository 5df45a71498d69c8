"""No platform, however slow, delays another user's answer: replies go out after the shared turn, every platform
call has a deadline (VRAAGBAAK_PLATFORM_TIMEOUT), and slowness is logged as an event without the recipient.
Real Rasa; the platforms are the fake API on loopback, made slow or silent per recipient.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
import requests

from tests.e2e import test_channels as channels
from tests.e2e.test_channels import (
    KB,
    Call,
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
from tests.support.bot import answer_parts
from vraagbaak.ops.processes import RunningServers

pytestmark = pytest.mark.servers

fake = channels.fake
TIMEOUT = 8  # seconds, this module's VRAAGBAAK_PLATFORM_TIMEOUT
SLOW = 5.0  # seconds a slow platform takes per call: slow, but within the timeout
NEVER = 3600.0  # a call that never returns (released at teardown)
POOIERS = KB.by_id("pooiers")
QUESTION = official_question(POOIERS)
INCOMPLETE = KB.message("antwoord_onvolledig")


@pytest.fixture(scope="module")
def rasa(fake: FakeApis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServers]:
    """Real Rasa and action servers with all three channels and a short platform timeout."""
    workdir = tmp_path_factory.mktemp("trage_kanalen")
    with channel_servers(fake, workdir, VRAAGBAAK_PLATFORM_TIMEOUT=str(TIMEOUT)) as running:
        yield running


def in_threads(calls: List[Callable[[], object]]) -> Tuple[List[threading.Thread], Dict[int, object]]:
    """Start each call in a thread of its own; their results by index once they end."""
    results: Dict[int, object] = {}

    def run(index: int, call: Callable[[], object]) -> None:
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, results


def post_as(rasa: RunningServers, service: str, recipient: str, text: str) -> Callable[[], object]:
    """A webhook call of this platform's user; it returns when the bot has sent (or given up on) the reply."""
    if service == "telegram":
        return lambda: post_telegram(rasa, telegram_update(int(recipient), text))
    if service == "twilio":
        return lambda: post_twilio(rasa, twilio_form(recipient, text))
    return lambda: post_messenger(rasa, page_entry(messenger_event(recipient, text)))


def rest_answer(rasa: RunningServers) -> Callable[[], object]:
    def ask() -> object:
        reply = requests.post(
            f"{rasa.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"omstander-{uuid.uuid4().hex[:8]}", "message": QUESTION},
            timeout=120,
        )
        return answer_parts(reply.json())["topic"]

    return ask


def text_of(call: Call) -> str:
    if call.service == "telegram":
        return str(call.data.get("text", ""))
    if call.service == "twilio":
        return str(call.data.get("Body", ""))
    return str((call.data.get("message") or {}).get("text", ""))


def messages_to(fake: FakeApis, service: str, recipient: str) -> List[Call]:
    return [c for c in fake.of(service, recipient) if c.is_message]


def test_slow_sends_on_every_platform_hold_up_no_one_else(rasa: RunningServers, fake: FakeApis) -> None:
    """Six users whose platform takes 5 s per call (more than the 4 shared turns); meanwhile a REST user and a
    new user on each platform ask. All of them are answered before any slow user's answer is complete."""
    slow = [
        ("telegram", "8101123457"),
        ("telegram", "8102123457"),
        ("twilio", "whatsapp:+31612348101"),
        ("twilio", "whatsapp:+31612348102"),
        ("meta", "psid-8101123457"),
        ("meta", "psid-8102123457"),
    ]
    for service, recipient in slow:
        fake.slow(service, recipient, SLOW)
    slow_threads, _ = in_threads([post_as(rasa, s, r, QUESTION) for s, r in slow])
    time.sleep(1.0)  # the slow users' replies are on their way
    bystanders = [
        rest_answer(rasa),
        post_as(rasa, "telegram", "8110123457", QUESTION),
        post_as(rasa, "twilio", "whatsapp:+31612348110", QUESTION),
        post_as(rasa, "meta", "psid-8110123457", QUESTION),
    ]
    threads, results = in_threads(bystanders)
    for thread in threads:
        thread.join(timeout=120)
    bystanders_done = time.monotonic()
    for thread in slow_threads:
        thread.join(timeout=120)
    assert results == {0: "pooiers", 1: 200, 2: 200, 3: 200}
    for service, recipient in (("telegram", "8110123457"), ("twilio", "whatsapp:+31612348110")):
        assert POOIERS.answer_text in "".join(text_of(c) for c in messages_to(fake, service, recipient))
    assert POOIERS.answer_text in "".join(text_of(c) for c in messages_to(fake, "meta", "psid-8110123457"))
    # Slow is not failed: every slow user got the whole answer, and no apology.
    slow_ends = []
    for service, recipient in slow:
        calls = messages_to(fake, service, recipient)
        assert POOIERS.answer_text in "".join(text_of(c) for c in calls), (service, "complete")
        assert all(c.status < 300 and c.answered for c in calls) and INCOMPLETE not in map(text_of, calls)
        slow_ends.append(max(c.answered or 0.0 for c in calls))
    assert bystanders_done < min(slow_ends), "every bystander was answered before the slow sends ended"
    log = rasa.rasa_log.read_text(encoding="utf-8", errors="replace")
    for channel in ("Telegram", "Twilio", "Messenger"):
        assert f"{channel}: platform traag (" in log
    for _, recipient in slow:
        assert recipient.split(":")[-1] not in log, "no recipient in the log"


def test_a_send_that_never_returns_is_cut_off_by_the_timeout(rasa: RunningServers, fake: FakeApis) -> None:
    """The platform never answers: each call is ended after the timeout, counts as a failed send (the apology
    is tried, and cut off too), and a REST user is answered meanwhile. Once the platform answers again, so
    does the bot."""
    silent = [("telegram", "8201123457"), ("twilio", "whatsapp:+31612348201"), ("meta", "psid-8201123457")]
    for service, recipient in silent:
        fake.slow(service, recipient, NEVER)
    threads, results = in_threads([post_as(rasa, s, r, QUESTION) for s, r in silent])
    time.sleep(1.0)
    assert rest_answer(rasa)() == "pooiers"
    assert all(thread.is_alive() for thread in threads), "the REST user did not wait for the silent platform"
    for thread in threads:
        thread.join(timeout=120)
    assert results == {0: 200, 1: 200, 2: 200}, "every webhook call ended: the sends were cut off"
    for service, recipient in silent:
        calls = messages_to(fake, service, recipient)
        assert [text_of(c) for c in calls][-1] == INCOMPLETE, (service, "the apology was tried")
        assert not any(c.answered for c in calls)
    log = rasa.rasa_log.read_text(encoding="utf-8", errors="replace")
    for channel in ("Telegram", "Twilio", "Messenger"):
        assert f"{channel}: platform gaf binnen {TIMEOUT} s geen antwoord" in log
    for service, recipient in silent:
        fake.slow(service, recipient, 0)
        assert post_as(rasa, service, recipient, QUESTION)() == 200
        delivered = [c for c in messages_to(fake, service, recipient) if c.answered]
        assert POOIERS.answer_text in "".join(text_of(c) for c in delivered), service


def test_a_slow_messenger_user_holds_up_no_one_in_the_same_batch(
    rasa: RunningServers, fake: FakeApis
) -> None:
    """Meta batches events of several users into one call: they are answered side by side, not in a row."""
    slow_psid, quick_psid = "psid-8301123457", "psid-8302123457"
    fake.slow("meta", slow_psid, SLOW)
    batch = page_entry(messenger_event(slow_psid, QUESTION), messenger_event(quick_psid, QUESTION))
    assert post_messenger(rasa, batch) == 200
    quick, slow = messages_to(fake, "meta", quick_psid), messages_to(fake, "meta", slow_psid)
    assert POOIERS.answer_text in "".join(map(text_of, quick))
    assert POOIERS.answer_text in "".join(map(text_of, slow)), "slow, but complete"
    quick_done = max(c.answered or 0.0 for c in quick)
    assert quick_done < min(c.answered or 0.0 for c in slow), "the quick user did not wait for the slow one"
