"""Signals in a normalised text: words of danger, of urgency, and of framings that make it not acute.

The classifier learns how much each signal weighs; the signals themselves are written from the kinds of
danger the bot must recognise, so that a kind of danger worded in a way no training phrasing foresaw still
lights up the shared "danger" signal. All kinds of danger feed one count on purpose: a weight learned from
knives and locked doors then also carries a fire or an overdose (measured by leaving one kind out).
Patterns match the output of `vraagbaak.core.normalise.normalise`: lower case, no accents, spaced tokens.
The patterns themselves are data, in signalen.yml beside this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Pattern, Tuple

import yaml

SIGNALS_FILE = Path(__file__).with_name("signalen.yml")
_RAW = yaml.safe_load(SIGNALS_FILE.read_text(encoding="utf-8"))
# Each kind of danger: stems and phrases, as regular expressions matched at word starts.
DANGER: Dict[str, Tuple[str, ...]] = {kind: tuple(p) for kind, p in _RAW["gevaar"].items()}
URGENCY: Tuple[str, ...] = tuple(_RAW["dringend"])
# Someone present in the message: the writer, or a person they are with or write for. Danger talked about
# without anyone present ("worden sekswerkers vaak geslagen?") is a question about the world.
PERSONAL: Tuple[str, ...] = tuple(_RAW["persoonlijk"])
# Framings that make a message about danger not an emergency now.
NOT_ACUTE: Dict[str, Tuple[str, ...]] = {kind: tuple(p) for kind, p in _RAW["niet_acuut"].items()}
# Dutch names of the signals, as staff read them in the console's explanation.
LABELS: Dict[str, str] = dict(_RAW["namen"])


def _compile(patterns: Tuple[str, ...]) -> Pattern[str]:
    # One look-behind for the whole alternation: the same matches as one per alternative, checked once per
    # position instead of once per pattern (the signals were half of the layer's time).
    return re.compile("(?<![a-z0-9])(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


_DANGER = {name: _compile(p) for name, p in DANGER.items()}
_URGENCY = _compile(URGENCY)
_PERSONAL = _compile(PERSONAL)
_NOT_ACUTE = {name: _compile(p) for name, p in NOT_ACUTE.items()}
SIGNALS: Tuple[str, ...] = tuple(_DANGER) + ("dringend", "persoonlijk") + tuple(_NOT_ACUTE)


@dataclass(frozen=True)
class Signals:
    """How often each signal occurs in one normalised text."""

    counts: Dict[str, int]

    @property
    def danger_kinds(self) -> List[str]:
        """The kinds of danger named (not counting "someone else", which is no danger by itself)."""
        return [k for k in DANGER if k != "dader" and self.counts.get(k)]

    @property
    def not_acute(self) -> List[str]:
        """The framings found that make danger not acute."""
        return [k for k in NOT_ACUTE if self.counts.get(k)]

    def vector(self) -> List[float]:
        """Numbers for the classifier: per signal present or not, plus the shared danger and framing totals."""
        present = [1.0 if self.counts.get(name) else 0.0 for name in SIGNALS]
        danger = float(len(self.danger_kinds))
        framing = float(len(self.not_acute))
        urgent = 1.0 if self.counts.get("dringend") else 0.0
        unframed = 0.0 if framing else 1.0
        impersonal = 0.0 if self.counts.get("persoonlijk") else 1.0
        return present + [
            impersonal * min(danger, 2.0),
            min(danger, 3.0),
            min(framing, 3.0),
            urgent * min(danger, 2.0),
            unframed * min(danger, 2.0),
            unframed * urgent * min(danger, 2.0),
        ]


VECTOR_NAMES: Tuple[str, ...] = SIGNALS + (
    "gevaar_onpersoonlijk",
    "gevaar_totaal",
    "niet_acuut_totaal",
    "dringend_gevaar",
    "gevaar_zonder_kader",
    "dringend_gevaar_zonder_kader",
)


def signals(normalised: str) -> Signals:
    """The signals in a text already passed through `normalise`."""
    counts = {name: len(p.findall(normalised)) for name, p in _DANGER.items()}
    counts["dringend"] = len(_URGENCY.findall(normalised))
    counts["persoonlijk"] = len(_PERSONAL.findall(normalised))
    counts.update({name: len(p.findall(normalised)) for name, p in _NOT_ACUTE.items()})
    return Signals(counts)
