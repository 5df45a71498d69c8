"""Rasa's side-by-side join of two featurizers' sparse features, without scipy's general block-matrix code.

Why: for every message DIET joins the featurizers' token-level counts with `scipy.sparse.hstack`, which goes
through `bmat`'s general block handling (~0.15 ms a join here, several per message, many thousands in
training). Two COO matrices with the same rows are joined by shifting the second one's columns: the same
entries in the same order, hence the same matrix. Anything else goes Rasa's way.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from rasa.shared.nlu.training_data.features import Features
from scipy.sparse import coo_matrix, isspmatrix_coo

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

_rasa_combine_sparse: Callable[[Features, Features], None] = Features._combine_sparse_features


def side_by_side(left: coo_matrix, right: coo_matrix) -> coo_matrix:
    """The columns of `right` after those of `left`, as `scipy.sparse.hstack([left, right])` gives them."""
    return coo_matrix(
        (
            np.concatenate([left.data, right.data]),
            (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]])),
        ),
        shape=(left.shape[0], left.shape[1] + right.shape[1]),
    )


def combine_sparse_features(features: Features, additional: Features) -> None:
    """Rasa's `Features._combine_sparse_features`, with the COO case joined directly."""
    left: Any = features.features
    right: Any = additional.features
    if left.shape[0] != right.shape[0] or not (isspmatrix_coo(left) and isspmatrix_coo(right)):
        _rasa_combine_sparse(features, additional)  # Rasa's own error for mismatched rows, its join otherwise
        return
    features.features = side_by_side(left, right)
    features._cached_fingerprint = None


PATCH = Patch(
    name="sparse_join",
    why="Featurizers' sparse counts joined by shifting columns, not through scipy's general block code.",
    proof="tests/adapters/test_sparse_join.py",
    replacements=lambda settings: [
        Replacement(Features, "_combine_sparse_features", combine_sparse_features)
    ],
)
