"""`make ask FILE=vragen.txt`: put a list of questions to the bot and write what it answered (HTML and CSV).

One question per line; `vraag || verwacht` adds the expected answer: a topic id, a topic's display title, or
an outcome such as "buiten bereik" or "noodbericht". Blank lines and lines starting with # are skipped.
Offline (default) the trained model answers in this process; with --url the running bot answers over REST.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence, Tuple

from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import REPORTS_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import shared as rp
from vraagbaak.reports.ask_questions import (
    SEPARATOR,
    Expectation,
    Problem,
    Question,
    parse_questions,
    read_file,
)
from vraagbaak.reports.shared import Html, esc

MODEL = DEFAULT_MODEL
OUT_DIR = REPORTS_DIR / "ask"
REST_PATH = "/webhooks/rest/webhook"
NO_CONFIDENCE = "—"
CSV_HEADER = ["regel", "vraag", "verwacht", "antwoord", "zekerheid", "uitkomst", "klopt"]
CSV_DELIMITER = ";"  # Excel with Dutch or Belgian settings opens ';'-separated files in columns

YES, NO = "ja", "nee"
NO_BUT_OFFERED = "nee (wel als keuze aangeboden)"
NO_BUT_TWIN = "nee (antwoord op de bijna gelijke vraag)"

# Expecting "buiten bereik" is also met by the reply for another language: both say "not for me".
ALSO_ACCEPTED = {Outcome.OUT_OF_SCOPE: {Outcome.OTHER_LANGUAGE}}


def verdict(kb: KnowledgeBase, expected: Expectation | None, action: ev.BotAction) -> str:
    """'ja', 'nee …' or '' (no expectation)."""
    if expected is None:
        return ""
    if expected.topic_id:
        if action.outcome == Outcome.ANSWERED and action.topic_id == expected.topic_id:
            return YES
        topic = kb.by_id(expected.topic_id)
        if action.outcome == Outcome.ANSWERED and topic and topic.twin and action.topic_id == topic.twin:
            return NO_BUT_TWIN
        if action.outcome == Outcome.CLARIFIED and expected.topic_id in action.candidates:
            return NO_BUT_OFFERED
        return NO
    accepted = {expected.outcome} | ALSO_ACCEPTED.get(expected.outcome, set()) if expected.outcome else set()
    return YES if action.outcome in accepted else NO


# ---------------------------------------------------------------- asking the bot


class BotUnreachable(Exception):
    """The running bot could not be reached over REST."""


def ask_offline(kb: KnowledgeBase, model: Path, texts: Sequence[str]) -> List[ev.BotAction]:
    """What the trained model and the rules do with each question (a fresh conversation each)."""
    parser = ev.ModelParser(model)
    return [ev.outcome_of(kb, parsed) for parsed in parser.parse(texts)]


def rest_endpoint(url: str) -> str:
    """The REST webhook address for a bot URL (the full webhook address is accepted as well)."""
    url = url.rstrip("/")
    return url if url.endswith(REST_PATH) else url + REST_PATH


def ask_rest(kb: KnowledgeBase, url: str, texts: Sequence[str], timeout: float = 30) -> List[ev.BotAction]:
    """Ask the running bot, each question from a new sender so earlier questions never count."""
    import requests

    endpoint = rest_endpoint(url)
    actions = []
    for text in texts:
        sender = f"vraagbaak-ask-{uuid.uuid4().hex}"
        try:
            response = requests.post(endpoint, json={"sender": sender, "message": text}, timeout=timeout)
        except requests.RequestException as error:
            raise BotUnreachable(f"De bot op {url} antwoordt niet ({type(error).__name__}).") from error
        try:
            messages: Any = response.json()
        except ValueError:
            messages = None
        if not isinstance(messages, list):
            if response.status_code == 404:
                raise BotUnreachable(f"Op {endpoint} staat geen Vraagbaak (HTTP 404). Klopt het adres?")
            actions.append(ev.BotAction(Outcome.TECHNICAL))
            continue
        actions.append(rp.action_from_reply(kb, [m for m in messages if isinstance(m, dict)]))
    return actions


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class Row:
    """A question with the bot's reaction."""

    question: Question
    action: ev.BotAction
    verdict: str

    def cells(self, kb: KnowledgeBase) -> List[str]:
        """The CSV/HTML columns (CSV_HEADER)."""
        action = self.action
        if action.outcome == Outcome.ANSWERED and action.topic_id:
            topic = kb.by_id(action.topic_id)
            answer = topic.title if topic else action.topic_id
        elif action.candidates:
            answer = " / ".join(t.title for t in (kb.by_id(c) for c in action.candidates) if t)
        else:
            answer = ""
        confidence = NO_CONFIDENCE if action.confidence is None else f"{action.confidence:.0%}"
        expected = self.question.expected.label(kb) if self.question.expected else ""
        return [
            str(self.question.line),
            self.question.text,
            expected,
            answer,
            confidence,
            action.outcome.label,
            self.verdict,
        ]


