"""Verbeteren: add a phrasing to a topic (after the checks), retrain, compare, activate, discard, restore."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Dict, List

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from vraagbaak.console.durations import COMPARISON, TRAINING, describe_estimate
from vraagbaak.console.jobs import ConsoleError, JobBusy
from vraagbaak.console.responses import console_of, field, page, redirect, session_of
from vraagbaak.console.review import (
    MAX_PHRASING,
    add_staff_phrasing,
    read_staff_phrasings,
    remove_staff_phrasing,
    tidy,
)
from vraagbaak.console.state import TRAINING_JOB, Console
from vraagbaak.core.outcomes import OUT_OF_SCOPE_INTENT, SAFETY_INTENT
from vraagbaak.reports import shared as rp

LOG = logging.getLogger("vraagbaak.console")
MAX_INPUT = 1000


def topic_choices(console: Console) -> List[Dict[str, str]]:
    """Every topic by its title, then 'buiten bereik', then 'iemand in nood' (a missed emergency)."""
    choices = [{"intent": t.intent, "label": t.title} for t in console.kb.topics]
    choices.append(
        {"intent": OUT_OF_SCOPE_INTENT, "label": "Buiten bereik: de bot kan hier niet op antwoorden"}
    )
    choices.append({"intent": SAFETY_INTENT, "label": "Iemand in nood: de bot moet het noodbericht geven"})
    return choices


def history_row(console: Console, entry: Dict[str, Any]) -> Dict[str, Any]:
    """An audit record in staff words: a readable time and the topic's title, never an intent name."""
    try:
        when = datetime.fromisoformat(str(entry.get("wanneer"))).strftime("%d-%m-%Y %H:%M")
    except ValueError:
        when = str(entry.get("wanneer") or "")
    topic = str(entry.get("onderwerp") or "")
    return {**entry, "wanneer": when, "onderwerp": rp.intent_label(console.kb, topic) if topic else ""}


def improve_page(request: Request, status: int = 200, **values: Any) -> HTTPResponse:
    """The Verbeteren page with everything it shows."""
    console = console_of(request)
    values.setdefault("question", "")
    values.setdefault("chosen", "")
    values.setdefault("refusal", "")
    values.setdefault("added", "")
    staff = [
        {"text": text, "intent": intent, "label": rp.intent_label(console.kb, intent)}
        for text, intent in read_staff_phrasings(console.workspace.staff_nlu)
    ]
    state = console.models.state
    training = console.jobs.latest(TRAINING_JOB)
    last_training = console.durations.last(TRAINING)
    last_comparison = console.durations.last(COMPARISON)
    last = last_training + last_comparison if last_training and last_comparison else None
    return page(
        request,
        "verbeteren.html",
        status,
        page="verbeteren",
        topics=topic_choices(console),
        staff=staff,
        max_phrasing=MAX_PHRASING,
        job=training,
        candidate=console.models.candidate(),
        comparison=state.comparison if console.models.candidate() else None,
        trained_by=state.trained_by,
        active=console.models.active_model().name,
        previous=console.models.previous(),
        estimate=describe_estimate(
            last, console.durations.expected(TRAINING) + console.durations.expected(COMPARISON)
        ),
        history=[history_row(console, entry) for entry in console.audit.entries(15)],
        **values,
    )


async def show_improve(request: Request) -> HTTPResponse:
    """GET /verbeteren."""
    return improve_page(request)


async def prefill(request: Request) -> HTTPResponse:
    """POST /verbeteren/nieuw: the form filled in with a question from another page (nothing is stored yet)."""
    question = tidy(field(request, "vraag", MAX_INPUT))[:MAX_INPUT]
    chosen = field(request, "onderwerp", 100)
    console = console_of(request)
    topic = console.kb.by_intent(chosen) or console.kb.by_id(chosen)
    intent = topic.intent if topic else (OUT_OF_SCOPE_INTENT if chosen == OUT_OF_SCOPE_INTENT else "")
    return improve_page(request, question=question, chosen=intent)


