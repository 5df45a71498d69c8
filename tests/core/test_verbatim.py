"""The verbatim check passes for the real knowledge base and catches every kind of tampering."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Dict, List, Tuple

import pytest

from vraagbaak.core.knowledge_base import Block, KnowledgeBase, knowledge_base
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.verbatim import (
    Article,
    apply_corrections,
    load_article,
    split_sections,
    verbatim_problems,
)

SEED = PROJECT_DIR.parent / "shared" / "seed" / "000_f5c016e58ddbd67b.txt"
ARTICLE = load_article()
KB = knowledge_base()


@pytest.fixture
def article() -> Article:
    """The in-repo source article."""
    return ARTICLE


def _letters(text: str) -> str:
    return "".join(re.findall(r"[^\W_]", text))


def _topic_answer(kb: KnowledgeBase, topic_id: str, blocks: List[Block]) -> KnowledgeBase:
    """A copy of the knowledge base with one topic's answer replaced."""
    return replace(
        kb,
        topics=tuple(replace(t, answer_blocks=tuple(blocks)) if t.id == topic_id else t for t in kb.topics),
    )


def _answer(kb: KnowledgeBase, topic_id: str) -> List[Block]:
    topic = kb.by_id(topic_id)
    assert topic is not None
    return list(topic.answer_blocks)


def _with_correction(kb: KnowledgeBase, **correction: str) -> KnowledgeBase:
    return replace(kb, corrections=kb.corrections + (dict(correction, reden="test"),))


def test_the_real_knowledge_base_is_verbatim(kb: KnowledgeBase, article: Article) -> None:
    assert verbatim_problems(kb, article) == []


def test_every_topic_has_a_section(kb: KnowledgeBase, article: Article) -> None:
    sections = split_sections(article.text, kb, article.headings_without_topic)
    assert set(sections) == {t.id for t in kb.topics}


def test_article_metadata(article: Article) -> None:
    assert article.title == "Sekswerkers nog kwetsbaarder door criminalisering"
    assert article.publisher == "Amnesty International Vlaanderen"
    assert article.url.startswith("https://www.amnesty-international.be/nieuws/")
    assert article.date == "2016-05-26"


@pytest.mark.skipif(
    not SEED.exists(), reason=f"shared seed {SEED} is missing; cannot compare the in-repo copy"
)
def test_in_repo_article_equals_the_shared_seed(article: Article) -> None:
    assert article.text == SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("correction", KB.corrections, ids=[c["onderwerp"] for c in KB.corrections])
def test_each_correction_only_fixes_spacing_or_punctuation(
    kb: KnowledgeBase, article: Article, correction: Dict[str, str]
) -> None:
    assert _letters(correction["origineel"]) == _letters(correction["wordt"])
    corrected, problems = apply_corrections(article.text, [correction], kb, article.headings_without_topic)
    assert problems == []
    assert corrected.count(correction["wordt"]) >= 1
    assert _letters(corrected) == _letters(article.text)


def test_split_sections_groups_bullets_and_strips_spaces(kb: KnowledgeBase) -> None:
    topic = kb.topics[0]
    text = f"Kop\n\n{topic.official_question}\n\n Een\xa0 \n • a\n\n •\xa0b \nTwee\n • c\n\nKop"
    sections = split_sections(text, replace(kb, topics=(topic,)), ["Kop"])
    assert sections == {
        topic.id: [{"alinea": "Een"}, {"lijst": ["a", "b"]}, {"alinea": "Twee"}, {"lijst": ["c"]}]
    }


def swap_two_answers(kb: KnowledgeBase) -> KnowledgeBase:
    first, second = _answer(kb, "waarom_standpunt"), _answer(kb, "belgie")
    return _topic_answer(_topic_answer(kb, "waarom_standpunt", second), "belgie", first)


def reverse_paragraphs(kb: KnowledgeBase) -> KnowledgeBase:
    return _topic_answer(kb, "kritiek", _answer(kb, "kritiek")[::-1])


