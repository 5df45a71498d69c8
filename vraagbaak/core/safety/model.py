"""The safety classifier: is someone in danger now? A logistic regression on hashed words, character
n-grams and the signals of `cues`, trained on its own corpus and read with a threshold chosen for recall.

Hashed features need no vocabulary, so the stored model is two weight vectors and a few numbers. Prediction
is a handful of sparse dot products (well under a millisecond); scikit-learn is only needed to train.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from scipy import sparse

from vraagbaak.core.normalise import normalise
from vraagbaak.core.safety.cues import LABELS, VECTOR_NAMES, Signals, signals

N_FEATURES = 2**18
# The signal block is scaled up so that the regularisation lets it carry weight next to many n-grams.
SIGNAL_SCALE = 2.0
# A long message is also read sentence by sentence: danger in one sentence is not diluted by a question or
# by context in the others (leaving the mixed kind out: 0.82 -> 0.94 recall, docs/safety.md). A framing
# such as "vorig jaar" anywhere in the message still counts for every sentence.
_SENTENCES = re.compile(
    r"\s*(?:[.!?;\n]+|,\s*(?=(?:maar|en|wat|is|hoe|waarom|doet|werkt|kan|mag|moet)\b))\s*"
)
MAX_SENTENCES = 8
# A sentence read alone is short and loses most of its context, so the model over-reads it (in CV about a
# third of the false alarms on hard negatives came from one sentence alone). Its logit is lowered by this
# much before the maximum: the whole message counts fully, a single sentence must be clearly dangerous.
SENTENCE_OFFSET = 1.5
# Inverse regularisation of the danger regression (was 4.0; 16 gives fewer false alarms at equal recall).
DANGER_C = 16.0
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

    @classmethod
    def from_dict(cls, raw: Dict[str, Any]) -> Verdict:
        """The verdict back from what `as_dict` stored with a message (unknown signal names are left out)."""

        def names(key: str) -> Tuple[str, ...]:
            value = raw.get(key)
            return tuple(str(s) for s in value if str(s) in LABELS) if isinstance(value, list) else ()

        return cls(
            danger=bool(raw.get("nood")),
            score=float(raw.get("score") or 0.0),
            threshold=float(raw.get("drempel") or 0.0),
            self_harm=bool(raw.get("zelfbeschadiging")),
            signals=names("signalen"),
            framings=names("niet_acuut"),
        )

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
    sentence_offset: float = SENTENCE_OFFSET

    def verdict(self, text: str) -> Verdict:
        """The decision for one raw user text: the whole and each of its sentences, the highest score."""
        folded = normalise(text)
        found = signals(folded)
        rows = _rows(text, folded, found)
        logits = rows.dot(self.danger_weights) + self.danger_bias
        logits[1:] -= self.sentence_offset  # row 0 is the whole message, the rest its sentences
        all_scores = 1.0 / (1.0 + np.exp(-logits))
        best = int(np.argmax(all_scores))
        score = float(all_scores[best])
        danger = score >= self.threshold
        harm = _sigmoid(rows.row_dot(best, self.self_harm_weights) + self.self_harm_bias)
        self_harm = danger and (
            harm >= self.self_harm_threshold or bool(found.counts.get("zelfbeschadiging"))
        )
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
            "sentence_offset": self.sentence_offset,
            "info": self.info,
        }
        (directory / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SafetyModel:
        """Read what `save` wrote."""
        weights = np.load(directory / WEIGHTS_FILE)
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        if weights["danger"].shape != (n_columns(),):
            raise ValueError(
                "De veiligheidslaag in dit model past niet bij de code (andere kenmerken). Train het model opnieuw."
            )
        return cls(
            danger_weights=weights["danger"],
            danger_bias=float(meta["danger_bias"]),
            self_harm_weights=weights["self_harm"],
            self_harm_bias=float(meta["self_harm_bias"]),
            threshold=float(meta["threshold"]),
            self_harm_threshold=float(meta["self_harm_threshold"]),
            info=dict(meta.get("info", {})),
            # a model saved before the offset existed was read without it
            sentence_offset=float(meta.get("sentence_offset", 0.0)),
        )


_HASHERS = None


def _hashers():  # type: ignore[no-untyped-def]
    global _HASHERS
    if _HASHERS is None:
        _HASHERS = _vectorizers()
    return _HASHERS


def _signal_block(found: Signals) -> np.ndarray:
    return np.asarray(found.vector(), dtype=np.float64) * SIGNAL_SCALE


def sentences(text: str) -> List[str]:
    """The sentences of a message worth reading alone (two words or more), at most MAX_SENTENCES."""
    parts = [p for p in _SENTENCES.split(text) if p and len(p.split()) >= 2]
    return parts[:MAX_SENTENCES] if len(parts) > 1 else []


# Framings of time and mode ("vorig jaar", "stel dat", "in de film") hold for every sentence of a message;
# an opinion or a research question in one sentence says nothing about danger in another.
INHERITED = ("verleden", "hypothetisch", "fictie_nieuws", "beeldspraak", "niet_dringend")


def _with_framing(found: Signals, whole: Signals) -> Signals:
    counts = dict(found.counts)
    for name in INHERITED:
        counts[name] = max(counts.get(name, 0), whole.counts.get(name, 0))
    return Signals(counts)


@dataclass(frozen=True)
class _Rows:
    """The feature rows of one message as their three blocks, never stacked into one matrix.

    Stacking the sparse blocks cost more than the products themselves; a product with a weight vector is
    the sum of the products of the blocks with its slices (proved equal to `featurise` in the tests).
    """

    words: sparse.csr_matrix
    chars: sparse.csr_matrix
    block: np.ndarray

    def dot(self, weights: np.ndarray) -> np.ndarray:
        return (
            self.words @ weights[:N_FEATURES]
            + self.chars @ weights[N_FEATURES : 2 * N_FEATURES]
            + self.block @ weights[2 * N_FEATURES :]
        )

    def row_dot(self, row: int, weights: np.ndarray) -> float:
        return float(self.dot(weights)[row])


def _rows(text: str, folded: str, found: Signals) -> _Rows:
    """Feature rows of the whole text and of each sentence (the sentences keep the whole's framing)."""
    texts = [folded]
    blocks = [_signal_block(found)]
    for part in sentences(text):
        part_folded = normalise(part)
        texts.append(part_folded)
        blocks.append(_signal_block(_with_framing(signals(part_folded), found)))
    words, chars = _hashers()
    return _Rows(words.transform(texts), chars.transform(texts), np.vstack(blocks))


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


def train(
    danger: Sequence[str],
    safe: Sequence[str],
    self_harm: Sequence[bool],
    threshold: float,
    info: Dict[str, object] | None = None,
    safe_weights: Sequence[float] | None = None,
) -> SafetyModel:
    """Fit the danger weights on all texts and, among the dangers, the self-harm weights."""
    rows = featurise(list(danger) + list(safe))
    labels = [1] * len(danger) + [0] * len(safe)
    sample = None if safe_weights is None else [1.0] * len(danger) + list(safe_weights)
    weights, bias = fit_weights(rows, labels, sample, c=DANGER_C)
    harm_rows = rows[: len(danger)]
    harm_labels = [1 if h else 0 for h in self_harm]
    if 0 < sum(harm_labels) < len(harm_labels):
        harm_weights, harm_bias = fit_weights(harm_rows, harm_labels)
    else:  # nothing to tell apart: only the self-harm signal decides
        harm_weights, harm_bias = np.zeros(rows.shape[1]), -10.0
    return SafetyModel(weights, bias, harm_weights, harm_bias, threshold, info=dict(info or {}))


def danger_scores(model: SafetyModel, texts: Sequence[str]) -> List[float]:
    """The score `verdict` gives each text (evaluation and cross-validation)."""
    return [model.verdict(t).score for t in texts]
