"""Vraag testen and Lijst testen, and the JSON status of every background job."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from vraagbaak.console import batch
from vraagbaak.console.jobs import ConsoleError, Job
from vraagbaak.console.preview import build_preview
from vraagbaak.console.rasa_client import RasaUnavailable
from vraagbaak.console.responses import console_of, field, page, redirect, session_of
from vraagbaak.console.state import LIST_JOB
from vraagbaak.console.web import DOWNLOAD_POLICY
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT, Outcome
from vraagbaak.core.user_input import MAX_LENGTH, clean_user_text
from vraagbaak.reports import ask
from vraagbaak.reports import shared as rp

LOG = logging.getLogger("vraagbaak.console")


async def show_question(request: Request) -> HTTPResponse:
    """GET /vraag: the empty form."""
    return page(
        request, "vraag.html", page="vraag", question="", preview=None, neighbours=[], error="", ms=None
    )


async def ask_question(request: Request) -> HTTPResponse:
    """POST /vraag: what a visitor would get, the recognised topic and the closest training phrasings."""
    console = console_of(request)
    question = field(request, "vraag", MAX_LENGTH)
    values: Dict[str, Any] = {
        "page": "vraag",
        "question": question[:MAX_LENGTH],
        "preview": None,
        "neighbours": [],
        "ms": None,
    }
    if not question.strip():
        return page(request, "vraag.html", 422, error="Typ eerst een vraag.", **values)
    if len(question) > MAX_LENGTH:
        return page(
            request,
            "vraag.html",
            422,
            error=f"Een vraag mag hoogstens {MAX_LENGTH} tekens lang zijn.",
            **values,
        )
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    try:
        parsed = await loop.run_in_executor(None, console.client.parse, clean_user_text(question))
    except RasaUnavailable as error:
        return page(request, "vraag.html", 503, error=str(error), **values)
    preview = build_preview(console.kb, question, parsed)
    neighbours = await loop.run_in_executor(None, console.index.nearest, question)
    shown = [(n, rp.intent_label(console.kb, n.intent)) for n in neighbours]
    elapsed = (time.perf_counter() - started) * 1000
    LOG.info("vraag getest (%d tekens, %.0f ms)", len(question), elapsed)
    values.update(preview=preview, neighbours=shown, ms=elapsed)
    return page(request, "vraag.html", error="", **values)


def suggested_intent(row: ask.Row) -> str:
    """The intent to preselect on Verbeteren: the expected topic, or 'buiten bereik' when that was expected."""
    expected = row.question.expected
    if expected is None:
        return ""
    if expected.topic_id:
        return expected.topic_id
    return OUT_OF_SCOPE_INTENT if expected.outcome == Outcome.OUT_OF_SCOPE else ""


def list_page(request: Request, status: int = 200, error: str = "", job: Job | None = None) -> HTTPResponse:
    console = console_of(request)
    result = job.result if job and isinstance(job.result, batch.ListResult) else None
    rows = []
    if result:
        for row, attention in zip(result.rows, result.doubtful, strict=True):
            rows.append(
                {
                    "cells": row.cells(console.kb),
                    "attention": attention,
                    "row": row,
                    "topic": suggested_intent(row),
                }
            )
    return page(
        request,
        "lijst.html",
        status,
        page="lijst",
        error=error,
        job=job,
        result=result,
        rows=rows,
        max_lines=batch.MAX_LINES,
    )


async def show_list(request: Request) -> HTTPResponse:
    """GET /lijst: the form, and the most recent list of this member of staff."""
    console = console_of(request)
    job = console.jobs.latest(LIST_JOB)
    return list_page(request, job=job if job and job.owner == session_of(request).id else None)


async def start_list(request: Request) -> HTTPResponse:
    """POST /lijst: check the input, then ask the questions in the background."""
    console = console_of(request)
    upload = request.files.get("bestand") if request.files else None
    try:
        source = batch.read_list(
            field(request, "vragen", batch.MAX_UPLOAD_BYTES),
            upload.name if upload else None,
            upload.body if upload else None,
        )
    except ConsoleError as error:
        return list_page(request, 422, str(error))
    if not console.client.configured:
        return list_page(
            request, 503, "De console kan de bot niet bereiken. Start alles samen met `make run`."
        )
    kb, parse = console.kb, console.client.parse
    LOG.info(
        "lijst gestart (%d regels, %d bytes)", len(source.content.splitlines()), len(source.content.encode())
    )
    job = console.jobs.start(
        LIST_JOB,
        "Lijst testen",
        lambda job: batch.run_list(kb, parse, source, job),
        owner=session_of(request).id,
    )
    return redirect(request, f"/lijst/{job.id}")


def owned_job(request: Request, job_id: str, kind: str | None = None) -> Job:
    """A job of this session (lists) or of any session (shared kinds), else 404."""
    console = console_of(request)
    job = console.jobs.get(job_id)
    if (
        job is None
        or (kind and job.kind != kind)
        or (job.kind == LIST_JOB and job.owner != session_of(request).id)
    ):
        raise NotFound("Deze taak bestaat niet (meer).")
    return job


async def show_list_job(request: Request, job_id: str) -> HTTPResponse:
    """GET /lijst/<id>: progress, then the results."""
    return list_page(request, job=owned_job(request, job_id, LIST_JOB))


async def download(request: Request, job_id: str, kind: str) -> HTTPResponse:
    """GET /lijst/<id>/<name>.csv|html: the same files `make ask` writes."""
    job = owned_job(request, job_id, LIST_JOB)
    result = job.result
    if not isinstance(result, batch.ListResult):
        raise NotFound("De lijst is nog niet klaar.")
    stem = result.source.rsplit(".", 1)[0] or "vragen"
    body, content_type = (
        (result.csv, "text/csv; charset=utf-8")
        if kind == "csv"
        else (result.html, "text/html; charset=utf-8")
    )
    return response.raw(
        body,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{stem}.{kind}"',
            "Content-Security-Policy": DOWNLOAD_POLICY,
        },
    )


async def download_csv(request: Request, job_id: str) -> HTTPResponse:
    """CSV download."""
    return await download(request, job_id, "csv")


async def download_html(request: Request, job_id: str) -> HTTPResponse:
    """HTML download."""
    return await download(request, job_id, "html")


async def job_status(request: Request, job_id: str) -> HTTPResponse:
    """GET /taken/<id>: what the progress bar shows."""
    return response.json(owned_job(request, job_id).status())


def register(app: Sanic, base: str) -> None:
    """Add the routes."""
    app.add_route(show_question, base + "/vraag", methods=["GET"], name="vraag")
    app.add_route(ask_question, base + "/vraag", methods=["POST"], name="vraag_post")
    app.add_route(show_list, base + "/lijst", methods=["GET"], name="lijst")
    app.add_route(start_list, base + "/lijst", methods=["POST"], name="lijst_post")
    app.add_route(
        show_list_job, base + "/lijst/<job_id:[A-Za-z0-9_-]{1,40}>", methods=["GET"], name="lijst_taak"
    )
    app.add_route(
        download_csv,
        base + "/lijst/<job_id:[A-Za-z0-9_-]{1,40}>/antwoorden.csv",
        methods=["GET"],
        name="lijst_csv",
    )
    app.add_route(
        download_html,
        base + "/lijst/<job_id:[A-Za-z0-9_-]{1,40}>/antwoorden.html",
        methods=["GET"],
        name="lijst_html",
    )
    app.add_route(job_status, base + "/taken/<job_id:[A-Za-z0-9_-]{1,40}>", methods=["GET"], name="taak")
