"""Insights: counts only by default, redacted text only when opted in, expiry, failure safety, the report."""
from __future__ import annotations

import base64
import logging
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from vraagbaak import insights
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.settings import (
    INSIGHTS_DB_FILE,
    INSIGHTS_DB_URL_ENV,
    INSIGHTS_KEEP_TEXT_ENV,
    INSIGHTS_RETENTION_ENV,
    Settings,
)
from vraagbaak.insights import CATEGORIES, MAX_STORED_CHARS, InsightStore
from vraagbaak.reports import insights_report as report_tool

SENDER = "afzender-7f3a9c"
SECRET = "mijn buurman Jef Peeters doet raar"
SECRET_REDACTED = "mijn buurman [naam] doet raar"
DAY = date(2024, 3, 15)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, today: date) -> None:
        self.now = today

    def __call__(self) -> date:
        return self.now


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def all_values(db: Path) -> Dict[str, Tuple[List[str], List[Tuple[Any, ...]]]]:
    """Every table with its column names and all its rows, read with plain sqlite3."""
    insights.flush()  # replies are counted off the reply path; the readers below see them all
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        result = {}
        for table in tables:
            cursor = conn.execute(f"SELECT * FROM {table}")
            result[table] = ([d[0] for d in cursor.description], cursor.fetchall())
    return result


def counts_by_category(db: Path) -> Dict[str, int]:
    insights.flush()
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT categorie, SUM(aantal) FROM telling GROUP BY categorie").fetchall())


def stored_texts(db: Path) -> List[Tuple[str, str, str]]:
    insights.flush()
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT dag, categorie, tekst FROM onbeantwoorde_vraag ORDER BY id").fetchall()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite file that the bot's own code (actions.send) writes to, default mode."""
    path = tmp_path / "insights.db"
    monkeypatch.setenv(INSIGHTS_DB_URL_ENV, sqlite_url(path))
    monkeypatch.delenv(INSIGHTS_KEEP_TEXT_ENV, raising=False)
    monkeypatch.delenv(INSIGHTS_RETENTION_ENV, raising=False)
    return path


def tracker_with(tracker_dict: Dict[str, Any], *user_texts: str, intent: str = "nlu_fallback") -> Tracker:
    """A real SDK tracker whose user said these texts, the last one being the latest message."""
    tracker_dict["sender_id"] = SENDER
    tracker_dict["events"] = [{"event": "user", "text": t, "parse_data": {}} for t in user_texts]
    tracker_dict["latest_message"] = {
        "text": user_texts[-1],
        "intent": {"name": intent, "confidence": 0.3},
        "intent_ranking": [],
    }
    return Tracker.from_dict(tracker_dict)


def send_every_outcome(kb: KnowledgeBase, tracker_dict: Dict[str, Any]) -> Dict[str, int]:
    """Run actions.send for each category as the action server does; returns the expected counts."""
    plan = [
        (replies.answer(kb, kb.by_id("pooiers")), ("Wat met de pooiers?",)),
        (replies.answer(kb, kb.by_id("belgie")), (f"{SECRET} en België?",)),
        (replies.out_of_scope(kb), (f"{SECRET}, mail jef@voorbeeld.be",)),
        (replies.out_of_scope(kb), ("wat vindt amnesty van de doodstraf",)),
        (replies.none_of_these(kb), (f"{SECRET} standpunt?", "/keuze_geen_van_deze")),
        (replies.menu(kb), ("welke vragen ken je",)),  # not an insights category: not counted
        (replies.text_reply(kb, "nood", Outcome.EMERGENCY), (f"help {SECRET} heeft een mes",)),
    ]
    ranking = [{"name": t.intent, "confidence": 0.3} for t in kb.topics[:3]]
    plan.append((replies.clarify(kb, {"text": f"{SECRET}?", "intent_ranking": ranking}), (f"{SECRET}?",)))
    expected: Dict[str, int] = {}
    for reply, texts in plan:
        dispatcher = CollectingDispatcher()
        actions.send(dispatcher, reply, tracker_with(dict(tracker_dict), *texts))
        assert dispatcher.messages  # the reply itself always goes out
        if reply.outcome in CATEGORIES:
            expected[reply.outcome] = expected.get(reply.outcome, 0) + 1
    assert expected[Outcome.CLARIFIED] == 1  # the ranking above really led to a clarification
    insights.flush()  # counted off the reply path: written once flushed
    return expected


