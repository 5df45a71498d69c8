"""Log lines that name no one, cannot forge another line and cannot grow without bound."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from vraagbaak.core.log_lines import (
    HIDDEN_SECRET,
    MAX_LINE,
    private_line,
    pseudonym,
    replacements,
    without_identifiers,
    without_secrets,
)

KEY = bytes(range(32))


def hide(value: str) -> str:
    return pseudonym(KEY, value)


def test_a_pseudonym_is_a_truncated_keyed_hash_that_changes_with_the_key() -> None:
    expected = hmac.new(KEY, b"rest:Jan 0612345678", hashlib.sha256).hexdigest()[:12]
    assert pseudonym(KEY, "rest:Jan 0612345678") == "#" + expected
    assert pseudonym(b"x" * 32, "rest:Jan 0612345678") != pseudonym(KEY, "rest:Jan 0612345678")
    # Without the key, the plain hash of the id is no help.
    assert hashlib.sha256(b"rest:Jan 0612345678").hexdigest()[:12] != expected


def test_known_ids_are_replaced_in_every_written_form() -> None:
    sender = 'Jan "Jansen"\n0612345678 é'
    known = replacements([f"rest:{sender}", sender], hide(f"rest:{sender}"))
    for line in (
        f"for sender 'rest:{sender}'",
        f'{{"sender_id": {json.dumps(sender)}}}',
        f"{{'sender_id': {sender!r}}}",
        "/conversations/rest%3AJan%20%22Jansen%22%0A0612345678%20%C3%A9/tracker",
        f"plain {sender} in text",
    ):
        cleaned = without_identifiers(line, known, hide)
        assert "Jansen" not in cleaned and "0612345678" not in cleaned, cleaned
    assert without_identifiers(f"for sender 'rest:{sender}'.", known, hide) == (
        f"for sender '{hide('rest:' + sender)}'."
    )


def test_a_short_id_is_replaced_only_as_a_whole_word() -> None:
    known = replacements(["x"], "#aaaaaaaaaaaa")
    assert without_identifiers("x says xylophone", known, hide) == "#aaaaaaaaaaaa says xylophone"


@pytest.mark.parametrize(
    "line, leaked",
    [
        (
            "Circuit breaker tripped. Stopped predicting more actions for sender 'rest:Jan's\nnummer'.",
            "nummer",
        ),
        ("Acquired lock for conversation 'socketio:MERK123456'.", "MERK123456"),
        ("Starting a new session for conversation ID 'telegram:99887766'.", "99887766"),
        ("User q9sid_abc connected to socketIO endpoint.", "q9sid_abc"),
        ('{"sender_id": "rest:MERK\\"x", "event": "e"}', "MERK"),
        ("GET /conversations/rest:MERK/tracker?token=s3cr3t", "MERK"),
        ("GET /status?token=s3cr3t&x=1", "s3cr3t"),
    ],
)
def test_ids_in_rasas_wording_are_hidden_even_when_unknown(line: str, leaked: str) -> None:
    cleaned = without_identifiers(line, (), hide)
    assert leaked not in cleaned, cleaned
    assert "#" in cleaned or HIDDEN_SECRET in cleaned


def test_the_same_conversation_keeps_one_pseudonym() -> None:
    name = hide("rest:abc")
    known = replacements(["rest:abc", "abc"], name)
    assert without_identifiers("for sender 'rest:abc'.", known, hide) == f"for sender '{name}'."
    assert without_identifiers("for sender 'rest:abc'.", (), hide) == f"for sender '{name}'."


def test_secrets_are_hidden() -> None:
    assert (
        without_secrets("token abc123secret in a line", ["abc123secret", ""])
        == f"token {HIDDEN_SECRET} in a line"
    )


@pytest.mark.parametrize("character", ["\n", "\r", "\x1b", "\x00", "\u2028", "\u2029", "\u0085", "\u200e"])
def test_a_control_character_can_never_start_a_line(character: str) -> None:
    line = private_line(f"eerste{character}2026-12-08 ERROR vervalste regel")
    assert character not in line and "\\" in line
    assert len(line.splitlines()) == 1


def test_every_line_is_bounded_and_keeps_its_start_and_end() -> None:
    line = private_line("begin " + "x" * 1_000_000 + " Traceback: KeyError")
    assert len(line) <= MAX_LINE
    assert line.startswith("begin ") and line.endswith("KeyError") and "tekens weggelaten" in line
    # Escapes count towards the bound: a line of newlines does not grow past it once escaped.
    assert len(private_line("\n" * 5000)) <= MAX_LINE
    assert private_line("kort") == "kort"
