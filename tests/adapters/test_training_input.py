"""Training input without tf.data's autotuner: the option is really off and Keras trains exactly the same model."""
from __future__ import annotations

from typing import Iterator, List

import numpy as np
import pytest
import tensorflow as tf
from keras.engine import data_adapter

from vraagbaak.adapters.rasa_patches import training_input


class Batches(tf.keras.utils.Sequence):
    """Four fixed batches, like DIET's RasaBatchDataGenerator (a Keras Sequence)."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(index)
        x = rng.normal(size=(8, 3)).astype("float32")
        return x, (x.sum(axis=1, keepdims=True) > 0).astype("float32")


@pytest.fixture
def patched() -> Iterator[None]:
    training_input.PATCH.install()
    try:
        yield
    finally:
        training_input.PATCH.uninstall()


def adapter_dataset() -> tf.data.Dataset:
    return data_adapter.KerasSequenceAdapter(Batches()).get_dataset()


def test_keras_autotunes_its_generator_input_by_default() -> None:
    # The premise: without the patch the option is on (None means tf.data's default, which is on).
    assert adapter_dataset().options().autotune.enabled in (None, True)


def test_the_patched_adapter_switches_autotune_off(patched: None) -> None:
    assert adapter_dataset().options().autotune.enabled is False


def test_uninstall_restores_keras_own_adapter(patched: None) -> None:
    training_input.PATCH.uninstall()
    assert data_adapter.GeneratorDataAdapter.get_dataset is training_input._keras_get_dataset
    training_input.PATCH.install()
    assert data_adapter.GeneratorDataAdapter.get_dataset is training_input.get_dataset


def train_weights() -> List[np.ndarray]:
    tf.keras.utils.set_random_seed(7)
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu"), tf.keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(Batches(), epochs=3, verbose=0, shuffle=False)
    return [w.copy() for w in model.get_weights()]


def test_the_same_batches_train_exactly_the_same_weights() -> None:
    before = train_weights()
    training_input.PATCH.install()
    try:
        after = train_weights()
    finally:
        training_input.PATCH.uninstall()
    assert len(before) == len(after) == 4
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))