# --- Default mode ----------------------------------------------------------------------------------------


def test_default_mode_stores_counts_but_no_text_and_no_sender(
    db: Path, kb: KnowledgeBase, tracker_dict: Dict[str, Any]
) -> None:
    before = date.today()
    expected = send_every_outcome(kb, tracker_dict)
    after = date.today()
    tables = all_values(db)
    assert set(tables) == {"telling", "onbeantwoorde_vraag"}
    assert tables["telling"][0] == ["dag", "categorie", "onderwerp", "aantal"]
    assert tables["onbeantwoorde_vraag"][1] == []
    # Every single stored value is a day (no time of day), a category, a knowledge-base topic id or a count.
    allowed_days = {before.isoformat(), after.isoformat()}
    topic_ids = {t.id for t in kb.topics} | {""}
    for day, category, topic, count in tables["telling"][1]:
        assert day in allowed_days
        assert category in CATEGORIES
        assert topic in topic_ids and (topic == "" or category == Outcome.ANSWERED)
        assert isinstance(count, int)
    assert SENDER not in str(tables) and "Peeters" not in str(tables)
    assert counts_by_category(db) == expected
    assert sum(expected.values()) == 7  # 8 replies sent; the menu is no insights category


def test_answered_counts_per_topic_and_add_up_over_days(tmp_path: Path) -> None:
    clock = FakeClock(DAY)
    store = InsightStore(Settings(insights_db_url=sqlite_url(tmp_path / "i.db")), clock)
    for offset, topic_ids in enumerate([["pooiers", "pooiers", "belgie"], ["pooiers"], []]):
        clock.now = DAY + timedelta(days=offset)
        for topic_id in topic_ids:
            store.record(Outcome.ANSWERED, topic_id)
        store.record(Outcome.OUT_OF_SCOPE, "niet-bewaard-want-geen-onderwerp")
        store.record("groet")  # not a category
    assert store.topic_counts(DAY) == {"pooiers": 3, "belgie": 1}
    daily = store.daily_counts(DAY)
    assert daily[Outcome.ANSWERED] == {DAY: 3, DAY + timedelta(days=1): 1}
    assert daily[Outcome.OUT_OF_SCOPE] == {DAY + timedelta(days=i): 1 for i in range(3)}
    assert daily[Outcome.EMERGENCY] == {}
    assert "niet-bewaard" not in str(all_values(tmp_path / "i.db"))


def test_clock_may_return_a_datetime(tmp_path: Path) -> None:
    store = InsightStore(
        Settings(insights_db_url=sqlite_url(tmp_path / "i.db")), lambda: datetime(2024, 3, 15, 23, 59, 59)
    )
    store.record(Outcome.EMERGENCY)
    assert all_values(tmp_path / "i.db")["telling"][1] == [("2024-03-15", "nood", "", 1)]


def test_settings_from_environment() -> None:
    defaults = Settings.from_env({})
    assert (defaults.insights_db_url, defaults.insights_keep_text, defaults.insights_retention_days) == (
        f"sqlite:///{INSIGHTS_DB_FILE}",
        False,
        30,
    )
    env = {
        INSIGHTS_DB_URL_ENV: "postgresql://db/x",
        INSIGHTS_KEEP_TEXT_ENV: "True",
        INSIGHTS_RETENTION_ENV: "7",
    }
    chosen = Settings.from_env(env)
    assert (chosen.insights_db_url, chosen.insights_keep_text, chosen.insights_retention_days) == (
        "postgresql://db/x",
        True,
        7,
    )
    assert not Settings.from_env({INSIGHTS_KEEP_TEXT_ENV: "nee"}).insights_keep_text
    for bad in ("0", "-3", "dertig"):
        with pytest.raises(ValueError):
            Settings.from_env({INSIGHTS_RETENTION_ENV: bad})


# --- Opt-in mode -----------------------------------------------------------------------------------------

