"""The safety layer in Rasa's pipeline: reads every message, whole, and says whether someone is in danger now.

It is trained on its own corpus (data/safety/) plus the topic phrasings, separately from the topic
classifier, and stores its verdict on the message under `veiligheid` (kept in the parse result, so the
actions and the console can see the decision and why). ChoiceAndInputGuard acts on it.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vraagbaak.core import normalise as normalise_module
from vraagbaak.core import safety as safety_package
from vraagbaak.core.outcomes import SAFETY_INTENT
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.safety.corpus import load_corpus, training_set
from vraagbaak.core.safety.model import SafetyModel, train

logger = logging.getLogger(__name__)

VERDICT_KEY = "veiligheid"


def corpus_dir(config: Dict[str, Any]) -> Path:
    """The corpus folder named in config.yml, relative to the project."""
    return PROJECT_DIR / str(config["corpus"])


def files_fingerprint(paths: List[Path]) -> str:
    """A checksum of files Rasa does not know this component depends on, for its training cache key."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


def corpus_fingerprint(directory: Path) -> str:
    """The corpus files and the code that turns them into weights: a change in either retrains the layer."""
    package = Path(safety_package.__file__).parent
    code = sorted(package.glob("*.py")) + sorted(package.glob("*.yml")) + [Path(normalise_module.__file__)]
    return files_fingerprint(sorted(directory.glob("*.yml")) + code)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyLayer(GraphComponent):
    """Danger now or not, for every message, before anything decides on a topic."""

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: SafetyModel | None,
    ) -> None:
        """Keep the settings and the trained model (None until trained)."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The corpus folder and the threshold (chosen by cross-validation, docs/safety.md)."""
        return {"corpus": "data/safety", "threshold": 0.19}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The corpus is read from disk, not given by Rasa: its checksum must be part of the cache key."""
        return corpus_fingerprint(corpus_dir({**cls.get_default_config(), **config}))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyLayer:
        """Untrained."""
        return cls({**cls.get_default_config(), **config}, model_storage, resource, None)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the corpus plus the topic phrasings; store the weights in the model."""
        examples = [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples]
        data = training_set(load_corpus(corpus_dir(self._config)), examples, SAFETY_INTENT)
        self._model = train(
            [p.text for p in data.danger],
            [p.text for p in data.safe],
            data.self_harm,
            float(self._config["threshold"]),
            info={"danger": len(data.danger), "safe": len(data.safe)},
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(Path(directory))
        logger.info("Veiligheidslaag getraind: %d nood, %d geen nood.", len(data.danger), len(data.safe))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyLayer:
        """Read the stored weights; the threshold of config.yml wins, so it can change without retraining."""
        merged = {**cls.get_default_config(), **config}
        with model_storage.read_from(resource) as directory:
            model = SafetyModel.load(Path(directory))
        model.threshold = float(merged["threshold"])
        return cls(merged, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Attach the verdict to every message that has text."""
        if self._model is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if text.strip() and not text.lstrip().startswith("/"):
                message.set(VERDICT_KEY, self._model.verdict(text).as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data
