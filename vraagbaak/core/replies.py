"""Builds every bot reply from the knowledge base; pure functions, so actions stay thin and testable."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from vraagbaak.core.knowledge_base import BULLET, HelpLine, KnowledgeBase, Topic
from vraagbaak.core.outcomes import (
    FALLBACK_INTENT,
    MENU_INTENT,
    NONE_OF_THESE_INTENT,
    SAFETY_INTENT,
    Outcome,
)
from vraagbaak.core.user_input import MAX_LENGTH, input_problem, parse_choice, pick_option

NONE_OF_THESE = "geen_van_deze"  # option id of the "Geen van deze" button, never a topic id
NONE_OF_THESE_PAYLOAD = f"/{NONE_OF_THESE_INTENT}"
MENU_PAYLOAD = f"/{MENU_INTENT}"

# Clarification: topics below this classifier confidence are not worth offering.
CANDIDATE_MIN_CONFIDENCE = 0.08
MAX_CANDIDATES = 3
# Below this, even the best topic is a guess: say honestly that the question is out of scope.
CLARIFY_MIN_CONFIDENCE = 0.2
# Twins together at least this sure: answer the likelier one instead of asking.
TWIN_ANSWER_CONFIDENCE = 0.55
# Danger with a topic question: the topic is offered after the safe path when at least this likely.
SAFE_PATH_TOPIC_CONFIDENCE = 0.5

Message = Dict[str, Any]


@dataclass
class Reply:
    """Messages to send, plus the option ids a typed number refers to afterwards."""

    messages: List[Message]
    options: List[str] | None = None
    outcome: Outcome = Outcome.ANSWERED
    topic_id: str | None = None
    extra: Dict[str, Any] = field(default_factory=dict)


def topic_button(topic: Topic) -> Dict[str, str]:
    """A button that asks this topic directly."""
    return {"title": topic.title, "payload": f"/{topic.intent}"}


def menu_button(kb: KnowledgeBase) -> Dict[str, str]:
    """The 'Alle vragen' button."""
    return {"title": kb.message("knop_alle_vragen"), "payload": MENU_PAYLOAD}


def none_of_these_button(kb: KnowledgeBase) -> Dict[str, str]:
    """The 'Geen van deze' button under a clarification."""
    return {"title": kb.message("knop_geen_van_deze"), "payload": NONE_OF_THESE_PAYLOAD}


def button_for_payload(kb: KnowledgeBase, payload: str) -> Dict[str, str] | None:
    """The button the bot offers with this payload; None for a payload it never offers (forged)."""
    fixed = {b["payload"]: b for b in (menu_button(kb), none_of_these_button(kb))}
    if payload in fixed:
        return fixed[payload]
    topic = kb.by_intent(payload[1:]) if payload.startswith("/") else None
    return topic_button(topic) if topic else None


def text_reply(kb: KnowledgeBase, key: str, outcome: Outcome, **values: str) -> Reply:
    """A single bot message from the knowledge base."""
    return Reply([{"text": kb.message(key, **values)}], outcome=outcome)


# Which of the bot's privacy messages fits each input channel (Rasa's channel names); the web chat otherwise.
PRIVACY_CHANNELS = {
    "telegram": "privacy_telegram",
    "twilio": "privacy_whatsapp",
    "facebook": "privacy_messenger",
}


def privacy(kb: KnowledgeBase, channel: str | None) -> Reply:
    """What the bot keeps and how to forget, then what the app the visitor writes in keeps. Nothing is wiped.

    No options: the list the visitor saw before stays the one a typed number picks from.
    """
    key = PRIVACY_CHANNELS.get(channel or "", "privacy_web")
    return Reply([{"text": kb.message("privacy")}, {"text": kb.message(key)}], outcome=Outcome.PRIVACY)


def answer(kb: KnowledgeBase, topic: Topic) -> Reply:
    """The official answer verbatim, then its related questions as buttons."""
    related = [kb.by_id(r) for r in topic.related]
    buttons = [topic_button(t) for t in related if t]
    messages: List[Message] = [
        {"text": topic.answer_text, "custom": {"vraagbaak": {"onderwerp": topic.id, "officieel": True}}},
        {"text": kb.message("gerelateerd_kop"), "buttons": buttons},
    ]
    return Reply(messages, options=[t.id for t in related if t], topic_id=topic.id)


def menu(kb: KnowledgeBase) -> Reply:
    """All topics as buttons."""
    buttons = [topic_button(t) for t in kb.topics]
    text = kb.message("menu_intro", aantal=str(len(kb.topics)))
    return Reply(
        [{"text": text, "buttons": buttons}], options=[t.id for t in kb.topics], outcome=Outcome.MENU
    )


def with_menu_button(kb: KnowledgeBase, reply: Reply) -> Reply:
    """Attach an 'Alle vragen' button to the last message."""
    reply.messages[-1]["buttons"] = [menu_button(kb)]
    reply.options = ["__menu__"]
    return reply


def out_of_scope(kb: KnowledgeBase) -> Reply:
    """Honest 'I cannot answer that' plus the way to the menu."""
    return with_menu_button(kb, text_reply(kb, "buiten_bereik", Outcome.OUT_OF_SCOPE))


def none_of_these(kb: KnowledgeBase) -> Reply:
    """After 'Geen van deze': explain what the bot can do and offer the menu."""
    return with_menu_button(kb, text_reply(kb, "geen_van_deze", Outcome.NONE_OF_THESE))


def bad_input(kb: KnowledgeBase, problem: str) -> Reply:
    """A clear Dutch reply for empty, too long or unreadable input."""
    return text_reply(kb, f"invoer_{problem}", Outcome.INVALID, maximum=str(MAX_LENGTH))


def faq_candidates(kb: KnowledgeBase, ranking: Sequence[Dict[str, Any]]) -> List[Tuple[Topic, float]]:
    """Most likely topics with their confidence, best first; a twin pair counts as one topic."""
    merged: Dict[str, Tuple[Topic, float]] = {}
    for entry in ranking:
        topic = kb.by_intent(str(entry.get("name")))
        if not topic:
            continue
        key = topic.twin if topic.twin in merged else topic.id  # the near-duplicates are answered as one
        best, confidence = merged.get(key, (topic, 0.0))
        merged[key] = (best, confidence + float(entry.get("confidence") or 0.0))
    likely = [c for c in merged.values() if c[1] >= CANDIDATE_MIN_CONFIDENCE]
    return sorted(likely, key=lambda c: -c[1])[:MAX_CANDIDATES]


def classifier_ranking(parse_data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The classifier's own ranking, without the fallback entry the FallbackClassifier put on top."""
    return [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]


