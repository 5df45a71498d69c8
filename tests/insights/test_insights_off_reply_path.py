"""Replies are counted off the reply path: a slow database never holds a reply up, a normal stop loses nothing."""
from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any, Dict

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from vraagbaak import insights
from vraagbaak.core import replies
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.settings import INSIGHTS_DB_URL_ENV, INSIGHTS_KEEP_TEXT_ENV
from vraagbaak.ops.processes import (
    action_server_arguments,
    free_port,
    launcher_command,
    start_process,
    stop_processes,
    wait_for,
)

REPLIES = 10


def answered_counts(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT SUM(aantal) FROM telling WHERE categorie = ?", (Outcome.ANSWERED,)
        ).fetchone()
    return int(row[0] or 0)


def test_a_locked_database_holds_no_reply_up_and_the_count_arrives_later(
    tmp_path: Path, kb: KnowledgeBase, tracker_dict: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "i.db"
    monkeypatch.setenv(INSIGHTS_DB_URL_ENV, f"sqlite:///{db}")
    monkeypatch.delenv(INSIGHTS_KEEP_TEXT_ENV, raising=False)
    insights.InsightStore(insights.Settings.from_env()).purge()  # creates the file and its tables
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # staff reading a report, or a slow disk: every writer has to wait
    try:
        dispatcher = CollectingDispatcher()
        actions.send(dispatcher, replies.answer(kb, kb.by_id("pooiers")), Tracker.from_dict(tracker_dict))
        # The reply is out while the database is still locked; written inline it would not be yet.
        assert dispatcher.messages and dispatcher.messages[0]["text"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    insights.flush()
    assert answered_counts(db) == 1


def action_call(tracker_dict: Dict[str, Any], number: int) -> Dict[str, Any]:
    tracker = json.loads(json.dumps(tracker_dict))
    tracker["sender_id"] = f"gebruiker-{number}"
    return {"next_action": "action_beantwoord_faq", "sender_id": tracker["sender_id"], "tracker": tracker}


@pytest.mark.servers
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_every_reply_is_counted_when_the_action_server_stops_normally(
    tmp_path: Path, tracker_dict: Dict[str, Any], stop_signal: int
) -> None:
    db = tmp_path / "i.db"
    url = f"sqlite:///{db}"
    insights.InsightStore(insights.Settings(insights_db_url=url)).purge()  # the file and its tables
    port = free_port()
    server = start_process(
        launcher_command(action_server_arguments(port)),
        tmp_path / "actions.log",
        {INSIGHTS_DB_URL_ENV: url, INSIGHTS_KEEP_TEXT_ENV: "false"},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server)
        # Locked while the replies go out and the stop begins: the counts are still queued when the signal
        # arrives, so only the flush at a normal exit can write them.
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with requests.Session() as session:
                for number in range(REPLIES):
                    response = session.post(
                        f"http://127.0.0.1:{port}/webhook", json=action_call(tracker_dict, number), timeout=30
                    )
                    assert response.status_code == 200 and response.json()["responses"]
            server.send_signal(stop_signal)
            time.sleep(2)  # Sanic has stopped serving; without the exit flush the process would be gone
            assert answered_counts_while_locked(locker) == 0
        finally:
            locker.execute("ROLLBACK")
            locker.close()
    finally:
        stop_processes([server], sig=stop_signal)
    assert server.returncode == 0
    assert answered_counts(db) == REPLIES


def answered_counts_while_locked(conn: sqlite3.Connection) -> int:
    """Counts as the lock holder sees them: nothing can have been written past its lock."""
    row = conn.execute("SELECT SUM(aantal) FROM telling").fetchone()
    return int(row[0] or 0)


def test_replies_within_the_batch_window_share_one_write_and_later_ones_get_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches: list = []
    monkeypatch.setattr(insights.Recorder, "_write", staticmethod(lambda batch: batches.append(len(batch))))
    recorder = insights.Recorder()
    settings = insights.Settings(insights_db_url="sqlite://")
    entry = insights.Entry(insights.date.today(), Outcome.ANSWERED, "pooiers", None)
    for _ in range(20):
        recorder.put(settings, entry)
    time.sleep(recorder.BATCH_SECONDS * 3)
    recorder.put(settings, entry)
    recorder.flush()
    assert batches == [20, 1]
