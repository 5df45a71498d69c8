"""DIET's prediction through its one traced graph, called with tensors instead of numpy arrays.

Why: Rasa calls its `tf.function` with numpy arrays for every message, and TensorFlow then matches the call
against the function's signature and converts each array anew: about 1.5 ms of a 4 ms call here. Rasa traces
the function with a fixed input signature, so it has exactly one concrete function; calling that with the
same arrays as tensors of the signature's types runs the same graph and gives the same scores.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Sequence

import numpy as np
import tensorflow as tf
from keras.utils import tf_utils
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.utils.tensorflow import models

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

_rasa_predict: Callable[[Any, Any], Dict[str, Any]] = models.RasaModel._rasa_predict


def as_tensors(batch: Sequence[np.ndarray], specs: Sequence[tf.TensorSpec]) -> list[tf.Tensor] | None:
    """The batch's arrays as tensors of the signature's types; None when the batch does not fit the signature."""
    if len(batch) != len(specs):
        return None
    tensors = []
    for array, spec in zip(batch, specs, strict=True):
        if np.asarray(array).dtype != spec.dtype.as_numpy_dtype or not spec.shape.is_compatible_with(
            array.shape
        ):
            return None
        tensors.append(tf.constant(array))
    return tensors


def rasa_predict(model: Any, batch_in: Any) -> Dict[str, Any]:
    """Rasa's `_rasa_predict`, once traced, through the concrete function; anything unusual goes Rasa's way."""
    step = getattr(model, "_tf_predict_step", None)
    if step is None or model._run_eagerly or not model.prepared_for_prediction:
        return _rasa_predict(model, batch_in)  # the first call traces the function exactly as Rasa does
    concrete = getattr(model, "_vraagbaak_concrete", None)
    if concrete is None:
        concrete = model._vraagbaak_concrete = step.get_concrete_function()
    tensors = as_tensors(batch_in, concrete.structured_input_signature[0][0])
    if tensors is None:
        return _rasa_predict(model, batch_in)
    model._training = False
    outputs: Dict[str, Any] = tf_utils.sync_to_numpy_or_python_type(concrete(tensors))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = model._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


PATCH = Patch(
    name="inference",
    why="DIET's traced graph called with tensors: no signature matching and conversion per message.",
    proof="tests/adapters/test_inference.py",
    replacements=lambda settings: [Replacement(models.RasaModel, "_rasa_predict", rasa_predict)],
)
