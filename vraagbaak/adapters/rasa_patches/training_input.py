"""DIET's training batches without tf.data's autotuning thread, whose shutdown stalls the end of training.

Why: Keras feeds DIET through one tf.data iterator for all epochs. When training ends, destroying that iterator
waits for the autotuner's thread, which sleeps between tuning rounds for up to a minute; stack dumps showed
`rasa train` idle there for 30-45 s after the last epoch (docs/nlu.md). The batches, their order and the
model are the same; only buffer sizes are no longer tuned, and Keras prefetches one batch either way.
"""
from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf
from keras.engine import data_adapter

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

_keras_get_dataset: Callable[[Any], tf.data.Dataset] = data_adapter.GeneratorDataAdapter.get_dataset


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """The same dataset with tf.data's autotuning switched off."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def get_dataset(adapter: Any) -> tf.data.Dataset:
    """Keras's dataset for a generator or Sequence, without autotuning."""
    return without_autotune(_keras_get_dataset(adapter))


PATCH = Patch(
    name="training_input",
    why="Without tf.data's autotuner, `rasa train` no longer idles up to a minute after DIET's last epoch.",
    proof="tests/adapters/test_training_input.py",
    replacements=lambda settings: [
        Replacement(data_adapter.GeneratorDataAdapter, "get_dataset", get_dataset)
    ],
)