# Exactly what redaction does is tested in tests/core/test_redaction.py; here: that only its result is kept.
REDACTED = [
    ("mail me op jan.peeters@voorbeeld.be aub", "mail me op [e-mail] aub"),
    ("gsm 0470/12.34.56 of vast 02 123 45 67", "gsm [telefoonnummer] of vast [telefoonnummer]"),
    ("stort op BE68 5390 0754 7034 aub", "stort op [rekeningnummer] aub"),
    ("rijksregister 85.07.30-033.28", "rijksregister [nummer]"),
    ("ik ben  Sandra\nuit Gent", "ik ben [naam] uit [plaats]"),
    ("zie www.voorbeeld.nl/sekswerk, of niet", "zie [link], of niet"),
]


@pytest.mark.parametrize("text, expected", REDACTED)
def test_opt_in_stores_only_redacted_text(tmp_path: Path, text: str, expected: str) -> None:
    db = tmp_path / "i.db"
    store = InsightStore(Settings(insights_db_url=sqlite_url(db), insights_keep_text=True), FakeClock(DAY))
    store.record(Outcome.OUT_OF_SCOPE, None, text)
    assert stored_texts(db) == [(DAY.isoformat(), Outcome.OUT_OF_SCOPE, expected)]
    assert text not in str(all_values(db))


