"""How well the safety model generalises: k-fold cross-validation and leave-one-kind-out."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, List, Sequence

from vraagbaak.core.safety.corpus import DANGER_KINDS, Phrasing, TrainingSet
from vraagbaak.core.safety.model import danger_scores, train


@dataclass(frozen=True)
class Scored:
    """A phrasing and the score a model that never saw it gave it."""

    phrasing: Phrasing
    score: float


TOPIC_WEIGHT = 1.0


def _fit(data: TrainingSet, threshold: float):  # type: ignore[no-untyped-def]
    return train(
        [p.text for p in data.danger],
        [p.text for p in data.safe],
        data.self_harm,
        threshold,
        safe_weights=[TOPIC_WEIGHT if p.group == "nlu" else 1.0 for p in data.safe],
    )


def cross_validate(data: TrainingSet, threshold: float, folds: int = 5, seed: int = 42) -> List[Scored]:
    """Out-of-fold scores for every phrasing."""
    everything = data.danger + data.safe
    order = list(range(len(everything)))
    random.Random(seed).shuffle(order)
    scored: List[Scored] = []
    for fold in range(folds):
        held = set(order[fold::folds])
        train_set = TrainingSet(
            [p for i, p in enumerate(everything) if i not in held and p.danger],
            [p for i, p in enumerate(everything) if i not in held and not p.danger],
        )
        model = _fit(train_set, threshold)
        tested = [everything[i] for i in sorted(held)]
        scored += [
            Scored(p, s) for p, s in zip(tested, danger_scores(model, [p.text for p in tested]), strict=True)
        ]
    return scored


def leave_one_kind_out(
    data: TrainingSet, threshold: float, kinds: Sequence[str] = DANGER_KINDS
) -> Dict[str, float]:
    """Per kind of danger: recall on that kind by a model trained without it."""
    recall: Dict[str, float] = {}
    for kind in kinds:
        held = [p for p in data.danger if p.kind == kind]
        if not held:
            continue
        model = _fit(data.without_kind(kind), threshold)
        scores = danger_scores(model, [p.text for p in held])
        recall[kind] = sum(s >= threshold for s in scores) / len(held)
    return recall


def rates(scored: Sequence[Scored], threshold: float) -> Dict[str, float]:
    """Recall on danger, and the false-alarm rate on the corpus's hard negatives and on topic phrasings."""
    danger = [s for s in scored if s.phrasing.danger]
    hard = [s for s in scored if not s.phrasing.danger and s.phrasing.group != "nlu"]
    topic = [s for s in scored if not s.phrasing.danger and s.phrasing.group == "nlu"]

    def share(items: Sequence[Scored]) -> float:
        return sum(s.score >= threshold for s in items) / len(items) if items else 0.0

    return {"recall": share(danger), "false_alarm_hard": share(hard), "false_alarm_topics": share(topic)}
