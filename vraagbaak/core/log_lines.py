"""Log lines that name no one, cannot forge another line and cannot grow without bound (pure functions).

A sender id may be a name with a phone number, and a visitor chooses it: in a log it becomes a pseudonym, a
keyed hash that cannot be reversed or recomputed without the server's key, but is the same for every line of
one conversation, so an operator can still follow it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from typing import Callable, Iterable, List, Tuple
from urllib.parse import quote

# The longest log line any process of this project writes, whatever it was asked to log.
MAX_LINE = 2000
# Kept from the end of a line that is cut: a traceback's last line names the error.
KEPT_TAIL = 400
PSEUDONYM_HEX = 12
# Below this length an id is replaced only as a whole word: "x" must not take every x out of a line.
WHOLE_WORD_BELOW = 8
HIDDEN_SECRET = "<geheim>"

# Rasa's own wording around a conversation id ("for sender 'rest:…'", "conversation ID '…'", "User … connected").
_ID_WORDS = (
    r"(?i)\b((?:sender|conversation|recipient|session|tracker)(?:[ _](?:id|ID))?|for id|from sender id)"
)
# At the end of a message the id runs to the last quote, so a quote inside the id cannot end it early.
_QUOTED_ID_AT_END = re.compile(_ID_WORDS + r"( ')(.*)('\.?\s*)$", re.DOTALL)
_QUOTED_ID = re.compile(_ID_WORDS + r"( ')([^']*)(')")
_USER_ID = re.compile(r"\b(User )(\S+)( (?:dis)?connected)")
# A conversation id in a dict or JSON written into a line: 'sender_id': '…' or "sender_id": "…".
_ID_FIELD = re.compile(
    r"""(["'](?:sender_id|conversation_id|recipient_id|session_id|sender|sid)["']\s*:\s*)(["'])((?:\\.|(?!\2)[^\\])*)(\2)"""
)
_API_PATH = re.compile(r"(/conversations/)([^/\s'\"?]+)")
_PSEUDONYM = re.compile("#[0-9a-f]{" + str(PSEUDONYM_HEX) + "}")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|hub\.verify_token|jwt|auth)=)[^&\s'\"]*")


def pseudonym(key: bytes, identifier: str) -> str:
    """'#' and the first PSEUDONYM_HEX hex digits of HMAC-SHA256(key, identifier)."""
    digest = hmac.new(key, identifier.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return "#" + digest[:PSEUDONYM_HEX]


def written_forms(identifier: str) -> List[str]:
    """How a log line may spell an id: as it is, JSON-escaped, repr-escaped, URL-quoted; longest first."""
    forms = {
        identifier,
        json.dumps(identifier)[1:-1],
        json.dumps(identifier, ensure_ascii=False)[1:-1],
        repr(identifier)[1:-1],
        quote(identifier, safe=""),
    }
    return sorted((form for form in forms if form), key=len, reverse=True)


def _replace_form(text: str, form: str, replacement: str) -> str:
    if form not in text:
        return text
    if len(form) >= WHOLE_WORD_BELOW:
        return text.replace(form, replacement)
    return re.sub(rf"(?<![\w]){re.escape(form)}(?![\w])", replacement, text)


def replacements(identifiers: Iterable[str], name: str) -> Tuple[Tuple[str, str], ...]:
    """(written form, pseudonym) pairs for ids that all stand for one conversation, longest form first."""
    forms = {form for identifier in identifiers if identifier for form in written_forms(identifier)}
    return tuple((form, name) for form in sorted(forms, key=len, reverse=True))


def without_identifiers(text: str, known: Iterable[Tuple[str, str]], hide: Callable[[str], str]) -> str:
    """`text` with every known (written form, pseudonym) replaced, then any id in Rasa's wording hidden by `hide`."""
    for form, replacement in sorted(known, key=lambda pair: len(pair[0]), reverse=True):
        text = _replace_form(text, form, replacement)
    text = _QUOTED_ID_AT_END.sub(lambda m: m[1] + m[2] + _hidden(m[3], hide) + m[4], text, count=1)
    text = _QUOTED_ID.sub(lambda m: m[1] + m[2] + _hidden(m[3], hide) + m[4], text)
    text = _USER_ID.sub(lambda m: m[1] + _hidden(m[2], hide) + m[3], text)
    text = _ID_FIELD.sub(lambda m: m[1] + m[2] + _hidden(m[3], hide) + m[4], text)
    text = _API_PATH.sub(lambda m: m[1] + _hidden(m[2], hide), text)
    return _SECRET_QUERY.sub(lambda m: m[1] + HIDDEN_SECRET, text)


def _hidden(value: str, hide: Callable[[str], str]) -> str:
    # Already a pseudonym (replaced above): leave it, so one conversation keeps one name in the log.
    return value if _PSEUDONYM.fullmatch(value) else hide(value)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by HIDDEN_SECRET."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, HIDDEN_SECRET)
    return text


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(text: str) -> str:
    """Control, format and line-separator characters written as escapes: the text stays on one line."""
    if text.isprintable():
        return text
    return "".join(_escape(c) for c in text)


def _escape(c: str) -> str:
    category = unicodedata.category(c)
    if category[0] != "C" and category not in ("Zl", "Zp"):
        return c
    if c in _ESCAPES:
        return _ESCAPES[c]
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def bounded(text: str, limit: int = MAX_LINE) -> str:
    """At most `limit` characters: the start and the end of a longer text, and how much was left out."""
    if len(text) <= limit:
        return text
    tail = min(KEPT_TAIL, limit // 4)
    # The note's length with the whole text as its count is an upper bound of the real note's length.
    head = max(limit - tail - len(_cut_note(len(text))), 0)
    return text[:head] + _cut_note(len(text) - head - tail) + text[len(text) - tail :]


def _cut_note(left_out: int) -> str:
    return f" …<{left_out} tekens weggelaten>… "


def private_line(text: str, limit: int = MAX_LINE) -> str:
    """One log line: escaped first (so the bound counts what is written), then bounded."""
    return bounded(escaped(text), limit)
