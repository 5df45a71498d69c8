"""Channel-independent layout: long texts split under a channel limit, buttons as numbered lists or pages.

Pure functions only, so every channel renders the same way and the rules are unit-tested in one place.

Splitting contract (`split_text`): separators stay at the END of the part before them, so
``"".join(split_text(text, limit)) == text`` always holds, and every part measures at most `limit`.
What a channel sends, joined, is therefore exactly the official text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Pattern, Sequence, Tuple

TELEGRAM_LIMIT = 4096  # Telegram sendMessage text, counted in UTF-16 code units
TWILIO_LIMIT = 1600  # Twilio message body, WhatsApp and SMS
MESSENGER_LIMIT = 2000  # Messenger text message
MESSENGER_TEMPLATE_LIMIT = 640  # text above the buttons of a Messenger button template
MESSENGER_MAX_BUTTONS = 3  # buttons per Messenger button template
MESSENGER_TITLE_LIMIT = 20  # Messenger postback button title
MESSENGER_PAYLOAD_LIMIT = 1000  # characters of a Messenger quick-reply or postback payload
TELEGRAM_CALLBACK_LIMIT = 64  # bytes of callback_data of a Telegram inline button
MORE_PREFIX = "vraagbaak:meer:"  # a Messenger "Meer vragen" quick reply, answered by the channel itself
MAX_OPTION_NUMBER = 100  # more options than the bot ever offers at once

MARKER_KEY = "vraagbaak"  # the bot's internal custom marker; never shown to users
ELLIPSIS = "…"

Measure = Callable[[str], int]
Button = Mapping[str, Any]

# Cut points, most preferred first. Each pattern ends in the whole whitespace run, so a cut never
# leaves leading whitespace in the next part.
_BOUNDARIES: Tuple[Pattern[str], ...] = (
    re.compile(r"\n[ \t\r\f\v]*\n\s*"),  # paragraph
    re.compile(r"\n\s*"),  # line
    re.compile(r"[.?!…][\"'”’)\]]*\s+"),  # sentence end, also after a closing quote or bracket
    re.compile(r"\s+"),  # word
)
_VISIBLE = re.compile(r"\S")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the way Telegram counts message length."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = len) -> List[str]:
    """Split text into parts of at most `limit`, cutting at the best boundary; "".join(parts) == text."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: List[str] = []
    start = 0
    stop = len(text.rstrip())  # cuts stay before this, so the last part is never whitespace only
    while measure(text[start:]) > limit:
        cut = _cut(text, start, stop, limit, measure)
        parts.append(text[start:cut])
        start = cut
    if start < len(text):
        parts.append(text[start:])
    return parts


def _cut(text: str, start: int, stop: int, limit: int, measure: Measure) -> int:
    """Where the part starting at `start` ends: the best boundary that fits, else a hard cut."""
    end = _window_end(text, start, limit, measure)
    visible = _first_visible(text, start)
    for pattern in _BOUNDARIES:
        cut = _last_boundary(pattern, text, start, end, visible)
        if cut is not None:
            return cut
    # A whitespace run too long to fit: cut inside or before it rather than inside a word.
    cut = _whitespace_cut(text, visible, min(end, stop - 1))
    if cut is not None:
        return cut
    return min(end, stop - 1) if stop - 1 > start else end


