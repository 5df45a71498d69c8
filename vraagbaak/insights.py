"""Insights for staff: daily counts per outcome and, only when opted in, redacted unanswered questions.

Replies are counted off the reply path (Recorder): the action server answers first and writes in batches.
"""
from __future__ import annotations

import atexit
import functools
import logging
import os
import queue
import threading
import time
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Counter, Dict, List, NamedTuple, Sequence, Tuple

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError

from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.redaction import redact
from vraagbaak.core.settings import Settings

if TYPE_CHECKING:
    from rasa_sdk import Tracker

    from vraagbaak.core.replies import Reply

logger = logging.getLogger(__name__)

MAX_STORED_CHARS = 500

# The outcomes counted per day, with the heading the insights report gives each.
CATEGORIES: Dict[Outcome, str] = {
    Outcome.ANSWERED: "Beantwoord",
    Outcome.CLARIFIED: "Verduidelijking gevraagd",
    Outcome.NONE_OF_THESE: "Geen van deze gekozen",
    Outcome.OUT_OF_SCOPE: "Buiten bereik",
    Outcome.EMERGENCY: "Noodpad (112)",
}
# Only questions the bot could not answer are worth reading back. EMERGENCY is deliberately absent: someone in
# danger may write names, addresses and details of violence; that text says nothing about missing FAQ
# answers, and keeping it would create a store of the most sensitive data for no benefit. The safe path is
# only ever counted, even in opt-in mode.
TEXT_CATEGORIES = frozenset({Outcome.CLARIFIED, Outcome.NONE_OF_THESE, Outcome.OUT_OF_SCOPE})

Clock = Callable[[], date | datetime]

metadata = MetaData()
# One row per day, category and topic. The topic id comes from the knowledge base, never from the user.
counts_table = Table(
    "telling",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("categorie", String(32), primary_key=True),
    Column("onderwerp", String(64), primary_key=True),
    Column("aantal", Integer, nullable=False),
)
# Opt-in only: redacted text, the day and the category; no sender id and no time of day.
questions_table = Table(
    "onbeantwoorde_vraag",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dag", Date, nullable=False, index=True),
    Column("categorie", String(32), nullable=False),
    Column("tekst", Text, nullable=False),
)


# --- Redaction -------------------------------------------------------------------------------------------


def text_to_store(text: str) -> str:
    """The question as it is kept: personal data replaced, whitespace collapsed, cut to MAX_STORED_CHARS."""
    return " ".join(redact(text).split())[:MAX_STORED_CHARS]


