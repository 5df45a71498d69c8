"""A messaging-platform sender may send a burst, then is refused with one notice per interval."""
from __future__ import annotations

import logging
from typing import List

import pytest

from vraagbaak.adapters.channels.sender_limit import Admission, SenderLimit
from vraagbaak.core.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def admissions(limit: SenderLimit, conversation: str, n: int) -> List[Admission]:
    return [limit.admit(conversation) for _ in range(n)]


def test_a_burst_passes_then_one_notice_then_silence_until_the_interval() -> None:
    clock = Clock()
    limit = SenderLimit("Telegram", Settings(rate_burst=3, rate_per_minute=6), clock=clock)
    assert admissions(limit, "telegram:a", 3) == [Admission.ADMITTED] * 3
    assert admissions(limit, "telegram:a", 3) == [
        Admission.REFUSED_WITH_NOTICE,
        Admission.REFUSED,
        Admission.REFUSED,
    ]
    clock.now = 10.0  # one token back (6 a minute) and the notice interval over
    assert limit.admit("telegram:a") == Admission.ADMITTED
    assert limit.admit("telegram:a") == Admission.REFUSED_WITH_NOTICE


def test_one_sender_over_the_limit_leaves_another_untouched() -> None:
    limit = SenderLimit("Twilio", Settings(rate_burst=2, rate_per_minute=1), clock=Clock())
    admissions(limit, "twilio:flood", 10)
    assert admissions(limit, "twilio:other", 2) == [Admission.ADMITTED] * 2


def test_the_log_counts_refusals_by_channel_never_by_sender(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limit = SenderLimit("Messenger", Settings(rate_burst=1, rate_per_minute=1), clock=clock)
    with caplog.at_level(logging.WARNING):
        admissions(limit, "facebook:psid-geheim-123", 4)
        clock.now = 6.0
        admissions(limit, "facebook:psid-geheim-123", 1)
    assert "Messenger: afzender stuurt te veel berichten (3 geweigerd)" in caplog.text
    assert "psid-geheim-123" not in caplog.text
