"""The frozen privacy set: a question about privacy gets the explanation and never a wipe.

Written by a writer who never saw the training data; lines that were near-duplicates of the training side
were removed before it was frozen. It only reports and gates: nothing is chosen on it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import DATA_DIR, TESTS_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation.leaks import fold, leaks

PRIVACY_SET = TESTS_DIR / "data" / "privacy" / "schrijver_p2.yml"
FROZEN_SHA256 = "d678506f9d211d7d8618c57db9de640db610394e6b9c774d6714247eabbc0121"
MODEL = DEFAULT_MODEL
# The gate. A privacy question that wipes the conversation is the defect users reported: none may. The other
# bounds are the figures of the first two trainings on this set (2026-12-08: explained 78 and 80 of 98,
# forget 30 and 30 of 39, other 2 and 3 of 38) less a margin for the spread between trainings.
MAX_PRIVACY_WIPES = 0
MIN_PRIVACY_EXPLAINED = 0.75
MIN_FORGET_HONOURED = 0.72
MAX_OTHER_AS_PRIVACY_OR_WIPE = 4


def load_privacy_set(path: Path = PRIVACY_SET) -> Dict[str, List[str]]:
    """The three kinds of the set: privacy_vraag, vergeet_verzoek and ander."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {kind: [str(t) for t in raw[kind]] for kind in ("privacy_vraag", "vergeet_verzoek", "ander")}


CASES = load_privacy_set()


def test_the_privacy_set_is_frozen() -> None:
    assert hashlib.sha256(PRIVACY_SET.read_bytes()).hexdigest() == FROZEN_SHA256


def test_the_set_is_big_enough_and_has_no_case_twice() -> None:
    assert len(CASES["privacy_vraag"]) >= 80 and len(CASES["vergeet_verzoek"]) >= 30
    folded = [fold(t) for texts in CASES.values() for t in texts]
    assert len(folded) == len(set(folded))


def test_no_privacy_case_leaks_into_the_training_data() -> None:
    training = [t for t, _ in ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml")))]
    assert leaks([t for texts in CASES.values() for t in texts], training) == []


def test_the_leak_check_would_catch_a_planted_privacy_case() -> None:
    case = CASES["privacy_vraag"][0]
    assert leaks([case], [case.upper() + " ??"]) != []


def gate_figures(outcomes: Dict[str, List[Outcome]]) -> Dict[str, float]:
    """The figures the gate reads, from the outcome of each case."""
    privacy, forget, other = outcomes["privacy_vraag"], outcomes["vergeet_verzoek"], outcomes["ander"]
    return {
        "privacy_wipes": sum(o == Outcome.FORGOTTEN for o in privacy),
        "privacy_explained": sum(o == Outcome.PRIVACY for o in privacy) / len(privacy),
        "forget_honoured": sum(o == Outcome.FORGOTTEN for o in forget) / len(forget),
        "other_as_privacy_or_wipe": sum(o in (Outcome.PRIVACY, Outcome.FORGOTTEN) for o in other),
    }


def passes_gate(figures: Dict[str, float]) -> bool:
    """Whether these figures keep the gate."""
    return (
        figures["privacy_wipes"] <= MAX_PRIVACY_WIPES
        and figures["privacy_explained"] >= MIN_PRIVACY_EXPLAINED
        and figures["forget_honoured"] >= MIN_FORGET_HONOURED
        and figures["other_as_privacy_or_wipe"] <= MAX_OTHER_AS_PRIVACY_OR_WIPE
    )


def test_the_gate_rejects_a_single_wipe_of_a_privacy_question() -> None:
    good = {
        "privacy_vraag": [Outcome.PRIVACY] * 10,
        "vergeet_verzoek": [Outcome.FORGOTTEN] * 10,
        "ander": [Outcome.GREETING] * 10,
    }
    assert passes_gate(gate_figures(good))
    bad = dict(good, privacy_vraag=[Outcome.FORGOTTEN] + [Outcome.PRIVACY] * 9)
    assert not passes_gate(gate_figures(bad))


@pytest.mark.model
def test_the_served_model_keeps_the_privacy_gate() -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    parser = ev.ModelParser(MODEL, served=True)
    kb = knowledge_base()
    outcomes = {
        kind: [ev.outcome_of(kb, p).outcome for p in parser.parse(texts)] for kind, texts in CASES.items()
    }
    figures = gate_figures(outcomes)
    print(figures)
    assert passes_gate(figures), figures
