"""The direct join gives exactly scipy's hstack, and the trained model parses the same with it."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from scipy.sparse import coo_matrix, csr_matrix, hstack

from tests.support.bot import load_trained_agent, parses_without_and_with
from vraagbaak.adapters.rasa_patches import sparse_join
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.evaluation import offline as ev


def counts(rows: int, columns: int, seed: int, dtype: Any = np.int64) -> coo_matrix:
    rng = np.random.default_rng(seed)
    return coo_matrix((rng.random((rows, columns)) < 0.2) * rng.integers(1, 4, (rows, columns))).astype(dtype)


@pytest.mark.parametrize(
    "left, right",
    [
        (counts(3, 5, 1), counts(3, 7, 2)),
        (counts(1, 40, 3, np.float64), counts(1, 2, 4)),  # mixed types are promoted as scipy promotes them
        (counts(4, 3, 5), coo_matrix((4, 6), dtype=np.int64)),  # nothing on the right
    ],
)
def test_the_join_is_scipys_hstack_entry_for_entry(left: coo_matrix, right: coo_matrix) -> None:
    ours, scipys = sparse_join.side_by_side(left, right), hstack([left, right])
    assert ours.shape == scipys.shape and ours.dtype == scipys.dtype
    assert (ours.toarray() == scipys.toarray()).all()
    assert ours.row.tolist() == scipys.row.tolist() and ours.col.tolist() == scipys.col.tolist()


def test_rows_that_differ_get_rasas_error_and_other_formats_rasas_join() -> None:
    a = Features(counts(2, 3, 1), FEATURE_TYPE_SEQUENCE, TEXT, "a")
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        sparse_join.combine_sparse_features(a, Features(counts(3, 3, 2), FEATURE_TYPE_SEQUENCE, TEXT, "b"))
    b = Features(csr_matrix(counts(2, 4, 3)), FEATURE_TYPE_SEQUENCE, TEXT, "b")
    sparse_join.combine_sparse_features(a, b)
    assert a.features.shape == (2, 7)


@pytest.fixture(scope="module")
def agent() -> Iterator[Any]:
    yield load_trained_agent()
    sparse_join.PATCH.uninstall()


@pytest.mark.model
def test_the_trained_model_parses_every_held_out_question_identically(agent: Any) -> None:
    questions = [text for text, _ in ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")][2::4]
    rasa_way, direct = parses_without_and_with(
        agent, questions, sparse_join.PATCH.uninstall, sparse_join.PATCH.install
    )
    assert direct == rasa_way
