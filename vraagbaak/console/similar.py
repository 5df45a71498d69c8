"""The training phrasings closest to a question: TF-IDF over character n-grams (scikit-learn).

The index is rebuilt when an NLU file changes (staff added a phrasing), checked cheaply by file times.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Sequence, Tuple

from vraagbaak.evaluation import offline as ev

TOP = 5


@dataclass(frozen=True)
class Neighbour:
    """A training phrasing, its intent and how similar it is (0-1)."""

    text: str
    intent: str
    similarity: float


class PhrasingIndex:
    """Nearest training phrasings for a text."""

    def __init__(self, files: Callable[[], Sequence[Path]]) -> None:
        self._files = files
        self._lock = threading.Lock()
        self._stamp: Tuple[Tuple[str, float, int], ...] = ()
        self._examples: List[ev.Example] = []
        self._vectorizer: Any = None
        self._matrix: Any = None

    def _current_stamp(self) -> Tuple[Tuple[str, float, int], ...]:
        stamp = []
        for path in self._files():
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append((str(path), info.st_mtime, info.st_size))
        return tuple(stamp)

    def _refresh(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp and self._vectorizer is not None:
            return
        from sklearn.feature_extraction.text import TfidfVectorizer

        examples = ev.load_nlu_dir(Path(name) for name, _, _ in stamp)
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self._matrix = vectorizer.fit_transform([text.lower() for text, _ in examples]) if examples else None
        self._vectorizer = vectorizer
        self._examples = examples
        self._stamp = stamp

    def nearest(self, text: str, top: int = TOP) -> List[Neighbour]:
        """The `top` most similar training phrasings, most similar first."""
        from sklearn.metrics.pairwise import linear_kernel

        with self._lock:
            self._refresh()
            if self._matrix is None:
                return []
            scores = linear_kernel(self._vectorizer.transform([text.lower()]), self._matrix)[0]
            best = scores.argsort()[::-1][:top]
            return [
                Neighbour(self._examples[i][0], self._examples[i][1], float(scores[i]))
                for i in best
                if scores[i] > 0
            ]
