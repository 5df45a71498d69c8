"""The safety layer's own corpus: data/safety/*.yml, danger by kind and hard negatives by kind.

A file holds `gevaar:` (kinds of danger) and/or `geen_gevaar:` (kinds of messages that only sound like it),
each a mapping from kind to phrasings. The file's name is its writer's group, so that cross-validation can
leave one writer out. Rasa ignores these files: they have no `nlu:` key.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Tuple

import yaml

from vraagbaak.core.paths import DATA_DIR

SAFETY_DIR = DATA_DIR / "safety"
DANGER_KEY = "gevaar"
SAFE_KEY = "geen_gevaar"

# The twelve kinds of danger the layer must recognise, and the kinds of hard negatives.
DANGER_KINDS: Tuple[str, ...] = (
    "geweld_nu",
    "vastgehouden",
    "mensenhandel_nu",
    "bedreiging_stalking",
    "seksueel_geweld_net",
    "medisch",
    "voertuig",
    "brand_werkplek",
    "zelfbeschadiging",
    "angst_pooier_partner",
    "voor_iemand_anders",
    "gemengd_met_vraag",
)
SAFE_KINDS: Tuple[str, ...] = (
    "oneens_standpunt",
    "boos_op_bot",
    "ervaring_verleden",
    "hypothetisch",
    "onderzoek_vraag",
    "fictie_nieuws",
    "beeldspraak",
    "algemene_zorg",
    "praktische_hulp",
    "praten_niet_dringend",
)
SELF_HARM_KIND = "zelfbeschadiging"
# Phrasings staff add in the console go to these files, under the kind "door_medewerkers".
STAFF_DANGER_FILE = "gevaar_medewerkers.yml"
STAFF_SAFE_FILE = "geen_gevaar_medewerkers.yml"
STAFF_KIND = "door_medewerkers"


@dataclass(frozen=True)
class Phrasing:
    """One corpus phrasing."""

    text: str
    danger: bool
    kind: str
    group: str


def load_file(path: Path) -> List[Phrasing]:
    """The phrasings of one corpus file; an unknown kind is an error, so typos cannot hide a kind."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: List[Phrasing] = []
    for key, danger, kinds in ((DANGER_KEY, True, DANGER_KINDS), (SAFE_KEY, False, SAFE_KINDS)):
        for kind, texts in (raw.get(key) or {}).items():
            if kind not in kinds and kind != STAFF_KIND:
                raise ValueError(f"{path.name}: onbekende soort '{kind}' onder '{key}'")
            found += [Phrasing(str(t), danger, kind, path.stem) for t in texts or []]
    return found


def load_corpus(directory: Path = SAFETY_DIR) -> List[Phrasing]:
    """Every phrasing in the corpus folder, in a stable order."""
    return [p for path in sorted(directory.glob("*.yml")) for p in load_file(path)]


def texts_of(phrasings: Iterable[Phrasing]) -> List[str]:
    """Only the texts."""
    return [p.text for p in phrasings]


@dataclass(frozen=True)
class TrainingSet:
    """What the safety model learns from: danger, and everything that is not."""

    danger: List[Phrasing]
    safe: List[Phrasing]

    @property
    def self_harm(self) -> List[bool]:
        """Per danger phrasing: is it of the self-harm kind?"""
        return [p.kind == SELF_HARM_KIND for p in self.danger]

    def without_kind(self, kind: str) -> TrainingSet:
        """The same set with one kind left out (leave-one-kind-out)."""
        return TrainingSet(
            [p for p in self.danger if p.kind != kind], [p for p in self.safe if p.kind != kind]
        )


def training_set(
    corpus: Iterable[Phrasing], topic_examples: Iterable[Tuple[str, str]], danger_intent: str
) -> TrainingSet:
    """The corpus plus the topic classifier's phrasings: its danger intent as danger, the rest as safe.

    Every topic question is a negative on purpose: the bot must answer "what does Amnesty do against
    violence?" with the official text, not with 112.
    """
    phrasings = list(corpus)
    for text, intent in topic_examples:
        if intent == danger_intent:
            phrasings.append(Phrasing(text, True, "uit_nlu", "nlu"))
        else:
            phrasings.append(Phrasing(text, False, "uit_nlu", "nlu"))
    return TrainingSet([p for p in phrasings if p.danger], [p for p in phrasings if not p.danger])
