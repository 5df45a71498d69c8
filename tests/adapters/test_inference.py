"""DIET called through its concrete function gives exactly Rasa's scores, and odd batches still go Rasa's way."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest
import tensorflow as tf

from tests.support.bot import load_trained_agent, parses_without_and_with
from vraagbaak.adapters.rasa_patches import inference
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.evaluation import offline as ev

SPECS = [tf.TensorSpec([None, 3], tf.int64), tf.TensorSpec([None], tf.float32)]


def test_a_batch_that_fits_the_signature_becomes_tensors_of_its_types() -> None:
    tensors = inference.as_tensors([np.zeros((4, 3), np.int64), np.ones(4, np.float32)], SPECS)
    assert tensors is not None
    assert [t.dtype for t in tensors] == [tf.int64, tf.float32]
    assert tensors[1].numpy().tolist() == [1.0] * 4


@pytest.mark.parametrize(
    "batch",
    [
        [np.zeros((4, 3), np.int32), np.ones(4, np.float32)],  # another integer type
        [np.zeros((4, 2), np.int64), np.ones(4, np.float32)],  # another width
        [np.zeros((4, 3), np.int64), np.ones((4, 1), np.float32)],  # another rank
        [np.zeros((4, 3), np.int64)],  # an input missing
    ],
)
def test_a_batch_that_does_not_fit_is_left_to_rasa(batch: list) -> None:
    assert inference.as_tensors(batch, SPECS) is None


@pytest.fixture(scope="module")
def agent() -> Iterator[Any]:
    yield load_trained_agent()
    inference.PATCH.uninstall()


QUESTIONS = [text for text, _ in ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")][1::4]


@pytest.mark.model
def test_the_trained_model_scores_every_held_out_question_identically(agent: Any) -> None:
    rasa_way, direct = parses_without_and_with(
        agent, QUESTIONS, inference.PATCH.uninstall, inference.PATCH.install
    )
    assert direct == rasa_way
    diet = next(
        node
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if type(node._component).__name__ == "DIETClassifier"
    )
    # The direct path really ran: the concrete function was taken from DIET's traced function.
    assert getattr(diet._component.model, "_vraagbaak_concrete", None) is not None
