"""The safety classifier: is someone in danger now? A logistic regression on hashed words, character
n-grams and the signals of `cues`, trained on its own corpus and read with a threshold chosen for recall.

Hashed features need no vocabulary, so the stored model is two weight vectors and a few numbers. Prediction
is a handful of sparse dot products (well under a millisecond); scikit-learn is only needed to train.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy import sparse

from vraagbaak.core.normalise import normalise
from vraagbaak.core.safety.cues import LABELS, VECTOR_NAMES, Signals, signals

N_FEATURES = 2**18
# The signal block is scaled up so that the regularisation lets it carry weight next to many n-grams.
SIGNAL_SCALE = 2.0
WEIGHTS_FILE = "safety_weights.npz"
META_FILE = "safety_meta.json"


def _vectorizers():  # type: ignore[no-untyped-def]
    # Imported here: serving builds the same hashers, but training alone needs the rest of scikit-learn.
    from sklearn.feature_extraction.text import HashingVectorizer

    common = dict(n_features=N_FEATURES, alternate_sign=False, norm="l2", lowercase=False)
    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)
    return words, chars


@dataclass(frozen=True)
class Verdict:
    """The safety layer's decision on one message, with what it is based on."""

    danger: bool
    score: float
    threshold: float
    self_harm: bool = False
    signals: Tuple[str, ...] = ()
    framings: Tuple[str, ...] = ()

    def as_dict(self) -> Dict[str, object]:
        """What Rasa stores with the message and what the console shows (no user text)."""
        return {
            "nood": self.danger,
            "score": round(self.score, 3),
            "drempel": self.threshold,
            "zelfbeschadiging": self.self_harm,
            "signalen": list(self.signals),
            "niet_acuut": list(self.framings),
        }

    def explanation(self) -> str:
        """One Dutch sentence for staff: the decision and why."""
        decision = "noodbericht" if self.danger else "geen noodbericht"
        parts = [f"{decision} (score {self.score:.2f}, grens {self.threshold:.2f})"]
        if self.signals:
            parts.append("wijst op gevaar: " + ", ".join(LABELS[s] for s in self.signals))
        if self.framings:
            parts.append("wijst op niet-acuut: " + ", ".join(LABELS[s] for s in self.framings))
        return "; ".join(parts) + "."


@dataclass
class SafetyModel:
    """Weights for danger and, among dangers, for self-harm; thresholds chosen at training time."""

    danger_weights: np.ndarray
    danger_bias: float
    self_harm_weights: np.ndarray
    self_harm_bias: float
    threshold: float
    self_harm_threshold: float = 0.5
    info: Dict[str, object] = field(default_factory=dict)

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The feature rows of these texts (raw user text; normalised here)."""
        return featurise(texts)

    def verdict(self, text: str) -> Verdict:
        """The decision for one raw user text."""
        folded = normalise(text)
        found = signals(folded)
        row = _row(folded, found)
        score = _sigmoid(float(row @ self.danger_weights) + self.danger_bias)
        danger = score >= self.threshold
        harm = _sigmoid(float(row @ self.self_harm_weights) + self.self_harm_bias)
        self_harm = danger and (harm >= self.self_harm_threshold or bool(found.counts.get("zelfbeschadiging")))
        return Verdict(
            danger=danger,
            score=score,
            threshold=self.threshold,
            self_harm=self_harm,
            signals=tuple(found.danger_kinds) + (("dringend",) if found.counts.get("dringend") else ()),
            framings=tuple(found.not_acute),
        )

    def save(self, directory: Path) -> None:
        """Write the weights and thresholds into a model directory."""
        np.savez_compressed(
            directory / WEIGHTS_FILE, danger=self.danger_weights, self_harm=self.self_harm_weights
        )
        meta = {
            "danger_bias": self.danger_bias,
            "self_harm_bias": self.self_harm_bias,
            "threshold": self.threshold,
            "self_harm_threshold": self.self_harm_threshold,
            "info": self.info,
        }
        (directory / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SafetyModel:
        """Read what `save` wrote."""
        weights = np.load(directory / WEIGHTS_FILE)
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(
            danger_weights=weights["danger"],
            danger_bias=float(meta["danger_bias"]),
            self_harm_weights=weights["self_harm"],
            self_harm_bias=float(meta["self_harm_bias"]),
            threshold=float(meta["threshold"]),
            self_harm_threshold=float(meta["self_harm_threshold"]),
            info=dict(meta.get("info", {})),
        )


_HASHERS = None


def _hashers():  # type: ignore[no-untyped-def]
    global _HASHERS
    if _HASHERS is None:
        _HASHERS = _vectorizers()
    return _HASHERS


def _signal_block(found: Signals) -> np.ndarray:
    return np.asarray(found.vector(), dtype=np.float64) * SIGNAL_SCALE


def _row(folded: str, found: Signals) -> sparse.csr_matrix:
    words, chars = _hashers()
    block = sparse.csr_matrix(_signal_block(found).reshape(1, -1))
    return sparse.hstack([words.transform([folded]), chars.transform([folded]), block], format="csr")


def featurise(texts: Sequence[str]) -> sparse.csr_matrix:
    """Feature rows for many raw texts (training and evaluation)."""
    folded = [normalise(t) for t in texts]
    words, chars = _hashers()
    block = sparse.csr_matrix(np.vstack([_signal_block(signals(f)) for f in folded]))
    return sparse.hstack([words.transform(folded), chars.transform(folded), block], format="csr")


def n_columns() -> int:
    """Width of a feature row."""
    return 2 * N_FEATURES + len(VECTOR_NAMES)


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


def fit_weights(
    rows: sparse.csr_matrix, labels: Sequence[int], weights: Sequence[float] | None = None, c: float = 4.0
) -> Tuple[np.ndarray, float]:
    """A balanced logistic regression; returns the weight vector and bias."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear")
    model.fit(rows, np.asarray(labels), sample_weight=None if weights is None else np.asarray(weights))
    return model.coef_.ravel().astype(np.float64), float(model.intercept_[0])


def scores(rows: sparse.csr_matrix, weights: np.ndarray, bias: float) -> List[float]:
    """Probabilities of danger for feature rows."""
    return [float(s) for s in 1.0 / (1.0 + np.exp(-(rows @ weights + bias)))]