def is_miss(verdict_text: str) -> bool:
    """Whether the answer did not meet the expectation."""
    return verdict_text.startswith(NO)


def write_csv(kb: KnowledgeBase, rows: Sequence[Row], path: Path) -> None:
    """One row per question; UTF-8 with BOM so Excel shows accents; no cell ever runs as a formula."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=CSV_DELIMITER)
        writer.writerow(CSV_HEADER)
        writer.writerows([rp.spreadsheet_cell(cell) for cell in row.cells(kb)] for row in rows)


def render_html(
    kb: KnowledgeBase, rows: Sequence[Row], problems: Sequence[Problem], source: Path, mode: str
) -> str:
    """The batch report as one self-contained HTML page."""
    outcomes = Counter(row.action.outcome for row in rows)
    with_expectation = [row for row in rows if row.question.expected]
    met = sum(row.verdict == YES for row in with_expectation)
    parts = [
        f"<h1>Antwoorden van Vraagbaak op {esc(source.name)}</h1>",
        f"<p class='sub'>{esc(dt.datetime.now().strftime('%d-%m-%Y %H:%M'))}. {esc(mode)}</p>",
    ]
    if problems:
        items = "".join(f"<li>{esc(problem)}</li>" for problem in problems)
        parts.append(
            "<div class='box' id='problemen'><strong>Niet alle regels konden gebruikt worden.</strong> "
            f"Deze regels staan niet in de tabel:<ul>{items}</ul></div>"
        )
    summary = ", ".join(f"{count} {outcome.label}" for outcome, count in outcomes.most_common())
    parts.append(f"<p id='samenvatting'>{len(rows)} vragen: {esc(summary) if summary else 'geen'}.</p>")
    if with_expectation:
        parts.append(
            f"<p id='verwachting'>Het antwoord klopt met de verwachting bij <strong>{met} van "
            f"{len(with_expectation)}</strong> vragen. Rijen die niet kloppen, zijn rood en hebben 'nee' in de "
            "laatste kolom.</p>"
        )
    headers = ["Regel", "Vraag", "Verwacht", "Antwoord (onderwerp)", "Zekerheid", "Uitkomst", "Klopt"]
    table_rows: List[List[object]] = []
    classes = []
    for row in rows:
        cells: List[object] = list(row.cells(kb))
        if is_miss(row.verdict):
            cells[-1] = Html(f"<strong>✘ {esc(row.verdict)}</strong>")
        elif row.verdict == YES:
            cells[-1] = Html(f"✔ {esc(row.verdict)}")
        table_rows.append(cells)
        classes.append("mis" if is_miss(row.verdict) else "goed" if row.verdict == YES else "")
    parts.append(rp.table(headers, table_rows, classes, table_id="antwoorden"))
    parts.append(
        "<p class='klein'>Uitkomst: <em>beantwoord</em> = officieel antwoord op een onderwerp; "
        "<em>verduidelijkt</em> = de bot vroeg wat je bedoelt en bood onderwerpen aan; <em>buiten bereik</em> = "
        "de bot zei eerlijk dat hij dit niet weet; <em>noodbericht</em> = het veilige antwoord met 112. "
        "Zekerheid is alleen bekend als het model hier werd gebruikt, niet via een draaiende bot (—).</p>"
    )
    return rp.page(f"Vraagbaak: antwoorden op {source.name}", "\n".join(parts))


def write_reports(
    kb: KnowledgeBase,
    rows: Sequence[Row],
    problems: Sequence[Problem],
    source: Path,
    out_dir: Path,
    mode: str,
) -> Tuple[Path, Path]:
    """Write <name>.html and <name>.csv; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = out_dir / f"{source.stem}.html", out_dir / f"{source.stem}.csv"
    html_path.write_text(render_html(kb, rows, problems, source, mode), encoding="utf-8")
    write_csv(kb, rows, csv_path)
    return html_path, csv_path


