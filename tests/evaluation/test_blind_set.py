"""The blind set stays blind: frozen, big enough, and sharing no phrasing with anything the model was built from."""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import List

import pytest

from vraagbaak.bench.run import BLIND_SET
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT
from vraagbaak.core.paths import DATA_DIR, TESTS_DIR
from vraagbaak.evaluation.leaks import fold, leaks
from vraagbaak.evaluation.offline import load_nlu_dir, load_nlu_examples

# Changing the blind set would make its figures incomparable and invite tuning on it: a new set gets a new file.
FROZEN_SHA256 = "553d74b30410508d502ffadec72abbabbb8d9a1377fdc5c362d14fa206aa3fad"
BLIND = load_nlu_examples(BLIND_SET)


def everything_the_model_was_built_or_checked_with() -> List[str]:
    """Training phrasings, the held-out set and the 2026-11 set (which was tuned on)."""
    texts = [t for t, _ in load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml")))]
    texts += [t for t, _ in load_nlu_examples(TESTS_DIR / "test_nlu.yml")]
    texts += [t for t, _ in load_nlu_examples(TESTS_DIR / "data" / "blinde_set.yml")]
    return texts


def test_the_blind_set_is_frozen() -> None:
    assert hashlib.sha256(BLIND_SET.read_bytes()).hexdigest() == FROZEN_SHA256


def test_every_topic_has_20_phrasings_and_there_are_150_out_of_scope() -> None:
    counts = Counter(intent for _, intent in BLIND)
    for topic in knowledge_base().topics:
        assert counts[topic.intent] >= 20, topic.intent
    assert counts[OUT_OF_SCOPE_INTENT] >= 150
    assert set(counts) == set(knowledge_base().intents) | {OUT_OF_SCOPE_INTENT}


def test_no_blind_phrasing_leaks_into_training_held_out_or_the_earlier_set() -> None:
    assert leaks([t for t, _ in BLIND], everything_the_model_was_built_or_checked_with()) == []


def test_no_phrasing_is_in_the_blind_set_twice() -> None:
    folded = [fold(t) for t, _ in BLIND]
    assert len(folded) == len(set(folded))


@pytest.mark.parametrize(
    "planted, original",
    [
        ("En in Belgie", "en in belgië?"),
        ("wat vindt AMNESTY van pooiers!!", "wat vindt amnesty van pooiers"),
        ("wat vind amnesty van de pooiers", "wat vindt amnesty van pooiers"),
        ("is seks kopen een mensenrechten volgens amnesty", "is seks kopen een mensenrecht volgens amnesty?"),
    ],
)
def test_the_leak_check_catches_accents_case_punctuation_and_near_duplicates(
    planted: str, original: str
) -> None:
    found = leaks([planted, "iets heel anders over het weer in Oostende"], [original])
    assert [candidate for candidate, _, _ in found] == [planted]


def test_the_simple_nlu_loader_reads_what_rasa_reads(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    files = [*sorted((DATA_DIR / "nlu").glob("*.yml")), TESTS_DIR / "test_nlu.yml", BLIND_SET]
    for path in files:
        rasa = [(str(m.get("text")), str(m.get("intent"))) for m in load_data(str(path)).nlu_examples]
        assert load_nlu_examples(path) == rasa, path.name
