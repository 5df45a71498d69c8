"""Inloggen en uitloggen: name and password of one's own account, slowed down after failures (throttle.py)."""
from __future__ import annotations

import asyncio
import logging
import math

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from vraagbaak.console.accounts import MAX_NAME_LENGTH, clean_name, name_key
from vraagbaak.console.addresses import address_key, client_address
from vraagbaak.console.password import MAX_LENGTH, dummy_hash, verify_password
from vraagbaak.console.responses import (
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
# One message for a wrong name and a wrong password: the page must not tell which names exist.
WRONG = "Die naam of dat wachtwoord klopt niet."


def login_page(
    request: Request, status: int = 200, message: str = "", name: str = "", wait: float = 0.0
) -> HTTPResponse:
    """The login form with a fresh login token (cookie and hidden field)."""
    console = console_of(request)
    token, cookie = console.sessions.login_token(request.cookies.get(LOGIN_COOKIE))
    resp = page(request, "login.html", status, csrf=token, message=message, name=name)
    set_cookie(request, resp, LOGIN_COOKIE, cookie, 30 * 60)
    if wait:
        resp.headers["Retry-After"] = str(math.ceil(wait))
    return resp


def wait_message(seconds: float) -> str:
    """Dutch message while this name or address has to wait."""
    if seconds < 60:
        count = max(1, math.ceil(seconds))
        when = f"{count} {'seconde' if count == 1 else 'seconden'}"
    else:
        count = math.ceil(seconds / 60)
        when = f"{count} {'minuut' if count == 1 else 'minuten'}"
    return (
        "Er is te vaak een verkeerde naam of een verkeerd wachtwoord getypt. "
        f"Probeer het over {when} opnieuw."
    )


def address_of(request: Request) -> str:
    """The address the login limits count by (forwarded headers only from trusted proxies)."""
    console = console_of(request)
    forwarded = request.headers.getall("x-forwarded-for", [])
    address = client_address(request.ip, forwarded, request.headers.get("x-real-ip"), console.proxies)
    if forwarded and not console.proxies and not console.proxy_hint_given:
        # Said once, without the address: behind a proxy every login would count as one address.
        LOG.warning(
            "X-Forwarded-For genegeerd: er is geen vertrouwde proxy ingesteld "
            "(VRAAGBAAK_CONSOLE_TRUSTED_PROXIES)"
        )
        console.proxy_hint_given = True
    return address_key(address)


async def show_login(request: Request) -> HTTPResponse:
    """GET /inloggen."""
    if getattr(request.ctx, "session", None):
        return redirect(request, "/vraag")
    return login_page(request)


async def do_login(request: Request) -> HTTPResponse:
    """POST /inloggen: the login token, the wait, then the account's password."""
    console = console_of(request)
    if not console.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), field(request, "csrf", 200)):
        LOG.info("inloggen geweigerd: geen geldig formulier")
        return login_page(request, 403, "Het formulier was verlopen. Probeer het nog een keer.")
    # field() keeps one character over the limit, so an over-long name matches no account.
    name = clean_name(field(request, "naam", MAX_NAME_LENGTH))
    key, address = name_key(name), address_of(request)
    shown = name[:MAX_NAME_LENGTH]
    wait = console.throttle.seconds_to_wait(key, address)
    if wait:
        LOG.info("inloggen geweigerd: eerst wachten (%d s)", math.ceil(wait))
        return login_page(request, 429, wait_message(wait), shown, wait)
    password = field(request, "wachtwoord", MAX_LENGTH)
    account = console.accounts.get(key)
    # A name without an account is checked against a dummy hash: just as slow as a real one.
    stored = account.password_hash if account else dummy_hash()
    loop = asyncio.get_running_loop()
    # argon2 takes tens of milliseconds on purpose: off the event loop, so other pages stay quick.
    ok = await loop.run_in_executor(None, verify_password, stored, password)
    if account is None or not ok:
        failures = console.throttle.failed(key, address)
        LOG.info("inloggen mislukt (%d keer na elkaar voor deze naam vanaf dit adres)", failures)
        wait = console.throttle.seconds_to_wait(key, address)
        if wait:
            return login_page(request, 429, wait_message(wait), shown, wait)
        return login_page(request, 401, WRONG, shown)
    console.throttle.succeeded(key, address)
    session, cookie = console.sessions.create(account)
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
