"""Coverage figures: parse the held-out set (and optionally cross-validate), then analyse the results."""
from __future__ import annotations

import datetime as dt
import gc
import json
import statistics
import tarfile
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import yaml

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.outcomes import INTENT_OUTCOMES, Outcome
from vraagbaak.core.paths import DATA_DIR, PROJECT_DIR, REPORTS_DIR, TESTS_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation import training as nlu_training

MODEL = DEFAULT_MODEL
HELD_OUT_FILE = TESTS_DIR / "test_nlu.yml"
CONFIG_FILE = PROJECT_DIR / "config.yml"
OUT_DIR = REPORTS_DIR / "coverage"
MAX_PAIRS = 12


def pipeline_descriptions() -> Dict[str, str]:
    """The two spaCy pipelines in words (imported late: Rasa and TensorFlow load only when needed)."""
    from vraagbaak.adapters.nlu.dutch_tokenizer import FULL_PIPELINE, OFFLINE_PIPELINE

    return {
        OFFLINE_PIPELINE: "Nederlandse woordsplitsing met een woordenlijst voor grondvormen (zonder taalmodel)",
        FULL_PIPELINE: "het Nederlandse taalmodel van spaCy (klein)",
    }


@dataclass(frozen=True)
class Record:
    """One labelled phrasing and what the model and the bot made of it."""

    text: str
    expected: str
    predicted: str  # as Rasa's evaluation reads it (see module docstring)
    confidence: float
    action: ev.BotAction
    runner_up: Tuple[str, float] | None  # the classifier's second choice, for near ties
    top: Tuple[str, float] | None

    @property
    def correct(self) -> bool:
        """Recognised as expected."""
        return self.predicted == self.expected


@dataclass
class CrossValidation:
    """Results of k-fold cross-validation on the training phrasings."""

    folds: int
    fold_scores: List[float]
    records: List[Record]

    @property
    def accuracy(self) -> float:
        """Mean accuracy over the folds (as the benchmark's cross-validation reports it)."""
        return statistics.mean(self.fold_scores)


@dataclass
class Coverage:
    """Everything the report shows."""

    model: Path
    held_out: List[Record]
    training: List[ev.Example]
    cv: CrossValidation | None
    pipeline: Dict[str, Any] | None
    thresholds: Dict[str, float]
    generated: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def accuracy(self) -> float:
        """Held-out accuracy, Rasa's definition."""
        return sum(r.correct for r in self.held_out) / max(len(self.held_out), 1)


def evaluation_prediction(parse_data: Mapping[str, Any]) -> Tuple[str, float]:
    """The intent and confidence that `rasa test nlu` counts for this parse result."""
    from rasa.nlu.classifiers import fallback_classifier

    result: Dict[str, Any] = dict(parse_data)
    if fallback_classifier.is_fallback_classifier_prediction(result):
        result = fallback_classifier.undo_fallback_prediction(result)
    intent = result.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def make_records(
    kb: KnowledgeBase, examples: Sequence[ev.Example], parsed: Sequence[Dict[str, Any]]
) -> List[Record]:
    """Combine examples with their parse results."""
    records = []
    for (text, expected), parse_data in zip(examples, parsed, strict=True):
        predicted, confidence = evaluation_prediction(parse_data)
        ranking = replies.classifier_ranking(parse_data)
        entries = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking[:2]]
        records.append(
            Record(
                text=text,
                expected=expected,
                predicted=predicted,
                confidence=confidence,
                action=ev.outcome_of(kb, parse_data),
                top=entries[0] if entries else None,
                runner_up=entries[1] if len(entries) > 1 else None,
            )
        )
    return records


def cross_validation(
    kb: KnowledgeBase, training: Sequence[ev.Example], k: int, workdir: Path, progress: bool = True
) -> CrossValidation:
    """Train the project's config on k-1 folds and test on the remaining one, k times (bench's folds)."""
    parts = nlu_training.folds(training, k)
    scores: List[float] = []
    records: List[Record] = []
    for index, test_part in enumerate(parts):
        if progress:
            print(f"Kruisvalidatie: deel {index + 1} van {k} trainen en testen…", flush=True)
        train_part = [e for j, part in enumerate(parts) if j != index for e in part]
        model = nlu_training.train_rasa_nlu(CONFIG_FILE, train_part, workdir, f"deel{index}")
        parser = ev.ModelParser(model)
        fold_records = make_records(kb, test_part, parser.parse([t for t, _ in test_part]))
        del parser
        gc.collect()  # one model in memory at a time
        scores.append(sum(r.correct for r in fold_records) / max(len(fold_records), 1))
        records.extend(fold_records)
    return CrossValidation(k, scores, records)


