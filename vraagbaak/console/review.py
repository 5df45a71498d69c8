"""Verbeteren: the checks a phrasing must pass before it becomes training data, and the staff NLU file.

A phrasing is refused when it is already a training phrasing, when it is (or is at least 90 % like) a
held-out or blind test sentence, or when it looks like it holds personal data (the redaction would change it).
Phrasings staff add go to data/nlu/medewerkers.yml: Rasa NLU YAML, one block per intent.
"""
from __future__ import annotations

import difflib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT
from vraagbaak.core.redaction import redact
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation.leaks import NEAR_DUPLICATE
from vraagbaak.evaluation.leaks import fold as normalise
from vraagbaak.reports import shared as rp

MAX_PHRASING = 300
# Rasa reads [text](entity) and {"entity": …} as annotations; a training phrasing must be plain text.
ANNOTATION_CHARACTERS = re.compile(r"[\[\]{}]")
HEADER = (
    "# Oefenzinnen die medewerkers toevoegden in de console (vraagbaak/staff/console).\n"
    "# Elke wijziging staat ook in var/console-audit.jsonl. Rasa leest dit bestand bij het trainen.\n"
)


def tidy(text: str) -> str:
    """One line with single spaces, as it will be stored."""
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    """difflib's ratio of two normalised texts."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class Refusal:
    """Why a phrasing was not added (Dutch, for staff)."""

    code: str
    message: str


@dataclass(frozen=True)
class Protected:
    """A test sentence that must never become training data."""

    normalised: str
    where: str  # "een testzin", "een zin uit de blinde test"


class ReviewChecks:
    """All checks of one moment: training phrasings and test sentences as they are on disk."""

    def __init__(
        self, kb: KnowledgeBase, training: Sequence[ev.Example], protected: Sequence[Protected]
    ) -> None:
        self.kb = kb
        self.training: Dict[str, str] = {normalise(text): intent for text, intent in training}
        self.protected = list(protected)

    @classmethod
    def load(
        cls, kb: KnowledgeBase, training_files: Sequence[Path], protected: Sequence[Tuple[Path, str]]
    ) -> ReviewChecks:
        """Read the training and test files."""
        sentences = [
            Protected(normalise(text), where)
            for path, where in protected
            if path.exists()
            for text, _ in ev.load_nlu_examples(path)
        ]
        return cls(kb, ev.load_nlu_dir(training_files), sentences)

    def check(self, text: str, intent: str) -> Refusal | None:
        """None when the phrasing may be added to this intent, else the reason it may not."""
        phrasing = tidy(text)
        if not phrasing or not any(c.isalnum() for c in phrasing):
            return Refusal("leeg", "Typ eerst een vraag.")
        if len(phrasing) > MAX_PHRASING:
            return Refusal("te_lang", f"Een oefenzin mag hoogstens {MAX_PHRASING} tekens lang zijn.")
        if intent != OUT_OF_SCOPE_INTENT and self.kb.by_intent(intent) is None:
            return Refusal("onderwerp", "Kies een onderwerp uit de lijst, of 'buiten bereik'.")
        if ANNOTATION_CHARACTERS.search(phrasing) or phrasing.startswith("/"):
            return Refusal(
                "tekens",
                "Haal de tekens [ ] { } weg (en een / aan het begin): de bot leest die als opdracht.",
            )
        if any(not c.isprintable() for c in phrasing):
            return Refusal("tekens", "De zin bevat onzichtbare tekens. Typ hem opnieuw.")
        if redact(phrasing) != phrasing:
            return Refusal(
                "persoonsgegevens",
                "Deze zin lijkt persoonlijke gegevens te bevatten, zoals een naam, plaats, adres, e-mailadres, "
                "telefoonnummer, link of rekeningnummer. Haal dat weg en probeer het opnieuw.",
            )
        key = normalise(phrasing)
        if key in self.training:
            where = rp.intent_label(self.kb, self.training[key])
            return Refusal("dubbel", f"Deze zin staat al in de oefenzinnen, bij '{where}'.")
        for sentence in self.protected:
            if sentence.normalised == key:
                return Refusal(
                    "testzin",
                    f"Deze zin is {sentence.where}. Testzinnen mogen niet in de oefenzinnen: dan kunnen we niet "
                    "meer eerlijk meten hoe goed de bot is.",
                )
        for sentence in self.protected:
            if similarity(sentence.normalised, key) >= NEAR_DUPLICATE:
                return Refusal(
                    "lijkt_op_testzin",
                    f"Deze zin lijkt bijna helemaal op {sentence.where}. Schrijf de vraag anders, in je eigen "
                    "woorden: testzinnen (en bijna-kopieën ervan) mogen niet in de oefenzinnen.",
                )
        return None


# ---------------------------------------------------------------- the staff NLU file

_FILE_LOCK = threading.Lock()


def read_staff_phrasings(path: Path) -> List[ev.Example]:
    """(text, intent) pairs staff added, in file order."""
    return ev.load_nlu_examples(path) if path.exists() else []


def render_staff_file(examples: Sequence[ev.Example]) -> str:
    """Rasa NLU YAML: one block per intent, intents in order of first appearance."""
    by_intent: Dict[str, List[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    lines = [HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, path)


def add_staff_phrasing(path: Path, text: str, intent: str) -> None:
    """Append a phrasing to its intent's block; the file is rewritten as a whole and read back as a check."""
    phrasing = tidy(text)
    with _FILE_LOCK:
        examples = read_staff_phrasings(path) + [(phrasing, intent)]
        content = render_staff_file(examples)
        parsed = yaml.safe_load(content)
        assert isinstance(parsed, dict), "staff NLU file does not parse"
        _write_atomically(path, content)
        if (phrasing, intent) not in read_staff_phrasings(path):
            raise RuntimeError("staff phrasing did not survive a round trip")


def remove_staff_phrasing(path: Path, text: str, intent: str) -> bool:
    """Remove one phrasing staff added; False when it was not there."""
    with _FILE_LOCK:
        examples = read_staff_phrasings(path)
        if (text, intent) not in examples:
            return False
        examples.remove((text, intent))
        if examples:
            _write_atomically(path, render_staff_file(examples))
        else:  # no staff phrasings left: no file, rather than an empty one for Rasa to read
            path.unlink()
        return True
