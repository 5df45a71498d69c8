"""Before and after: held-out accuracy, per-topic accuracy and the staff's own list, for two models.

    python -m vraagbaak.console.compare --voor OUD.tar.gz --na NIEUW.tar.gz [--lijst L.json] --uit R.json

Runs as a separate process (the console starts it after training), so TensorFlow never loads into the
console. The models parse with evaluation/offline.py's ModelParser, one model in memory at a time; accuracy is
defined as in the coverage report (Rasa's own `rasa test nlu` definition).
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence

from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import ask, ask_questions
from vraagbaak.reports import shared as rp

HELD_OUT = TESTS_DIR / "test_nlu.yml"


def measure(
    kb: KnowledgeBase, model: Path, held_out: Sequence[ev.Example], questions: Sequence[str]
) -> Dict[str, Any]:
    """Held-out accuracy and per-intent counts, and what the bot does with each list question."""
    from vraagbaak.reports import coverage_analysis as coverage

    parser = ev.ModelParser(model)
    parsed = parser.parse([text for text, _ in held_out] + list(questions))
    del parser
    gc.collect()  # one model in memory at a time
    records = coverage.make_records(kb, held_out, parsed[: len(held_out)])
    per_intent = coverage.per_intent_accuracy(records)
    return {
        "model": model.name,
        "nauwkeurigheid": sum(r.correct for r in records) / max(len(records), 1),
        "per_onderwerp": {intent: list(counts) for intent, counts in per_intent.items()},
        "acties": [ev.outcome_of(kb, p) for p in parsed[len(held_out) :]],
    }


def compare(
    kb: KnowledgeBase,
    before: Path,
    after: Path,
    items: Sequence[Dict[str, Any]],
    held_out_file: Path = HELD_OUT,
) -> Dict[str, Any]:
    """The comparison as JSON-ready data (labels in staff words, never intent names in the list part)."""
    held_out = ev.load_nlu_examples(held_out_file)
    questions = [str(item["vraag"]) for item in items]
    old = measure(kb, before, held_out, questions)
    new = measure(kb, after, held_out, questions)
    rows: List[Dict[str, Any]] = []
    for item, old_action, new_action in zip(items, old.pop("acties"), new.pop("acties"), strict=True):
        expected = (
            ask_questions.parse_expectation(kb, str(item["verwacht"])) if item.get("verwacht") else None
        )
        rows.append(
            {
                "vraag": item["vraag"],
                "bron": item.get("bron", "lijst"),
                "verwacht": expected.label(kb) if expected else "",
                "voor": rp.describe(kb, old_action),
                "na": rp.describe(kb, new_action),
                "klopt_voor": ask.verdict(kb, expected, old_action),
                "klopt_na": ask.verdict(kb, expected, new_action),
            }
        )
    intents = rp.intent_order(kb, list(old["per_onderwerp"]) + list(new["per_onderwerp"]))
    topics = [
        {
            "onderwerp": rp.intent_label(kb, intent),
            "is_onderwerp": kb.by_intent(intent) is not None,
            "voor": old["per_onderwerp"].get(intent, [0, 0]),
            "na": new["per_onderwerp"].get(intent, [0, 0]),
        }
        for intent in intents
    ]
    return {"voor": old, "na": new, "onderwerpen": topics, "lijst": rows, "testzinnen": len(held_out)}


def main(argv: Sequence[str] | None = None) -> int:
    """Compare two models and write the result as JSON."""
    parser = argparse.ArgumentParser(description="Vergelijk twee modellen (voor en na trainen).")
    parser.add_argument("--voor", type=Path, required=True)
    parser.add_argument("--na", type=Path, required=True)
    parser.add_argument("--lijst", type=Path, help="JSON: [{vraag, verwacht, bron}]")
    parser.add_argument("--uit", type=Path, required=True)
    args = parser.parse_args(argv)
    rp.quiet_process()
    items = json.loads(args.lijst.read_text(encoding="utf-8")) if args.lijst else []
    result = compare(knowledge_base(), args.voor, args.na, items)
    args.uit.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    print("Vergelijking klaar.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