def word_changed_by_correction(kb: KnowledgeBase) -> KnowledgeBase:
    before = "bewijs dat decriminalisering van sekswerk mensenhandel"
    after = "bewijs dat criminalisering van sekswerk mensenhandel"
    blocks: List[Block] = [
        {"alinea": str(b["alinea"]).replace(before, after)} if "alinea" in b else b
        for b in _answer(kb, "mensenhandel")
    ]
    kb = _with_correction(kb, onderwerp="mensenhandel", origineel=before, wordt=after)
    return _topic_answer(kb, "mensenhandel", blocks)


def drop_a_paragraph(kb: KnowledgeBase) -> KnowledgeBase:
    blocks = _answer(kb, "legaliseren_decriminaliseren")
    return _topic_answer(kb, "legaliseren_decriminaliseren", blocks[:2] + blocks[3:])


def drop_the_last_paragraph(kb: KnowledgeBase) -> KnowledgeBase:
    return _topic_answer(kb, "bewijzen", _answer(kb, "bewijzen")[:-1])


def drop_a_list_item(kb: KnowledgeBase) -> KnowledgeBase:
    blocks: List[Block] = [
        {"lijst": [i for i in b["lijst"] if i != "Discriminatie"]} if "lijst" in b else b
        for b in _answer(kb, "schendingen")
    ]
    return _topic_answer(kb, "schendingen", blocks)


def reorder_list_items(kb: KnowledgeBase) -> KnowledgeBase:
    blocks: List[Block] = [
        {"lijst": list(b["lijst"])[::-1]} if "lijst" in b else b for b in _answer(kb, "beleid")
    ]
    return _topic_answer(kb, "beleid", blocks)


def list_split_into_paragraphs(kb: KnowledgeBase) -> KnowledgeBase:
    blocks: List[Block] = []
    for block in _answer(kb, "regeringen_doen"):
        blocks += [{"alinea": i} for i in block["lijst"]] if "lijst" in block else [block]
    return _topic_answer(kb, "regeringen_doen", blocks)


def merge_two_paragraphs(kb: KnowledgeBase) -> KnowledgeBase:
    first, second, *rest = _answer(kb, "pooiers")
    return _topic_answer(kb, "pooiers", [{"alinea": f"{first['alinea']} {second['alinea']}"}, *rest])


def punctuation_changed_in_answer(kb: KnowledgeBase) -> KnowledgeBase:
    blocks = _answer(kb, "betalen_mensenrecht")
    return _topic_answer(
        kb, "betalen_mensenrecht", [{"alinea": str(blocks[0]["alinea"]).replace("Nee,", "Nee;")}, *blocks[1:]]
    )


def paragraph_moved_to_next_topic(kb: KnowledgeBase) -> KnowledgeBase:
    moved = _answer(kb, "bewijzen")[-1]
    kb = _topic_answer(kb, "bewijzen", _answer(kb, "bewijzen")[:-1])
    return _topic_answer(kb, "belgie", [moved, *_answer(kb, "belgie")])


def correction_that_occurs_twice(kb: KnowledgeBase) -> KnowledgeBase:
    blocks: List[Block] = [
        {"alinea": str(b["alinea"]).replace("‘klanten’", "“klanten”")} if "alinea" in b else b
        for b in _answer(kb, "schendingen")
    ]
    kb = _with_correction(kb, onderwerp="schendingen", origineel="‘klanten’", wordt="“klanten”")
    return _topic_answer(kb, "schendingen", blocks)


def correction_that_does_not_occur(kb: KnowledgeBase) -> KnowledgeBase:
    return _with_correction(
        kb, onderwerp="bewijzen", origineel="Papoea Nieuw Guinea", wordt="Papoea-Nieuw-Guinea"
    )


def correction_in_another_topics_section(kb: KnowledgeBase) -> KnowledgeBase:
    moved = tuple(dict(c, onderwerp="rapport") if c["onderwerp"] == "bewijzen" else c for c in kb.corrections)
    return replace(kb, corrections=moved)


def correction_removed(kb: KnowledgeBase) -> KnowledgeBase:
    return replace(kb, corrections=tuple(c for c in kb.corrections if c["onderwerp"] != "rapport"))


