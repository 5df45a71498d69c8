"""The knowledge base is sound, and the NLU data, domain and rules agree with it."""
from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from vraagbaak.core.knowledge_base import BULLET, KnowledgeBase, normalise_title
from vraagbaak.core.paths import DATA_DIR, KNOWLEDGE_BASE_FILE, MESSAGES_FILE, PROJECT_DIR, TESTS_DIR
from vraagbaak.evaluation.leaks import fold
from vraagbaak.evaluation.offline import load_nlu_dir, load_nlu_examples

TRAINING = load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml")))
HELD_OUT = load_nlu_examples(TESTS_DIR / "test_nlu.yml")


def counts(examples) -> Dict[str, int]:
    return dict(Counter(intent for _, intent in examples))


# The one place the number is written: the source article has a report section, a policy section and 16
# questions. Every other test counts the topics of the knowledge base.
SOURCE_TOPICS = 18


def test_every_topic_of_the_source_once_with_unique_ids_intents_and_titles(kb: KnowledgeBase) -> None:
    assert len(kb.topics) == SOURCE_TOPICS
    for attribute in ("id", "intent", "title", "official_question"):
        values = [getattr(t, attribute) for t in kb.topics]
        assert len(set(values)) == len(kb.topics), attribute
    assert len({normalise_title(t.title) for t in kb.topics}) == len(kb.topics)


def test_every_topic_intent_has_at_least_25_training_examples(kb: KnowledgeBase) -> None:
    per_intent = counts(TRAINING)
    for topic in kb.topics:
        assert per_intent.get(topic.intent, 0) >= 25, topic.intent


def test_every_faq_intent_in_the_data_has_a_topic(kb: KnowledgeBase) -> None:
    faq_intents = {intent for _, intent in TRAINING if intent.startswith("faq_")}
    assert faq_intents == set(kb.intents)


def test_related_topics_exist_are_2_to_4_and_never_the_topic_itself(kb: KnowledgeBase) -> None:
    for topic in kb.topics:
        assert 2 <= len(topic.related) <= 4, topic.id
        assert topic.id not in topic.related
        assert len(set(topic.related)) == len(topic.related)
        for related in topic.related:
            assert kb.by_id(related) is not None, (topic.id, related)


def test_every_topic_is_linked_from_another_topic(kb: KnowledgeBase) -> None:
    linked = {r for t in kb.topics for r in t.related}
    assert linked == {t.id for t in kb.topics}


def test_twins_point_at_each_other(kb: KnowledgeBase) -> None:
    twins = [t for t in kb.topics if t.twin]
    assert len(twins) == 2
    for topic in twins:
        assert kb.by_id(topic.twin).twin == topic.id


def test_answers_keep_bullet_lists_as_lists(kb: KnowledgeBase) -> None:
    violations = kb.by_id("schendingen")
    lists = [b["lijst"] for b in violations.answer_blocks if "lijst" in b]
    assert lists and len(lists[0]) == 11
    assert violations.answer_text.count("\n" + BULLET) == 11


def test_domain_lists_exactly_the_trained_intents(kb: KnowledgeBase, domain) -> None:
    assert set(domain["intents"]) == set(counts(TRAINING))
    assert set(kb.intents) <= set(domain["intents"]), "every topic of the knowledge base has its intent"


def test_one_rule_answers_all_faq_intents(kb: KnowledgeBase) -> None:
    rules = yaml.safe_load((DATA_DIR / "rules" / "faq.yml").read_text(encoding="utf-8"))["rules"]
    assert len(rules) == 1
    steps = rules[0]["steps"]
    assert {s["intent"] for s in steps[0]["or"]} == set(kb.intents)
    assert steps[1] == {"action": "action_beantwoord_faq"}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", text.lower()).split())


def _held_out_texts() -> List[str]:
    texts = [t for t, _ in HELD_OUT] + [
        t for t, _ in load_nlu_examples(TESTS_DIR / "data" / "blinde_set.yml")
    ]
    ambiguous = yaml.safe_load((TESTS_DIR / "data" / "dubbelzinnig.yml").read_text(encoding="utf-8"))
    safety = yaml.safe_load((TESTS_DIR / "data" / "nood.yml").read_text(encoding="utf-8"))
    texts += [a["tekst"] for a in ambiguous["ambigu"]]
    texts += safety["nood"] + [n["tekst"] for n in safety["geen_nood"]]
    return texts


def test_no_held_out_sentence_is_in_the_training_data() -> None:
    training = {fold(t) for t, _ in TRAINING}
    leaked = [t for t in _held_out_texts() if fold(t) in training]
    assert leaked == []


@pytest.mark.parametrize("spelling", ["en in belgie?", "EN IN BELGIË", "en, in België!"])
def test_the_leak_check_folds_accents_case_and_punctuation(spelling: str) -> None:
    assert fold(spelling) == fold("en in belgië?")


def test_held_out_set_is_big_enough(kb: KnowledgeBase) -> None:
    per_intent = counts(HELD_OUT)
    for topic in kb.topics:
        assert per_intent.get(topic.intent, 0) >= 8, topic.intent
    assert per_intent["chat_buiten_bereik"] >= 30
    assert len(yaml.safe_load((TESTS_DIR / "data" / "dubbelzinnig.yml").read_text())["ambigu"]) >= 15


def test_out_of_scope_has_at_least_40_training_examples() -> None:
    assert counts(TRAINING)["chat_buiten_bereik"] >= 40


def test_no_training_sentence_is_labelled_with_two_intents() -> None:
    seen: Dict[str, str] = {}
    for text, intent in TRAINING:
        assert seen.setdefault(_norm(text), intent) == intent, text


def test_files_are_loaded_relative_to_the_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    from vraagbaak.core.knowledge_base import load_knowledge_base

    assert len(load_knowledge_base().topics) == SOURCE_TOPICS


def _make_question(*args: str) -> int:
    """`make -q` for the model: 0 when it is up to date, 1 when `make model` would retrain."""
    command = ["make", "-q", *args, "models/vraagbaak.tar.gz"]
    return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, timeout=60).returncode


def test_the_bots_own_messages_are_not_a_training_input() -> None:
    dump = subprocess.run(
        ["make", "-pn", "help"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60
    )
    inputs = next(line for line in dump.stdout.splitlines() if line.startswith("TRAINING_INPUTS :="))
    assert "kennisbank.yml" in inputs and "berichten.yml" not in inputs
    # A changed official text retrains; a changed bot message does not retrain what would otherwise stand.
    assert _make_question("-W", "vraagbaak/core/kennisbank.yml") == 1
    assert _make_question("-W", "vraagbaak/core/berichten.yml") == _make_question()


def test_every_message_and_the_help_lines_come_from_the_messages_file(kb: KnowledgeBase) -> None:
    own = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    assert kb.messages == own["berichten"]
    assert kb.help_lines.emergency == str(own["hulp"]["noodnummer"])
    official = yaml.safe_load(KNOWLEDGE_BASE_FILE.read_text(encoding="utf-8"))
    assert "berichten" not in official and "hulp" not in official, "one place for each kind of text"
