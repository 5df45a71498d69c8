"""Where the console reads and writes. One object, so tests can point every file at a temporary folder."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

from vraagbaak.console.accounts import ACCOUNTS_FILE
from vraagbaak.console.password import PASSWORD_FILE
from vraagbaak.core.paths import DATA_DIR, MODELS_DIR, PROJECT_DIR, REPORTS_DIR, TESTS_DIR
from vraagbaak.core.settings import DEFAULT_MODEL


def _blind_sets() -> Tuple[Path, ...]:
    return (TESTS_DIR / "data" / "blinde_set.yml", *sorted((TESTS_DIR / "data" / "blind").glob("*.yml")))


@dataclass(frozen=True)
class Workspace:
    """File locations of the console (not settings: those are VRAAGBAAK_* variables in core/settings.py)."""

    var_dir: Path = PROJECT_DIR / "var"
    data_dir: Path = DATA_DIR
    staff_nlu: Path = DATA_DIR / "nlu" / "medewerkers.yml"
    models_dir: Path = MODELS_DIR
    default_model: Path = DEFAULT_MODEL
    coverage_dir: Path = REPORTS_DIR / "coverage"
    accounts_file: Path = ACCOUNTS_FILE
    # The shared password of earlier versions: read only to become the first account.
    password_file: Path = PASSWORD_FILE
    held_out: Path = TESTS_DIR / "test_nlu.yml"
    blind: Tuple[Path, ...] = field(default_factory=_blind_sets)

    @property
    def audit_log(self) -> Path:
        """Append-only record of every change staff made."""
        return self.var_dir / "console-audit.jsonl"

    @property
    def model_state(self) -> Path:
        """Which model is active, the previous one and the candidate."""
        return self.var_dir / "console-modellen.json"

    @property
    def timings(self) -> Path:
        """How long the last training and coverage runs took (for honest estimates)."""
        return self.var_dir / "console-tijden.json"

    @property
    def training_log(self) -> Path:
        """Output of the last `rasa train` (training phrasings only, never visitor text)."""
        return self.var_dir / "console-training.log"

    def staff_file_is_in_data(self) -> bool:
        """True when `rasa train --data data` already reads the staff phrasings."""
        return self.staff_nlu.resolve().is_relative_to(self.data_dir.resolve())

    def training_data_args(self) -> List[str]:
        """The --data arguments of `rasa train`: data/ and, if it lives elsewhere, the staff file."""
        paths = [str(self.data_dir)]
        if not self.staff_file_is_in_data() and self.staff_nlu.exists():
            paths.append(str(self.staff_nlu))
        return paths

    def training_nlu_files(self) -> List[Path]:
        """Every NLU file the next training reads."""
        files = sorted((self.data_dir / "nlu").glob("*.yml"))
        if not self.staff_file_is_in_data() and self.staff_nlu.exists():
            files.append(self.staff_nlu)
        return files

    def protected_files(self) -> List[Tuple[Path, str]]:
        """Test sets that must never leak into training, with the words staff read for each."""
        return [(self.held_out, "een testzin")] + [
            (path, "een zin uit de blinde test") for path in self.blind
        ]
