"""Insights end to end: real Rasa and action servers write the SQLite file that staff reports read."""
from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest

from tests.support.bot import CLARIFYING_PHRASES, MODEL, Servers, answer_parts, ask_until_clarified
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.replies import NONE_OF_THESE_PAYLOAD
from vraagbaak.core.settings import INSIGHTS_DB_URL_ENV, INSIGHTS_KEEP_TEXT_ENV, INSIGHTS_RETENTION_ENV
from vraagbaak.ops.processes import running_servers

pytestmark = pytest.mark.servers

ANSWERED = "Wat met de pooiers?"
OUT_OF_SCOPE = "wat vindt amnesty van de doodstraf? stuur het naar jan.peeters@voorbeeld.be"
OUT_OF_SCOPE_REDACTED = "wat vindt amnesty van de doodstraf? stuur het naar [e-mail]"
EMERGENCY = "hij heeft een pistool en zit buiten in de auto op mij te wachten"


class InsightServers:
    """Servers that write insights to their own SQLite file."""

    def __init__(self, servers: Servers, db: Path) -> None:
        self.servers = servers
        self.db = db

    def counts(self) -> Dict[Tuple[str, str, str], int]:
        """(day, category, topic) -> count, read straight from the file (empty before the first reply)."""
        if not self.db.exists():
            return {}
        with sqlite3.connect(self.db) as conn:
            return {(d, c, t): n for d, c, t, n in conn.execute("SELECT * FROM telling")}

    def questions(self) -> List[Tuple[int, str, str, str]]:
        """All stored question rows: id, day, category, text."""
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT * FROM onbeantwoorde_vraag ORDER BY id").fetchall()

    def wait_for(self, ready: Callable[[], bool]) -> None:
        """Replies are counted off the reply path: wait (bounded) until the action server has written them."""
        deadline = time.monotonic() + 30
        while not ready():
            assert time.monotonic() < deadline, "de tellingen kwamen niet binnen 30 s aan"
            time.sleep(0.05)

    def counts_after(self, before: Dict, number: int) -> Dict:
        """The changed counts once `number` more replies have been counted since `before`."""
        self.wait_for(lambda: sum(delta(self.counts(), before).values()) >= number)
        return delta(self.counts(), before)

    def last_id(self) -> int:
        rows = self.questions()
        return rows[-1][0] if rows else 0


