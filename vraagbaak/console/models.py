"""Opnieuw trainen, activeren, weggooien en terugzetten: the model the running bot serves.

Training runs `rasa train` through the privacy launcher into models/kandidaat-<time>.tar.gz, then compares the
candidate with the active model in a separate process (compare.py). Activating and restoring are Rasa's
`PUT /model`; conversations that are going on are kept (adapters/stores.py shares them across the new store).
Every change goes to the audit log.
"""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Sequence

from vraagbaak.console.audit import AuditLog
from vraagbaak.console.durations import COMPARISON, TRAINING, Durations
from vraagbaak.console.jobs import ConsoleError, Job
from vraagbaak.console.rasa_client import RasaClient, RasaUnavailable
from vraagbaak.console.review import read_staff_phrasings
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.ops.processes import rasa_command, start_process

CANDIDATE_PREFIX = "kandidaat-"
POLL_SECONDS = 0.5


@dataclass
class ModelState:
    """Which model is active, which one came before it, and the candidate waiting for a decision."""

    active: str | None = None
    previous: str | None = None
    candidate: str | None = None
    comparison: Dict[str, Any] | None = None
    trained_by: str | None = None


class ModelManager:
    """Trains candidates and switches the model the running bot serves."""

    def __init__(
        self,
        kb: KnowledgeBase,
        workspace: Workspace,
        client: RasaClient,
        audit: AuditLog,
        durations: Durations,
    ) -> None:
        self.kb = kb
        self.workspace = workspace
        self.client = client
        self.audit = audit
        self.durations = durations
        self._lock = threading.Lock()
        self.state = self._load()

    # ------------------------------------------------------------ state

    def _load(self) -> ModelState:
        try:
            data = json.loads(self.workspace.model_state.read_text(encoding="utf-8"))
            return ModelState(**{k: v for k, v in data.items() if k in ModelState.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return ModelState()

    def _save(self) -> None:
        self.workspace.var_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.workspace.model_state.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self.state), ensure_ascii=False), encoding="utf-8")
        temporary.replace(self.workspace.model_state)

    def active_model(self) -> Path:
        """The model file the bot serves now (Rasa reports only its file name; we know where we put it)."""
        try:
            name = str(self.client.status().get("model_file") or "")
        except RasaUnavailable:
            name = ""
        known = [Path(p) for p in (self.state.active, self.state.previous) if p]
        for path in known + [self.workspace.models_dir / name, PROJECT_DIR / "models" / name]:
            if name and path.name == name and path.exists():
                return path
        if self.state.active and Path(self.state.active).exists() and not name:
            return Path(self.state.active)
        return self.workspace.default_model

    def candidate(self) -> Path | None:
        """The trained candidate waiting for activate or discard, if its file still exists."""
        path = Path(self.state.candidate) if self.state.candidate else None
        return path if path and path.exists() else None

    def previous(self) -> Path | None:
        """The model to restore, if its file still exists."""
        path = Path(self.state.previous) if self.state.previous else None
        return path if path and path.exists() else None

    # ------------------------------------------------------------ training

    def train(self, job: Job, who: str, staff_list: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        """Train a candidate on today's data, then compare it with the active model."""
        before = self.active_model()
        if not before.exists():
            raise ConsoleError(
                "Het huidige model is niet gevonden. Vraag een technische collega om `make model`."
            )
        name = CANDIDATE_PREFIX + datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workspace.models_dir.mkdir(parents=True, exist_ok=True)
        self.workspace.var_dir.mkdir(parents=True, exist_ok=True)
        self.workspace.training_log.write_bytes(b"")
        self.workspace.training_log.chmod(0o600)
        job.progress(step="Stap 1 van 2: de bot leert van alle oefenzinnen")
        started = time.monotonic()
        args = ["train", "--out", str(self.workspace.models_dir), "--fixed-model-name", name]
        process = start_process(
            rasa_command([*args, "--data", *self.workspace.training_data_args()]),
            log=self.workspace.training_log,
        )
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
        after = self.workspace.models_dir / f"{name}.tar.gz"
        if process.returncode != 0 or not after.exists():
            raise ConsoleError(
                "Trainen is mislukt. Vraag een technische collega om te kijken in var/console-training.log."
            )
        self.durations.remember(TRAINING, time.monotonic() - started)
        self.audit.record(who, "model_getraind", model=after.name)

        job.progress(step="Stap 2 van 2: oud en nieuw model vergelijken")
        started = time.monotonic()
        items = self._staff_items() + list(staff_list)  # what staff added first, then their last list
        comparison = self._compare(before, after, items)
        self.durations.remember(COMPARISON, time.monotonic() - started)
        with self._lock:
            old = self.candidate()
            if old and old != after:
                old.unlink(missing_ok=True)  # a newer candidate replaces one nobody activated
            self.state.candidate, self.state.comparison, self.state.trained_by = str(after), comparison, who
            if not self.state.active:
                self.state.active = str(before)
            self._save()
        return comparison

    def _staff_items(self) -> List[Dict[str, Any]]:
        """The phrasings staff added, with the topic they chose as the expectation."""
        items = []
        for text, intent in read_staff_phrasings(self.workspace.staff_nlu):
            topic = self.kb.by_intent(intent)
            expected = topic.id if topic else "buiten bereik"
            items.append({"vraag": text, "verwacht": expected, "bron": "toegevoegd"})
        return items

    def _compare(self, before: Path, after: Path, items: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="vraagbaak-vergelijk-") as tmp:
            listing, result = Path(tmp) / "lijst.json", Path(tmp) / "resultaat.json"
            listing.write_text(json.dumps(list(items), ensure_ascii=False), encoding="utf-8")
            arguments = [
                "--voor",
                str(before),
                "--na",
                str(after),
                "--lijst",
                str(listing),
                "--uit",
                str(result),
            ]
            command = [sys.executable, "-m", "vraagbaak.console.compare", *arguments]
            process = start_process(command, log=Path(tmp) / "uitvoer.log")
            while process.poll() is None:
                time.sleep(POLL_SECONDS)
            if process.returncode != 0 or not result.exists():
                raise ConsoleError(
                    "Het vergelijken van oud en nieuw model is mislukt. Vraag een technische collega."
                )
            return dict(json.loads(result.read_text(encoding="utf-8")))

    # ------------------------------------------------------------ switching

    def activate(self, who: str) -> Path:
        """Let the running bot serve the candidate; the model it served becomes 'previous'."""
        with self._lock:
            candidate = self.candidate()
            if candidate is None:
                raise ConsoleError("Er is geen nieuw model om te activeren. Train eerst opnieuw.")
            current = self.active_model()
            self.client.load_model(str(candidate.resolve()))
            self.state.previous, self.state.active = str(current), str(candidate)
            self.state.candidate = None
            self._save()
        self.audit.record(who, "model_geactiveerd", model=candidate.name, vorig_model=current.name)
        return candidate

    def discard(self, who: str) -> None:
        """Delete the candidate without ever serving it."""
        with self._lock:
            candidate = self.candidate()
            if candidate is None:
                raise ConsoleError("Er is geen nieuw model om weg te gooien.")
            candidate.unlink(missing_ok=True)
            self.state.candidate = None
            self._save()
        self.audit.record(who, "model_weggegooid", model=candidate.name)

    def restore(self, who: str) -> Path:
        """Serve the previous model again; the current one becomes 'previous' (so restoring can be undone)."""
        with self._lock:
            previous = self.previous()
            if previous is None:
                raise ConsoleError("Er is geen vorig model om terug te zetten.")
            current = self.active_model()
            self.client.load_model(str(previous.resolve()))
            self.state.previous, self.state.active = str(current), str(previous)
            self._save()
        self.audit.record(who, "model_teruggezet", model=previous.name, vorig_model=current.name)
        return previous
