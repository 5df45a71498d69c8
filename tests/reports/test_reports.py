"""The staff reports, generated from the real model: coverage report (checked against Rasa's own evaluation)
and the batch question tool, offline and against the running bot; plus screenshots in real Chromium.

Accuracy definition: both the report and `rasa test nlu` count a phrasing as recognised when the intent Rasa's
evaluation reads from the parse result equals the expected intent: the final intent including the
deterministic overrides, with an "unsure" (nlu_fallback) result replaced by the classifier's best guess.
The report uses Rasa's own undo_fallback_prediction for that, so the two figures must be exactly equal.
"""
from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

from tests.support.bot import ARTIFACTS, MODEL, Servers
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import DATA_DIR, PROJECT_DIR, TESTS_DIR
from vraagbaak.evaluation import offline as ev
from vraagbaak.ops.processes import rasa_command
from vraagbaak.reports import ask, ask_questions, coverage_analysis
from vraagbaak.reports import shared as rp

pytestmark = pytest.mark.model

HELD_OUT = TESTS_DIR / "test_nlu.yml"
FOLDS = 2  # enough to run the cross-validation code path without making the suite slow
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HTML_QUESTION = '<b>vet</b> & "aanhalingstekens"'  # must be shown as text, never as markup


class Page(HTMLParser):
    """Visible text, images, element ids with their text and attributes, and table rows of an HTML page."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: List[str] = []
        self.images: List[Dict[str, str]] = []
        self.by_id: Dict[str, Dict[str, str]] = {}
        self.tables: Dict[str, List[List[str]]] = {}
        self.attribute_values: List[str] = []
        self._open_ids: List[Tuple[str, str, int]] = []
        self._texts: Dict[str, List[str]] = {}
        self._table: str | None = None
        self._row: List[str] | None = None
        self._cell: List[str] | None = None
        self._skip = 0
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.attribute_values += [v for k, v in values.items() if k != "src"]
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "img":
            self.images.append(values)
        if tag == "table":
            self._table = values.get("id", "")
            self.tables[self._table] = []
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []
        if "id" in values:
            self.by_id[values["id"]] = values
            self._texts[values["id"]] = []
            self._open_ids.append((values["id"], tag, 0))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if self._open_ids and self._open_ids[-1][1] == tag:
            ident, _, _ = self._open_ids.pop()
            self.by_id[ident]["text"] = " ".join("".join(self._texts[ident]).split())

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        for ident, _, _ in self._open_ids:
            self._texts[ident].append(data)

    @property
    def visible(self) -> str:
        """All visible text, whitespace collapsed."""
        return " ".join("".join(self.text).split())

    def rows(self, table_id: str) -> List[List[str]]:
        """Body rows of a table (header row left out)."""
        return self.tables[table_id][1:]


def run(command: List[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a command in the project directory, capturing output."""
    return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    return MODEL


@dataclass
class CoverageRun:
    path: Path
    source: str
    page: Page


