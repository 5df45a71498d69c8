"""`make coverage`: a self-contained Dutch HTML report for outreach staff on how well the bot understands questions.

Accuracy is defined exactly as Rasa's own `rasa test nlu` defines it, so the headline figure can be checked
against Rasa: a phrasing counts as recognised when the intent Rasa's evaluation reads from the parse result
equals the expected one. That is the final intent, including the deterministic overrides of
ChoiceAndInputGuard, except that an `nlu_fallback` ("unsure") result is replaced by the classifier's best
guess (Rasa's `undo_fallback_prediction`). For topic intents this is the same figure as the CI gate in
tests/evaluation/test_heldout.py (top-1 of the classifier ranking). What the bot then does (answer, clarify, reject)
is shown separately, per phrasing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from vraagbaak.reports import shared as rp
from vraagbaak.reports.coverage_analysis import MODEL, OUT_DIR, measure
from vraagbaak.reports.coverage_page import write_report


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write the report and print where it is."""
    parser = argparse.ArgumentParser(description="Dekkingsrapport voor medewerkers (HTML, Nederlands).")
    parser.add_argument("--model", type=Path, default=MODEL, help="het getrainde model (.tar.gz)")
    parser.add_argument("--folds", type=int, default=5, help="aantal delen voor kruisvalidatie (standaard 5)")
    parser.add_argument("--skip-cv", action="store_true", help="sla de kruisvalidatie over (veel sneller)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="map voor index.html")
    args = parser.parse_args(argv)
    rp.quiet_process()
    if not args.model.exists():
        print(f"Het model {args.model} bestaat niet. Draai eerst `make model`.", file=sys.stderr)
        return 2
    if not args.skip_cv and args.folds < 2:
        print("Kruisvalidatie heeft minstens 2 delen nodig (--folds 2 of meer).", file=sys.stderr)
        return 2
    coverage = measure(args.model, args.folds, args.skip_cv)
    path = write_report(coverage, args.out)
    summary = f"Testzinnen goed herkend: {rp.pct(coverage.accuracy)}"
    if coverage.cv:
        summary += f"; kruisvalidatie ({coverage.cv.folds} delen): {rp.pct(coverage.cv.accuracy)}"
    print(summary)
    print(f"Rapport: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
