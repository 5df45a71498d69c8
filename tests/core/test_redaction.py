"""Redaction: every piece of personal data in the Dutch/Flemish test set goes, clean questions stay as they are."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.paths import PROJECT_DIR, TESTS_DIR
from vraagbaak.core.redaction import PLACEHOLDER, PLACEHOLDERS, find, personal_data, redact
from vraagbaak.evaluation.offline import load_nlu_dir

DATA_FILE = TESTS_DIR / "data" / "persoonsgegevens.yml"


def load_set(path: Path = DATA_FILE) -> Dict[str, Any]:
    """The test set, as written in the data file."""
    with open(path, encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


TEST_SET = load_set()
SENSITIVE: List[Dict[str, Any]] = TEST_SET["met_persoonsgegevens"]
CLEAN: List[str] = TEST_SET["zonder_persoonsgegevens"]


def sensitive_cases() -> List[Any]:
    """One case per sentence; the ones the data file says are missed are strict expected failures."""
    return [
        pytest.param(
            case["tekst"],
            case["gegevens"],
            id=case["tekst"][:50],
            marks=[pytest.mark.xfail(strict=True, reason=case["mist"])] if "mist" in case else [],
        )
        for case in SENSITIVE
    ]


def test_the_set_is_big_enough_and_uses_known_kinds() -> None:
    assert len(SENSITIVE) >= 40 and len(CLEAN) >= 15
    for case in SENSITIVE:
        assert set(case["gegevens"]) <= set(PLACEHOLDERS), case["tekst"]
        for values in case["gegevens"].values():
            assert all(str(value) in case["tekst"] for value in values), case["tekst"]


@pytest.mark.parametrize("text, data", sensitive_cases())
def test_every_piece_of_personal_data_is_replaced(text: str, data: Dict[str, List[str]]) -> None:
    redacted = redact(text)
    for kind, values in data.items():
        for value in values:
            assert str(value) not in redacted, f"{kind} {value!r} staat nog in {redacted!r}"
        assert f"[{PLACEHOLDERS[kind]}]" in redacted, f"[{PLACEHOLDERS[kind]}] ontbreekt in {redacted!r}"
    assert set(personal_data(text)) == set(data)


@pytest.mark.parametrize("text", CLEAN)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert personal_data(text) == []
    assert redact(text) == text


def test_training_phrasings_and_official_titles_hold_no_personal_data_but_cities() -> None:
    # Staff add phrasings like these; only a city (personal data by design) may make the console refuse one.
    texts = [text for text, _ in load_nlu_dir(sorted((PROJECT_DIR / "data" / "nlu").glob("*.yml")))]
    texts += [t for topic in knowledge_base().topics for t in (topic.official_question, topic.title)]
    found = {text: personal_data(text) for text in texts}
    assert len(found) > 1000
    assert {text: kinds for text, kinds in found.items() if set(kinds) - {"plaats"}} == {}


EXACT = [
    ("mail me op jan.peeters@voorbeeld.be aub", "mail me op [e-mail] aub"),
    ("An.De-Smet+vraag@mail.example.nl?", "[e-mail]?"),
    ("bel +32 470 12 34 56", "bel [telefoonnummer]"),
    ("bel 0032 470 12 34 56", "bel [telefoonnummer]"),
    ("gsm 0470/12.34.56 of vast 02 123 45 67", "gsm [telefoonnummer] of vast [telefoonnummer]"),
    ("tel. (02) 123 45 67", "tel. [telefoonnummer]"),
    ("bel +31 6 12345678", "bel [telefoonnummer]"),
    ("bel +31 (0)20 123 4567", "bel [telefoonnummer]"),
    ("nummer 06-12345678 of 020-1234567", "nummer [telefoonnummer] of [telefoonnummer]"),
    ("zie https://www.voorbeeld.be/pagina?id=3.", "zie [link]."),
    ("zie www.voorbeeld.nl/sekswerk, of niet", "zie [link], of niet"),
    ("op amnesty-vlaanderen.be staat het", "op [link] staat het"),
    ("stort op BE68 5390 0754 7034 aub", "stort op [rekeningnummer] aub"),
    ("iban nl91abna0417164300.", "iban [rekeningnummer]."),
    ("NL91 ABNA 0417 1643 00 is van mij", "[rekeningnummer] is van mij"),
    ("mijn klantnummer is 12345678", "mijn klantnummer is [nummer]"),
    ("rijksregister 85.07.30-033.28", "rijksregister [nummer]"),
    ("dossier 123 456 789", "dossier [nummer]"),
    ("ik ben Sandra uit Gent", "ik ben [naam] uit [plaats]"),
    ("Kerkstraat 12, 9000 Gent", "[adres], [adres]"),
]
# Short numbers, years, 112, letters-plus-digits that are no valid IBAN, and a year range stay.
UNCHANGED = [
    "bel 112 in 2024, 18 vragen",
    "in 2016 en 2019 waren er 12345 mensen",
    "ab12 test woord",
    "tussen 2015-2016",
]


@pytest.mark.parametrize("text, expected", EXACT)
def test_exact_output(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_numbers_that_are_no_personal_data_stay(text: str) -> None:
    assert redact(text) == text


def test_only_personal_data_changes() -> None:
    text = "Hallo,  ik ben Sandra\nen mijn nummer is 0470 12 34 56 !"
    assert redact(text) == "Hallo,  ik ben [naam]\nen mijn nummer is [telefoonnummer] !"


def test_kinds_come_in_order_of_appearance_each_once() -> None:
    text = "bel 0470 12 34 56 of 02 123 45 67, mail jan@voorbeeld.be, of vraag naar Kevin"
    assert personal_data(text) == ["telefoonnummer", "e-mailadres", "naam"]


def test_overlapping_finds_become_one_placeholder() -> None:
    # The e-mail address holds a name and a domain that also look like a name and a link.
    assert redact("mail jef.peeters@gent.be nu") == "mail [e-mail] nu"
    spans = find("mail jef.peeters@gent.be nu")
    assert [(s.start, s.end, s.kind) for s in spans] == [(5, 24, "e-mailadres")]


def test_placeholders_match_the_pattern_the_insights_report_strips() -> None:
    redacted = redact("Ik ben Sandra, Kerkstraat 12, 0470 12 34 56, BE48 0011 2345 6727, 85.07.30-033.28")
    assert PLACEHOLDER.sub("", redacted).strip(" ,") == "Ik ben"
    assert {f"[{word}]" for word in PLACEHOLDERS.values()} == set(
        re.findall(PLACEHOLDER, " ".join(f"[{w}]" for w in PLACEHOLDERS.values()))
    )


def test_deduce_does_not_turn_on_debug_logging() -> None:
    # Deduce's import sets up root logging at DEBUG on stdout, which in the action server would print the
    # messages Rasa's libraries log. In a fresh process (pytest's own log handlers hide it here).
    code = (
        "import logging; from vraagbaak.core.redaction import redact; redact('ik ben Sandra'); "
        "root = logging.getLogger(); print(root.level, len(root.handlers))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.split() == [str(logging.WARNING), "0"]
    assert "Sandra" not in result.stdout + result.stderr


def test_empty_and_whitespace_text() -> None:
    assert redact("") == "" and personal_data("") == []
    assert redact("  \n ") == "  \n "
