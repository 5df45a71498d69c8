"""The safety model: signals, sentences, storage, and the verdict's explanation."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from vraagbaak.core.normalise import normalise
from vraagbaak.core.safety import cues
from vraagbaak.core.safety import model as safety_model
from vraagbaak.core.safety.corpus import load_corpus
from vraagbaak.core.safety.cues import signals
from vraagbaak.core.safety.model import SafetyModel, featurise, sentences, train

DANGER = [
    "help hij slaat me",
    "ik zit opgesloten en mag niet weg",
    "er is brand en de deur is op slot",
    "ik wil niet meer leven",
    "ik heb pillen genomen en wil dood",
    "mijn pooier staat aan de deur met een mes",
    "hij laat me niet uit de auto",
    "ik bloed heel erg",
]
SAFE = [
    "wat vindt amnesty van pooiers",
    "vorig jaar sloeg een klant me, nu gaat het goed",
    "ik ben het niet eens met jullie standpunt",
    "in de film wordt ze opgesloten",
    "wat als een klant ooit agressief wordt",
    "ik ga dood van het lachen",
    "hoeveel sekswerkers worden slachtoffer van geweld",
    "waar vind ik een uitstapprogramma",
]
SELF_HARM = [False, False, False, True, True, False, False, False]


@pytest.fixture(scope="module")
def model() -> SafetyModel:
    return train(DANGER, SAFE, SELF_HARM, threshold=0.5)


def test_signals_name_danger_and_framing() -> None:
    found = signals(normalise("Vorig jaar zat ik opgesloten"))
    assert "vast" in found.danger_kinds
    assert "verleden" in found.not_acute
    assert signals(normalise("wat is decriminalisering")).danger_kinds == []


def test_training_phrasings_are_told_apart(model: SafetyModel) -> None:
    assert all(model.verdict(t).danger for t in DANGER)
    assert not any(model.verdict(t).danger for t in SAFE)


def test_self_harm_is_recognised_among_dangers(model: SafetyModel) -> None:
    assert model.verdict("ik wil niet meer leven").self_harm
    assert not model.verdict("help hij slaat me").self_harm
    assert not model.verdict("wat vindt amnesty van pooiers").self_harm  # no danger, so no self-harm


def test_danger_in_one_sentence_is_not_diluted_by_a_long_question(model: SafetyModel) -> None:
    alone = model.verdict("help hij slaat me").score
    mixed = (
        "Ik heb een vraag over het beleid van Amnesty en over decriminalisering in Belgie. "
        "help hij slaat me. Wat vindt amnesty van pooiers eigenlijk?"
    )
    # The sentence read alone counts, lowered by the sentence offset (a sentence loses its context).
    lowered = 1 / (1 + math.exp(-(math.log(alone / (1 - alone)) - model.sentence_offset)))
    assert model.verdict(mixed).score >= lowered - 1e-9
    assert model.verdict(mixed).danger


def test_sentences_are_split_and_bounded() -> None:
    assert sentences("een zin hier. nog een zin daar!") == ["een zin hier", "nog een zin daar"]
    assert sentences("een zin") == []
    assert len(sentences(". ".join(["twee woorden"] * 50))) == 8


def test_storage_gives_the_same_verdicts(model: SafetyModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    loaded = SafetyModel.load(tmp_path)
    for text in DANGER + SAFE:
        assert loaded.verdict(text) == model.verdict(text)


def test_the_explanation_says_the_decision_and_why(model: SafetyModel) -> None:
    verdict = model.verdict("vorig jaar zat ik opgesloten")
    explained = verdict.explanation()
    assert explained.startswith("noodbericht" if verdict.danger else "geen noodbericht")
    assert "vastgehouden" in explained and "verleden" in explained
    assert verdict.as_dict()["nood"] is verdict.danger


def test_a_higher_threshold_can_only_remove_alarms(model: SafetyModel) -> None:
    strict = SafetyModel(
        model.danger_weights, model.danger_bias, model.self_harm_weights, model.self_harm_bias, 0.99
    )
    for text in DANGER + SAFE:
        assert strict.verdict(text).danger <= model.verdict(text).danger


def test_every_signal_has_a_dutch_name_and_every_pattern_compiles() -> None:
    import re

    from vraagbaak.core.safety import cues

    assert set(cues.SIGNALS) <= set(cues.LABELS)
    for patterns in (
        list(cues.DANGER.values()) + list(cues.NOT_ACUTE.values()) + [cues.URGENCY, cues.PERSONAL]
    ):
        for pattern in patterns:
            re.compile(pattern)
    assert signals(normalise("HELP")).counts["dringend"] == 1


def _one_lookbehind_per_pattern(patterns: tuple) -> re.Pattern:
    # The form the signals were first compiled in: kept here as the reference for the faster one.
    return re.compile("|".join(f"(?:(?<![a-z0-9]){p})" for p in patterns))


def test_the_shared_lookbehind_finds_exactly_what_one_per_pattern_found() -> None:
    texts = [normalise(p.text) for p in load_corpus()] + [normalise(t) for t in DANGER + SAFE]
    tables = list(cues.DANGER.items()) + [("dringend", cues.URGENCY), ("persoonlijk", cues.PERSONAL)]
    tables += list(cues.NOT_ACUTE.items())
    compiled = {**cues._DANGER, "dringend": cues._URGENCY, "persoonlijk": cues._PERSONAL, **cues._NOT_ACUTE}
    for name, patterns in tables:
        reference = _one_lookbehind_per_pattern(patterns)
        assert [reference.findall(t) for t in texts] == [compiled[name].findall(t) for t in texts], name


def test_the_reference_form_would_catch_a_changed_lookbehind() -> None:
    # Mutation: without the word-start guard "geslagen" would also be found inside "neergeslagen".
    loose = re.compile("(?:" + "|".join(cues.DANGER["geweld"]) + ")")
    assert loose.findall("neergeslagen") != _one_lookbehind_per_pattern(cues.DANGER["geweld"]).findall(
        "neergeslagen"
    )


def test_scores_without_stacking_equal_the_stacked_feature_rows(model: SafetyModel) -> None:
    for text in DANGER + SAFE + ["help. hij slaat me, wat vindt amnesty daarvan? ik ben bang"]:
        folded = normalise(text)
        rows = safety_model._rows(text, folded, signals(folded))
        whole = featurise([text]) @ model.danger_weights
        assert math.isclose(float(rows.dot(model.danger_weights)[0]), float(whole[0]), abs_tol=1e-9)
        assert math.isclose(
            rows.row_dot(0, model.self_harm_weights),
            float((featurise([text]) @ model.self_harm_weights)[0]),
            abs_tol=1e-9,
        )
