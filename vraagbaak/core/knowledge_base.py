"""Loads the knowledge base: the single source of official answers and of the bot's own messages."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from vraagbaak.core.paths import KNOWLEDGE_BASE_FILE, MESSAGES_FILE

Block = Dict[str, str | List[str]]
BULLET = "• "


@dataclass(frozen=True)
class Topic:
    """One official topic: a Q&A question or an article section."""

    id: str
    intent: str
    section: str
    official_question: str
    title: str
    answer_blocks: Tuple[Block, ...]
    related: Tuple[str, ...]
    twin: str | None = None

    @property
    def answer_text(self) -> str:
        """The answer as plain text: paragraphs split by a blank line, list items as bullets."""
        return render_blocks(self.answer_blocks)


def render_blocks(blocks: Tuple[Block, ...]) -> str:
    """Render answer blocks to text; the widget and channels parse this same format back."""
    parts = []
    for block in blocks:
        if "alinea" in block:
            parts.append(str(block["alinea"]))
        else:
            parts.append("\n".join(BULLET + item for item in block["lijst"]))
    return "\n\n".join(parts)


@dataclass(frozen=True)
class HelpLine:
    """A number to call when in danger, kept by staff in the knowledge base."""

    number: str
    name: str
    country: str

    @property
    def line(self) -> str:
        """How the bot writes it: the number first, so that phones and apps can offer to call it."""
        return f"{self.number}: {self.name} ({self.country})"


@dataclass(frozen=True)
class HelpLines:
    """The emergency number, the suicide-prevention lines and help that is not the police."""

    emergency: str
    suicide_prevention: Tuple[HelpLine, ...]
    not_police: Tuple[HelpLine, ...]

    @property
    def numbers(self) -> Tuple[str, ...]:
        """Every number, the emergency number first."""
        return (self.emergency,) + tuple(h.number for h in self.suicide_prevention + self.not_police)


def _help_from_yaml(raw: dict) -> HelpLines:
    def lines(key: str) -> Tuple[HelpLine, ...]:
        return tuple(HelpLine(str(h["nummer"]), str(h["naam"]), str(h["land"])) for h in raw.get(key) or [])

    return HelpLines(str(raw.get("noodnummer", "112")), lines("zelfdoding"), lines("hulplijnen"))


@dataclass(frozen=True)
class KnowledgeBase:
    """All topics plus the editable, non-official bot messages."""

    topics: Tuple[Topic, ...]
    messages: Dict[str, str]
    corrections: Tuple[Dict[str, str], ...]
    help_lines: HelpLines = HelpLines("112", (), ())

    def by_id(self, topic_id: str) -> Topic | None:
        """Topic with this id, or None."""
        return next((t for t in self.topics if t.id == topic_id), None)

    def by_intent(self, intent: str) -> Topic | None:
        """Topic answered for this intent, or None."""
        return next((t for t in self.topics if t.intent == intent), None)

    def by_title(self, text: str) -> Topic | None:
        """Topic whose display title the user typed (case and punctuation ignored), or None."""
        wanted = normalise_title(text)
        return next((t for t in self.topics if normalise_title(t.title) == wanted), None)

    @property
    def intents(self) -> List[str]:
        """All topic intents, in knowledge-base order."""
        return [t.intent for t in self.topics]

    def message(self, key: str, **values: str) -> str:
        """A bot message by key, with {placeholders} filled in."""
        return self.messages[key].format(**values)


def normalise_title(text: str) -> str:
    """Lower-case letters and digits only, so typed titles match despite punctuation."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _topic_from_yaml(raw: dict) -> Topic:
    return Topic(
        id=raw["id"],
        intent=raw["intent"],
        section=raw["sectie"],
        official_question=raw["officiele_vraag"],
        title=raw["titel"],
        answer_blocks=tuple(raw["antwoord"]),
        related=tuple(raw["gerelateerd"]),
        twin=raw.get("tweeling"),
    )


def load_knowledge_base(
    path: Path = KNOWLEDGE_BASE_FILE, messages_path: Path = MESSAGES_FILE
) -> KnowledgeBase:
    """Parse the official text (kennisbank.yml) and the bot's own messages (berichten.yml) into a KnowledgeBase."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    own = yaml.safe_load(messages_path.read_text(encoding="utf-8"))
    return KnowledgeBase(
        topics=tuple(_topic_from_yaml(t) for t in raw["onderwerpen"]),
        messages=dict(own["berichten"]),
        corrections=tuple(raw.get("correcties", [])),
        help_lines=_help_from_yaml(own.get("hulp") or {}),
    )


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The project's knowledge base, loaded once per process."""
    return load_knowledge_base()
