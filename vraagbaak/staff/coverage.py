"""`make coverage`: a self-contained Dutch HTML report for outreach staff on how well the bot understands questions.

Accuracy is defined exactly as Rasa's own `rasa test nlu` defines it, so the headline figure can be checked
against Rasa: a phrasing counts as recognised when the intent Rasa's evaluation reads from the parse result
equals the expected one. That is the final intent, including the deterministic overrides of
ChoiceAndInputGuard, except that an `nlu_fallback` ("unsure") result is replaced by the classifier's best
guess (Rasa's `undo_fallback_prediction`). For topic intents this is the same figure as the CI gate in
tests/staff/test_heldout.py (top-1 of the classifier ranking). What the bot then does (answer, clarify, reject)
is shown separately, per phrasing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import yaml

from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.outcomes import INTENT_OUTCOMES, OUT_OF_SCOPE_INTENT, Outcome
from vraagbaak.core.paths import DATA_DIR, MODELS_DIR, PROJECT_DIR, REPORTS_DIR, TESTS_DIR
from vraagbaak.staff import bench
from vraagbaak.staff import evaluation as ev
from vraagbaak.staff import reports as rp
from vraagbaak.staff.reports import Html, esc

MODEL = MODELS_DIR / "vraagbaak.tar.gz"
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
    action: rp.BotAction
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
        """Mean accuracy over the folds (as bench.cross_validate reports it)."""
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
                action=rp.bot_action(kb, parse_data),
                top=entries[0] if entries else None,
                runner_up=entries[1] if len(entries) > 1 else None,
            )
        )
    return records


def cross_validation(
    kb: KnowledgeBase, training: Sequence[ev.Example], k: int, workdir: Path, progress: bool = True
) -> CrossValidation:
    """Train the project's config on k-1 folds and test on the remaining one, k times (bench's folds)."""
    parts = bench.folds(training, k)
    scores: List[float] = []
    records: List[Record] = []
    for index, test_part in enumerate(parts):
        if progress:
            print(f"Kruisvalidatie: deel {index + 1} van {k} trainen en testen…", flush=True)
        train_part = [e for j, part in enumerate(parts) if j != index for e in part]
        model = bench.train_rasa_nlu(CONFIG_FILE, train_part, workdir, f"deel{index}")
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


# ---------------------------------------------------------------- plots


def heatmap(
    kb: KnowledgeBase, records: Sequence[Record], labels: Sequence[str], number: Mapping[str, int]
) -> Html:
    """Confusion heatmap: rows what was meant, columns what the model recognised (share per row)."""
    import numpy as np

    index = {intent: i for i, intent in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for r in records:
        counts[index[r.expected], index[r.predicted]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = len(labels)
    figure = rp.new_figure(4 + 0.42 * size, 1.5 + 0.36 * size)
    axes = figure.subplots()
    shown = axes.imshow(shares, cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    axes.set_yticks(range(size))
    axes.set_yticklabels(
        [f"{number[intent]}. {rp.intent_label(kb, intent)}" for intent in labels], fontsize=8
    )
    axes.set_xticks(range(size))
    axes.set_xticklabels([str(number[intent]) for intent in labels], fontsize=8)
    axes.set_xlabel("Wat het model herkende (zelfde nummers als links)")
    axes.set_ylabel("Wat de testzin bedoelde")
    for row in range(size):
        for col in range(size):
            if counts[row, col]:
                colour = "white" if shares[row, col] > 0.6 else "black"
                axes.text(col, row, int(counts[row, col]), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(shown, ax=axes, fraction=0.03, label="Deel van de testzinnen in die rij")
    return rp.image(figure, "Verwarringstabel: per onderwerp waar de testzinnen terechtkwamen")


def histogram(records: Sequence[Record], threshold: float) -> Html:
    """Confidence of the recognised intent, recognised correctly vs not."""
    from matplotlib.ticker import MaxNLocator

    right = [r.confidence for r in records if r.correct]
    wrong = [r.confidence for r in records if not r.correct]
    figure = rp.new_figure(9, 5)
    top, bottom = figure.subplots(2, 1, sharex=True)
    bins = [i / 20 for i in range(21)]
    for axes, values, colour, title in (
        (top, right, "#2e7d32", f"Goed herkend ({len(right)} testzinnen)"),
        (bottom, wrong, "#c62828", f"Niet goed herkend ({len(wrong)} testzinnen)"),
    ):
        axes.hist(values, bins=bins, color=colour, edgecolor="white")
        axes.axvline(threshold, color="#333", linestyle="--", linewidth=1)
        axes.set_title(title, fontsize=10)
        axes.set_ylabel("Aantal")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_xlabel(f"Zekerheid van het model (onder {threshold:.0%} vraagt de bot door: stippellijn)")
    bottom.set_xlim(0, 1)
    return rp.image(figure, "Histogram van de zekerheid, goed en niet goed herkende testzinnen apart")


# ---------------------------------------------------------------- HTML


def card(value: str, label: str, note: str, ident: str = "", data: str = "") -> str:
    """A headline figure."""
    ident_attr = f" id='{esc(ident)}'" if ident else ""
    data_attr = f" data-waarde='{esc(data)}'" if data else ""
    return (
        f"<div class='card'><span class='value'{ident_attr}{data_attr}>{esc(value)}</span>"
        f"<span class='label'>{esc(label)}</span><span class='note'>{esc(note)}</span></div>"
    )


def score_html(correct: int, total: int) -> Html:
    """'9 van 10 (90,0%)' with a colour class."""
    if not total:
        return Html("—")
    share = correct / total
    return Html(f"<span class='{rp.score_class(share)}'>{esc(rp.pct(share))}</span> ({correct} van {total})")


def confused_html(kb: KnowledgeBase, counter: Counter[str] | None) -> str:
    """'Title (3×), Title (1×)' for the three most frequent."""
    if not counter:
        return "—"
    return "; ".join(f"{rp.intent_label(kb, i)} ({n}×)" for i, n in counter.most_common(3))


def pipeline_text(pipeline: Dict[str, Any] | None) -> str:
    """Which spaCy pipeline the model was built with, in words."""
    if not pipeline:
        return "onbekend (het model bevat geen vraagbaak_pipeline.json)"
    name = str(pipeline.get("pipeline"))
    description = pipeline_descriptions().get(name, "onbekende pipeline")
    return f"{name} (spaCy {pipeline.get('spacy', '?')}): {description}"


def render(kb: KnowledgeBase, coverage: Coverage) -> str:
    """The whole report as one HTML page."""
    held = coverage.held_out
    threshold = coverage.thresholds["threshold"]
    training_counts = Counter(i for _, i in coverage.training)
    # The heatmap shows what the held-out set touches; the tables also list kinds only seen in training.
    labels = rp.intent_order(kb, [r.expected for r in held] + [r.predicted for r in held])
    rows_order = rp.intent_order(kb, labels + list(training_counts))
    number = {intent: i + 1 for i, intent in enumerate(rows_order)}
    held_counts = per_intent_accuracy(held)
    cv_counts = per_intent_accuracy(coverage.cv.records) if coverage.cv else {}
    mixed = confused_with(list(held) + (coverage.cv.records if coverage.cv else []))
    correct = sum(r.correct for r in held)
    out_scope = [r for r in held if r.expected == OUT_OF_SCOPE_INTENT]
    rejected = sum(r.action.outcome != Outcome.ANSWERED for r in out_scope)

    parts: List[str] = [
        "<h1>Hoe goed begrijpt Vraagbaak de vragen?</h1>",
        f"<p class='sub'>Rapport van {esc(coverage.generated.strftime('%d-%m-%Y %H:%M'))}, "
        f"model {esc(coverage.model.name)}. Taalverwerking: {esc(pipeline_text(coverage.pipeline))}.</p>",
        "<div class='cards'>",
        card(
            rp.pct(coverage.accuracy),
            "testzinnen goed herkend",
            f"{correct} van {len(held)} zinnen die de bot nooit eerder zag",
            "kop-nauwkeurigheid",
            repr(coverage.accuracy),
        ),
    ]
    if coverage.cv:
        parts.append(
            card(
                rp.pct(coverage.cv.accuracy),
                f"kruisvalidatie ({coverage.cv.folds} delen)",
                "oefenzinnen, telkens één deel achtergehouden",
                "kop-kruisvalidatie",
                repr(coverage.cv.accuracy),
            )
        )
    else:
        parts.append(
            card("—", "kruisvalidatie", "niet gemeten: overgeslagen om tijd te winnen", "kop-kruisvalidatie")
        )
    parts += [
        card(
            rp.pct(rejected / max(len(out_scope), 1)),
            "vragen over iets anders afgewezen",
            f"{rejected} van {len(out_scope)} testzinnen buiten het onderwerp kregen geen FAQ-antwoord",
            "kop-buiten-bereik",
            repr(rejected / max(len(out_scope), 1)),
        ),
        card(
            str(len(coverage.training)),
            "oefenzinnen",
            f"en {len(held)} testzinnen (apart gehouden, niet om te leren)",
            "kop-zinnen",
            f"{len(coverage.training)}/{len(held)}",
        ),
        "</div>",
        "<div class='info'><strong>Zo lees je dit.</strong> Een testzin is <em>goed herkend</em> als het model "
        "het juiste onderwerp koos. Dat is dezelfde meting als <code>rasa test nlu</code> van Rasa. Wat de bot "
        f"daarna doet, hangt af van hoe zeker hij is: onder {esc(rp.pct(threshold))} zekerheid vraagt hij eerst "
        "wat je bedoelt, of zegt hij eerlijk dat hij het niet weet.</div>",
    ]

    topic_rows: List[List[object]] = []
    other_rows: List[List[object]] = []
    for intent in rows_order:
        if intent not in held_counts and intent not in training_counts:
            continue
        ok, total = held_counts.get(intent, (0, 0))
        row: List[object] = [
            number[intent],
            rp.intent_label(kb, intent),
            training_counts.get(intent, 0),
            total,
        ]
        row.append(score_html(ok, total))
        if coverage.cv:
            row.append(score_html(*cv_counts.get(intent, (0, 0))))
        row.append(confused_html(kb, mixed.get(intent)))
        (topic_rows if kb.by_intent(intent) else other_rows).append(row)
    headers = ["Nr", "Onderwerp", "Oefenzinnen", "Testzinnen", "Goed herkend (test)"]
    headers += ["Goed herkend (kruisvalidatie)"] if coverage.cv else []
    headers += ["Vaak verward met"]
    parts += [
        "<h2>Per onderwerp</h2>",
        "<p>Per onderwerp: hoeveel zinnen de bot heeft om van te leren, hoe vaak hij de testzinnen goed herkende, "
        "en met welke onderwerpen hij het het vaakst verwart (in beide richtingen, geteld over de testzinnen"
        + (" en de kruisvalidatie" if coverage.cv else "")
        + ").</p>",
        rp.table(headers, topic_rows, table_id="onderwerpen"),
        "<h3>Andere soorten berichten</h3>",
        "<p>Geen vragen over het standpunt, maar berichten waarop de bot ook moet reageren.</p>",
        rp.table(headers, other_rows, table_id="andere-berichten"),
        "<h2>Waar gaat het mis?</h2>",
        "<p>Elke rij is wat een testzin bedoelde, elke kolom wat het model herkende. Goed herkende zinnen staan op "
        "de diagonaal. Een vakje buiten de diagonaal betekent een verwisseling.</p>",
        heatmap(kb, held, labels, number),
        "<h2>Hoe zeker is de bot?</h2>",
        "<p>Boven: zinnen die goed herkend werden. Onder: zinnen die fout gingen. Fouten met een lage zekerheid "
        "vangt de bot meestal op door door te vragen. Fouten met een hoge zekerheid zijn het gevaarlijkst: dan "
        "geeft de bot zonder twijfel het verkeerde antwoord.</p>",
        histogram(held, threshold),
    ]

    failing = [r for r in held if not r.correct]
    parts += [
        f"<h2>Testzinnen die niet goed herkend werden ({len(failing)})</h2>",
        "<p>Elke testzin waarbij het model een ander onderwerp koos, met wat de bot daarna echt deed.</p>",
        rp.table(
            ["Testzin", "Bedoeld", "Model herkende", "Zekerheid", "Wat de bot deed", "Gevolg voor de vrager"],
            [
                [
                    r.text,
                    rp.intent_label(kb, r.expected),
                    rp.intent_label(kb, r.predicted),
                    rp.pct(r.confidence),
                    rp.describe(kb, r.action),
                    consequence(kb, r),
                ]
                for r in failing
            ],
            row_classes=["mis"] * len(failing),
            table_id="fouten",
        )
        if failing
        else "<p>Geen: alle testzinnen werden goed herkend.</p>",
    ]
    doubted = [
        r for r in held if r.correct and kb.by_intent(r.expected) and r.action.outcome != Outcome.ANSWERED
    ]
    if doubted:
        parts += [
            f"<h3>Goed herkend, maar de bot twijfelde ({len(doubted)})</h3>",
            "<p>Het model koos het juiste onderwerp, maar was niet zeker genoeg om meteen te replies.</p>",
            rp.table(
                ["Testzin", "Bedoeld", "Zekerheid", "Wat de bot deed"],
                [
                    [r.text, rp.intent_label(kb, r.expected), rp.pct(r.confidence), rp.describe(kb, r.action)]
                    for r in doubted
                ],
                table_id="twijfel",
            ),
        ]

    pairs = hard_pairs(kb, coverage, coverage.thresholds["ambiguity_threshold"])
    pair_rows = []
    for p in pairs:
        first, second = kb.by_intent(p.first), kb.by_intent(p.second)
        twins = bool(first and second and first.twin == second.id)
        row = [rp.intent_label(kb, p.first), rp.intent_label(kb, p.second), p.swapped_held_out]
        row += [p.swapped_cv] if coverage.cv else []
        row += [p.close, "bijna gelijke officiële vragen" if twins else ""]
        pair_rows.append(row)
    pair_headers = ["Onderwerp", "Onderwerp", "Verwisseld (test)"]
    pair_headers += ["Verwisseld (kruisvalidatie)"] if coverage.cv else []
    pair_headers += ["Bijna gelijk scorend", "Opmerking"]
    parts += [
        "<h2>Onderwerpen die moeilijk uit elkaar te houden zijn</h2>",
        "<p>Paren die verwisseld werden, of waarbij het model twijfelde tussen de twee (minder dan "
        f"{esc(rp.pct(coverage.thresholds['ambiguity_threshold']))} verschil in zekerheid). Meer en duidelijker "
        "oefenzinnen voor zulke paren helpen het meest.</p>",
        rp.table(pair_headers, pair_rows, table_id="paren")
        if pair_rows
        else "<p>Geen: het model hield alle onderwerpen goed uit elkaar.</p>",
        "<h2>Hoe is dit gemeten?</h2>",
        "<ul>"
        f"<li><strong>Testzinnen</strong> ({len(held)}): zinnen die apart gehouden worden en nooit gebruikt om te "
        "leren. Ze lijken op echte vragen, met tikfouten en Vlaamse spreektaal.</li>"
        "<li><strong>Goed herkend</strong>: het model koos het onderwerp dat de zin bedoelde. Dit is precies het "
        "cijfer 'accuracy' van Rasa's eigen <code>rasa test nlu</code>.</li>"
        "<li><strong>Kruisvalidatie</strong>: de oefenzinnen worden in gelijke delen gesplitst. Telkens leert "
        "een nieuw model van alle delen behalve één, en wordt het op dat ene deel getest.</li>"
        "<li><strong>Afgewezen</strong>: een vraag over iets anders kreeg geen FAQ-antwoord, maar de melding "
        "dat de bot daar niet mee kan helpen (of een vraag wat je bedoelt).</li>"
        "</ul>",
    ]
    return rp.page("Vraagbaak: hoe goed begrijpt de bot de vragen?", "\n".join(parts))


def write_report(coverage: Coverage, out_dir: Path) -> Path:
    """Write index.html and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(render(knowledge_base(), coverage), encoding="utf-8")
    return path


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