def test_stored_text_is_cut_after_redaction(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    store = InsightStore(Settings(insights_db_url=sqlite_url(db), insights_keep_text=True), FakeClock(DAY))
    store.record(Outcome.OUT_OF_SCOPE, None, "bel 0470 12 34 56 " + "waarom " * 200)
    (_, _, text), *_ = stored_texts(db)
    assert len(text) == MAX_STORED_CHARS and text.startswith("bel [telefoonnummer] waarom")


def test_a_question_that_cannot_be_redacted_is_counted_but_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(text: str) -> str:
        raise OSError(text)

    monkeypatch.setattr(insights, "redact", broken)
    db = tmp_path / "i.db"
    store = InsightStore(Settings(insights_db_url=sqlite_url(db), insights_keep_text=True), FakeClock(DAY))
    store.record(Outcome.OUT_OF_SCOPE, None, SECRET)
    assert stored_texts(db) == [] and counts_by_category(db) == {Outcome.OUT_OF_SCOPE: 1}
    assert "OSError" in caplog.text and SECRET not in caplog.text


def test_opt_in_keeps_only_unanswered_questions_and_never_the_safe_path(
    db: Path, kb: KnowledgeBase, tracker_dict: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INSIGHTS_KEEP_TEXT_ENV, "true")
    expected = send_every_outcome(kb, tracker_dict)
    texts = [(category, text) for _, category, text in stored_texts(db)]
    assert texts == [
        (Outcome.OUT_OF_SCOPE, f"{SECRET_REDACTED}, mail [e-mail]"),
        (Outcome.OUT_OF_SCOPE, "wat vindt amnesty van de doodstraf"),
        (Outcome.NONE_OF_THESE, f"{SECRET_REDACTED} standpunt?"),  # the question before "Geen van deze"
        (Outcome.CLARIFIED, f"{SECRET_REDACTED}?"),
    ]
    everything = str(all_values(db))
    assert "Jef" not in everything and "Peeters" not in everything
    assert "mes" not in everything.split() and "heeft een mes" not in everything  # safe path: counted only
    assert "Wat met de pooiers" not in everything and "België" not in everything  # answered: counted only
    assert SENDER not in everything
    assert counts_by_category(db) == expected


def test_safe_path_text_is_never_stored_even_when_passed(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    store = InsightStore(Settings(insights_db_url=sqlite_url(db), insights_keep_text=True), FakeClock(DAY))
    store.record(Outcome.EMERGENCY, None, "hij staat aan mijn deur in de Kerkstraat 12")
    store.record(Outcome.ANSWERED, "pooiers", "Wat met de pooiers?")
    assert stored_texts(db) == []
    assert counts_by_category(db) == {Outcome.EMERGENCY: 1, Outcome.ANSWERED: 1}


def test_button_payloads_are_not_stored_as_questions(db: Path, kb, tracker_dict, monkeypatch) -> None:
    monkeypatch.setenv(INSIGHTS_KEEP_TEXT_ENV, "true")
    # "Geen van deze" right after a menu button: there is no typed question to keep.
    tracker = tracker_with(tracker_dict, "/chat_wat_kan_je", "/keuze_geen_van_deze")
    actions.send(CollectingDispatcher(), replies.none_of_these(kb), tracker)
    assert stored_texts(db) == []
    assert counts_by_category(db) == {Outcome.NONE_OF_THESE: 1}


# --- Expiry ----------------------------------------------------------------------------------------------


def test_old_questions_are_deleted_on_write_and_newer_ones_kept(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    clock = FakeClock(DAY)
    store = InsightStore(
        Settings(insights_db_url=sqlite_url(db), insights_keep_text=True, insights_retention_days=30), clock
    )
    for age in (45, 31, 30, 29, 1):
        clock.now = DAY - timedelta(days=age)
        store.record(Outcome.OUT_OF_SCOPE, None, f"vraag van {age} dagen oud")
    clock.now = DAY
    store.record(Outcome.ANSWERED, "pooiers")  # any write purges
    kept = [text for _, _, text in stored_texts(db)]
    assert kept == ["vraag van 30 dagen oud", "vraag van 29 dagen oud", "vraag van 1 dagen oud"]
    # Counts are no personal data and stay for the trend.
    assert counts_by_category(db)[Outcome.OUT_OF_SCOPE] == 5


def test_report_generation_purges_too(tmp_path: Path, kb: KnowledgeBase) -> None:
    db = tmp_path / "i.db"
    clock = FakeClock(DAY)
    store = InsightStore(
        Settings(insights_db_url=sqlite_url(db), insights_keep_text=True, insights_retention_days=7), clock
    )
    store.record(Outcome.CLARIFIED, None, "oude vraag over escorts")
    clock.now = DAY + timedelta(days=7)
    store.record(Outcome.CLARIFIED, None, "nieuwe vraag over escorts")
    assert len(stored_texts(db)) == 2  # 7 days old: still within the retention
    clock.now = DAY + timedelta(days=8)
    html = report_tool.build_report(store, kb, 30, lemmatize=str.split)
    assert [text for _, _, text in stored_texts(db)] == ["nieuwe vraag over escorts"]
    assert "oude vraag" not in html and "Net gewist omdat ze te oud waren: 1" in html


# --- Failures never break a reply ------------------------------------------------------------------------


def broken_urls(tmp_path: Path) -> Iterator[str]:
    not_a_dir = tmp_path / "bestand.txt"
    not_a_dir.write_text("x")
    corrupt = tmp_path / "kapot.db"
    corrupt.write_bytes(b"dit is geen sqlite-bestand" * 100)
    yield f"sqlite:///{not_a_dir}/sub/i.db"
    yield f"sqlite:///{corrupt}"
    yield "dit-is-geen-url"
    yield "postgresql://gebruiker:geheim@127.0.0.1:1/inzichten"
    yield "onbestaande+driver://host/db"


def test_broken_database_never_breaks_the_reply_nor_logs_user_text(
    tmp_path: Path,
    kb: KnowledgeBase,
    tracker_dict: Dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(INSIGHTS_KEEP_TEXT_ENV, "true")
    caplog.set_level(logging.DEBUG)
    urls = list(broken_urls(tmp_path))
    for url in urls:
        monkeypatch.setenv(INSIGHTS_DB_URL_ENV, url)
        dispatcher = CollectingDispatcher()
        events = actions.send(dispatcher, replies.out_of_scope(kb), tracker_with(dict(tracker_dict), SECRET))
        assert dispatcher.messages[0]["text"] == kb.message("buiten_bereik")
        assert events and events[0]["value"] == ["__menu__"]
        insights.flush()  # each broken database fails on its own write
    warnings = [r for r in caplog.records if r.name == "vraagbaak.insights" and r.levelno == logging.WARNING]
    assert len(warnings) == len(urls)
    assert SECRET not in caplog.text and "geheim" not in caplog.text


def test_invalid_retention_setting_does_not_break_the_reply(db: Path, kb, tracker_dict, monkeypatch) -> None:
    monkeypatch.setenv(INSIGHTS_RETENTION_ENV, "dertig")
    dispatcher = CollectingDispatcher()
    actions.send(dispatcher, replies.out_of_scope(kb), tracker_with(tracker_dict, SECRET))
    assert dispatcher.messages[0]["text"] == kb.message("buiten_bereik")


# --- Report ----------------------------------------------------------------------------------------------

THEME_QUESTIONS = [
    "Hoeveel verdient een escort?",
    "Wat verdienen escorts per maand? mail me: x@voorbeeld.be",
    "Moet ik als escort belastingen betalen?",
    "Hoe betaal ik belastingen als sekswerker?",
    "<script>alert('x')</script> doodstraf",
]


def filled_store(db: Path, keep_text: bool) -> InsightStore:
    """A store with several days of outcomes written through the fake clock."""
    clock = FakeClock(DAY - timedelta(days=6))
    store = InsightStore(Settings(insights_db_url=sqlite_url(db), insights_keep_text=keep_text), clock)
    for offset in range(7):
        clock.now = DAY - timedelta(days=6 - offset)
        for _ in range(offset + 1):
            store.record(Outcome.ANSWERED, "pooiers")
        store.record(Outcome.EMERGENCY, None, "geheim noodbericht")
        if offset < len(THEME_QUESTIONS):
            store.record(Outcome.OUT_OF_SCOPE, None, THEME_QUESTIONS[offset])
        store.record(Outcome.CLARIFIED if offset % 2 else Outcome.NONE_OF_THESE, None, "De doodstraf?")
    clock.now = DAY
    return store


def embedded_pngs(html: str) -> List[bytes]:
    chunks = html.split("data:image/png;base64,")[1:]
    return [base64.b64decode(chunk.split("'", 1)[0]) for chunk in chunks]


def test_report_opt_in_has_plots_dutch_names_and_themes(tmp_path: Path, kb: KnowledgeBase) -> None:
    store = filled_store(tmp_path / "i.db", keep_text=True)
    html = report_tool.build_report(store, kb, 14, lemmatize=report_tool.spacy_lemmatizer())
    pngs = embedded_pngs(html)
    assert len(pngs) == len(CATEGORIES) and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    for label in (
        "Beantwoord",
        "Verduidelijking gevraagd",
        "Geen van deze gekozen",
        "Buiten bereik",
        "Noodpad",
    ):
        assert label in html
    assert "<td>28</td>" in html  # beantwoord: 1 + 2 + … + 7
    assert kb.by_id("pooiers").title in html
    assert "Tekstopslag staat aan" in html
    # Themes by lemma: "escorts" counts as "escort", "verdient" as "verdienen"; stop words never count.
    assert "<td>doodstraf</td><td>8</td>" in html
    assert "<td>escort</td><td>3</td>" in html
    assert "<td>verdienen</td><td>2</td>" in html and "<td>betalen</td><td>2</td>" in html
    assert "<td>hoeveel</td>" not in html and "<td>als</td>" not in html and "<td>maand</td>" not in html
    assert "[e-mail]" in html and "x@voorbeeld.be" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "geheim noodbericht" not in html and "src=" in html


def test_report_default_mode_says_text_storage_is_off(tmp_path: Path, kb: KnowledgeBase) -> None:
    store = filled_store(tmp_path / "i.db", keep_text=False)
    html = report_tool.build_report(store, kb, 30)
    assert len(embedded_pngs(html)) == len(CATEGORIES)
    assert "Tekstopslag staat uit" in html
    assert "escort" not in html and "Thema</th>" not in html


def test_make_insights_writes_index_html(db: Path, tmp_path: Path, kb, tracker_dict) -> None:
    send_every_outcome(kb, tracker_dict)
    out = tmp_path / "rapport" / "index.html"
    assert report_tool.main(["--uit", str(out), "--dagen", "7"]) == 0
    html = out.read_text(encoding="utf-8")
    assert (
        html.lower().startswith("<!doctype html>")
        and "Buiten bereik" in html
        and "Tekstopslag staat uit" in html
    )
    assert len(embedded_pngs(html)) == len(CATEGORIES) and SECRET not in html
