"""Deterministic overrides after the classifier: bad input, typed option numbers and titles, off-topic words."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vraagbaak.adapters.nlu.domain_vocabulary import DomainVocabulary, content_words
from vraagbaak.adapters.nlu.safety_layer import VERDICT_KEY
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import knowledge_base, normalise_title
from vraagbaak.core.outcomes import (
    CHOICE_INTENT,
    MENU_INTENT,
    NONE_OF_THESE_INTENT,
    OUT_OF_SCOPE_INTENT,
    SAFETY_INTENT,
)
from vraagbaak.core.safety.questions import asks_about_the_world
from vraagbaak.core.user_input import input_problem, parse_choice

VOCABULARY_FILE = "domain_vocabulary.json"


def _certain(intent: str) -> Dict[str, Any]:
    return {"name": intent, "confidence": 1.0}


def override_intent(text: str | None, danger: bool = False) -> str | None:
    """The intent a message must get regardless of the classifier, or None to keep its guess.

    `danger` is the safety layer's verdict. It comes first: a message that is too long or otherwise odd
    still gets the safe path when it speaks of danger now.
    """
    if (text or "").lstrip().startswith("/"):
        # A payload of a known intent is set by Rasa's RegexMessageHandler after this component; one that
        # reaches here names no intent (forged or outdated) and must never be answered by a classifier guess.
        return DEFAULT_NLU_FALLBACK_INTENT_NAME
    if danger:
        return SAFETY_INTENT
    if input_problem(text):
        return DEFAULT_NLU_FALLBACK_INTENT_NAME
    if parse_choice(text) is not None:
        return CHOICE_INTENT
    kb = knowledge_base()
    typed = normalise_title(text or "")
    if typed == normalise_title(kb.message("knop_geen_van_deze")):
        return NONE_OF_THESE_INTENT
    if typed == normalise_title(kb.message("knop_meer_vragen")):
        return MENU_INTENT
    topic = kb.by_title(text or "")
    return topic.intent if topic else None


# A question about the world is answered with its topic when the topic classifier is at least this sure of it.
WORLD_QUESTION_TOPIC_CONFIDENCE = 0.5


def world_question(message: Message) -> bool:
    """A question in which nobody is present that the topic classifier recognises as an FAQ topic.

    "blijven pooiers die vrouwen slaan strafbaar?" gets its official answer, not the safe path; anything that
    names someone present ("ik", "mijn collega", "hij", "help") never passes here.
    """
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != SAFETY_INTENT]
    topics = replies.faq_candidates(knowledge_base(), ranking)
    sure = bool(topics) and topics[0][1] >= WORLD_QUESTION_TOPIC_CONFIDENCE
    return sure and asks_about_the_world(message.get(TEXT) or "")


def drop_danger_guess(message: Message) -> None:
    """Remove the topic classifier's danger intent; if it was the guess, the message becomes unsure."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    if any(r.get("name") == SAFETY_INTENT for r in ranking):
        message.data[INTENT_RANKING_KEY] = [r for r in ranking if r.get("name") != SAFETY_INTENT]
    if (message.get(INTENT) or {}).get("name") == SAFETY_INTENT:
        message.data[INTENT] = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}


def leads_to_a_topic(intent: str | None) -> bool:
    """True for an intent that gets an official answer or a "Bedoelde je…?" list of topics."""
    return intent == DEFAULT_NLU_FALLBACK_INTENT_NAME or knowledge_base().by_intent(intent or "") is not None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ChoiceAndInputGuard(GraphComponent):
    """Runs last in the NLU pipeline so that buttons typed as text behave like pressed buttons.

    Only the safety layer decides danger: when the topic classifier guesses the danger intent but the safety
    layer says no, the guess is dropped and the message is read as unsure ("Bedoelde je…?" or out of scope).
    """

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: DomainVocabulary,
    ) -> None:
        """Keep the domain vocabulary."""
        self._gate = bool(config["domain_vocabulary_gate"])
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Gate topics on the domain vocabulary."""
        return {"domain_vocabulary_gate": True}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChoiceAndInputGuard:
        """An empty vocabulary until training fills it."""
        return cls({**cls.get_default_config(), **config}, model_storage, resource, DomainVocabulary([]))

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the content words of the FAQ phrasings and store them in the model."""
        words = set()
        for example in training_data.intent_examples:
            if knowledge_base().by_intent(example.get(INTENT) or "") is not None:
                words |= content_words(example.get(TOKENS_NAMES[TEXT]) or [])
        self._vocabulary = DomainVocabulary(words)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / VOCABULARY_FILE).write_text(
                json.dumps(self._vocabulary.words), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ChoiceAndInputGuard:
        """Read the vocabulary stored at training time."""
        with model_storage.read_from(resource) as directory:
            words = json.loads((Path(directory) / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls({**cls.get_default_config(), **config}, model_storage, resource, DomainVocabulary(words))

    def off_topic(self, message: Message) -> bool:
        """True when the classifier leads to a topic but the text shares no word with any FAQ phrasing."""
        guess = (message.get(INTENT) or {}).get("name")
        return (
            self._gate
            and bool(self._vocabulary)
            and leads_to_a_topic(guess)
            and not self._vocabulary.shares_a_word(message.get(TOKENS_NAMES[TEXT]) or [])
        )

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace the predicted intent where a deterministic rule applies."""
        for message in messages:
            danger = bool((message.get(VERDICT_KEY) or {}).get("nood")) and not world_question(message)
            if not danger:
                drop_danger_guess(message)
            intent = override_intent(message.get(TEXT), danger)
            if intent is None and self.off_topic(message):
                intent = OUT_OF_SCOPE_INTENT
            if intent:
                message.data[INTENT] = _certain(intent)
                message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, _certain(intent))
        return messages
