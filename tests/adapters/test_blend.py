"""The linear blend: exact mixing, a regression that learns, stores plain arrays and changes only what it should."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import (
    ACTION_TEXT,
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import coo_matrix

from vraagbaak.adapters.nlu.blend import (
    WEIGHTS_FILE,
    LinearBlendClassifier,
    blend,
    sentence_counts,
    softmax,
)
from vraagbaak.core.outcomes import SAFETY_INTENT


def ranking(**confidences: float) -> List[Dict[str, object]]:
    return [{"name": name, "confidence": c} for name, c in confidences.items()]


@pytest.mark.parametrize(
    "weight, expected",
    [
        (0.0, [("a", 0.7), ("b", 0.3), ("c", 0.0)]),
        (1.0, [("c", 0.6), ("b", 0.4), ("a", 0.0)]),
        (0.5, [("b", 0.35), ("a", 0.35), ("c", 0.3)]),
    ],
)
def test_the_blend_is_the_weighted_mean_of_both_opinions(weight: float, expected: list) -> None:
    mixed = blend(ranking(a=0.7, b=0.3), {"b": 0.4, "c": 0.6}, weight, 10)
    assert [(r["name"], pytest.approx(r["confidence"])) for r in mixed] == [
        (n, pytest.approx(c)) for n, c in sorted(expected, key=lambda e: (-e[1], e[0]))
    ]


@pytest.mark.parametrize(
    "first, linear, expected", [(0.35, 0.05, 0.35), (0.05, 0.95, 0.41), (0.5, 0.9, 0.66)]
)
def test_the_blend_never_lowers_the_classifier_own_danger_signal(
    first: float, linear: float, expected: float
) -> None:
    mixed = blend(
        ranking(**{SAFETY_INTENT: first, "faq_rapport": 1 - first}), {SAFETY_INTENT: linear}, 0.4, 10
    )
    assert {r["name"]: r["confidence"] for r in mixed}[SAFETY_INTENT] == pytest.approx(expected)


def test_the_blend_keeps_at_most_the_ranking_length_and_zero_keeps_all() -> None:
    linear = {name: 0.1 for name in "abcdefghij"}
    assert len(blend(ranking(a=1.0), linear, 0.5, 3)) == 3
    assert len(blend(ranking(a=1.0), linear, 0.5, 0)) == 10


def test_softmax_rows_sum_to_one_even_for_huge_scores() -> None:
    probabilities = softmax(np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0].argmax() == 1 and np.allclose(probabilities[1], 1 / 3)


def message(text: str, counts: List[float], intent: str | None = None) -> Message:
    data = {TEXT: text, **({INTENT: intent} if intent else {})}
    m = Message(data=data)
    m.add_features(Features(coo_matrix(np.array([counts])), FEATURE_TYPE_SENTENCE, TEXT, "counts"))
    return m


TRAINING = [message(f"a{n}", [1, 0, n % 2], "groet") for n in range(6)]
TRAINING += [message(f"b{n}", [0, 1, n % 2], "afscheid") for n in range(6)]


@pytest.fixture
def trained(tmp_path: Path) -> LinearBlendClassifier:
    storage, resource = LocalModelStorage(tmp_path), Resource("blend")
    context = ExecutionContext(GraphSchema({}), "test")
    component = LinearBlendClassifier.create({"linear_weight": 0.6}, storage, resource, context)
    component.train(TrainingData(TRAINING))
    return LinearBlendClassifier.load({"linear_weight": 0.6}, storage, resource, context)


def test_the_regression_learns_which_counts_mean_which_intent(trained: LinearBlendClassifier) -> None:
    opinion = trained.linear_opinion(message("x", [1, 0, 1]))
    assert opinion["groet"] > 0.6 > opinion["afscheid"]
    assert trained.linear_opinion(message("y", [0, 1, 0]))["afscheid"] > 0.6


def test_the_weights_are_stored_as_plain_arrays_without_pickles(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("blend")
    component = LinearBlendClassifier.create({}, storage, resource, ExecutionContext(GraphSchema({}), "t"))
    component.train(TrainingData(TRAINING))
    with storage.read_from(resource) as directory:
        with np.load(Path(directory) / WEIGHTS_FILE, allow_pickle=False) as stored:
            assert set(stored.files) == {"coef", "intercept", "classes"}
            assert stored["classes"].tolist() == ["afscheid", "groet"]


def test_a_strong_linear_opinion_overrules_a_weak_classifier_guess(trained: LinearBlendClassifier) -> None:
    m = message("x", [0, 1, 0])
    m.set(INTENT, {"name": "groet", "confidence": 0.55})
    m.set(INTENT_RANKING_KEY, ranking(groet=0.55, afscheid=0.45))
    trained.process([m])
    assert m.get(INTENT)["name"] == "afscheid"
    assert [r["name"] for r in m.get(INTENT_RANKING_KEY)] == ["afscheid", "groet"]
    assert m.get(INTENT)["confidence"] == pytest.approx(m.get(INTENT_RANKING_KEY)[0]["confidence"])


def test_without_counts_or_training_the_classifier_guess_stays(tmp_path: Path, trained) -> None:
    bare = Message(data={TEXT: "", INTENT: {"name": "groet", "confidence": 0.9}})
    bare.set(INTENT_RANKING_KEY, ranking(groet=0.9))
    trained.process([bare])
    assert bare.get(INTENT) == {"name": "groet", "confidence": 0.9}
    untrained = LinearBlendClassifier.create(
        {}, LocalModelStorage(tmp_path / "u"), Resource("u"), ExecutionContext(GraphSchema({}), "t")
    )
    m = message("x", [0, 1, 0])
    m.set(INTENT_RANKING_KEY, ranking(groet=0.9))
    untrained.process([m])
    assert m.get(INTENT_RANKING_KEY) == ranking(groet=0.9)


def test_counts_of_another_width_are_ignored_not_misread(trained: LinearBlendClassifier) -> None:
    assert trained.linear_opinion(message("x", [1, 0, 1, 0])) == {}


def test_training_data_with_one_intent_trains_nothing_and_loads_as_a_pass_through(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("blend")
    context = ExecutionContext(GraphSchema({}), "t")
    component = LinearBlendClassifier.create({}, storage, resource, context)
    component.train(TrainingData([m for m in TRAINING if m.get(INTENT) == "groet"]))
    loaded = LinearBlendClassifier.load({}, storage, resource, context)
    m = message("x", [0, 1, 0])
    m.set(INTENT_RANKING_KEY, ranking(groet=0.9))
    loaded.process([m])
    assert m.get(INTENT_RANKING_KEY) == ranking(groet=0.9)


def featurised(*sentence_blocks: List[float]) -> Message:
    """A message as the pipeline leaves it: token rows, sentence rows, dense and other attributes mixed."""
    m = Message(data={TEXT: "twee woorden"})
    rng = np.random.default_rng(7)
    for n, block in enumerate(sentence_blocks):
        m.add_features(Features(coo_matrix(rng.integers(0, 3, (2, 5))), FEATURE_TYPE_SEQUENCE, TEXT, f"c{n}"))
        m.add_features(Features(coo_matrix(np.array([block])), FEATURE_TYPE_SENTENCE, TEXT, f"c{n}"))
        m.add_features(
            Features(coo_matrix(np.array([[9.0, 9.0]])), FEATURE_TYPE_SENTENCE, ACTION_TEXT, f"c{n}")
        )
    m.add_features(Features(np.ones((1, 4)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    return m


@pytest.mark.parametrize("blocks", [[[1, 0, 2]], [[1, 0, 2], [0, 3]], [[0, 0], [4, 0, 1], [2]]])
def test_sentence_counts_are_the_columns_rasa_itself_joins_in_its_order(blocks: List[List[float]]) -> None:
    m = featurised(*blocks)
    assert (sentence_counts(m).toarray() == m.get_sparse_features(TEXT)[1].features.toarray()).all()


def test_a_message_without_sentence_counts_has_none() -> None:
    m = Message(data={TEXT: "x"})
    m.add_features(Features(coo_matrix(np.ones((2, 3))), FEATURE_TYPE_SEQUENCE, TEXT, "c"))
    assert sentence_counts(m) is None


def test_the_linear_opinion_is_the_softmax_of_counts_times_weights(trained: LinearBlendClassifier) -> None:
    weights = trained._weights
    assert weights is not None
    counts = np.array([[2.0, 1.0, 1.0]])
    expected = softmax(counts @ weights["coef"].T.astype(np.float64) + weights["intercept"])[0]
    opinion = trained.linear_opinion(message("x", counts[0].tolist()))
    assert [opinion[c] for c in weights["classes"].tolist()] == pytest.approx(expected.tolist(), rel=1e-5)


def test_counts_split_over_featurizers_get_the_opinion_of_their_joined_columns(
    trained: LinearBlendClassifier,
) -> None:
    joined = trained.linear_opinion(message("x", [2, 0, 1]))
    for blocks in ([[2, 0], [1]], [[2], [0, 1]]):
        split = trained.linear_opinion(featurised(*blocks))
        assert split == pytest.approx(joined)
    # Mutation: the same counts with the blocks swapped mean other columns, hence another opinion.
    assert trained.linear_opinion(featurised([1], [2, 0])) != pytest.approx(joined)
