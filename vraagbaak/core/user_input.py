"""Checks on raw user text and on typed choices, shared by the NLU component and the actions."""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Sequence

MAX_LENGTH = 1000
# What a channel passes on: one character more than allowed, so the bot still sees "too long" and says so,
# while the NLU pipeline never works on more than this (its cost grows with the length of the text).
CUT_LENGTH = MAX_LENGTH + 1
# The largest request body or socket.io packet the servers read at all (Sanic and engine.io refuse more).
MAX_REQUEST_BYTES = 16 * 1024 * 1024
# The largest REST body or socket.io event a channel decodes; a larger one gets the Dutch "too long" reply
# undecoded. Decoded JSON takes many times its size (16 MB of "{}," is about 400 MB of objects), and a real
# message (1,000 characters, at most 4 bytes each, and a session id) is far below this. nginx has the same.
MAX_MESSAGE_BYTES = 64 * 1024
TOO_LONG = "te_lang"
EMPTY = "leeg"
UNREADABLE = "onleesbaar"

_ORDINALS = {
    "eerste": 1,
    "een": 1,
    "één": 1,
    "tweede": 2,
    "twee": 2,
    "derde": 3,
    "drie": 3,
    "vierde": 4,
    "vier": 4,
    "vijfde": 5,
    "vijf": 5,
    "zesde": 6,
    "zes": 6,
}
_CHOICE = re.compile(
    r"^\s*(?:(?:nr|nummer|optie|keuze|vraag)\.?\s*)?(?:de\s+|het\s+)?(\d{1,2}|[a-zé]+)\s*[.)!]?\s*$",
    re.IGNORECASE,
)


# The shape of a button payload: "/intent" with an optional JSON object. Unknown intents keep this shape so
# that the bot can say the button is unknown; Rasa's warning about them is silenced by the launcher.
_PAYLOAD = re.compile(r"/([A-Za-z0-9_]{1,64})(?:\{[^\n]{0,500}\})?")
# Rasa's own intents that this bot has no rule for, and the payload that answers each. As they are, /back
# rewinds a turn and /session_start starts a session, both without a word to the user ("technisch
# probleem"), and /out_of_scope loops through the fallback. /back names no button this bot offers.
BUILT_IN_PAYLOADS = {
    "session_start": "/chat_groet",
    "out_of_scope": "/chat_buiten_bereik",
    "back": "/onbekende_knop",
}


def clean_user_text(raw: Any) -> str:
    """What a channel may hand to Rasa: cut to CUT_LENGTH, valid UTF-8, and a '/' only on payloads.

    A sentence that starts with '/' ("/ik word bedreigd …") would be parsed by Rasa as a command and printed
    in a warning; without the slash it is an ordinary question and gets an ordinary answer.
    """
    text = raw if isinstance(raw, str) else ""
    # Cut before anything else touches the text: every later step is then cheap.
    text = text[:CUT_LENGTH]
    # Lone surrogates cannot be encoded, stored or sent back; they become '?'.
    text = text.encode("utf-8", "replace").decode("utf-8")
    stripped = text.strip()
    if stripped.startswith("/"):
        payload = _PAYLOAD.fullmatch(stripped)
        if not payload:
            return stripped.lstrip("/ ")
        return BUILT_IN_PAYLOADS.get(payload.group(1), text)
    return text


def strip_control_characters(text: str) -> str:
    """Remove control and format characters (keeping line breaks and tabs as spaces)."""
    return "".join(
        " " if c in "\n\r\t" else c for c in text if c in "\n\r\t" or unicodedata.category(c)[0] != "C"
    )


def input_problem(text: str | None) -> str | None:
    """Why this text cannot be answered as a question (empty, too long, unreadable), or None."""
    if text is None or not text.strip():
        return EMPTY
    if len(text) > MAX_LENGTH:
        return TOO_LONG
    if not any(c.isalnum() for c in strip_control_characters(text)):
        return UNREADABLE
    return None


def parse_choice(text: str | None) -> int | None:
    """The option number a user typed ('2', 'nummer 2', 'de tweede'), or None."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    word = match.group(1).lower()
    if word.isdigit():
        return int(word)
    if word == "laatste":
        return -1
    return _ORDINALS.get(word)


def pick_option(options: Sequence[str], number: int | None) -> str | None:
    """The offered option for a 1-based number (-1 means the last), or None if out of range."""
    if number is None or not options:
        return None
    if number == -1:
        return options[-1]
    return options[number - 1] if 1 <= number <= len(options) else None
