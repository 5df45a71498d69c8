"""The domain-vocabulary gate: a topic only for text that shares a word with the FAQ phrasings."""
from __future__ import annotations

from typing import List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vraagbaak.adapters.nlu import dutch_tokenizer
from vraagbaak.adapters.nlu.domain_vocabulary import DomainVocabulary, content_words
from vraagbaak.adapters.nlu.input_guard import ChoiceAndInputGuard

FAQ_PHRASINGS = {
    "faq_mensenhandel": ["leidt decriminalisering tot meer mensenhandel", "wat met gedwongen prostitutie"],
    "faq_kritiek": ["waarom is het standpunt over sekswerk zo controversieel"],
    "faq_bewijzen": ["op welke bewijzen steunt amnesty"],
}
OTHER_PHRASINGS = {"chat_buiten_bereik": ["wanneer is de trein naar brugge"], "chat_groet": ["hallo"]}


@pytest.fixture(scope="module")
def tokenizer() -> dutch_tokenizer.DutchSpacyTokenizer:
    config = {
        **dutch_tokenizer.DutchSpacyTokenizer.get_default_config(),
        "spacy_pipeline": dutch_tokenizer.OFFLINE_PIPELINE,
    }
    nlp = dutch_tokenizer.build_pipeline(dutch_tokenizer.OFFLINE_PIPELINE)
    return dutch_tokenizer.DutchSpacyTokenizer(config, nlp, None, None)  # type: ignore[arg-type]


def _tokenized(tokenizer, text: str, intent: str | None = None) -> Message:
    data = {"text": text, **({"intent": intent} if intent else {})}
    message = Message(data=data)
    tokenizer.process([message])
    return message


def _trained_guard(tmp_path, tokenizer, config=None) -> tuple:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    context = ExecutionContext(GraphSchema({}), "test")
    examples = [
        _tokenized(tokenizer, text, intent)
        for intent, texts in {**FAQ_PHRASINGS, **OTHER_PHRASINGS}.items()
        for text in texts
    ]
    guard = ChoiceAndInputGuard.create(config or {}, storage, resource, context)
    guard.train(TrainingData(training_examples=examples))
    return guard, storage, resource, context


def _classified(tokenizer, text: str, intent: str, danger: bool = False, guess: float = 0.0) -> Message:
    """A message as the guard receives it: the topic classifier's ranking and the safety layer's verdict."""
    message = _tokenized(tokenizer, text)
    ranking = [{"name": intent, "confidence": 0.9}, {"name": "veilig_in_nood", "confidence": guess}]
    message.set("intent", dict(ranking[0]), add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)
    message.set("veiligheid", {"nood": danger}, add_to_output=True)
    return message


def _intents(guard: ChoiceAndInputGuard, messages: List[Message]) -> List[str]:
    return [m.get("intent")["name"] for m in guard.process(messages)]


def test_the_vocabulary_holds_content_words_of_faq_phrasings_only(tmp_path, tokenizer) -> None:
    guard, storage, resource, context = _trained_guard(tmp_path, tokenizer)
    loaded = ChoiceAndInputGuard.load({}, storage, resource, context)
    words = set(loaded._vocabulary.words)
    assert {"mensenhandel", "prostitutie", "controversieel", "bewijzen"} <= words
    assert not words & {"wat", "waarom", "over", "trein", "brugge", "hallo"}  # stop words, other intents


def test_a_topic_without_any_domain_word_becomes_out_of_scope(tmp_path, tokenizer) -> None:
    guard, *_ = _trained_guard(tmp_path, tokenizer)
    messages = [
        _classified(tokenizer, "wanneer begon de tweede wereldoorlog", "faq_bewijzen"),
        _classified(tokenizer, "hoe laat vertrekt de bus naar hasselt", "nlu_fallback"),
    ]
    assert _intents(guard, messages) == ["chat_buiten_bereik", "chat_buiten_bereik"]


@pytest.mark.parametrize(
    "text",
    [
        "komt er meer mensenhandel",  # exact word
        "waarom zo kontroversieel",  # typo
        "wat is het sekswerkstandpunt",  # compound containing a domain word
        "dwang bij prostituees?",  # lemma of an inflected form
    ],
)
def test_a_topic_with_a_domain_word_keeps_the_classifier_guess(tmp_path, tokenizer, text: str) -> None:
    guard, *_ = _trained_guard(tmp_path, tokenizer)
    assert _intents(guard, [_classified(tokenizer, text, "faq_mensenhandel")]) == ["faq_mensenhandel"]


def test_the_gate_never_touches_danger_small_talk_or_typed_numbers(tmp_path, tokenizer) -> None:
    guard, *_ = _trained_guard(tmp_path, tokenizer)
    messages = [
        _classified(tokenizer, "hij heeft een mes", "faq_schendingen", danger=True),
        _classified(tokenizer, "goeiedag", "chat_groet"),
        _classified(tokenizer, "2", "faq_bewijzen"),
    ]
    assert _intents(guard, messages) == ["veilig_in_nood", "chat_groet", "keuze_nummer"]


def test_only_the_safety_layer_decides_danger(tmp_path, tokenizer) -> None:
    guard, *_ = _trained_guard(tmp_path, tokenizer)
    # The topic classifier is sure of danger, the safety layer is not: the guess is dropped, the message unsure.
    sure = _classified(tokenizer, "hoe vaak worden sekswerkers bedreigd", "veilig_in_nood", guess=0.9)
    [message] = guard.process([sure])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert all(r["name"] != "veilig_in_nood" for r in message.get("intent_ranking"))
    # The safety layer says danger while the topic classifier saw none: the safe path.
    assert _intents(guard, [_classified(tokenizer, "kzit vast", "faq_mensenhandel", danger=True)]) == [
        "veilig_in_nood"
    ]


def test_the_gate_can_be_switched_off_for_an_ablation(tmp_path, tokenizer) -> None:
    guard, *_ = _trained_guard(tmp_path, tokenizer, {"domain_vocabulary_gate": False})
    message = _classified(tokenizer, "wanneer begon de tweede wereldoorlog", "faq_bewijzen")
    assert _intents(guard, [message]) == ["faq_bewijzen"]


def test_the_gate_check_fails_when_the_vocabulary_is_too_broad(tokenizer) -> None:
    """Mutation: a vocabulary that also holds general words lets the history question through."""
    tokens = _tokenized(tokenizer, "wanneer begon de tweede wereldoorlog").get("text_tokens")
    narrow = DomainVocabulary(["mensenhandel", "prostitutie"])
    mutant = DomainVocabulary(["mensenhandel", "prostitutie", *content_words(tokens)])
    assert not narrow.shares_a_word(tokens)
    assert mutant.shares_a_word(tokens)


def test_short_words_are_not_matched_as_typos() -> None:
    vocabulary = DomainVocabulary(["seks", "pooier"])
    assert vocabulary.knows("pooiers") and vocabulary.knows("seks")
    assert not vocabulary.knows("sek")  # similar enough, but too short to call a typo
    assert not vocabulary.knows("seksualiteitsonderwijs")  # "seks" is too short a part for a compound