def _window_end(text: str, start: int, limit: int, measure: Measure) -> int:
    """The largest end such that text[start:end] still measures at most `limit`."""
    if measure is len:
        return min(len(text), start + limit)
    low, high = start, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[start:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    if low == start:
        raise ValueError(f"one character measures more than the limit {limit}")
    return low


def _first_visible(text: str, start: int) -> int:
    """Index of the first non-whitespace character at or after `start` (len(text) if none)."""
    match = _VISIBLE.search(text, start)
    return match.start() if match else len(text)


def _last_boundary(pattern: Pattern[str], text: str, start: int, end: int, visible: int) -> int | None:
    """The last cut after a `pattern` match that fits in the window and leaves visible text in the part."""
    best = None
    for match in pattern.finditer(text, start):
        if match.start() >= end:
            break
        if visible < match.end() <= end:
            best = match.end()
    return best


def _whitespace_cut(text: str, visible: int, end: int) -> int | None:
    """The last position in the window next to whitespace, after some visible text."""
    for cut in range(end, visible, -1):
        if text[cut - 1].isspace() or (cut < len(text) and text[cut].isspace()):
            return cut
    return None


def numbered_list(titles: Sequence[str], first: int = 1) -> str:
    """'1. Titel' lines; the numbers are what a user types to choose."""
    return "\n".join(f"{number}. {title}" for number, title in enumerate(titles, first))


def numbered_choices(text: str, buttons: Sequence[Button], hint: str) -> str:
    """Text, the button titles as a numbered list (payloads never shown), then the typing hint."""
    if not buttons:
        return text
    lines = numbered_list([str(b["title"]) for b in buttons])
    return f"{text}\n{lines}\n\n{hint}" if text else f"{lines}\n\n{hint}"


def without_marker(custom: Any) -> Any:
    """Custom JSON minus the bot's internal marker; None when nothing is left to send."""
    if not isinstance(custom, dict):
        return custom
    rest = {key: value for key, value in custom.items() if key != MARKER_KEY}
    return rest or None


def short_title(title: str, limit: int = MESSENGER_TITLE_LIMIT) -> str:
    """A title that fits a button: cut at a word where possible, with an ellipsis."""
    if len(title) <= limit:
        return title
    head = title[: limit - len(ELLIPSIS)]
    word_end = head.rfind(" ")
    if word_end >= limit // 2:  # only drop the partial word when that keeps enough of the title
        head = head[:word_end]
    return head.rstrip(" :,;-–") + ELLIPSIS


@dataclass(frozen=True)
class ButtonPage:
    """One Messenger button template: its text, at most three postback buttons, and what "Meer vragen" opens."""

    text: str
    buttons: List[Dict[str, str]]
    more: str | None  # quick-reply payload of the next page; None on the last page


def messenger_page(text: str, buttons: Sequence[Button], first_number: int = 1) -> ButtonPage:
    """The first three options as buttons; any others wait behind a "Meer vragen" quick reply."""
    size = MESSENGER_MAX_BUTTONS
    shown, rest = buttons[:size], buttons[size:]
    # Full titles go in the text when a button title is cut short, or when there is a choice to type.
    numbered = (
        len(buttons) > 1
        or first_number > 1
        or not text
        or any(len(str(b["title"])) > MESSENGER_TITLE_LIMIT for b in shown)
    )
    lines = numbered_list([str(b["title"]) for b in shown], first_number) if numbered else ""
    more = more_payload(first_number + size, rest) if rest else None
    return ButtonPage("\n".join(p for p in (text, lines) if p), [postback(b) for b in shown], more)


def more_payload(first_number: int, buttons: Sequence[Button]) -> str:
    """The "Meer vragen" quick reply: where numbering goes on and the payloads still to show.

    Carried in the payload itself, so any replica can show the next page and nothing is stored.
    """
    rest = {"vanaf": first_number, "knoppen": [str(b["payload"]) for b in buttons]}
    return MORE_PREFIX + json.dumps(rest, separators=(",", ":"))


def read_more_payload(payload: str) -> Tuple[int, List[str]] | None:
    """First number and payloads of a "Meer vragen" quick reply; None for any other or a malformed one."""
    if not payload.startswith(MORE_PREFIX):
        return None
    try:
        rest = json.loads(payload[len(MORE_PREFIX) :])
    except ValueError:
        return None
    first, payloads = (rest.get("vanaf"), rest.get("knoppen")) if isinstance(rest, dict) else (None, None)
    if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= MAX_OPTION_NUMBER:
        return None
    if not isinstance(payloads, list) or not all(isinstance(p, str) for p in payloads):
        return None
    return first, payloads


def postback(button: Button) -> Dict[str, str]:
    """A Messenger postback button with a title that fits."""
    return {"type": "postback", "title": short_title(str(button["title"])), "payload": str(button["payload"])}


# Markdown marks, so a widget that renders Markdown (rasa-webchat's react-markdown 4) shows the text as
# written. Only characters that Markdown would act on, and that its escape list accepts, get a backslash;
# `from_markdown_safe` (and the own widget's copy in web/) removes exactly these marks again.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)([-+#>])", re.MULTILINE)
_MARKDOWN_NUMBERED = re.compile(r"^([ \t]*[0-9]+)([.)])", re.MULTILINE)
_SINGLE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")
_HARD_BREAK = re.compile(r"  \n(?!\n)")
_MARKDOWN_MARK = re.compile(r"\\([\\`*_\[\]~|+#>.)-])")


def markdown_safe(text: str) -> str:
    """The text with Markdown-active characters escaped and its line breaks made hard breaks."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _MARKDOWN_LINE_START.sub(r"\1\\\2", text)
    text = _MARKDOWN_NUMBERED.sub(r"\1\\\2", text)
    # A single newline is a soft break in Markdown (list lines would run together); two spaces make it hard.
    return _SINGLE_NEWLINE.sub("  \n", text)


def from_markdown_safe(text: str) -> str:
    """The exact text `markdown_safe` was given."""
    return _MARKDOWN_MARK.sub(r"\1", _HARD_BREAK.sub("\n", text))


def phone_spans(text: str, numbers: Sequence[str], measure: Measure = len) -> List[Tuple[int, int]]:
    """(offset, length) of each listed phone number in the text, longest first where they overlap.

    Offsets are counted with `measure` on the text before the number (Telegram counts UTF-16 units).
    """
    taken: List[Tuple[int, int]] = []
    for number in sorted(set(numbers), key=len, reverse=True):
        for match in re.finditer(rf"(?<![\d+-]){re.escape(number)}(?![\d-])", text):
            start, end = match.span()
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
    return [(measure(text[:s]), measure(text[s:e])) for s, e in sorted(taken)]
