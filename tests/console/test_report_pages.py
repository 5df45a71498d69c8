"""Dekking and Inzichten pages: the report in a sandbox, counts always, visitor text only in opt-in mode."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.console import Running
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.settings import Settings
from vraagbaak.insights import InsightStore

QUESTION = "Waar kan ik terecht voor een soa-test?"


def store_with_a_question(db: Path) -> None:
    """A stored question (written in opt-in mode), so that the page with text storage off has one to hide."""
    settings = Settings.from_env(
        {"VRAAGBAAK_INSIGHTS_DB_URL": f"sqlite:///{db}", "VRAAGBAAK_INSIGHTS_KEEP_TEXT": "true"}
    )
    store = InsightStore(settings, clock=lambda: date.today() - timedelta(days=2))
    store.record(Outcome.OUT_OF_SCOPE, text=QUESTION)
    store.record(Outcome.ANSWERED, topic_id="pooiers")


@pytest.mark.parametrize("keep_text", [True, False])
async def test_insights_show_counts_and_text_only_in_opt_in_mode(
    running: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_text: bool
) -> None:
    db = tmp_path / "inzichten.db"
    store_with_a_question(db)
    monkeypatch.setenv("VRAAGBAAK_INSIGHTS_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("VRAAGBAAK_INSIGHTS_KEEP_TEXT", "true" if keep_text else "false")
    monkeypatch.setenv("VRAAGBAAK_INSIGHTS_RETENTION_DAYS", "30")
    async with running.client() as client:
        await running.login(client)
        async with client.get(running.url + "/inzichten") as response:
            page = await response.text()
    assert response.status == 200
    assert 'id="totalen"' in page and page.count("<img src='data:image/png;base64,") == 5
    if keep_text:
        expiry = (date.today() - timedelta(days=2) + timedelta(days=30)).strftime("%d-%m-%Y")
        assert QUESTION in page and expiry in page and 'action="/verbeteren/nieuw"' in page
    else:
        assert QUESTION not in page and "Tekstopslag staat uit" in page


async def test_the_coverage_page_and_its_sandboxed_report(running: Running) -> None:
    report = running.console.workspace.coverage_dir / "index.html"
    report.parent.mkdir(parents=True)
    report.write_text("<html><style>p{}</style><p id='x'>Rapport</p></html>", encoding="utf-8")
    async with running.client() as client:
        await running.login(client)
        async with client.get(running.url + "/dekking") as response:
            page = await response.text()
        assert '<iframe class="rapport" src="/dekking/rapport" title="Dekkingsrapport" sandbox>' in page
        assert "Rapport opnieuw maken" in page and "kruisvalidatie" in page
        async with client.get(running.url + "/dekking/rapport") as response:
            assert "<p id='x'>Rapport</p>" in await response.text()
            policy = response.headers["Content-Security-Policy"]
            assert "sandbox" in policy and "script-src" not in policy and "frame-ancestors 'self'" in policy
