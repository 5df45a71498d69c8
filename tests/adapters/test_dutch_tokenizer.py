"""The Dutch spaCy pipeline works offline, travels inside the model, and refuses a mismatch."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vraagbaak.adapters.nlu import dutch_tokenizer


def test_offline_pipeline_lemmatizes_dutch() -> None:
    nlp = dutch_tokenizer.build_pipeline(dutch_tokenizer.OFFLINE_PIPELINE)
    lemmas = [t.lemma_ for t in nlp("sekswerkers werden verkracht")]
    assert lemmas == ["sekswerker", "werden", "verkrachten"]
    assert dutch_tokenizer.pipeline_name(nlp) == dutch_tokenizer.OFFLINE_PIPELINE


def test_auto_falls_back_to_offline_when_nl_core_news_sm_is_missing() -> None:
    if dutch_tokenizer.full_pipeline_installed():
        pytest.skip("nl_core_news_sm is installed here")
    assert (
        dutch_tokenizer.pipeline_name(dutch_tokenizer.build_pipeline("auto"))
        == dutch_tokenizer.OFFLINE_PIPELINE
    )
    with pytest.raises(Exception, match="niet geïnstalleerd"):
        dutch_tokenizer.build_pipeline(dutch_tokenizer.FULL_PIPELINE)


def _trained(tmp_path, choice: str):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("tokenizer")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**dutch_tokenizer.DutchSpacyTokenizer.get_default_config(), "spacy_pipeline": choice}
    component = dutch_tokenizer.DutchSpacyTokenizer.create(config, storage, resource, context)
    component.train(TrainingData())
    return storage, resource, context, config


def test_model_carries_its_pipeline_and_tokens_have_lemmas(tmp_path) -> None:
    storage, resource, context, config = _trained(tmp_path, dutch_tokenizer.OFFLINE_PIPELINE)
    loaded = dutch_tokenizer.DutchSpacyTokenizer.load(config, storage, resource, context)
    assert loaded.pipeline == dutch_tokenizer.OFFLINE_PIPELINE
    message = Message(data={"text": "Waarom steunt Amnesty het Scandinavische model niet?"})
    loaded.process([message])
    tokens = message.get("text_tokens")
    # Tokens are of the normal form both layers read (vraagbaak.core.normalise): lower case, no accents.
    assert [t.text for t in tokens][:3] == ["waarom", "steunt", "amnesty"]
    assert tokens[1].lemma == "steunen"
    flemish = Message(data={"text": "ＫＺＩＴ hier en ge weet da"})
    loaded.process([flemish])
    assert [t.text for t in flemish.get("text_tokens")] == ["ik", "zit", "hier", "en", "je", "weet", "dat"]


def test_serving_with_another_pipeline_than_trained_fails_loudly(tmp_path) -> None:
    storage, resource, context, config = _trained(tmp_path, dutch_tokenizer.OFFLINE_PIPELINE)
    with pytest.raises(dutch_tokenizer.PipelineMismatch):
        dutch_tokenizer.DutchSpacyTokenizer.load(
            {**config, "spacy_pipeline": dutch_tokenizer.FULL_PIPELINE}, storage, resource, context
        )
