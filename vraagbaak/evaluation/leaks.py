"""Finds test phrasings that leak into other data: the same after folding accents, or nearly the same."""
from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterable, List, Sequence, Tuple

# Two phrasings this similar (difflib ratio after folding) count as the same phrasing written twice.
NEAR_DUPLICATE = 0.9


def fold(text: str) -> str:
    """Lower case, accents removed ("België" == "belgie"), punctuation and extra spaces gone."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w ]", " ", plain).split())


def leaks(
    candidates: Sequence[str], others: Iterable[str], threshold: float = NEAR_DUPLICATE
) -> List[Tuple[str, str, float]]:
    """(candidate, other, ratio) for every candidate that equals or nearly equals one of the others."""
    folded_others = sorted({fold(o) for o in others})
    found = []
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(None)
        matcher.set_seq2(fold(candidate))  # the second sequence is the one difflib caches
        for other in folded_others:
            matcher.set_seq1(other)
            # The quick upper bounds skip almost every pair before the exact ratio is computed.
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                ratio = matcher.ratio()
                if ratio >= threshold:
                    found.append((candidate, other, round(ratio, 3)))
                    break
    return found