# --- Storage ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def engine_for(db_url: str) -> Engine:
    """One engine per database URL, with the tables created on first use."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
    engine = create_engine(url, future=True)
    metadata.create_all(engine)
    return engine


class Question(NamedTuple):
    """One stored, redacted unanswered question."""

    day: date
    category: str
    text: str


class Entry(NamedTuple):
    """One reply to count: its day, outcome and topic, and (opt-in, unanswered only) the question."""

    day: date
    outcome: Outcome
    topic_id: str | None = None
    text: str | None = None


class InsightStore:
    """Reads and writes insights; the clock is injectable so tests can move time."""

    def __init__(self, settings: Settings, clock: Clock = date.today) -> None:
        """Use these settings; the clock gives today's date (a datetime is cut to its day)."""
        self.settings = settings
        self.clock = clock
        self.engine = engine_for(settings.insights_db_url)

    def today(self) -> date:
        """Today according to the clock."""
        now = self.clock()
        return now.date() if isinstance(now, datetime) else now

    def record(self, outcome: Outcome, topic_id: str | None = None, text: str | None = None) -> None:
        """Count one reply; keep its redacted question only in opt-in mode and only when unanswered."""
        self.record_many([Entry(self.today(), outcome, topic_id, text)])

    def record_many(self, entries: Sequence[Entry]) -> None:
        """Count several replies in one transaction (same rules as `record`)."""
        counts: Counter[Tuple[date, Outcome, str]] = Counter()
        questions: List[Tuple[date, Outcome, str]] = []
        for entry in entries:
            if entry.outcome not in CATEGORIES:
                continue
            topic = (entry.topic_id or "") if entry.outcome == Outcome.ANSWERED else ""
            counts[(entry.day, entry.outcome, topic)] += 1
            stored = self._text_to_keep(entry.outcome, entry.text)
            if stored is not None:
                questions.append((entry.day, entry.outcome, stored))
        if not counts:
            return
        # On a server database two first writers of a day can race on the insert; the retry then updates.
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    for (day, outcome, topic), number in counts.items():
                        self._increment(conn, day, outcome, topic, number)
                    for day, outcome, stored in questions:
                        conn.execute(
                            insert(questions_table).values(dag=day, categorie=outcome.value, tekst=stored)
                        )
                    self._purge(conn, self.today())
                return
            except IntegrityError:
                if attempt:
                    raise

    def _text_to_keep(self, outcome: Outcome, text: str | None) -> str | None:
        if not (self.settings.insights_keep_text and outcome in TEXT_CATEGORIES and text and text.strip()):
            return None
        try:
            return text_to_store(text)
        except Exception as error:  # a question that cannot be redacted is not kept, but still counted
            logger.warning("Vraag niet bewaard: redactie mislukt (%s).", type(error).__name__)
            return None

    @staticmethod
    def _increment(conn: Connection, day: date, outcome: Outcome, topic: str, number: int = 1) -> None:
        c = counts_table.c
        where = (c.dag == day) & (c.categorie == outcome.value) & (c.onderwerp == topic)
        if conn.execute(update(counts_table).where(where).values(aantal=c.aantal + number)).rowcount == 0:
            conn.execute(
                insert(counts_table).values(dag=day, categorie=outcome.value, onderwerp=topic, aantal=number)
            )

    def _purge(self, conn: Connection, today: date) -> int:
        cutoff = today - timedelta(days=self.settings.insights_retention_days)
        result = conn.execute(delete(questions_table).where(questions_table.c.dag < cutoff))
        return int(result.rowcount or 0)

    def purge(self) -> int:
        """Delete stored questions older than the retention period; returns how many went."""
        with self.engine.begin() as conn:
            return self._purge(conn, self.today())

    def daily_counts(self, since: date) -> Dict[Outcome, Dict[date, int]]:
        """Per category, the count per day from `since` on (days without replies are absent)."""
        c = counts_table.c
        query = (
            select(c.categorie, c.dag, func.sum(c.aantal)).where(c.dag >= since).group_by(c.categorie, c.dag)
        )
        result: Dict[Outcome, Dict[date, int]] = {category: {} for category in CATEGORIES}
        with self.engine.connect() as conn:
            for category, day, total in conn.execute(query):
                if category in result:
                    result[Outcome(category)][day] = int(total)
        return result

    def topic_counts(self, since: date) -> Dict[str, int]:
        """How often each topic was answered from `since` on, most frequent first."""
        c = counts_table.c
        query = (
            select(c.onderwerp, func.sum(c.aantal).label("totaal"))
            .where((c.dag >= since) & (c.categorie == Outcome.ANSWERED.value) & (c.onderwerp != ""))
            .group_by(c.onderwerp)
            .order_by(func.sum(c.aantal).desc(), c.onderwerp)
        )
        with self.engine.connect() as conn:
            return {topic: int(total) for topic, total in conn.execute(query)}

    def questions(self, since: date | None = None) -> List[Question]:
        """Stored redacted questions, oldest day first."""
        q = questions_table.c
        query = select(q.dag, q.categorie, q.tekst).order_by(q.dag, q.id)
        if since is not None:
            query = query.where(q.dag >= since)
        with self.engine.connect() as conn:
            return [Question(*row) for row in conn.execute(query)]


# --- Called from the action server -----------------------------------------------------------------------


def user_texts(events: Sequence[Dict[str, Any]]) -> List[str]:
    """Texts of the user events, oldest first."""
    return [str(e.get("text") or "") for e in events if e.get("event") == "user"]


