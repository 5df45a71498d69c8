"""Small helpers the route modules share: the console of a request, pages with the session's values, redirects."""
from __future__ import annotations

from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from vraagbaak.console.auth import Session
from vraagbaak.console.state import Console

SESSION_COOKIE = "vraagbaak_console"
LOGIN_COOKIE = "vraagbaak_console_inloggen"
MAX_FIELD = 1000


def console_of(request: Request) -> Console:
    """The console this request belongs to."""
    console: Console = request.app.ctx.console
    return console


def session_of(request: Request) -> Session:
    """The logged-in session (the middleware guarantees one on every non-public route)."""
    session: Session = request.ctx.session
    return session


def field(request: Request, name: str, limit: int = MAX_FIELD) -> str:
    """A form field, '' when absent; callers check the length against `limit` themselves."""
    value = request.form.get(name) if request.form else None
    return str(value or "")[: limit + 1]


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTTPResponse:
    """A console page for the logged-in member of staff."""
    console = console_of(request)
    session: Session | None = getattr(request.ctx, "session", None)
    if session is not None:
        values.setdefault("csrf", session.csrf)
        values.setdefault("who", session.name)
        values.setdefault("flash", console.take_flashes(session.id))
    return response.html(console.pages.render(template, **values), status=status)


def redirect(request: Request, path: str) -> HTTPResponse:
    """303 See Other to a console path (after a POST, so a reload never repeats it)."""
    return response.redirect(console_of(request).settings.console_base_path + path, status=303)


def set_cookie(request: Request, resp: HTTPResponse, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie for the console's path; Secure behind HTTPS."""
    settings = console_of(request).settings
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = settings.console_base_path or "/"
    cookie["max-age"] = max_age
    if settings.console_secure_cookies:
        cookie["secure"] = True


def clear_cookie(request: Request, resp: HTTPResponse, name: str) -> None:
    """Tell the browser to forget a cookie."""
    set_cookie(request, resp, name, "", 0)
