"""A second, linear opinion on the intent, blended with DIET's ranking before the fallback decides.

Why: DIET alone moves by several held-out phrasings from one training order to the next; a logistic regression
on the same word and character counts errs elsewhere, and the average of the two is right more often than
either (5-fold CV in docs/nlu.md). At prediction time it is one sparse product and a softmax, no scikit-learn.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack

from vraagbaak.core.outcomes import SAFETY_INTENT

WEIGHTS_FILE = "linear_blend.npz"


def sentence_blocks(message: Message) -> List[Any]:
    """The message's sentence-level sparse features (word and character counts), one block per featurizer.

    In Rasa's own order: `message.get_sparse_features(TEXT)[1]` joins exactly these, side by side, together with
    the much larger token-level features, which the regression does not need.
    """
    return [
        f.features
        for f in message.features
        if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()
    ]


def sentence_counts(message: Message) -> csr_matrix | None:
    """The sentence blocks side by side, the columns the weights are trained on, or None without any."""
    blocks = sentence_blocks(message)
    if not blocks:
        return None
    return csr_matrix(blocks[0]) if len(blocks) == 1 else hstack(blocks, format="csr")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from scores, row by row, without overflow."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def blend(
    ranking: List[Dict[str, Any]], linear: Dict[str, float], weight: float, length: int
) -> List[Dict[str, Any]]:
    """(1 - weight) x the classifier's confidence + weight x the linear one, best first, at most `length`.

    The danger intent never drops below the classifier's own confidence: the blend must not talk an emergency
    down. It is not raised to the linear opinion alone, which is sure of danger at words like "bedreigd".
    """
    first = {str(r["name"]): float(r["confidence"]) for r in ranking}
    names = set(first) | set(linear)
    mixed = {n: (1 - weight) * first.get(n, 0.0) + weight * linear.get(n, 0.0) for n in names}
    if SAFETY_INTENT in names:
        mixed[SAFETY_INTENT] = max(mixed[SAFETY_INTENT], first.get(SAFETY_INTENT, 0.0))
    best = sorted(mixed.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "confidence": confidence} for name, confidence in best[: length or None]]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearBlendClassifier(GraphComponent):
    """Blends DIET's intent ranking with a logistic regression trained on the sentence counts."""

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Dict[str, np.ndarray] | None = None,
    ) -> None:
        """Keep the configuration and, once trained or loaded, the regression's weights."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._weights = weights
        # Row-major per feature, so a message's product reads only the rows of its own features, not a copy of all.
        self._coef_by_feature = None if weights is None else np.ascontiguousarray(weights["coef"].T)

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Weight of the linear opinion, ranking length kept, and the regression's settings."""
        return {"linear_weight": 0.4, "ranking_length": 10, "max_iter": 200, "regularisation": 1.0}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearBlendClassifier:
        """Untrained: passes DIET's ranking through until trained."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit a balanced multinomial logistic regression and store its weights as plain arrays."""
        from sklearn.linear_model import LogisticRegression

        counted = [
            (sentence_counts(e), e.get(INTENT)) for e in training_data.intent_examples if e.get(INTENT)
        ]
        examples = [(counts, intent) for counts, intent in counted if counts is not None]
        if len({intent for _, intent in examples}) >= 2:
            model = LogisticRegression(
                C=self._config["regularisation"],
                max_iter=self._config["max_iter"],
                class_weight="balanced",
                random_state=42,
            )
            model.fit(vstack([counts for counts, _ in examples]), [intent for _, intent in examples])
            coef, intercept = model.coef_, model.intercept_
            if len(model.classes_) == 2:
                # Two classes: scikit-learn keeps one row for the second; softmax([0, z]) equals its sigmoid.
                coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
            self._weights = {
                "coef": coef.astype(np.float32),
                "intercept": intercept.astype(np.float32),
                "classes": np.array([str(c) for c in model.classes_]),
            }
            self._coef_by_feature = np.ascontiguousarray(self._weights["coef"].T)
        with self._model_storage.write_to(self._resource) as directory:
            if self._weights is not None:  # fewer than two intents: nothing to learn, DIET's ranking passes
                np.savez(Path(directory) / WEIGHTS_FILE, **self._weights)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearBlendClassifier:
        """Read the stored weights (plain arrays, never pickles); none stored means DIET's ranking passes."""
        weights = None
        with model_storage.read_from(resource) as directory:
            if (Path(directory) / WEIGHTS_FILE).exists():
                with np.load(Path(directory) / WEIGHTS_FILE, allow_pickle=False) as stored:
                    weights = {key: stored[key] for key in ("coef", "intercept", "classes")}
        return cls(config, model_storage, resource, weights)

    def linear_opinion(self, message: Message) -> Dict[str, float]:
        """The regression's probability per intent for this message; empty when it cannot judge."""
        blocks = [block.tocoo() for block in sentence_blocks(message)]
        if self._weights is None or self._coef_by_feature is None or not blocks:
            return {}
        if sum(b.shape[1] for b in blocks) != self._coef_by_feature.shape[0] or any(
            b.shape[0] != 1 for b in blocks
        ):
            return {}
        # Only the weight rows of the counts present, read where each block sits among the joined columns.
        offsets = np.cumsum([0] + [b.shape[1] for b in blocks[:-1]])
        columns = np.concatenate([b.col + offset for b, offset in zip(blocks, offsets, strict=True)])
        counts = np.concatenate([b.data for b in blocks]).astype(np.float64)
        logits = counts @ self._coef_by_feature[columns] + self._weights["intercept"]
        probabilities = softmax(logits[np.newaxis, :])[0]
        return dict(zip(self._weights["classes"].tolist(), probabilities.tolist(), strict=True))

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace intent and ranking by the blend of DIET's ranking and the linear opinion."""
        for message in messages:
            linear = self.linear_opinion(message)
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not linear or not ranking:
                continue
            blended = blend(ranking, linear, self._config["linear_weight"], self._config["ranking_length"])
            message.set(INTENT, blended[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, blended, add_to_output=True)
        return messages
