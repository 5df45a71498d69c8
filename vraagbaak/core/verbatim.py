"""Checks that every official answer is its own section of the source article, complete and word for word."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Dict, List, Mapping, Sequence, Tuple

import yaml

from vraagbaak.core.knowledge_base import Block, KnowledgeBase
from vraagbaak.core.paths import SOURCE_ARTICLE_FILE

BULLET_MARK = "•"
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Article:
    """The source article as kept in the repository."""

    title: str
    publisher: str
    url: str
    date: str
    text: str
    headings_without_topic: Tuple[str, ...] = ()


@dataclass(frozen=True)
class _Layout:
    """Which article lines belong to which topic, and the lines that belong to none."""

    lines: List[str]
    bodies: Dict[str, List[range]]
    problems: List[str]


def load_article(path: Path = SOURCE_ARTICLE_FILE) -> Article:
    """Parse the article file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Article(
        title=raw["titel"],
        publisher=raw["uitgever"],
        url=raw["url"],
        date=str(raw["datum"]),
        text=raw["tekst"],
        headings_without_topic=tuple(raw["kopjes_zonder_onderwerp"]),
    )


def letters_and_digits(text: str) -> str:
    """The letters and digits of a text in order; a correction must leave these unchanged."""
    return "".join(_LETTER_OR_DIGIT.findall(text))


def _layout(text: str, kb: KnowledgeBase, headings_without_topic: Collection[str]) -> _Layout:
    lines = text.split("\n")
    owners: Dict[str, List[str]] = {}
    for topic in kb.topics:
        owners.setdefault(topic.official_question, []).append(topic.id)
    marks = [
        (index, owners.get(line.strip(), []))
        for index, line in enumerate(lines)
        if line.strip() in owners or line.strip() in headings_without_topic
    ]
    bodies: Dict[str, List[range]] = {topic.id: [] for topic in kb.topics}
    covered = {index for index, _ in marks}
    for number, (index, ids) in enumerate(marks):
        end = marks[number + 1][0] if number + 1 < len(marks) else len(lines)
        for topic_id in ids:
            bodies[topic_id].append(range(index + 1, end))
        if ids:
            covered.update(range(index + 1, end))

    problems = []
    for topic in kb.topics:
        found = len(bodies[topic.id])
        if found != 1:
            where = "niet" if found == 0 else f"{found} keer"
            problems.append(f"{topic.id}: officiële vraag staat {where} als kopje in de bron")
        others = [other for other in owners[topic.official_question] if other != topic.id]
        if others:
            problems.append(f"{topic.id}: sectie hoort ook bij {', '.join(others)}")
    seen = {line.strip() for line in lines}
    problems += [
        f"kopje zonder onderwerp komt niet voor in de bron: {heading!r}"
        for heading in headings_without_topic
        if heading not in seen
    ]
    problems += [
        f"regel {index + 1} hoort bij geen onderwerp en is geen bekend kopje: {line.strip()[:60]!r}"
        for index, line in enumerate(lines)
        if line.strip() and index not in covered
    ]
    return _Layout(lines, bodies, problems)


def _blocks(lines: Sequence[str]) -> List[Block]:
    blocks: List[Block] = []
    items: List[str] | None = None
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(BULLET_MARK):
            if items is None:
                items = []
                blocks.append({"lijst": items})
            items.append(stripped[len(BULLET_MARK) :].strip())
        else:
            items = None
            blocks.append({"alinea": stripped})
    return blocks


def split_sections(
    text: str, kb: KnowledgeBase, headings_without_topic: Collection[str]
) -> Dict[str, List[Block]]:
    """Answer blocks per topic id, read from the topic's section of the text (first one if repeated)."""
    layout = _layout(text, kb, headings_without_topic)
    return {
        topic_id: _blocks(layout.lines[ranges[0].start : ranges[0].stop])
        for topic_id, ranges in layout.bodies.items()
        if ranges
    }


def _rule_problem(original: str, replacement: str) -> str | None:
    if original == replacement:
        return "verandert niets"
    if letters_and_digits(original) != letters_and_digits(replacement):
        return f"verandert letters of cijfers ({original!r} → {replacement!r}); alleen spaties en leestekens mogen veranderen"
    # Line breaks and bullets decide the block structure that the check compares.
    if "\n" in original + replacement:
        return "mag geen regeleinde bevatten"
    if original.count(BULLET_MARK) != replacement.count(BULLET_MARK):
        return f"mag geen opsommingsteken {BULLET_MARK!r} toevoegen of weghalen"
    return None


