"""DIET called through its concrete function gives exactly Rasa's scores, and odd batches still go Rasa's way."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import MODEL
from vraagbaak.adapters.nlu import inference
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.staff import evaluation as ev

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
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    yield Agent.load(str(MODEL))
    inference.uninstall_direct_inference()


QUESTIONS = [text for text, _ in ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")][1::4]


@pytest.mark.model
def test_the_trained_model_scores_every_held_out_question_identically(agent: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        inference.uninstall_direct_inference()
        rasa_way = [loop.run_until_complete(agent.parse_message(q)) for q in QUESTIONS]
        inference.install_direct_inference()
        direct = [loop.run_until_complete(agent.parse_message(q)) for q in QUESTIONS]
    finally:
        loop.close()
    dumped = [json.dumps(r, sort_keys=True, default=str) for r in (rasa_way, direct)]
    assert dumped[0] == dumped[1]
    diet = next(
        node
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if type(node._component).__name__ == "DIETClassifier"
    )
    # The direct path really ran: the concrete function was taken from DIET's traced function.
    assert getattr(diet._component.model, "_vraagbaak_concrete", None) is not None
