"""`make bench`: accuracy against two baselines, safety figures, latency, training time and memory."""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import yaml

from vraagbaak.bench.console import format_console
from vraagbaak.bench.fairness import (
    format_fairness,
    format_hanging_platform,
    measure_fairness_on_new_servers,
    measure_hanging_platform,
)
from vraagbaak.bench.latency import format_latency, server_latency, with_parse_ratio
from vraagbaak.bench.robustness import format_robustness, measure_robustness
from vraagbaak.bench.safety import format_safety, measure_safety
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import DATA_DIR, PROJECT_DIR, REPORTS_DIR, TESTS_DIR
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation.training import folds, train_rasa_nlu
from vraagbaak.ops.processes import LOAD_TOOL_ENV, rasa_command, running_servers

Predictor = Callable[[Sequence[str]], List[str]]
BLIND_SET = TESTS_DIR / "data" / "blind" / "blinde_set_2026.yml"


def rasa_predictor(config: Path, workdir: Path) -> Callable[[Sequence[ev.Example], str], Predictor]:
    """Factory: train on examples, then predict top intents with that model."""

    def train(examples: Sequence[ev.Example], name: str) -> Predictor:
        parser = ev.ModelParser(train_rasa_nlu(config, examples, workdir, name))
        return lambda texts: [ev.top_intent(p) for p in parser.parse(texts)]

    return train


