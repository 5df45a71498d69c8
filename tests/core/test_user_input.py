"""What a channel hands to Rasa: bounded, encodable, and a '/' only on button payloads."""
from __future__ import annotations

from typing import Any

import pytest

from vraagbaak.core.user_input import CUT_LENGTH, MAX_LENGTH, clean_user_text, input_problem


@pytest.mark.parametrize("size", [MAX_LENGTH + 1, 100 * 1024, 10 * 1024 * 1024])
def test_long_text_is_cut_but_still_too_long(size: int) -> None:
    cleaned = clean_user_text("a" * size)
    assert len(cleaned) == CUT_LENGTH
    assert input_problem(cleaned) == "te_lang"


def test_text_within_the_limit_is_unchanged() -> None:
    text = "Wat met de pooiers? " * 40
    assert len(text) <= MAX_LENGTH and clean_user_text(text) == text


@pytest.mark.parametrize("raw", ["x\ud800y", "\udfff", "a\ud83d"])
def test_lone_surrogates_become_encodable(raw: str) -> None:
    cleaned = clean_user_text(raw)
    cleaned.encode("utf-8")  # raises if a surrogate survived
    assert "?" in cleaned


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/ik word bedreigd, mijn naam is Jan", "ik word bedreigd, mijn naam is Jan"),
        ("//  help me", "help me"),
        ("/", ""),
        ("/faq_pooiers", "/faq_pooiers"),
        ("/faq_bestaat_niet", "/faq_bestaat_niet"),
        ('/keuze_nummer{"nummer": "2"}', '/keuze_nummer{"nummer": "2"}'),
        ("wat is /decriminalisering", "wat is /decriminalisering"),
    ],
)
def test_slash_is_kept_only_on_payloads(raw: str, expected: str) -> None:
    assert clean_user_text(raw) == expected


@pytest.mark.parametrize("raw", [None, 42, ["lijst"], {"a": 1}, b"bytes"])
def test_anything_but_text_becomes_empty(raw: Any) -> None:
    assert clean_user_text(raw) == ""


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/session_start", "/chat_groet"),
        ('/session_start{"x": 1}', "/chat_groet"),
        ("/out_of_scope", "/chat_buiten_bereik"),
        ("/back", "/onbekende_knop"),
        ("  /back ", "/onbekende_knop"),
        ("/restart", "/restart"),  # has its own action: forgets the conversation
        ("/nlu_fallback", "/nlu_fallback"),
        ("/backup", "/backup"),
    ],
)
def test_rasa_commands_without_a_rule_become_payloads_with_a_reply(raw: str, expected: str) -> None:
    assert clean_user_text(raw) == expected