@pytest.fixture(scope="module")
def coverage_report(model: Path, tmp_path_factory: pytest.TempPathFactory) -> CoverageRun:
    """`python -m vraagbaak.reports.coverage --folds 2`, as `make coverage FOLDS=2` runs it."""
    out = tmp_path_factory.mktemp("coverage")
    result = run(
        [sys.executable, "-m", "vraagbaak.reports.coverage", "--folds", str(FOLDS), "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    path = out / "index.html"
    source = path.read_text(encoding="utf-8")
    return CoverageRun(path, source, Page(source))


@pytest.fixture(scope="module")
def rasa_evaluation(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict:
    """Rasa's own `rasa test nlu` on the held-out set with the same model."""
    out = tmp_path_factory.mktemp("rasa-test")
    result = run(
        rasa_command(["test", "nlu", "--nlu", str(HELD_OUT), "--model", str(model), "--out", str(out)])
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((out / "intent_errors.json").read_text(encoding="utf-8"))
    return {"report": report, "errors": errors}


def test_headline_accuracy_equals_rasas_own_evaluation(
    coverage_report: CoverageRun, rasa_evaluation: Dict
) -> None:
    rasa_accuracy = rasa_evaluation["report"]["accuracy"]
    headline = coverage_report.page.by_id["kop-nauwkeurigheid"]
    assert float(headline["data-waarde"]) == pytest.approx(rasa_accuracy, abs=1e-12)
    assert headline["text"] == rp.pct(rasa_accuracy)
    support = rasa_evaluation["report"]["weighted avg"]["support"]
    assert f"van {support} zinnen" in coverage_report.page.visible


def test_every_failing_phrasing_rasa_reports_is_listed_with_what_the_bot_did(
    kb: KnowledgeBase, coverage_report: CoverageRun, rasa_evaluation: Dict
) -> None:
    rows = coverage_report.page.rows("fouten")
    listed = sorted(row[0] for row in rows)
    assert listed == sorted(" ".join(e["text"].split()) for e in rasa_evaluation["errors"])
    for row in rows:
        did = row[4]
        assert did.split(":")[0] in {o.label for o in Outcome}, row
        recognised = row[2]
        error = next(e for e in rasa_evaluation["errors"] if " ".join(e["text"].split()) == row[0])
        assert recognised == rp.intent_label(kb, error["intent_prediction"]["name"])


def test_every_topic_title_appears_with_its_own_row(kb: KnowledgeBase, coverage_report: CoverageRun) -> None:
    rows = coverage_report.page.rows("onderwerpen")
    assert [row[1] for row in rows] == [t.title for t in kb.topics]
    counts = {row[1]: int(row[2]) for row in rows}
    # Rasa drops duplicate examples when it reads training data, so count each (text, intent) once.
    training = set(ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml"))))
    for topic in kb.topics:
        assert counts[topic.title] == sum(intent == topic.intent for _, intent in training)
    for row in rows:
        assert re.fullmatch(r"\d+,\d% \(\d+ van \d+\)", row[4]), row  # held-out accuracy per topic
        assert re.fullmatch(r"\d+,\d% \(\d+ van \d+\)", row[5]), row  # cross-validation per topic


def test_no_intent_name_is_visible_anywhere(coverage_report: CoverageRun) -> None:
    intents = {i for path in (DATA_DIR / "nlu").glob("*.yml") for _, i in ev.load_nlu_examples(path)}
    shown = coverage_report.page.visible + " ".join(coverage_report.page.attribute_values)
    leaked = sorted(i for i in intents | {"nlu_fallback"} if i in shown)
    assert leaked == []


def test_images_are_embedded_pngs_so_the_file_can_be_emailed(coverage_report: CoverageRun) -> None:
    images = coverage_report.page.images
    assert len(images) >= 2
    for image in images:
        assert image["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["src"].split(",", 1)[1]).startswith(PNG_SIGNATURE)
        assert image["alt"]
    assert not re.search(r"""(src|href)=['"]?(https?:|//)""", coverage_report.source)


def test_cross_validation_and_other_headline_figures(coverage_report: CoverageRun) -> None:
    page = coverage_report.page
    cv = float(page.by_id["kop-kruisvalidatie"]["data-waarde"])
    assert 0.0 < cv <= 1.0
    assert f"kruisvalidatie ({FOLDS} delen)" in page.visible
    held_out = set(ev.load_nlu_examples(HELD_OUT))
    training = set(ev.load_nlu_dir(sorted((DATA_DIR / "nlu").glob("*.yml"))))
    assert page.by_id["kop-zinnen"]["data-waarde"] == f"{len(training)}/{len(held_out)}"
    assert 0.0 <= float(page.by_id["kop-buiten-bereik"]["data-waarde"]) <= 1.0


def test_the_spacy_pipeline_inside_the_model_is_named(coverage_report: CoverageRun, model: Path) -> None:
    recorded = coverage_analysis.model_pipeline(model)
    assert recorded is not None
    assert f"{recorded['pipeline']} (spaCy {recorded['spacy']})" in coverage_report.page.visible


def test_skip_cv_report_says_cross_validation_was_not_measured(
    model: Path, tmp_path: Path, coverage_report: CoverageRun
) -> None:
    result = run([sys.executable, "-m", "vraagbaak.reports.coverage", "--skip-cv", "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr[-3000:]
    page = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert "niet gemeten" in page.visible
    assert "data-waarde" not in page.by_id["kop-kruisvalidatie"]
    headline = page.by_id["kop-nauwkeurigheid"]["data-waarde"]
    assert headline == coverage_report.page.by_id["kop-nauwkeurigheid"]["data-waarde"]


# ---------------------------------------------------------------- batch questions


def batch_lines(kb: KnowledgeBase) -> List[str]:
    """Questions whose handling is fixed by rules: typed titles, the safe path, a greeting, a number."""
    emergency = yaml.safe_load((TESTS_DIR / "data" / "nood.yml").read_text(encoding="utf-8"))["nood"][0]
    pooiers, kritiek = kb.by_id("pooiers"), kb.by_id("kritiek")
    assert pooiers and kritiek
    return [
        "# Vragen voor de test",
        f"{pooiers.title} || pooiers",
        "",
        f"{kritiek.title} || {kritiek.title.upper()}",
        f"{emergency} || noodbericht",
        f"{pooiers.title} || kritiek",  # deliberately wrong expectation: must be marked as a miss
        "2",
        "|| beleid",  # invalid: no question
        "<i>vraag</i> || iets_dat_niet_bestaat",  # invalid: unknown topic
        HTML_QUESTION,
    ]


@dataclass
class BatchRun:
    returncode: int
    stderr: str
    page: Page
    rows: List[Dict[str, str]]
    html_path: Path


def run_batch(args: List[str], out: Path, name: str) -> BatchRun:
    """Run the CLI and read both reports."""
    result = run([sys.executable, "-m", "vraagbaak.reports.ask", *args, "--out", str(out)])
    html_path = out / f"{name}.html"
    with open(out / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=ask.CSV_DELIMITER))
    return BatchRun(
        result.returncode, result.stderr, Page(html_path.read_text(encoding="utf-8")), rows, html_path
    )


@pytest.fixture(scope="module")
def offline_batch(kb: KnowledgeBase, model: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchRun:
    folder = tmp_path_factory.mktemp("ask")
    source = folder / "vragen.txt"
    source.write_text("\n".join(batch_lines(kb)) + "\n", encoding="utf-8")
    return run_batch([str(source)], folder / "out", "vragen")


def test_batch_csv_rows_match_the_valid_input_lines(kb: KnowledgeBase, offline_batch: BatchRun) -> None:
    questions, problems = ask_questions.parse_questions(kb, "\n".join(batch_lines(kb)))
    assert [(r["regel"], r["vraag"]) for r in offline_batch.rows] == [
        (str(q.line), q.text) for q in questions
    ]
    assert list(offline_batch.rows[0]) == ask.CSV_HEADER
    assert [p.line for p in problems] == [8, 9]
    assert len(offline_batch.rows) == 6


def test_batch_offline_answers_and_verdicts(kb: KnowledgeBase, offline_batch: BatchRun) -> None:
    rows = offline_batch.rows
    pooiers, kritiek = kb.by_id("pooiers"), kb.by_id("kritiek")
    assert pooiers and kritiek
    fixed = rows[:5]  # the last question has no fixed answer, only its text is checked elsewhere
    assert [r["uitkomst"] for r in fixed] == [
        Outcome.ANSWERED.label,
        Outcome.ANSWERED.label,
        Outcome.EMERGENCY.label,
        Outcome.ANSWERED.label,
        Outcome.UNKNOWN_CHOICE.label,
    ]
    assert [r["antwoord"] for r in fixed] == [pooiers.title, kritiek.title, "", pooiers.title, ""]
    assert [r["klopt"] for r in rows] == [ask.YES, ask.YES, ask.YES, ask.NO, "", ""]
    assert all(re.fullmatch(r"\d+%", r["zekerheid"]) for r in rows)
    assert rows[-1]["vraag"] == HTML_QUESTION


def test_batch_html_marks_misses_and_lists_unusable_lines(kb: KnowledgeBase, offline_batch: BatchRun) -> None:
    assert offline_batch.returncode == 2  # unusable lines, but the report was still written
    assert "Regel 8:" in offline_batch.stderr and "Regel 9:" in offline_batch.stderr
    page = offline_batch.page
    problems = page.by_id["problemen"]["text"]
    assert "Regel 8: er staat geen vraag" in problems
    assert "Regel 9: het verwachte antwoord 'iets_dat_niet_bestaat' ken ik niet" in problems
    table = page.rows("antwoorden")
    assert [row[0] for row in table] == [r["regel"] for r in offline_batch.rows]
    misses = [row for row in table if "nee" in row[-1]]
    assert len(misses) == 1 and misses[0][0] == "6" and misses[0][-1].startswith("✘")
    assert "bij 3 van 4 vragen" in page.by_id["verwachting"]["text"]
    source = offline_batch.html_path.read_text(encoding="utf-8")
    assert "<tr class='mis'>" in source
    assert table[-1][1] == HTML_QUESTION  # shown as the text it is...
    assert (
        "<b>vet</b>" not in source and "&lt;b&gt;vet&lt;/b&gt; &amp; &quot;aanhalingstekens&quot;" in source
    )
    assert "<i>vraag</i>" not in source  # ...and a rejected line's question is not shown at all
    assert not re.search(r"\b(faq|chat|keuze|veilig)_[a-z]", page.visible)  # no intent names for staff


def test_batch_empty_file_gives_exit_code_2_and_a_clear_message(tmp_path: Path, model: Path) -> None:
    source = tmp_path / "leeg.txt"
    source.write_text("# alleen commentaar\n\n", encoding="utf-8")
    batch = run_batch([str(source)], tmp_path / "out", "leeg")
    assert batch.returncode == 2
    assert "Het bestand bevat geen vragen" in batch.stderr
    assert batch.rows == []
    assert "geen vragen" in batch.page.by_id["problemen"]["text"]


def test_batch_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "vraagbaak.reports.ask", str(tmp_path / "bestaat-niet.txt")])
    assert result.returncode == 2
    assert "bestaat niet" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.servers
def test_batch_against_the_running_bot_agrees_with_the_model(
    kb: KnowledgeBase, servers: Servers, model: Path, tmp_path: Path
) -> None:
    emergency = yaml.safe_load((TESTS_DIR / "data" / "nood.yml").read_text(encoding="utf-8"))["nood"][1]
    pooiers = kb.by_id("pooiers")
    assert pooiers
    lines = [
        f"{pooiers.title} || pooiers",
        f"{emergency} || noodbericht",
        "hallo",
        "Wat is de hoofdstad van Peru?",
    ]
    source = tmp_path / "via_url.txt"
    source.write_text("\n".join(lines), encoding="utf-8")
    assert ask.main([str(source), "--url", servers.rasa_url, "--out", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "via_url.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=ask.CSV_DELIMITER))
    assert [r["vraag"] for r in rows] == [line.split(" || ")[0] for line in lines]
    assert all(r["zekerheid"] == ask.NO_CONFIDENCE for r in rows)
    assert [r["klopt"] for r in rows[:2]] == [ask.YES, ask.YES]
    assert rows[0]["antwoord"] == pooiers.title
    # The same questions answered by the model in this process lead to the same outcomes.
    offline = ask.ask_offline(kb, model, [r["vraag"] for r in rows])
    assert [r["uitkomst"] for r in rows] == [a.outcome.label for a in offline]
    assert [r["antwoord"] for r in rows] == [
        ask.Row(ask_questions.Question(1, "x"), a, "").cells(kb)[3] for a in offline
    ]


def test_batch_against_an_unreachable_bot_is_a_clear_error(kb: KnowledgeBase, tmp_path: Path) -> None:
    from vraagbaak.ops.processes import free_port

    source = tmp_path / "vragen.txt"
    source.write_text("hallo\n", encoding="utf-8")
    result = run(
        [
            sys.executable,
            "-m",
            "vraagbaak.reports.ask",
            str(source),
            "--url",
            f"http://127.0.0.1:{free_port()}",
        ]
    )
    assert result.returncode == 1
    assert "antwoordt niet" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- screenshots in real Chromium


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} ontbreekt: draai `make web-deps` (Debian-pakket chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Python-pakket playwright ontbreekt: draai `make web-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("report", ["coverage", "ask"])
def test_reports_render_in_chromium_and_are_saved_as_screenshots(
    chromium: object, coverage_report: CoverageRun, offline_batch: BatchRun, report: str
) -> None:
    path = coverage_report.path if report == "coverage" else offline_batch.html_path
    page = chromium.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(request.url[:80]))
    page.goto(path.as_uri())
    widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths)
    assert page.locator("h1").inner_text().startswith(("Hoe goed", "Antwoorden van Vraagbaak"))
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"staff-{report}.png"
    page.screenshot(path=str(target), full_page=True)
    page.close()
    assert errors == []
    assert target.read_bytes().startswith(PNG_SIGNATURE)