def start(tmp_path_factory: pytest.TempPathFactory, keep_text: bool) -> Iterator[InsightServers]:
    """Real servers with the insights database in a temporary directory."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    workdir = tmp_path_factory.mktemp("inzichten")
    env = {
        INSIGHTS_DB_URL_ENV: f"sqlite:///{workdir}/i.db",
        INSIGHTS_KEEP_TEXT_ENV: "true" if keep_text else "false",
        INSIGHTS_RETENTION_ENV: "30",
    }
    with running_servers(MODEL, workdir, extra_env=env) as running:
        yield InsightServers(Servers(running), workdir / "i.db")


def new_sender() -> str:
    return f"inzichten-{uuid.uuid4().hex[:10]}"


def clarified(servers: Servers, kb: KnowledgeBase, sender: str) -> str:
    """Send vague phrasings until the bot offers 'Bedoelde je…?'; return the phrasing that did it."""
    return ask_until_clarified(lambda text: servers.send(sender, text), kb)[0]


def delta(after: Dict, before: Dict) -> Dict:
    """Counts that changed between two readings."""
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def strip_day(changes: Dict[Tuple[str, str, str], int], days: set) -> Dict[Tuple[str, str], int]:
    """Drop the day from count keys, after checking it is today (no finer time is ever stored)."""
    assert {day for day, _, _ in changes} <= days
    result: Dict[Tuple[str, str], int] = {}
    for (_, category, topic), count in changes.items():
        result[(category, topic)] = result.get((category, topic), 0) + count
    return result


class TestDefaultMode:
    """No opt-in: only counts reach the database."""

    @pytest.fixture(scope="class")
    def insight_servers(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InsightServers]:
        yield from start(tmp_path_factory, keep_text=False)

    def test_counts_arrive_and_no_text_or_sender_is_stored(
        self, insight_servers: InsightServers, kb: KnowledgeBase
    ) -> None:
        servers, sender = insight_servers.servers, new_sender()
        days = {date.today().isoformat()}

        def changes_after(*texts: str) -> Dict[Tuple[str, str], int]:
            """What sending these texts counted; the last one must count once."""
            before = insight_servers.counts()
            for text in texts:
                servers.send(sender, text)
            days.add(date.today().isoformat())
            return strip_day(insight_servers.counts_after(before, 1), days)

        assert changes_after(ANSWERED) == {(Outcome.ANSWERED, "pooiers"): 1}
        assert changes_after(OUT_OF_SCOPE) == {(Outcome.OUT_OF_SCOPE, ""): 1}
        assert changes_after(EMERGENCY) == {(Outcome.EMERGENCY, ""): 1}
        # A greeting is no insights category; counts arrive in order, so it would show before the answer.
        assert changes_after("hallo", ANSWERED) == {(Outcome.ANSWERED, "pooiers"): 1}
        before = insight_servers.counts()
        vague = clarified(servers, kb, sender)
        insight_servers.wait_for(
            lambda: (Outcome.CLARIFIED, "") in strip_day(delta(insight_servers.counts(), before), days)
        )
        assert strip_day(delta(insight_servers.counts(), before), days)[(Outcome.CLARIFIED, "")] == 1
        assert insight_servers.questions() == []
        with sqlite3.connect(insight_servers.db) as conn:
            dump = "\n".join(conn.iterdump())  # the whole database as SQL text
        for secret in (sender, ANSWERED, "doodstraf", "jan.peeters", "voorbeeld.be", "pistool", vague):
            assert secret not in dump


class TestOptIn:
    """Opt-in: redacted text of unanswered questions only, never answered or safe-path messages."""

    @pytest.fixture(scope="class")
    def insight_servers(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InsightServers]:
        yield from start(tmp_path_factory, keep_text=True)

    def test_only_the_out_of_scope_question_is_stored_redacted(
        self, insight_servers: InsightServers, kb: KnowledgeBase
    ) -> None:
        servers, sender = insight_servers.servers, new_sender()
        since = insight_servers.last_id()
        before = insight_servers.counts()
        assert answer_parts(servers.send(sender, ANSWERED))["topic"] == "pooiers"
        assert servers.send(sender, EMERGENCY)[0]["text"] == kb.message("nood").split("\n\n")[0]
        assert servers.send(sender, OUT_OF_SCOPE)[0]["text"] == kb.message("buiten_bereik")
        insight_servers.counts_after(before, 3)
        new = [(category, text) for id_, _, category, text in insight_servers.questions() if id_ > since]
        assert new == [(Outcome.OUT_OF_SCOPE, OUT_OF_SCOPE_REDACTED)]
        changes = delta(insight_servers.counts(), before)
        assert sorted((c, t) for _, c, t in changes) == [
            (Outcome.ANSWERED, "pooiers"),
            (Outcome.OUT_OF_SCOPE, ""),
            (Outcome.EMERGENCY, ""),
        ]
        with sqlite3.connect(insight_servers.db) as conn:
            dump = "\n".join(conn.iterdump())
        for secret in (sender, ANSWERED, EMERGENCY, "pistool", "jan.peeters"):
            assert secret not in dump

    def test_none_of_these_keeps_the_question_asked_before_it(
        self, insight_servers: InsightServers, kb: KnowledgeBase
    ) -> None:
        servers, sender = insight_servers.servers, new_sender()
        since = insight_servers.last_id()
        vague = clarified(servers, kb, sender)
        assert servers.send(sender, NONE_OF_THESE_PAYLOAD)[0]["text"] == kb.message("geen_van_deze")
        insight_servers.wait_for(
            lambda: any(
                row[0] > since and row[2] == Outcome.NONE_OF_THESE for row in insight_servers.questions()
            )
        )
        new = [(category, text) for id_, _, category, text in insight_servers.questions() if id_ > since]
        assert new[-2:] == [(Outcome.CLARIFIED, vague), (Outcome.NONE_OF_THESE, vague)]
        # A vague phrasing tried before may have been out of scope, and kept as such; nothing else is.
        assert all(
            category == Outcome.OUT_OF_SCOPE and text in CLARIFYING_PHRASES for category, text in new[:-2]
        )