def model_pipeline(model: Path) -> Dict[str, Any] | None:
    """The spaCy pipeline recorded inside the model archive (vraagbaak_pipeline.json), or None."""
    from vraagbaak.adapters.nlu.dutch_tokenizer import INFO_FILE

    with tarfile.open(model, "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and Path(member.name).name == INFO_FILE:
                extracted = archive.extractfile(member)
                if extracted is not None:
                    return dict(json.loads(extracted.read().decode("utf-8")))
    return None


def fallback_thresholds(config: Path = CONFIG_FILE) -> Dict[str, float]:
    """The FallbackClassifier's thresholds from config.yml (Rasa's defaults if absent)."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8")).get("pipeline") or []
    fallback: Dict[str, Any] = next((c for c in pipeline if c.get("name") == "FallbackClassifier"), {})
    return {
        "threshold": float(fallback.get("threshold", 0.3)),
        "ambiguity_threshold": float(fallback.get("ambiguity_threshold", 0.1)),
    }


def measure(model: Path, folds: int, skip_cv: bool, progress: bool = True) -> Coverage:
    """Parse the held-out set with the model and, unless skipped, cross-validate the config."""
    kb = knowledge_base()
    held_out = ev.load_nlu_examples(HELD_OUT_FILE)
    training = ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml")))
    if progress:
        print(f"Testzinnen ontleden met {model.name}…", flush=True)
    parser = ev.ModelParser(model)
    records = make_records(kb, held_out, parser.parse([t for t, _ in held_out]))
    del parser
    gc.collect()
    cv = None
    if not skip_cv:
        with tempfile.TemporaryDirectory(prefix="vraagbaak-cv-") as tmp:
            cv = cross_validation(kb, training, folds, Path(tmp), progress)
    return Coverage(model, records, training, cv, model_pipeline(model), fallback_thresholds())


# ---------------------------------------------------------------- analysis


def per_intent_accuracy(records: Iterable[Record]) -> Dict[str, Tuple[int, int]]:
    """(recognised, total) per expected intent."""
    counts: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        counts[r.expected][0] += r.correct
        counts[r.expected][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def confusions(records: Iterable[Record]) -> Counter[Tuple[str, str]]:
    """(expected, predicted) counts of the mistakes."""
    return Counter((r.expected, r.predicted) for r in records if not r.correct)


def confused_with(records: Iterable[Record]) -> Dict[str, Counter[str]]:
    """Per intent, how often it was mixed up with each other intent (either direction)."""
    result: Dict[str, Counter[str]] = defaultdict(Counter)
    for (expected, predicted), count in confusions(records).items():
        result[expected][predicted] += count
        result[predicted][expected] += count
    return result


@dataclass
class Pair:
    """Two topics that are hard to tell apart."""

    first: str
    second: str
    swapped_held_out: int = 0
    swapped_cv: int = 0
    close: int = 0

    @property
    def total(self) -> int:
        """All signs of confusion together."""
        return self.swapped_held_out + self.swapped_cv + self.close


def hard_pairs(kb: KnowledgeBase, coverage: Coverage, ambiguity: float) -> List[Pair]:
    """Topic pairs that were swapped, or nearly tied as the classifier's first two choices."""
    order = {intent: i for i, intent in enumerate(kb.intents)}
    pairs: Dict[Tuple[str, str], Pair] = {}

    def pair(a: str, b: str) -> Pair | None:
        if a == b or a not in order or b not in order:
            return None
        key = tuple(sorted((a, b), key=order.__getitem__))
        return pairs.setdefault(key, Pair(key[0], key[1]))  # type: ignore[arg-type]

    cv_records = coverage.cv.records if coverage.cv else []
    for records, attr in ((coverage.held_out, "swapped_held_out"), (cv_records, "swapped_cv")):
        for r in records:
            found = pair(r.expected, r.predicted) if not r.correct else None
            if found:
                setattr(found, attr, getattr(found, attr) + 1)
    for r in list(coverage.held_out) + list(cv_records):
        if r.top and r.runner_up and r.top[1] - r.runner_up[1] < ambiguity:
            found = pair(r.top[0], r.runner_up[0])
            if found:
                found.close += 1
    return sorted(pairs.values(), key=lambda p: (-p.total, order[p.first], order[p.second]))[:MAX_PAIRS]


def consequence(kb: KnowledgeBase, record: Record) -> str:
    """What a mistake meant for the person asking, in plain Dutch."""
    action = record.action
    topic = kb.by_intent(record.expected)
    if topic:
        if action.outcome == Outcome.ANSWERED and action.topic_id == topic.id:
            return "kreeg toch het juiste antwoord"
        if action.outcome == Outcome.ANSWERED and topic.twin and action.topic_id == topic.twin:
            return "kreeg het antwoord op de bijna gelijke vraag"
        if action.outcome == Outcome.ANSWERED:
            return "kreeg een verkeerd antwoord"
        if action.outcome == Outcome.CLARIFIED and topic.id in action.candidates:
            return "kon het juiste onderwerp kiezen uit een lijstje"
        if action.outcome == Outcome.CLARIFIED:
            return "kreeg een lijstje zonder het juiste onderwerp"
        return "kreeg geen antwoord op de vraag"
    wanted = INTENT_OUTCOMES.get(record.expected)
    if wanted and action.outcome == wanted:
        return "toch goed afgehandeld"
    if action.outcome == Outcome.ANSWERED:
        return "kreeg een antwoord op een vraag die niet gesteld was"
    if action.outcome == Outcome.CLARIFIED:
        return "kreeg een lijstje met 'Geen van deze' om verder te gaan"
    return f"kreeg '{action.outcome.label}' in plaats van '{wanted.label if wanted else 'iets anders'}'"