def official_question_changed(kb: KnowledgeBase) -> KnowledgeBase:
    question = "Gaat Amnesty zich ook inzetten voor de rechten van sekswerkers in België?"
    return replace(
        kb, topics=tuple(replace(t, official_question=question) if t.id == "belgie" else t for t in kb.topics)
    )


def official_question_of_another_topic(kb: KnowledgeBase) -> KnowledgeBase:
    twin = kb.by_id("voor_decriminalisering")
    assert twin is not None
    return replace(
        kb,
        topics=tuple(
            replace(t, official_question=twin.official_question) if t.id == "oproep_decriminaliseren" else t
            for t in kb.topics
        ),
    )


# Each mutation with a fragment of the problem that must name it, so the right rule is seen to fire.
MUTATIONS: List[Tuple[Callable[[KnowledgeBase], KnowledgeBase], str]] = [
    (swap_two_answers, "waarom_standpunt: blok 1 wijkt af"),
    (reverse_paragraphs, "kritiek: blok 1 wijkt af"),
    (word_changed_by_correction, "mensenhandel: correctie 4 verandert letters of cijfers"),
    (drop_a_paragraph, "legaliseren_decriminaliseren: blok 3 wijkt af"),
    (drop_the_last_paragraph, "bewijzen: blok 7 wijkt af"),
    (drop_a_list_item, "schendingen: blok 2 wijkt af van de bron: punt 8"),
    (reorder_list_items, "beleid: blok 2 wijkt af van de bron: punt 1"),
    (list_split_into_paragraphs, "regeringen_doen: blok 2 wijkt af"),
    (merge_two_paragraphs, "pooiers: blok 1 wijkt af"),
    (punctuation_changed_in_answer, "betalen_mensenrecht: blok 1 wijkt af"),
    (paragraph_moved_to_next_topic, "belgie: blok 1 wijkt af"),
    (correction_that_occurs_twice, "schendingen: correctie 4: '‘klanten’' komt 2 keer voor"),
    (correction_that_does_not_occur, "bewijzen: correctie 4: 'Papoea Nieuw Guinea' komt niet voor"),
    (
        correction_in_another_topics_section,
        "rapport: correctie 2: 'Honduras\\xa0 en' staat niet in de sectie",
    ),
    (correction_removed, "rapport: blok 5 wijkt af"),
    (official_question_changed, "belgie: officiële vraag staat niet als kopje"),
    (
        official_question_of_another_topic,
        "oproep_decriminaliseren: sectie hoort ook bij voor_decriminalisering",
    ),
]


@pytest.mark.parametrize("mutate, expected", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_every_mutation_is_caught(
    kb: KnowledgeBase, article: Article, mutate: Callable[[KnowledgeBase], KnowledgeBase], expected: str
) -> None:
    mutated = mutate(kb)
    assert mutated != kb
    problems = verbatim_problems(mutated, article)
    assert any(expected in p for p in problems), problems


EXTRA_LINE_AFTER = {
    "between_the_title_lines": "Sekswerkers nog kwetsbaarder door criminalisering\n",
    "after_the_q_and_a_heading": "Q&A - Amnesty's standpunt over de bescherming van de rechten van sekswerkers\n",
    "inside_a_section": "Rapport\n",
    "at_the_end": "sekswerkers in België.",
}


@pytest.mark.parametrize("anchor", EXTRA_LINE_AFTER.values(), ids=list(EXTRA_LINE_AFTER))
def test_an_unexplained_extra_line_in_the_article_is_a_problem(
    kb: KnowledgeBase, article: Article, anchor: str
) -> None:
    assert anchor in article.text
    text = article.text.replace(anchor, anchor + "\nEen regel die er niet hoort.\n", 1)
    assert verbatim_problems(kb, replace(article, text=text)) != []


def test_headings_without_topic_must_be_listed(kb: KnowledgeBase, article: Article) -> None:
    problems = verbatim_problems(kb, replace(article, headings_without_topic=()))
    assert any("hoort bij geen onderwerp" in p for p in problems)
    assert any(p.startswith("beleid:") for p in problems)
