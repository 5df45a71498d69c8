"""Offline evaluation: parse held-out phrasings with a trained model and say what the bot would do."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import yaml

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import FALLBACK_INTENT, INTENT_OUTCOMES, OUT_OF_SCOPE_INTENT, Outcome

Example = Tuple[str, str]  # (text, expected intent)

# Outcomes that turn a question away (the out-of-scope figures count them as rejected).
REJECTIONS = frozenset({Outcome.OUT_OF_SCOPE, Outcome.OTHER_LANGUAGE})


def load_nlu_examples(path: Path) -> List[Example]:
    """(text, intent) pairs from a Rasa YAML NLU file (a test proves they equal what Rasa's loader reads)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def load_nlu_dir(paths: Iterable[Path]) -> List[Example]:
    """All examples of several NLU files."""
    return [pair for path in paths for pair in load_nlu_examples(path)]


@dataclass(frozen=True)
class BotAction:
    """What the bot does with one message, in staff terms: the one type of the evaluation and the reports."""

    outcome: Outcome
    topic_id: str | None = None
    confidence: float | None = None  # unknown when read from a REST reply
    candidates: Tuple[str, ...] = ()


def outcome_of(kb: KnowledgeBase, parse_data: Dict[str, Any]) -> BotAction:
    """Mirror the rules: which reply a parse result leads to in a fresh conversation."""
    intent = (parse_data.get("intent") or {}).get("name") or ""
    ranking = replies.classifier_ranking(parse_data)
    top = ranking[0] if ranking else {"name": intent, "confidence": 0.0}
    confidence = float(top.get("confidence") or 0.0)
    topic = kb.by_intent(intent)
    if topic:
        return BotAction(Outcome.ANSWERED, topic.id, confidence)
    if intent == FALLBACK_INTENT:
        reply = replies.clarify(kb, parse_data)
        candidates = tuple(o for o in reply.options or [] if kb.by_id(o))
        return BotAction(reply.outcome, reply.topic_id, confidence, candidates)
    return BotAction(INTENT_OUTCOMES.get(intent, Outcome.OTHER), None, confidence)


class ModelParser:
    """Parses texts with a trained Rasa model, in this process."""

    def __init__(self, model_path: Path, served: bool = False) -> None:
        """Load the model once; `served` patches Rasa first as the served bot runs it (same results, faster)."""
        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        if served:
            from vraagbaak.adapters.rasa_patches.installer import install

            install()

        # Rasa's debug log repeats every parsed text; staff tools must not print user questions.
        configure_structlog(logging.WARNING)

        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))

    def parse(self, texts: Sequence[str]) -> List[Dict[str, Any]]:
        """Parse results for each text."""
        return [self._loop.run_until_complete(self._agent.parse_message(t)) for t in texts]


def top_intent(parse_data: Dict[str, Any]) -> str:
    """The classifier's best intent, before any fallback."""
    ranking = replies.classifier_ranking(parse_data)
    return str(ranking[0]["name"]) if ranking else str((parse_data.get("intent") or {}).get("name"))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of equal pairs."""
    return sum(e == p for e, p in zip(expected, predicted, strict=True)) / max(len(expected), 1)


def answered_with_topic(pairs: Sequence[Tuple[str, BotAction]]) -> float:
    """Share of (expected topic id, decision) pairs that got exactly that topic's official answer."""
    return sum(d.outcome == Outcome.ANSWERED and d.topic_id == topic for topic, d in pairs) / max(
        len(pairs), 1
    )


def scope_figures(
    kb: KnowledgeBase, examples: Sequence[Example], outcomes: Sequence[BotAction]
) -> Dict[str, float]:
    """Out-of-scope rejection, wrong-answer rate and clarification rate over a labelled set."""
    expected_topic = {t.intent: t.id for t in kb.topics}
    pairs = list(zip(examples, outcomes, strict=True))
    in_scope = [(expected_topic[e[1]], o) for e, o in pairs if e[1] in expected_topic]
    out_scope = [o for e, o in pairs if e[1] == OUT_OF_SCOPE_INTENT]
    answered = [(topic, o) for topic, o in in_scope if o.outcome == Outcome.ANSWERED]

    def share(count: int, total: int) -> float:
        return count / max(total, 1)

    return {
        "oos_rejection": share(sum(o.outcome != Outcome.ANSWERED for o in out_scope), len(out_scope)),
        "oos_rejected_outright": share(sum(o.outcome in REJECTIONS for o in out_scope), len(out_scope)),
        "wrong_answer_rate": share(sum(topic != o.topic_id for topic, o in answered), len(in_scope)),
        "clarification_rate": share(sum(o.outcome == Outcome.CLARIFIED for _, o in in_scope), len(in_scope)),
        "answered_correctly": share(sum(topic == o.topic_id for topic, o in answered), len(in_scope)),
    }