def _positions(text: str, part: str) -> List[int]:
    found, start = [], text.find(part)
    while start != -1:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def apply_corrections(
    text: str,
    corrections: Sequence[Mapping[str, str]],
    kb: KnowledgeBase,
    headings_without_topic: Collection[str],
) -> Tuple[str, List[str]]:
    """The text with every valid correction applied, and a problem for each invalid one (left out)."""
    layout = _layout(text, kb, headings_without_topic)
    problems: List[str] = []
    edits: List[Tuple[int, int, str, str]] = []
    for number, correction in enumerate(corrections, start=1):
        topic_id = str(correction.get("onderwerp"))
        label = f"{topic_id}: correctie {number}"
        original, replacement = correction.get("origineel"), correction.get("wordt")
        if not isinstance(original, str) or not isinstance(replacement, str) or not original:
            problems.append(f"{label}: 'origineel' en 'wordt' moeten tekst zijn")
            continue
        rule = _rule_problem(original, replacement)
        if rule:
            problems.append(f"{label} {rule}")
            continue
        positions = _positions(text, original)
        if len(positions) != 1:
            where = "niet" if not positions else f"{len(positions)} keer"
            problems.append(f"{label}: {original!r} komt {where} voor in de bron, moet precies 1 keer")
            continue
        if kb.by_id(topic_id) is None:
            problems.append(f"{label}: onbekend onderwerp")
            continue
        line = text.count("\n", 0, positions[0])
        if not any(line in body for body in layout.bodies[topic_id]):
            problems.append(f"{label}: {original!r} staat niet in de sectie van dit onderwerp")
            continue
        edits.append((positions[0], positions[0] + len(original), replacement, label))

    edits.sort()
    kept: List[Tuple[int, int, str, str]] = []
    for edit in edits:
        if kept and edit[0] < kept[-1][1]:
            problems.append(f"{edit[3]}: overlapt met {kept[-1][3]}")
        else:
            kept.append(edit)
    for start, end, replacement, _ in reversed(kept):
        text = text[:start] + replacement + text[end:]
    return text, problems


def _describe(block: Block | None) -> str:
    if block is None:
        return "niets"
    if set(block) == {"alinea"}:
        return f"alinea {str(block['alinea'])[:40]!r}"
    if set(block) == {"lijst"}:
        return f"lijst van {len(block['lijst'])} punten"
    return f"ongeldig blok {str(block)[:40]}"


def _excerpts(ours: str, theirs: str) -> str:
    same = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs))
    )
    start = max(0, same - 15)
    dots = "…" if start else ""
    return f"antwoord {dots}{ours[start:start + 50]!r}, bron {dots}{theirs[start:start + 50]!r}"


def _detail(ours: Block | None, theirs: Block | None) -> str:
    if ours is not None and theirs is not None and set(ours) == set(theirs) == {"alinea"}:
        return _excerpts(str(ours["alinea"]), str(theirs["alinea"]))
    if ours is not None and theirs is not None and set(ours) == set(theirs) == {"lijst"}:
        our_items, their_items = list(ours["lijst"]), list(theirs["lijst"])
        for index, (a, b) in enumerate(zip(our_items, their_items, strict=False)):
            if a != b:
                return f"punt {index + 1}: {_excerpts(a, b)}"
        return f"lijst van {len(our_items)} punten, de bron heeft er {len(their_items)}"
    return f"antwoord heeft {_describe(ours)}, bron heeft {_describe(theirs)}"


def _first_difference(answer: Sequence[Block], source: Sequence[Block]) -> str | None:
    for index in range(max(len(answer), len(source))):
        ours = answer[index] if index < len(answer) else None
        theirs = source[index] if index < len(source) else None
        if ours != theirs:
            return f"blok {index + 1} wijkt af van de bron: {_detail(ours, theirs)}"
    return None


def verbatim_problems(kb: KnowledgeBase, article: Article) -> List[str]:
    """Everything that keeps the answers from being exactly their own sections of the article; empty if none."""
    headings = article.headings_without_topic
    problems = list(_layout(article.text, kb, headings).problems)
    text, correction_problems = apply_corrections(article.text, kb.corrections, kb, headings)
    problems += correction_problems
    sections = split_sections(text, kb, headings)
    for topic in kb.topics:
        if topic.id in sections:
            difference = _first_difference(topic.answer_blocks, sections[topic.id])
            if difference:
                problems.append(f"{topic.id}: {difference}")
    return problems
