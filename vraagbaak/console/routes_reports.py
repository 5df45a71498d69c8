"""Dekking (the coverage report, regenerated in the background) and Inzichten (daily counts, opt-in questions)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Dict, List

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from vraagbaak.console.coverage_job import coverage_kind, run_coverage
from vraagbaak.console.durations import FIRST_GUESS, describe_estimate
from vraagbaak.console.jobs import JobBusy
from vraagbaak.console.responses import console_of, page, redirect, session_of
from vraagbaak.console.state import COVERAGE_JOB
from vraagbaak.console.web import REPORT_POLICY, security_headers
from vraagbaak.core.settings import ConfigError, Settings
from vraagbaak.insights import CATEGORIES, InsightStore
from vraagbaak.reports import insights_report

LOG = logging.getLogger("vraagbaak.console")
INSIGHT_DAYS = 30


async def show_coverage(request: Request) -> HTTPResponse:
    """GET /dekking: the latest report and the button to make it again."""
    console = console_of(request)
    report = console.workspace.coverage_dir / "index.html"
    made = datetime.fromtimestamp(report.stat().st_mtime) if report.exists() else None
    estimates = {
        cv: describe_estimate(console.durations.last(coverage_kind(cv)), FIRST_GUESS[coverage_kind(cv)])
        for cv in (False, True)
    }
    return page(
        request,
        "dekking.html",
        page="dekking",
        made=made.strftime("%d-%m-%Y %H:%M") if made else "",
        job=console.jobs.latest(COVERAGE_JOB),
        estimate_without=estimates[False],
        estimate_with=estimates[True],
    )


async def start_coverage(request: Request) -> HTTPResponse:
    """POST /dekking: regenerate the report (with cross-validation only when asked)."""
    console = console_of(request)
    cross_validation = (request.form.get("kruisvalidatie") if request.form else None) == "ja"
    model = await asyncio.get_running_loop().run_in_executor(None, console.models.active_model)
    kind = coverage_kind(cross_validation)
    try:
        console.jobs.start(
            COVERAGE_JOB,
            "Dekkingsrapport maken",
            lambda job: run_coverage(console.workspace, model, cross_validation, console.durations, job),
            expected_seconds=console.durations.expected(kind),
            exclusive=True,
            owner=session_of(request).id,
        )
        LOG.info("dekkingsrapport gestart (kruisvalidatie: %s)", "ja" if cross_validation else "nee")
    except JobBusy:
        console.flash(session_of(request).id, "Er wordt al een rapport gemaakt. Wacht tot het klaar is.")
    return redirect(request, "/dekking")


async def coverage_report(request: Request) -> HTTPResponse:
    """GET /dekking/rapport: the report file, in a sandbox (no script, only inside our own frame)."""
    console = console_of(request)
    report = console.workspace.coverage_dir / "index.html"
    if not report.exists():
        body = "<!DOCTYPE html><html lang='nl'><title>Geen rapport</title><p>Er is nog geen dekkingsrapport. Maak er een met de knop.</p></html>"
    else:
        body = report.read_text(encoding="utf-8")
    headers = security_headers(REPORT_POLICY, console.settings.console_secure_cookies, framable=True)
    return response.html(body, headers=headers)


def insight_values(settings: Settings) -> Dict[str, Any]:
    """Totals, plots and (only in opt-in text mode) the stored questions with the day they are deleted."""
    store = InsightStore(settings)
    store.purge()
    today = store.today()
    first = today - timedelta(days=INSIGHT_DAYS - 1)
    days = insights_report.days_between(first, today)
    counts = store.daily_counts(first)
    totals = [
        {
            "label": label,
            "uitleg": insights_report.EXPLANATIONS[category],
            "aantal": sum(counts.get(category, {}).values()),
        }
        for category, label in CATEGORIES.items()
    ]
    plots = [
        str(insights_report.trend_image(category, days, [counts.get(category, {}).get(d, 0) for d in days]))
        for category in CATEGORIES
    ]
    questions: List[Dict[str, Any]] = []
    if settings.insights_keep_text:
        retention = timedelta(days=settings.insights_retention_days)
        labels = {category.value: label for category, label in CATEGORIES.items()}
        for question in reversed(store.questions()):
            questions.append(
                {
                    "dag": question.day.strftime("%d-%m-%Y"),
                    "soort": labels.get(question.category, question.category),
                    "tekst": question.text,
                    "gewist_op": (question.day + retention).strftime("%d-%m-%Y"),
                }
            )
    return {
        "first": first.strftime("%d-%m-%Y"),
        "today": today.strftime("%d-%m-%Y"),
        "totals": totals,
        "plots": plots,
        "keep_text": settings.insights_keep_text,
        "retention": settings.insights_retention_days,
        "questions": questions,
    }


async def show_insights(request: Request) -> HTTPResponse:
    """GET /inzichten."""
    try:
        settings = Settings.from_env()
    except ConfigError:
        return page(
            request,
            "inzichten.html",
            500,
            page="inzichten",
            error="De instellingen voor inzichten kloppen niet. Vraag een technische collega.",
            data=None,
        )
    data = await asyncio.get_running_loop().run_in_executor(None, insight_values, settings)
    return page(request, "inzichten.html", page="inzichten", error="", data=data)


def register(app: Sanic, base: str) -> None:
    """Add the routes."""
    app.add_route(show_coverage, base + "/dekking", methods=["GET"], name="dekking")
    app.add_route(start_coverage, base + "/dekking", methods=["POST"], name="dekking_post")
    app.add_route(coverage_report, base + "/dekking/rapport", methods=["GET"], name="dekking_rapport")
    app.add_route(show_insights, base + "/inzichten", methods=["GET"], name="inzichten")