async def add_phrasing(request: Request) -> HTTPResponse:
    """POST /verbeteren/toevoegen: check, then add to data/nlu/medewerkers.yml and record it."""
    console = console_of(request)
    question = field(request, "vraag", MAX_INPUT)
    intent = field(request, "onderwerp", 100)
    if len(question) > MAX_INPUT:
        return improve_page(
            request,
            422,
            question=question[:MAX_INPUT],
            chosen=intent,
            refusal=f"Een oefenzin mag hoogstens {MAX_PHRASING} tekens lang zijn.",
        )
    checks = await asyncio.get_running_loop().run_in_executor(None, console.review_checks)
    refusal = checks.check(question, intent)
    if refusal:
        LOG.info("oefenzin geweigerd (%s, %d tekens)", refusal.code, len(question))
        return improve_page(request, 422, question=question, chosen=intent, refusal=refusal.message)
    phrasing = tidy(question)
    add_staff_phrasing(console.workspace.staff_nlu, phrasing, intent)
    who = session_of(request).name
    console.audit.record(who, "zin_toegevoegd", zin=phrasing, onderwerp=intent)
    LOG.info("oefenzin toegevoegd (%d tekens)", len(phrasing))
    label = rp.intent_label(console.kb, intent)
    return improve_page(
        request,
        added=f"Toegevoegd aan '{label}'. De bot leert deze zin pas na 'Opnieuw trainen' en 'Activeren'.",
    )


async def remove_phrasing(request: Request) -> HTTPResponse:
    """POST /verbeteren/verwijderen: take back a phrasing staff added."""
    console = console_of(request)
    text, intent = field(request, "vraag", MAX_INPUT), field(request, "onderwerp", 100)
    session = session_of(request)
    if remove_staff_phrasing(console.workspace.staff_nlu, text, intent):
        console.audit.record(session.name, "zin_verwijderd", zin=text, onderwerp=intent)
        console.flash(session.id, "De zin is verwijderd. Train opnieuw om de bot dit te laten vergeten.")
    return redirect(request, "/verbeteren")


async def start_training(request: Request) -> HTTPResponse:
    """POST /verbeteren/trainen: train a candidate in the background, then compare."""
    console = console_of(request)
    session = session_of(request)
    items = console.last_list_items()
    expected = console.durations.expected(TRAINING) + console.durations.expected(COMPARISON)
    try:
        console.jobs.start(
            TRAINING_JOB,
            "Opnieuw trainen",
            lambda job: console.models.train(job, session.name, items),
            expected_seconds=expected,
            exclusive=True,
            owner=session.id,
        )
        LOG.info("training gestart")
    except JobBusy:
        console.flash(session.id, "De bot wordt al getraind. Wacht tot dat klaar is.")
    return redirect(request, "/verbeteren#trainen")


async def model_action(request: Request, action: str) -> HTTPResponse:
    """Activate, discard or restore; a Dutch message either way."""
    console = console_of(request)
    session = session_of(request)
    if console.jobs.running(TRAINING_JOB):
        console.flash(session.id, "Wacht tot het trainen klaar is.")
        return redirect(request, "/verbeteren#model")
    loop = asyncio.get_running_loop()
    try:
        if action == "activeren":
            model = await loop.run_in_executor(None, console.models.activate, session.name)
            message = f"Het nieuwe model ({model.name}) is actief. Lopende gesprekken gaan gewoon door."
        elif action == "weggooien":
            await loop.run_in_executor(None, console.models.discard, session.name)
            message = "Het nieuwe model is weggegooid. De bot gebruikt nog het oude."
        else:
            model = await loop.run_in_executor(None, console.models.restore, session.name)
            message = f"Het vorige model ({model.name}) is weer actief."
        LOG.info("model: %s", action)
    except ConsoleError as error:
        message = str(error)
    console.flash(session.id, message)
    return redirect(request, "/verbeteren#model")


async def activate(request: Request) -> HTTPResponse:
    """POST /verbeteren/activeren."""
    return await model_action(request, "activeren")


async def discard(request: Request) -> HTTPResponse:
    """POST /verbeteren/weggooien."""
    return await model_action(request, "weggooien")


async def restore(request: Request) -> HTTPResponse:
    """POST /verbeteren/terugzetten."""
    return await model_action(request, "terugzetten")


def register(app: Sanic, base: str) -> None:
    """Add the routes."""
    app.add_route(show_improve, base + "/verbeteren", methods=["GET"], name="verbeteren")
    app.add_route(prefill, base + "/verbeteren/nieuw", methods=["POST"], name="verbeteren_nieuw")
    app.add_route(add_phrasing, base + "/verbeteren/toevoegen", methods=["POST"], name="verbeteren_toevoegen")
    app.add_route(
        remove_phrasing, base + "/verbeteren/verwijderen", methods=["POST"], name="verbeteren_verwijderen"
    )
    app.add_route(start_training, base + "/verbeteren/trainen", methods=["POST"], name="verbeteren_trainen")
    app.add_route(activate, base + "/verbeteren/activeren", methods=["POST"], name="verbeteren_activeren")
    app.add_route(discard, base + "/verbeteren/weggooien", methods=["POST"], name="verbeteren_weggooien")
    app.add_route(restore, base + "/verbeteren/terugzetten", methods=["POST"], name="verbeteren_terugzetten")