def unanswered_text(outcome: Outcome, tracker: Tracker | None) -> str | None:
    """The question behind an unanswered outcome; for 'Geen van deze' the question asked before it."""
    if tracker is None or outcome not in TEXT_CATEGORIES:
        return None
    if outcome == Outcome.NONE_OF_THESE:
        previous = user_texts(tracker.events)[:-1]
        text = previous[-1] if previous else ""
    else:
        text = str((tracker.latest_message or {}).get("text") or "")
    # Button payloads such as /keuze_geen_van_deze are not questions.
    return None if not text.strip() or text.lstrip().startswith("/") else text


class Recorder:
    """Counts replies off the reply path: the action queues them, one background thread writes them in batches.

    The thread is a daemon, so it never holds a process up; `flush` (registered with atexit, which runs when the
    action server stops on SIGTERM or Ctrl-C) writes whatever is still queued, so a normal stop loses nothing.
    """

    MAX_BATCH = 500
    # Replies arriving within this window after the first share its transaction: under load one commit (and
    # one purge) serves many replies instead of one each. A normal stop still writes them all at once.
    BATCH_SECONDS = 0.5

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Tuple[Settings, Entry] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, settings: Settings, entry: Entry) -> None:
        """Queue one reply to count; returns at once."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inzichten", daemon=True)
                self._thread.start()
        self._queue.put((settings, entry))

    def flush(self, timeout: float = 30.0) -> None:
        """Write everything queued so far, then return (the thread stops; the next `put` starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None and thread.is_alive():
                self._queue.put(None)
                thread.join(timeout)
        while True:  # anything the thread did not get to, or that was queued meanwhile
            batch, _ = self._take(self.MAX_BATCH)
            if not batch:
                return
            self._write(batch)

    def _take(
        self, limit: int, seconds: float = 0.0, batch: List[Tuple[Settings, Entry]] | None = None
    ) -> Tuple[List[Tuple[Settings, Entry]], bool]:
        """Up to `limit` queued replies (after `batch`), waiting up to `seconds` for more, and whether the stop
        marker (None) came among them."""
        batch, deadline = list(batch or []), time.monotonic() + seconds
        while len(batch) < limit:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            # Replies queued within BATCH_SECONDS after the first share its transaction.
            batch, stop = self._take(self.MAX_BATCH, self.BATCH_SECONDS, [first])
            self._write(batch)
            if stop:
                return

    @staticmethod
    def _write(batch: Sequence[Tuple[Settings, Entry]]) -> None:
        by_settings: Dict[Settings, List[Entry]] = {}
        for settings, entry in batch:
            by_settings.setdefault(settings, []).append(entry)
        for settings, entries in by_settings.items():
            try:
                InsightStore(settings).record_many(entries)
            except Exception as error:  # a broken insights database must never stop the bot from answering
                # Only the error type: database errors quote the SQL parameters, which can hold the user's text.
                logger.warning(
                    "Inzichten niet opgeslagen (%s, %d antwoorden); het antwoord is wel verstuurd.",
                    type(error).__name__,
                    len(entries),
                )


RECORDER = Recorder()
atexit.register(RECORDER.flush)


def flush() -> None:
    """Write every reply counted in this process so far (tests and shutdown)."""
    RECORDER.flush()


def record_reply(reply: Reply, tracker: Tracker | None = None) -> None:
    """Count the reply's outcome (opt-in: keep the redacted question); never raises, never logs user text."""
    try:
        settings = Settings.from_env()
        # The user text is only read when staff opted in, so in default mode it never reaches this module.
        text = unanswered_text(reply.outcome, tracker) if settings.insights_keep_text else None
        RECORDER.put(settings, Entry(date.today(), reply.outcome, reply.topic_id, text))
    except Exception as error:  # a broken setting must never stop the bot from answering
        logger.warning("Inzichten niet opgeslagen (%s); het antwoord is wel verstuurd.", type(error).__name__)