def usage(kb: KnowledgeBase) -> str:
    """How to use the tool, with every topic id and title to write after '||'."""
    lines = [
        "Gebruik: make ask FILE=vragen.txt [URL=http://localhost:5005]",
        f"Eén vraag per regel. Verwacht antwoord erachter: vraag {SEPARATOR} onderwerp",
        "Als onderwerp mag de id of de titel. Ook mogelijk: buiten bereik, noodbericht, verduidelijkt.",
        "",
        "Onderwerpen (id: titel):",
    ]
    lines += [f"  {topic.id}: {topic.title}" for topic in kb.topics]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0: done (or usage shown); 2: unusable lines, report written for the rest; 1: bot unreachable or miss."""
    parser = argparse.ArgumentParser(description="Stel een lijst vragen aan Vraagbaak en maak een rapport.")
    parser.add_argument(
        "file", type=Path, nargs="?", help="tekstbestand met één vraag per regel (vraag || verwacht)"
    )
    parser.add_argument(
        "--url", help="adres van een draaiende bot, bv. http://localhost:5005 (anders: het model)"
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="het getrainde model (zonder --url)")
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help="map voor het rapport (standaard reports/ask)"
    )
    parser.add_argument(
        "--fail-on-miss", action="store_true", help="exitcode 1 als een verwachting niet klopt"
    )
    args = parser.parse_args(argv)
    rp.quiet_process()
    kb = knowledge_base()
    if args.file is None:  # `make ask` without FILE: show how, and the topics to expect
        print(usage(kb))
        return 0

    content = read_file(args.file)
    if isinstance(content, Problem):
        print(content, file=sys.stderr)
        return 2
    questions, problems = parse_questions(kb, content)
    for problem in problems:
        print(problem, file=sys.stderr)

    texts = [q.text for q in questions]
    try:
        if args.url:
            mode = f"Gevraagd aan de draaiende bot op {args.url}."
            actions = ask_rest(kb, args.url, texts) if texts else []
        else:
            if not args.model.exists():
                print(f"Het model {args.model} bestaat niet. Draai eerst `make model`.", file=sys.stderr)
                return 2
            mode = f"Beantwoord met het model {args.model.name} (zonder draaiende bot)."
            actions = ask_offline(kb, args.model, texts) if texts else []
    except BotUnreachable as error:
        print(
            f"{error} Start de bot met `make run`, of laat --url weg om het model te gebruiken.",
            file=sys.stderr,
        )
        return 1

    rows = [Row(q, a, verdict(kb, q.expected, a)) for q, a in zip(questions, actions, strict=True)]
    html_path, csv_path = write_reports(kb, rows, problems, args.file, args.out, mode)
    misses = sum(is_miss(row.verdict) for row in rows)
    expected_count = sum(row.question.expected is not None for row in rows)
    print(f"{len(rows)} vragen gesteld; {len(problems)} regel(s) overgeslagen.")
    if expected_count:
        print(f"Verwachting klopt bij {expected_count - misses} van {expected_count} vragen.")
    print(f"Rapport: {html_path}\nTabel (CSV): {csv_path}")
    if problems:
        return 2
    return 1 if args.fail_on_miss and misses else 0


if __name__ == "__main__":
    sys.exit(main())
