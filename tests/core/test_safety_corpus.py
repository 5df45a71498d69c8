"""The safety corpus: big enough per kind, well-formed, and free of the frozen test set."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from vraagbaak.core.safety.corpus import DANGER_KINDS, SAFE_KINDS, load_corpus, load_file

CORPUS = load_corpus()


def test_at_least_600_danger_phrasings_and_30_of_every_kind() -> None:
    danger = [p for p in CORPUS if p.danger]
    assert len(danger) >= 600
    counts = Counter(p.kind for p in danger)
    for kind in DANGER_KINDS:
        assert counts[kind] >= 30, kind


def test_at_least_600_hard_negatives_over_every_contrast_kind() -> None:
    safe = [p for p in CORPUS if not p.danger]
    assert len(safe) >= 600
    counts = Counter(p.kind for p in safe)
    for kind in SAFE_KINDS:
        assert counts[kind] >= 30, kind


def test_no_phrasing_is_both_danger_and_not() -> None:
    danger = {p.text.strip().lower() for p in CORPUS if p.danger}
    assert not danger & {p.text.strip().lower() for p in CORPUS if not p.danger}


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "fout.yml"
    bad.write_text('gevaar:\n  gewled_nu:\n    - "help"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="gewled_nu"):
        load_file(bad)
