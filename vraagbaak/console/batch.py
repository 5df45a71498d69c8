"""Lijst testen: a pasted or uploaded list of questions, asked one by one, with the same reports as `make ask`.

Parsing (`vraag || verwacht`), verdicts, the CSV and the HTML report all come from vraagbaak/reports/ask.py, so
the downloads are exactly what `make ask` writes for the same questions.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence

from vraagbaak.console.jobs import ConsoleError, Job
from vraagbaak.console.preview import DOUBTFUL
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.user_input import clean_user_text
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import ask, ask_questions

MAX_UPLOAD_BYTES = 1_000_000
MAX_LINES = 500
ALLOWED_SUFFIXES = (".txt", ".csv")
PASTED_NAME = "vragen.txt"
MODE = "Beantwoord door de draaiende bot via de console: elke vraag apart, zonder gesprek."

Parser = Callable[[str], Dict]


@dataclass
class ListInput:
    """A usable list: its name (for the report) and content."""

    name: str
    content: str


def safe_name(name: str) -> str:
    """A file name without folders or odd characters, ending in .txt or .csv."""
    base = Path(name.replace("\\", "/")).name
    kept = "".join(c for c in base if c.isalnum() or c in "-_. ").strip(" .")[:80]
    if not kept.lower().endswith(ALLOWED_SUFFIXES):
        kept = (kept or "vragen") + ".txt"
    return kept


def read_list(pasted: str | None, upload_name: str | None, upload_body: bytes | None) -> ListInput:
    """Check size, type, encoding and number of lines before any work; Dutch errors."""
    if upload_body:
        if len(upload_body) > MAX_UPLOAD_BYTES:
            raise ConsoleError("Het bestand is te groot: hoogstens 1 MB.")
        name = upload_name or PASTED_NAME
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise ConsoleError("Kies een tekstbestand (.txt) of een .csv-bestand.")
        try:
            content = upload_body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConsoleError(
                "Het bestand is geen gewone tekst (UTF-8). Sla het op als 'Tekst (.txt)'."
            ) from None
        source = ListInput(safe_name(name), content)
    elif pasted and pasted.strip():
        if len(pasted.encode("utf-8")) > MAX_UPLOAD_BYTES:
            raise ConsoleError("De lijst is te lang: hoogstens 1 MB.")
        source = ListInput(PASTED_NAME, pasted)
    else:
        raise ConsoleError("Plak vragen in het tekstvak of kies een bestand.")
    if len(source.content.splitlines()) > MAX_LINES:
        raise ConsoleError(f"De lijst heeft meer dan {MAX_LINES} regels. Splits hem in kleinere lijsten.")
    if "\x00" in source.content:
        raise ConsoleError("Het bestand is geen gewone tekst. Sla het op als 'Tekst (.txt)'.")
    return source


@dataclass
class ListResult:
    """The rows of a finished list, the unusable lines, and both downloads."""

    source: str
    rows: List[ask.Row]
    problems: List[ask_questions.Problem]
    csv: bytes = b""
    html: bytes = b""
    misses: int = 0
    with_expectation: int = 0
    doubtful: List[bool] = field(default_factory=list)


def needs_attention(row: ask.Row) -> bool:
    """A miss (the expectation was not met), or, without expectation, no official answer to a question."""
    if row.question.expected is not None:
        return ask.is_miss(row.verdict)
    return row.action.outcome in DOUBTFUL


def csv_bytes(kb: KnowledgeBase, rows: Sequence[ask.Row]) -> bytes:
    """The CSV exactly as `make ask` writes it (ask.write_csv: ';', UTF-8 with BOM)."""
    with tempfile.TemporaryDirectory(prefix="vraagbaak-console-") as tmp:
        path = Path(tmp) / "vragen.csv"
        ask.write_csv(kb, rows, path)
        return path.read_bytes()


def run_list(kb: KnowledgeBase, parse: Parser, source: ListInput, job: Job) -> ListResult:
    """Ask every usable question (a fresh parse each, no conversation) and build the reports."""
    questions, problems = ask_questions.parse_questions(kb, source.content)
    job.progress(0, len(questions), "Vragen stellen")
    rows = []
    for number, question in enumerate(questions, start=1):
        action = ev.outcome_of(kb, parse(clean_user_text(question.text)))
        rows.append(ask.Row(question, action, ask.verdict(kb, question.expected, action)))
        job.progress(number)
    result = ListResult(source.name, rows, problems)
    result.csv = csv_bytes(kb, rows)
    result.html = ask.render_html(kb, rows, problems, Path(source.name), MODE).encode("utf-8")
    result.misses = sum(ask.is_miss(row.verdict) for row in rows)
    result.with_expectation = sum(row.question.expected is not None for row in rows)
    result.doubtful = [needs_attention(row) for row in rows]
    return result


def outcome_counts(rows: Sequence[ask.Row]) -> Dict[Outcome, int]:
    """How often each outcome occurred."""
    counts: Dict[Outcome, int] = {}
    for row in rows:
        counts[row.action.outcome] = counts.get(row.action.outcome, 0) + 1
    return counts
