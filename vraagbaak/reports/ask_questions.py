"""The question file of `make ask` and the console's list test: one question per line, `vraag || verwacht`.

Every line that cannot be used gets a Dutch message that says what to change.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from vraagbaak.core.knowledge_base import KnowledgeBase, normalise_title
from vraagbaak.core.outcomes import Outcome

SEPARATOR = "||"
COMMENT = "#"

# Other ways staff may write an expected outcome.
OUTCOME_ALIASES = {
    "verduidelijking": Outcome.CLARIFIED,
    "nood": Outcome.EMERGENCY,
    "noodgeval": Outcome.EMERGENCY,
    "afgewezen": Outcome.OUT_OF_SCOPE,
}


@dataclass(frozen=True)
class Expectation:
    """What a line says the bot should do: answer one topic, or react in one way."""

    written: str
    topic_id: str | None = None
    outcome: Outcome | None = None

    def label(self, kb: KnowledgeBase) -> str:
        """Display title of the topic, or the outcome."""
        topic = kb.by_id(self.topic_id) if self.topic_id else None
        return topic.title if topic else (self.outcome.label if self.outcome else "")


@dataclass(frozen=True)
class Question:
    """One usable line of the input file."""

    line: int
    text: str
    expected: Expectation | None = None


@dataclass(frozen=True)
class Problem:
    """A line that cannot be used, or a problem with the whole file (line None)."""

    line: int | None
    message: str

    def __str__(self) -> str:
        """'Regel 3: …' or the message alone."""
        return f"Regel {self.line}: {self.message}" if self.line else self.message


def parse_expectation(kb: KnowledgeBase, written: str) -> Expectation | None:
    """A topic (by id or display title) or an outcome, or None if nothing matches."""
    wanted = written.strip()
    topic = kb.by_id(wanted) or kb.by_id(wanted.lower()) or kb.by_title(wanted)
    if topic:
        return Expectation(wanted, topic_id=topic.id)
    normalised = normalise_title(wanted)
    for outcome in Outcome:
        if normalised in (normalise_title(outcome.label), normalise_title(outcome.value)):
            return Expectation(wanted, outcome=outcome)
    if normalised in OUTCOME_ALIASES:
        return Expectation(wanted, outcome=OUTCOME_ALIASES[normalised])
    return None


def parse_questions(kb: KnowledgeBase, content: str) -> Tuple[List[Question], List[Problem]]:
    """The usable questions of a file, and a Dutch message for every line that is not usable."""
    questions: List[Question] = []
    problems: List[Problem] = []
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(COMMENT):
            continue
        if line.count(SEPARATOR) > 1:
            problems.append(
                Problem(
                    number,
                    f"er staat meer dan één keer '{SEPARATOR}'. Zet per regel één vraag en hoogstens één verwacht antwoord.",
                )
            )
            continue
        text, has_expectation, written = (part.strip() for part in line.partition(SEPARATOR))
        if not text:
            problems.append(Problem(number, f"er staat geen vraag vóór '{SEPARATOR}'."))
            continue
        if not has_expectation:
            questions.append(Question(number, text))
            continue
        if not written:
            problems.append(
                Problem(
                    number,
                    f"na '{SEPARATOR}' staat niets. Schrijf het verwachte onderwerp erachter, of haal '{SEPARATOR}' weg.",
                )
            )
            continue
        expectation = parse_expectation(kb, written)
        if expectation is None:
            problems.append(
                Problem(
                    number,
                    f"het verwachte antwoord '{written}' ken ik niet. Gebruik de id of de titel van een onderwerp "
                    "(typ make ask zonder FILE om ze te zien), of: buiten bereik, noodbericht, verduidelijkt.",
                )
            )
            continue
        questions.append(Question(number, text, expectation))
    if not questions and not problems:
        problems.append(Problem(None, "Het bestand bevat geen vragen. Zet één vraag per regel."))
    return questions, problems


def read_file(path: Path) -> str | Problem:
    """The file's text, or the problem that stops us from reading it."""
    if not path.is_file():
        return Problem(None, f"Het bestand {path} bestaat niet.")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return Problem(
            None, f"Het bestand {path} is geen gewone tekst (UTF-8). Sla het op als 'Tekst (.txt)'."
        )