def tfidf_predictor(examples: Sequence[ev.Example], name: str) -> Predictor:
    """Baseline: the intent of the most similar training paraphrase (TF-IDF, cosine)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform([t for t, _ in examples])
    intents = [i for _, i in examples]
    return lambda texts: [
        intents[int(row.argmax())] for row in linear_kernel(vectorizer.transform(texts), matrix)
    ]


def cross_validate(
    train: Callable[[Sequence[ev.Example], str], Predictor], examples: Sequence[ev.Example], k: int, name: str
) -> float:
    """Mean accuracy over k stratified folds."""
    parts = folds(examples, k)
    scores = []
    for i, test_part in enumerate(parts):
        train_part = [e for j, part in enumerate(parts) if j != i for e in part]
        predict = train(train_part, f"{name}_fold{i}")
        scores.append(ev.accuracy([t[1] for t in test_part], predict([t[0] for t in test_part])))
    return statistics.mean(scores)


def measure_latency(model: Path, workdir: Path, requests_count: int) -> Dict[str, float]:
    """Single-user REST round trips through the action server (short and 300-turn conversations), memory."""
    with running_servers(model, workdir, extra_env=LOAD_TOOL_ENV) as servers:
        figures = server_latency(servers, requests_count)
        # Same servers, same run: how much one client sending 100 KB messages slows everyone else down.
        return {**figures, **measure_robustness(servers, requests_count)}


def safety_figures(parser: ev.ModelParser) -> Dict[str, float]:
    """Safe path recall on emergencies, false alarms and official answers on questions about violence;
    ambiguous handling."""
    kb = knowledge_base()
    safety = yaml.safe_load((TESTS_DIR / "data" / "nood.yml").read_text(encoding="utf-8"))
    emergencies = [ev.outcome_of(kb, p) for p in parser.parse(safety["nood"])]
    near = [ev.outcome_of(kb, p) for p in parser.parse([n["tekst"] for n in safety["geen_nood"]])]
    # A near-miss that is a real FAQ question deserves that topic's official answer, not a clarification.
    faq_near = [
        (item["onderwerp"], outcome)
        for item, outcome in zip(safety["geen_nood"], near, strict=True)
        if item.get("onderwerp")
    ]
    ambiguous = yaml.safe_load((TESTS_DIR / "data" / "dubbelzinnig.yml").read_text(encoding="utf-8"))[
        "ambigu"
    ]
    amb = [ev.outcome_of(kb, p) for p in parser.parse([a["tekst"] for a in ambiguous])]
    acceptable = 0
    for item, outcome in zip(ambiguous, amb, strict=True):
        offered = set(outcome.candidates) | ({outcome.topic_id} if outcome.topic_id else set())
        allowed = set(item["kandidaten"]) | {
            t.twin for t in kb.topics if t.id in item["kandidaten"] and t.twin
        }
        acceptable += bool(offered) and offered <= allowed
    return {
        "emergency_recall": sum(o.outcome == Outcome.EMERGENCY for o in emergencies) / len(emergencies),
        "near_miss_false_alarm": sum(o.outcome == Outcome.EMERGENCY for o in near) / len(near),
        "near_miss_faq_answered": ev.answered_with_topic(faq_near),
        "ambiguous_clarified": sum(o.outcome == Outcome.CLARIFIED for o in amb) / len(amb),
        "ambiguous_acceptable": acceptable / len(amb),
    }


def rasa_init_config(workdir: Path) -> Path:
    """The pipeline `rasa init` generates (Rasa's default config), with Dutch as language."""
    import rasa

    source = Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config["language"] = "nl"
    path = workdir / "rasa_init_config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def main() -> None:
    """Run every measurement in one go and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-baseline-rasa", action="store_true", help="skip the slow rasa-init baseline")
    args = parser.parse_args()
    # Rasa reuses trained components from .rasa/cache when data and config are unchanged; a benchmark
    # must train from scratch, or training time depends on what ran before (it did: 6 minutes, not 45).
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    kb = knowledge_base()
    training = ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml")))
    held_out = ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")
    texts, expected = [t for t, _ in held_out], [i for _, i in held_out]
    results: Dict[str, object] = {
        "machine": f"{platform.node()} {platform.machine()}, {platform.processor() or ''}"
        f" {os.cpu_count()} cores, Python {platform.python_version()}"
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        subprocess.run(
            rasa_command(["train", "--out", str(workdir), "--fixed-model-name", "full", "--force"]),
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
        )
        results["training_seconds"] = round(time.perf_counter() - started, 1)
        full_model = workdir / "full.tar.gz"

        # As served, so the parse time set against the REST round trip is the same code's.
        ours = ev.ModelParser(full_model, served=True)
        parsed = ours.parse(texts)
        outcomes = [ev.outcome_of(kb, p) for p in parsed]
        pipelines: Dict[str, Dict[str, float]] = {
            "vraagbaak": {
                "held_out_top1": ev.accuracy(expected, [ev.top_intent(p) for p in parsed]),
                "cv_accuracy": cross_validate(
                    rasa_predictor(PROJECT_DIR / "config.yml", workdir), training, args.folds, "ours"
                ),
            }
        }
        results.update(ev.scope_figures(kb, held_out, outcomes))
        # The frozen blind set: written from the article alone, never used to choose data or settings.
        blind = ev.load_nlu_examples(BLIND_SET)
        blind_parsed = ours.parse([t for t, _ in blind])
        blind_scope = ev.scope_figures(kb, blind, [ev.outcome_of(kb, p) for p in blind_parsed])
        results["blind_top1"] = ev.accuracy([i for _, i in blind], [ev.top_intent(p) for p in blind_parsed])
        results["blind_oos_rejection"] = blind_scope["oos_rejection"]
        results["blind_wrong_answer_rate"] = blind_scope["wrong_answer_rate"]
        results["blind_answered_correctly"] = blind_scope["answered_correctly"]
        results["blind_examples"] = len(blind)
        blind_in_scope = [
            ev.outcome_of(kb, p) for p, (_, i) in zip(blind_parsed, blind, strict=True) if kb.by_intent(i)
        ]
        # The 2026-11 set was written blind but tuned on afterwards: an extra held-out set, no longer blind.
        earlier = ev.load_nlu_examples(TESTS_DIR / "data" / "blinde_set.yml")
        earlier_parsed = ours.parse([t for t, _ in earlier])
        results["earlier_set_top1"] = ev.accuracy(
            [i for _, i in earlier], [ev.top_intent(p) for p in earlier_parsed]
        )
        results.update(safety_figures(ours))
        results.update(measure_safety(ours, blind_in_scope))
        pipelines["tfidf_nearest_paraphrase"] = {
            "held_out_top1": ev.accuracy(expected, tfidf_predictor(training, "tfidf")(texts)),
            "cv_accuracy": cross_validate(tfidf_predictor, training, args.folds, "tfidf"),
        }
        if not args.skip_baseline_rasa:
            init_train = rasa_predictor(rasa_init_config(workdir), workdir)
            pipelines["rasa_init_default"] = {
                "held_out_top1": ev.accuracy(expected, init_train(training, "init")(texts)),
                "cv_accuracy": cross_validate(init_train, training, args.folds, "init"),
            }
        results["pipelines"] = pipelines
        results.update(with_parse_ratio(measure_latency(full_model, workdir, args.requests), ours))
        # Servers of their own with the production limits: one flooding connection, one bursting REST sender.
        results.update(measure_fairness_on_new_servers(full_model, workdir / "fair", args.requests))
        # A platform whose sends hang: replies go out after the shared turn, so the bystander does not wait.
        results.update(measure_hanging_platform(full_model, workdir / "platform", args.requests))
        from vraagbaak.bench.console import measure_console

        results.update(measure_console(full_model, workdir / "console"))
    results["held_out_examples"], results["training_examples"] = len(held_out), len(training)
    REPORTS_DIR.mkdir(exist_ok=True)
    (REPORTS_DIR / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(format_results(results))


def format_results(results: Dict) -> str:
    """Human-readable table of the figures."""
    lines = [
        f"Machine: {results['machine']}",
        "",
        f"{'pipeline':28} {'held-out top-1':>15} {'5-fold CV':>10}",
    ]
    for name, figures in results["pipelines"].items():
        lines.append(f"{name:28} {figures['held_out_top1']:>15.1%} {figures['cv_accuracy']:>10.1%}")
    lines += [
        "",
        f"Held-out: {results['held_out_examples']} phrasings; training: {results['training_examples']}",
        f"Blind set (frozen, {results['blind_examples']} phrasings): top-1 {results['blind_top1']:.1%},"
        f" answered correctly {results['blind_answered_correctly']:.1%},"
        f" wrong answers {results['blind_wrong_answer_rate']:.1%},"
        f" out-of-scope rejection {results['blind_oos_rejection']:.1%}",
        f"Earlier set (2026-11, tuned on, not blind): top-1 {results['earlier_set_top1']:.1%}",
        f"Answered correctly (in scope):   {results['answered_correctly']:.1%}",
        f"Wrong-answer rate (in scope):    {results['wrong_answer_rate']:.1%}",
        f"Clarification rate (in scope):   {results['clarification_rate']:.1%}",
        f"Out-of-scope rejection:          {results['oos_rejection']:.1%}"
        f" (outright: {results['oos_rejected_outright']:.1%})",
        f"Safe path recall (emergencies):  {results['emergency_recall']:.1%}",
        f"Safe path false alarms:          {results['near_miss_false_alarm']:.1%}",
        f"Near-miss FAQ questions answered: {results['near_miss_faq_answered']:.1%} (with their own topic)",
        format_safety(results),
        f"Ambiguous: clarified {results['ambiguous_clarified']:.1%}, acceptable {results['ambiguous_acceptable']:.1%}",
        f"Training time (rasa train):      {results['training_seconds']} s",
        format_latency(results),
        format_robustness(results),
        format_fairness(results),
        format_hanging_platform(results),
        format_console(results),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