def _call_message(text: str, numbers: Sequence[str]) -> Message:
    """A safe-path message; `bellen` names the numbers in it, which the widget turns into call links."""
    return {
        "text": text,
        "custom": {"vraagbaak": {"nood": True, "bellen": [n for n in numbers if n in text]}},
    }


def _listed(heading: str, lines: Sequence[HelpLine]) -> str:
    return "\n".join([heading] + [BULLET + line.line for line in lines])


def safe_path(kb: KnowledgeBase, parse_data: Dict[str, Any]) -> Reply:
    """Calm reply for someone in danger: 112 first, then help that is not the police, then their topic.

    Self-harm gets the suicide-prevention lines first. When the message also asked about a topic, the
    answer is offered after the safe path, never instead of it.
    """
    verdict = parse_data.get("veiligheid") or {}
    help_lines = kb.help_lines
    numbers = help_lines.numbers
    if verdict.get("zelfbeschadiging"):
        first = _listed(kb.message("nood_zelfdoding"), help_lines.suicide_prevention)
        messages = [_call_message(first + "\n\n" + kb.message("nood_zelfdoding_112"), numbers)]
    else:
        messages = [_call_message(kb.message("nood"), numbers)]
        if help_lines.not_police:
            messages.append(
                _call_message(_listed(kb.message("nood_hulp_kop"), help_lines.not_police), numbers)
            )
    ranking = [r for r in classifier_ranking(parse_data) if r.get("name") != SAFETY_INTENT]
    offered = [t for t, c in faq_candidates(kb, ranking)[:1] if c >= SAFE_PATH_TOPIC_CONFIDENCE]
    if offered:
        messages.append({"text": kb.message("nood_ook_vraag"), "buttons": [topic_button(offered[0])]})
    return Reply(
        messages,
        options=[t.id for t in offered] if offered else None,
        outcome=Outcome.EMERGENCY,
        topic_id=offered[0].id if offered else None,
    )


def clarify(kb: KnowledgeBase, parse_data: Dict[str, Any]) -> Reply:
    """Unsure: answer bad input, offer 2-3 likely topics, answer a twin pair at once, or say out of scope."""
    text = parse_data.get("text") or ""
    problem = input_problem(text)
    if problem:
        return bad_input(kb, problem)
    if text.lstrip().startswith("/"):
        return text_reply(kb, "onbekende_knop", Outcome.UNKNOWN_BUTTON)  # a forged or outdated button payload
    ranking = classifier_ranking(parse_data)
    scored = faq_candidates(kb, ranking)
    top_is_faq = bool(ranking) and kb.by_intent(str(ranking[0].get("name"))) is not None
    if not scored or not top_is_faq or scored[0][1] < CLARIFY_MIN_CONFIDENCE:
        return out_of_scope(kb)
    if scored[0][1] >= TWIN_ANSWER_CONFIDENCE and scored[0][0].twin:
        return answer(kb, scored[0][0])  # unsure only between the twins: one answer, no loop
    candidates = [topic for topic, _ in scored]
    buttons = [topic_button(t) for t in candidates]
    buttons.append(none_of_these_button(kb))
    message = {"text": kb.message("verduidelijk_kop"), "buttons": buttons}
    return Reply([message], options=[t.id for t in candidates] + [NONE_OF_THESE], outcome=Outcome.CLARIFIED)


def choose(kb: KnowledgeBase, options: Sequence[str], parse_data: Dict[str, Any]) -> Reply:
    """Answer the option a typed number refers to; a message that is no choice at all is clarified."""
    text = parse_data.get("text") or ""
    number = parse_choice(text)
    if number is None and not text.lstrip().startswith("/"):
        return clarify(kb, parse_data)  # the classifier guessed "choice" for a sentence with digits in it
    chosen = pick_option(options, number)
    if chosen == NONE_OF_THESE:
        return none_of_these(kb)
    if chosen == "__menu__":
        return menu(kb)
    topic = kb.by_id(chosen) if chosen else None
    if topic is None:
        return text_reply(kb, "onbekende_keuze", Outcome.UNKNOWN_CHOICE)
    return answer(kb, topic)


def answer_intent(kb: KnowledgeBase, intent: str | None) -> Reply:
    """Answer a topic intent; anything unknown (forged payloads) gets the unknown-button reply."""
    topic = kb.by_intent(intent or "")
    if topic is None:
        return text_reply(kb, "onbekende_knop", Outcome.UNKNOWN_BUTTON)
    return answer(kb, topic)
