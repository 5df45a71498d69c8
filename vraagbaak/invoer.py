"""Checks on raw user text and on typed choices, shared by the NLU component and the actions."""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

MAX_LENGTH = 1000
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
