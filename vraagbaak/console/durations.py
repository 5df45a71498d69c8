"""How long the last training and coverage runs took, so that progress bars give honest estimates."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Dict

TRAINING = "training"
COVERAGE_WITH_CV = "dekking_met_kruisvalidatie"
COVERAGE_WITHOUT_CV = "dekking_zonder_kruisvalidatie"
COMPARISON = "vergelijken"
# Used until a run has been measured on this machine (docs/benchmarks.md: training takes about 90 s).
FIRST_GUESS = {TRAINING: 120.0, COVERAGE_WITH_CV: 420.0, COVERAGE_WITHOUT_CV: 60.0, COMPARISON: 60.0}


class Durations:
    """Seconds the last run of each kind took, kept in a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> Dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}
            if isinstance(data, dict)
            else {}
        )

    def last(self, kind: str) -> float | None:
        """The measured duration of the last run, or None when there was none yet."""
        return self._read().get(kind)

    def expected(self, kind: str) -> float:
        """The last measured duration, or a first guess."""
        return self.last(kind) or FIRST_GUESS[kind]

    def remember(self, kind: str, seconds: float) -> None:
        """Store how long a run took."""
        with self._lock:
            data = self._read()
            data[kind] = round(seconds, 1)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def describe_estimate(last: float | None, guess: float) -> str:
    """'Dit duurt ongeveer 2 minuten (de vorige keer: 1 minuut 54).' in plain Dutch."""
    if last is None:
        return f"Dit duurt ongeveer {minutes(guess)}. Dat is een schatting: het is de eerste keer op deze computer."
    return f"Dit duurt ongeveer {minutes(last)}: zo lang duurde het de vorige keer."


def minutes(seconds: float) -> str:
    """'45 seconden', '1 minuut', '3 minuten'."""
    if seconds < 90:
        return f"{max(1, round(seconds))} seconden"
    whole = round(seconds / 60)
    return "1 minuut" if whole == 1 else f"{whole} minuten"
