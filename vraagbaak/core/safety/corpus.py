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
