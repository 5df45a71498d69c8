"""Training an NLU-only model on a set of examples, and the stratified folds of a cross-validation."""
from __future__ import annotations

import random
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.evaluation import offline as ev
from vraagbaak.ops.processes import rasa_command


def write_nlu(examples: Sequence[ev.Example], path: Path) -> None:
    """Write (text, intent) pairs as a Rasa YAML NLU file."""
    by_intent: Dict[str, List[str]] = defaultdict(list)
    for text, intent in examples:
        by_intent[intent].append(text)
    blocks = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in by_intent.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


def folds(examples: Sequence[ev.Example], k: int, seed: int = 7) -> List[List[ev.Example]]:
    """Stratified folds: each intent's examples dealt round-robin after a seeded shuffle."""
    by_intent: Dict[str, List[ev.Example]] = defaultdict(list)
    for example in examples:
        by_intent[example[1]].append(example)
    parts: List[List[ev.Example]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    for intent in sorted(by_intent):
        items = by_intent[intent][:]
        rng.shuffle(items)
        for i, item in enumerate(items):
            parts[i % k].append(item)
    return parts


def train_rasa_nlu(config: Path, examples: Sequence[ev.Example], workdir: Path, name: str) -> Path:
    """Train an NLU-only Rasa model on these examples; returns the model path."""
    data = workdir / f"{name}.yml"
    write_nlu(examples, data)
    subprocess.run(
        rasa_command(
            [
                "train",
                "nlu",
                "-c",
                str(config),
                "--nlu",
                str(data),
                "--out",
                str(workdir),
                "--fixed-model-name",
                name,
            ]
        ),
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    return workdir / f"{name}.tar.gz"
