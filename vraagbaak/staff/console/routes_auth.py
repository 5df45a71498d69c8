"""Inloggen en uitloggen."""
from __future__ import annotations

import asyncio
import logging

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from vraagbaak.staff.console.auth import MAX_NAME_LENGTH
from vraagbaak.staff.console.password import MAX_LENGTH, read_password_hash, verify_password
from vraagbaak.staff.console.responses import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    console_of,
    field,
    page,
    redirect,
    set_cookie,
)

LOG = logging.getLogger("vraagbaak.console")
WRONG = "Dat wachtwoord klopt niet."


def login_page(request: Request, status: int = 200, message: str = "", name: str = "") -> HTTPResponse:
    """The login form with a fresh login token (cookie and hidden field)."""
    console = console_of(request)
    token, cookie = console.sessions.login_token(request.cookies.get(LOGIN_COOKIE))
    locked = console.guard.seconds_locked()
    if locked:
        message = locked_message(locked)
    resp = page(request, "login.html", status, csrf=token, message=message, name=name, locked=bool(locked))
    set_cookie(request, resp, LOGIN_COOKIE, cookie, 30 * 60)
    return resp


def locked_message(seconds: float) -> str:
    """Dutch message while logging in is blocked."""
    wait = max(1, round(seconds / 60))
    return (
        "Er is te vaak een verkeerd wachtwoord getypt. Inloggen kan pas weer over "
        f"{wait} {'minuut' if wait == 1 else 'minuten'}."
    )


async def show_login(request: Request) -> HTTPResponse:
    """GET /inloggen."""
    if getattr(request.ctx, "session", None):
        return redirect(request, "/vraag")
    return login_page(request)


async def do_login(request: Request) -> HTTPResponse:
    """POST /inloggen: the login token, the lock-out, then the password."""
    console = console_of(request)
    if not console.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), field(request, "csrf", 200)):
        LOG.info("inloggen geweigerd: geen geldig formulier")
        return login_page(request, 403, "Het formulier was verlopen. Probeer het nog een keer.")
    name = field(request, "naam", MAX_NAME_LENGTH)[:MAX_NAME_LENGTH]
    if console.guard.seconds_locked():
        LOG.info("inloggen geweigerd: geblokkeerd")
        return login_page(request, 429, name=name)
    password = field(request, "wachtwoord", MAX_LENGTH)
    stored = read_password_hash(console.workspace.password_file)
    loop = asyncio.get_running_loop()
    # argon2 takes tens of milliseconds on purpose: off the event loop, so other pages stay quick.
    ok = bool(stored) and await loop.run_in_executor(None, verify_password, str(stored), password)
    if not ok:
        console.guard.failed()
        LOG.info("inloggen mislukt (%d keer na elkaar)", console.guard.failures)
        if console.guard.seconds_locked():
            return login_page(request, 429, name=name)
        return login_page(request, 401, WRONG, name)
    console.guard.succeeded()
    session, cookie = console.sessions.create(name)
    LOG.info("ingelogd")
    resp = redirect(request, "/vraag")
    set_cookie(request, resp, SESSION_COOKIE, cookie, int(console.sessions.lifetime))
    clear_cookie(request, resp, LOGIN_COOKIE)
    return resp


async def do_logout(request: Request) -> HTTPResponse:
    """POST /uitloggen: the session ends on the server too."""
    console = console_of(request)
    console.sessions.end(request.cookies.get(SESSION_COOKIE))
    LOG.info("uitgelogd")
    resp = redirect(request, "/inloggen")
    clear_cookie(request, resp, SESSION_COOKIE)
    return resp


def register(app: Sanic, base: str) -> None:
    """Add the routes."""
    app.add_route(show_login, base + "/inloggen", methods=["GET"], name="inloggen")
    app.add_route(do_login, base + "/inloggen", methods=["POST"], name="inloggen_post")
    app.add_route(do_logout, base + "/uitloggen", methods=["POST"], name="uitloggen")
