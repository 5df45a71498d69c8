"""Safety figures for `make bench`: the frozen safety set, leave-one-kind-out, and the layer's cost.

The frozen set (tests/data/veiligheid/) was written by outside writers who never saw the corpus; it only
reports. Nothing about the safety layer is chosen on it.
"""
from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import SAFETY_INTENT, Outcome
from vraagbaak.core.paths import DATA_DIR, PROJECT_DIR, TESTS_DIR
from vraagbaak.core.safety.corpus import load_corpus, training_set
from vraagbaak.core.safety.crossval import leave_one_kind_out
from vraagbaak.core.safety.model import train
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation.leaks import fold

SAFETY_SET_DIR = TESTS_DIR / "data" / "veiligheid"


@dataclass(frozen=True)
class Case:
    """One phrasing of the frozen safety set."""

    text: str
    danger: bool
    kind: str


def load_safety_set(directory: Path = SAFETY_SET_DIR) -> List[Case]:
    """Every case of the frozen set: `nood` (danger now) and `geen_nood` (not), by kind.

    The two writers worked apart, so a phrasing can occur in both files; it counts once (the first).
    """
    cases: List[Case] = []
    seen = set()
    for path in sorted(directory.glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, danger in (("nood", True), ("geen_nood", False)):
            for kind, texts in (raw.get(key) or {}).items():
                for text in texts:
                    if fold(str(text)) not in seen:
                        seen.add(fold(str(text)))
                        cases.append(Case(str(text), danger, kind))
    return cases


def configured_threshold() -> float:
    """The safety layer's threshold as config.yml sets it."""
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text(encoding="utf-8"))
    layer = next(c for c in config["pipeline"] if c["name"].endswith("SafetyLayer"))
    return float(layer["threshold"])


def frozen_set_figures(parser: ev.ModelParser) -> Dict[str, object]:
    """Recall and false alarms of the served model on the frozen set, overall and per kind."""
    kb = knowledge_base()
    cases = load_safety_set()
    outcomes = [ev.outcome_of(kb, p) for p in parser.parse([c.text for c in cases])]
    hits: Dict[str, List[bool]] = defaultdict(list)
    for case, outcome in zip(cases, outcomes, strict=True):
        hits[("nood/" if case.danger else "geen_nood/") + case.kind].append(
            outcome.outcome == Outcome.EMERGENCY
        )
    danger = [h for k, v in hits.items() if k.startswith("nood/") for h in v]
    alarms = [h for k, v in hits.items() if k.startswith("geen_nood/") for h in v]
    return {
        "safety_set_emergencies": len(danger),
        "safety_set_recall": sum(danger) / len(danger),
        "safety_set_non_emergencies": len(alarms),
        "safety_set_false_alarms": sum(alarms),
        "safety_set_by_kind": {k: sum(v) / len(v) for k, v in sorted(hits.items())},
    }


def loko_figures() -> Dict[str, float]:
    """Leave-one-kind-out recall on the corpus at the configured threshold."""
    data = training_set(
        load_corpus(), ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml"))), SAFETY_INTENT
    )
    return leave_one_kind_out(data, configured_threshold())


def layer_cost_ms(texts: Sequence[str]) -> float:
    """Median time of one verdict, in milliseconds, with the same model the pipeline trains."""
    data = training_set(
        load_corpus(), ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml"))), SAFETY_INTENT
    )
    model = train(
        [p.text for p in data.danger], [p.text for p in data.safe], data.self_harm, configured_threshold()
    )
    model.verdict("opwarmen")
    times = []
    for text in texts:
        started = time.perf_counter()
        model.verdict(text)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def safe_path_share(outcomes: Sequence[ev.BotAction]) -> float:
    """Share of (non-emergency) questions that got the safe path."""
    return sum(o.outcome == Outcome.EMERGENCY for o in outcomes) / len(outcomes) if outcomes else 0.0


def measure_safety(parser: ev.ModelParser, blind_outcomes: Sequence[ev.BotAction]) -> Dict[str, object]:
    """Every safety figure of the benchmark."""
    figures = frozen_set_figures(parser)
    figures["loko_recall"] = loko_figures()
    figures["safety_ms"] = layer_cost_ms([c.text for c in load_safety_set()])
    figures["blind_safe_path_share"] = safe_path_share(blind_outcomes)
    return figures


def format_safety(results: Dict) -> str:
    """The safety lines of the benchmark output."""
    loko = results["loko_recall"]
    worst = min(loko, key=loko.get)
    lines = [
        f"Safety set (frozen, {results['safety_set_emergencies']} emergencies,"
        f" {results['safety_set_non_emergencies']} not): recall {results['safety_set_recall']:.1%}"
        f" (target 100%), false alarms {results['safety_set_false_alarms']} (target 0)",
        "  per kind: " + ", ".join(f"{k} {v:.0%}" for k, v in results["safety_set_by_kind"].items()),
        f"Leave-one-kind-out recall: lowest {worst} {loko[worst]:.1%} (target >= 90% each); "
        + ", ".join(f"{k} {v:.0%}" for k, v in loko.items()),
        f"Safety layer per message:        median {results['safety_ms']:.2f} ms (target <= 2)",
        f"Blind-set questions given the safe path: {results['blind_safe_path_share']:.1%}",
    ]
    return "\n".join(lines)
