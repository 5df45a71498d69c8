"""Vraag testen: what a visitor would get for a question, built with the same functions the actions use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import BULLET, KnowledgeBase
from vraagbaak.core.outcomes import CHOICE_INTENT, FALLBACK_INTENT, INTENT_OUTCOMES, SAFETY_INTENT, Outcome
from vraagbaak.core.safety.model import Verdict
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import shared as rp

# Outcomes whose reply is one bot message from the knowledge base (the inverse of reports.MESSAGE_OUTCOMES).
SINGLE_MESSAGE = {
    outcome: key
    for key, outcome in rp.MESSAGE_OUTCOMES.items()
    if outcome
    in (
        Outcome.EMERGENCY,
        Outcome.OTHER_LANGUAGE,
        Outcome.GREETING,
        Outcome.GOODBYE,
        Outcome.THANKS,
        Outcome.ABOUT_BOT,
        Outcome.FORGOTTEN,
    )
}
# Outcomes staff may want to improve: the bot did not give an official answer to what looked like a question.
DOUBTFUL = frozenset({Outcome.CLARIFIED, Outcome.OUT_OF_SCOPE, Outcome.NONE_OF_THESE, Outcome.OTHER})


def visitor_reply(kb: KnowledgeBase, parse_data: Dict[str, Any]) -> replies.Reply:
    """The reply the rules give this parse result at the start of a conversation (data/rules/*.yml)."""
    intent = str((parse_data.get("intent") or {}).get("name") or "")
    topic = kb.by_intent(intent)
    if topic:
        return replies.answer(kb, topic)
    if intent == FALLBACK_INTENT:
        return replies.clarify(kb, parse_data)
    if intent == CHOICE_INTENT:
        return replies.choose(kb, [], parse_data)  # nothing offered yet in a new conversation
    if intent == SAFETY_INTENT:
        return replies.safe_path(kb, parse_data)
    outcome = INTENT_OUTCOMES.get(intent)
    if outcome == Outcome.OUT_OF_SCOPE:
        return replies.out_of_scope(kb)
    if outcome == Outcome.NONE_OF_THESE:
        return replies.none_of_these(kb)
    if outcome == Outcome.MENU:
        return replies.menu(kb)
    if outcome == Outcome.PRIVACY:
        return replies.privacy(kb, "socketio")  # the console tests as a website visitor
    if outcome in SINGLE_MESSAGE:
        return replies.text_reply(kb, SINGLE_MESSAGE[outcome], outcome)
    return replies.text_reply(kb, "onbekende_knop", Outcome.UNKNOWN_BUTTON)  # Rasa's core fallback


@dataclass(frozen=True)
class Block:
    """A paragraph (lines) or a bullet list (items), as the widget lays out a bot message."""

    kind: str  # "p" or "ul"
    lines: Tuple[str, ...]


def text_blocks(text: str) -> List[Block]:
    """Split a bot message like the widget does: blank lines between blocks, '• ' lines as list items."""
    blocks: List[Block] = []
    for raw_block in text.replace("\r\n", "\n").split("\n\n"):
        current: List[str] = []
        kind = ""
        for line in raw_block.split("\n"):
            if not line.strip():
                continue
            line_kind = "ul" if line.startswith(BULLET) else "p"
            if line_kind != kind and current:
                blocks.append(Block(kind, tuple(current)))
                current = []
            kind = line_kind
            current.append(line[len(BULLET) :] if line_kind == "ul" else line)
        if current:
            blocks.append(Block(kind, tuple(current)))
    return blocks


@dataclass(frozen=True)
class ShownMessage:
    """One bot message as the widget shows it."""

    official: bool
    blocks: List[Block]
    buttons: List[str]


@dataclass(frozen=True)
class Candidate:
    """One entry of the classifier's ranking, in staff words."""

    label: str
    confidence: float


@dataclass(frozen=True)
class Preview:
    """Everything the Vraag testen page shows about one question."""

    question: str
    outcome: Outcome
    description: str
    topic_id: str | None
    messages: List[ShownMessage]
    recognised: Candidate | None
    runners_up: List[Candidate]
    doubtful: bool
    safety: str = ""
    emergency: bool = False


def shown_messages(reply: replies.Reply) -> List[ShownMessage]:
    """The reply's messages as the widget shows them: like Rasa's output channels, a text without buttons
    arrives as one message per paragraph (split at blank lines); a text with buttons stays whole."""
    shown = []
    for message in reply.messages:
        custom = (message.get("custom") or {}).get("vraagbaak") or {}
        buttons = [str(b.get("title")) for b in message.get("buttons") or []]
        text = str(message.get("text") or "").strip()
        parts = [text] if buttons else [part for part in text.split("\n\n") if part.strip()] or [""]
        for index, part in enumerate(parts):
            shown.append(
                ShownMessage(
                    official=bool(custom.get("officieel")) and index == 0,
                    blocks=text_blocks(part),
                    buttons=buttons if index == len(parts) - 1 else [],
                )
            )
    return shown


def build_preview(kb: KnowledgeBase, question: str, parse_data: Dict[str, Any]) -> Preview:
    """The visitor's reply plus the recognised topic, its confidence and the next two candidates."""
    reply = visitor_reply(kb, parse_data)
    action = ev.outcome_of(kb, parse_data)
    ranking = [
        Candidate(rp.intent_label(kb, str(r.get("name"))), float(r.get("confidence") or 0.0))
        for r in replies.classifier_ranking(parse_data)[:3]
    ]
    return Preview(
        question=question,
        outcome=reply.outcome,
        description=rp.describe(kb, action),
        topic_id=action.topic_id,
        messages=shown_messages(reply),
        recognised=ranking[0] if ranking else None,
        runners_up=ranking[1:3],
        doubtful=reply.outcome in DOUBTFUL,
        safety=safety_explanation(parse_data),
        emergency=reply.outcome == Outcome.EMERGENCY,
    )


def safety_explanation(parse_data: Dict[str, Any]) -> str:
    """The safety layer's decision and why, in staff words (empty for a button or an empty message)."""
    raw = parse_data.get("veiligheid")
    return Verdict.from_dict(raw).explanation() if isinstance(raw, dict) else ""
