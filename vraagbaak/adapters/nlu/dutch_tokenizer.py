"""Dutch spaCy tokenizer that stores its own spaCy pipeline inside the trained Rasa model."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any, Dict, List

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language

from vraagbaak.core import normalise as normalise_module
from vraagbaak.core.normalise import normalise

logger = logging.getLogger(__name__)

FULL_PIPELINE = "nl_core_news_sm"
OFFLINE_PIPELINE = "nl_blank_lookup"
CHOICES = ("auto", FULL_PIPELINE, OFFLINE_PIPELINE)
INFO_FILE = "vraagbaak_pipeline.json"
SPACY_DIR = "spacy"


class PipelineMismatch(RasaException):
    """Raised when a model would be served with another spaCy pipeline than it was trained with."""


def full_pipeline_installed() -> bool:
    """True when the official nl_core_news_sm package can be imported."""
    return importlib.util.find_spec(FULL_PIPELINE) is not None


def build_pipeline(choice: str) -> Language:
    """Build the requested pipeline; 'auto' prefers nl_core_news_sm and falls back to offline."""
    if choice not in CHOICES:
        raise RasaException(f"Onbekende spaCy-pipeline '{choice}', kies uit {CHOICES}.")
    if choice == FULL_PIPELINE or (choice == "auto" and full_pipeline_installed()):
        if not full_pipeline_installed():
            raise RasaException(
                f"'{FULL_PIPELINE}' is gevraagd maar niet geïnstalleerd; zie docs/nlu.md (make install-nl-model)."
            )
        # The parser and NER are not used by the NLU pipeline; dropping them saves memory and time.
        nlp = spacy.load(FULL_PIPELINE, exclude=["parser", "ner"])
        nlp.meta["vraagbaak_pipeline"] = FULL_PIPELINE
        return nlp
    # Offline: Dutch tokenizer rules plus the lemma lookup table from spacy-lookups-data.
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["vraagbaak_pipeline"] = OFFLINE_PIPELINE
    return nlp


def pipeline_name(nlp: Language) -> str:
    """Which of the two pipelines this spaCy Language is."""
    return str(nlp.meta.get("vraagbaak_pipeline", nlp.meta.get("lang", "") + "_" + nlp.meta.get("name", "")))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class DutchSpacyTokenizer(Tokenizer):
    """Tokenizes and lemmatizes Dutch text with spaCy; the model archive carries the pipeline."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Defaults: 'auto' picks nl_core_news_sm when installed, otherwise the offline pipeline."""
        return {
            "spacy_pipeline": "auto",
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        nlp: Language,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Keep the spaCy pipeline and where to persist it."""
        super().__init__(config)
        self._nlp = nlp
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The normal form's code: when it changes, Rasa's cache must not reuse old tokens."""
        return hashlib.sha256(Path(normalise_module.__file__).read_bytes()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DutchSpacyTokenizer:
        """Build the pipeline for training and log which one is used."""
        nlp = build_pipeline(config["spacy_pipeline"])
        logger.info("spaCy-pipeline voor training: %s", pipeline_name(nlp))
        return cls(config, nlp, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Persist the spaCy pipeline into the model so serving never depends on what is installed."""
        with self._model_storage.write_to(self._resource) as directory:
            self._nlp.to_disk(Path(directory) / SPACY_DIR)
            info = {"pipeline": pipeline_name(self._nlp), "spacy": spacy.__version__}
            (Path(directory) / INFO_FILE).write_text(json.dumps(info), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> DutchSpacyTokenizer:
        """Load the pipeline that was stored at training time; refuse anything else loudly."""
        with model_storage.read_from(resource) as directory:
            recorded = json.loads((Path(directory) / INFO_FILE).read_text(encoding="utf-8"))["pipeline"]
            nlp = spacy.load(Path(directory) / SPACY_DIR)
        wanted = config["spacy_pipeline"]
        if pipeline_name(nlp) != recorded or wanted not in ("auto", recorded):
            raise PipelineMismatch(
                f"Model getraind met spaCy-pipeline '{recorded}', maar de configuratie vraagt '{wanted}' "
                f"en het archief bevat '{pipeline_name(nlp)}'. Train het model opnieuw."
            )
        logger.info("spaCy-pipeline uit het model: %s", recorded)
        return cls(config, nlp, model_storage, resource)

    @property
    def pipeline(self) -> str:
        """Name of the spaCy pipeline in use."""
        return pipeline_name(self._nlp)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Split text into tokens that carry spaCy lemmas; user text is read in its normal form first.

        The normal form (vraagbaak.core.normalise) is the one the safety layer reads too: fullwidth letters,
        invisible characters, accents, chat-speak and Flemish contractions mean the same to both layers.
        """
        text = message.get(attribute)
        doc = self._nlp(normalise(text) if attribute == TEXT else text)
        tokens = [Token(t.text, t.idx, lemma=t.lemma_ or t.lower_) for t in doc if t.text.strip()]
        return self._apply_token_pattern(tokens)
